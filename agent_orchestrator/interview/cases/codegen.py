"""Simple TypeScript code generation, judged by the real compiler under `strict` and by parsing.

The worker's code is never executed: a harness we write imports it, and `@ts-expect-error` lines in
the harness prove the signature is as precise as asked (an `any` or a loose type makes them unused).
"""

from __future__ import annotations

import random

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.answers import extract_code
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check
from agent_orchestrator.interview.typescript import check_typescript

VERBS = ("clamp", "bound", "limit", "pin", "fit")
NOUNS = ("Score", "Value", "Level", "Reading", "Amount")
TS_LANGUAGES = ("ts", "typescript", "tsx")
CODE_GATES = frozenset({"has_code", "exports_function"})


def _grader(function_name: str, harness: str):
    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        code = extract_code(answer, TS_LANGUAGES)
        if not code:
            return [check("has_code", False, "no TypeScript code block in the answer")]
        try:
            result = await check_typescript(code, harness, toolchain=env.typescript)
        except AOError as exc:  # the checker failing is not the worker's fault: record it, skip the check
            return [
                check("has_code", True, f"{len(code)} characters of code"),
                check("type_checks_strict", None, f"type-check could not run: {exc}"),
            ]
        diagnostics = "; ".join(result.diagnostics[:3])
        return [
            check("has_code", True, f"{len(code)} characters of code"),
            check(
                "exports_function",
                function_name in result.exported_functions,
                f"exported functions {list(result.exported_functions)}, expected {function_name!r}",
            ),
            check("no_explicit_any", not result.any_lines, f"explicit any on lines {list(result.any_lines)}"),
            check(
                "no_type_suppressions",
                not result.suppression_lines,
                f"@ts-ignore/@ts-nocheck/@ts-expect-error on lines {list(result.suppression_lines)}",
            ),
            check("type_checks_strict", result.type_checks, diagnostics or result.compiler_note),
        ]

    return grade


def clamp(rng: random.Random) -> InterviewCase:
    """A numeric function with an exact signature."""
    name = f"{rng.choice(VERBS)}{rng.choice(NOUNS)}"
    prompt = (
        f"Write a TypeScript module that exports a function `{name}(value: number, min: number, max: number): "
        "number` returning `value` limited to the range [min, max]. Use explicit parameter and return "
        "types, no `any`. Reply with one ```ts code block only."
    )
    harness = f"""\
import {{ {name} }} from "./solution";
const inRange: number = {name}(5, 0, 10);
// @ts-expect-error a string is not a number
{name}("5", 0, 10);
// @ts-expect-error the result is a number, not a string
const asText: string = {name}(1, 0, 2);
export {{ inRange, asText }};
"""
    reference = f"""```ts
export function {name}(value: number, min: number, max: number): number {{
  return Math.min(Math.max(value, min), max);
}}
```"""
    return InterviewCase(
        "typescript_codegen/clamp",
        "typescript_codegen",
        prompt,
        _grader(name, harness),
        gates=CODE_GATES,
        reference=reference,
    )


def group_by(rng: random.Random) -> InterviewCase:
    """A generic function: the type parameter must flow from input to output."""
    name = f"{rng.choice(('group', 'bucket', 'index', 'partition'))}By{rng.choice(('Key', 'Field', 'Label'))}"
    prompt = (
        f"Write a TypeScript module that exports a generic function `{name}<T>(items: T[], key: (item: T) => "
        "string): Record<string, T[]>` that groups items by the string the key function returns, keeping "
        "their order within each group. Use explicit types, no `any`. Reply with one ```ts code block only."
    )
    harness = f"""\
import {{ {name} }} from "./solution";
interface Row {{ id: number; team: string }}
const rows: Row[] = [{{ id: 1, team: "a" }}, {{ id: 2, team: "b" }}];
const grouped: Record<string, Row[]> = {name}(rows, (row) => row.team);
const firstId: number | undefined = grouped["a"]?.[0]?.id;
// @ts-expect-error the key function must return a string
{name}(rows, (row) => row.id);
export {{ grouped, firstId }};
"""
    reference = f"""```ts
export function {name}<T>(items: T[], key: (item: T) => string): Record<string, T[]> {{
  const groups: Record<string, T[]> = {{}};
  for (const item of items) {{
    const k = key(item);
    (groups[k] ??= []).push(item);
  }}
  return groups;
}}
```"""
    return InterviewCase(
        "typescript_codegen/group_by",
        "typescript_codegen",
        prompt,
        _grader(name, harness),
        gates=CODE_GATES,
        reference=reference,
    )


def filter_by_tag(rng: random.Random) -> InterviewCase:
    """An exported interface plus a function over it."""
    iface = rng.choice(("Task", "Ticket", "Article", "Asset"))
    name = f"namesWith{rng.choice(('Tag', 'Label', 'Marker'))}"
    prompt = (
        f"Write a TypeScript module that exports an interface `{iface}` with fields `id: number`, "
        f"`name: string` and `tags: string[]`, and a function `{name}(items: {iface}[], tag: string): "
        f"string[]` returning the names of the items that have the given tag, sorted alphabetically. Use "
        "explicit types, no `any`. Reply with one ```ts code block only."
    )
    harness = f"""\
import {{ {name}, type {iface} }} from "./solution";
const items: {iface}[] = [{{ id: 1, name: "x", tags: ["t"] }}];
const names: string[] = {name}(items, "t");
// @ts-expect-error id must be a number
const wrongId: {iface} = {{ id: "1", name: "y", tags: [] }};
// @ts-expect-error tags are required
const noTags: {iface} = {{ id: 2, name: "z" }};
export {{ names, wrongId, noTags }};
"""
    reference = f"""```ts
export interface {iface} {{
  id: number;
  name: string;
  tags: string[];
}}

export function {name}(items: {iface}[], tag: string): string[] {{
  return items.filter((item) => item.tags.includes(tag)).map((item) => item.name).sort();
}}
```"""
    return InterviewCase(
        "typescript_codegen/filter_by_tag",
        "typescript_codegen",
        prompt,
        _grader(name, harness),
        gates=CODE_GATES,
        reference=reference,
    )


TEMPLATES = (clamp, group_by, filter_by_tag)

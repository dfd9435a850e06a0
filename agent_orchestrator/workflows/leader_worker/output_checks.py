"""Deterministic checks of a step's output before the leader sees it.

The schema is enforced by pydantic on arrival. Then code is checked where it can be: TypeScript
with the pinned compiler under `strict` (explicit `any` and suppressions refused), Python by
parsing; and a patch goes through the one patch check fix-error uses too (`repo.patch_checks`:
parsed, kept to allowed paths inside the scope, applied exactly in memory, `git apply --check`
in a scratch copy), then the files it produces are checked as code. Nothing here executes the output.
"""

from __future__ import annotations

import ast
from pathlib import Path

from agent_orchestrator.agents.models import StepResult
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.answers import extract_code
from agent_orchestrator.interview.typescript import check_typescript, find_typescript_toolchain
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.patch_checks import check_patch
from agent_orchestrator.workflows.leader_worker.result import CheckOutcome

TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")


async def validate_output(safety: SafetyPolicy, output: StepResult, scope: Path) -> list[CheckOutcome]:
    """The schema, code in the content, then for a patch: the patch checks and the code it produces."""
    checks = [CheckOutcome(name="schema", passed=True, detail="the output matches StepResult")]
    checks += await check_code_blocks(output.content)
    if output.patch and output.patch.strip():
        checks += await check_step_patch(safety, output.patch, scope)
    return checks


async def check_code_blocks(content: str) -> list[CheckOutcome]:
    """Type-check a TypeScript block and parse a Python block found in the content."""
    checks: list[CheckOutcome] = []
    if "```" not in content:
        return checks
    typescript = extract_code(content, ("ts", "typescript", "tsx"))
    if typescript is not None and typescript.strip() != content.strip():
        checks += await _typescript("content", typescript)
    python = extract_code(content, ("python", "py"))
    if python is not None and python.strip() != content.strip() and python != typescript:
        checks.append(_python("content", python))
    return checks


async def check_source(path: str, text: str) -> list[CheckOutcome]:
    """Check a file the patch produces, by its suffix."""
    if path.endswith(".py"):
        return [_python(path, text)]
    if path.endswith(TS_SUFFIXES):
        return await _typescript(path, text)
    return []


def _python(label: str, code: str) -> CheckOutcome:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return CheckOutcome(name=f"python.syntax {label}", passed=False, detail=f"line {exc.lineno}: {exc.msg}")
    return CheckOutcome(name=f"python.syntax {label}", passed=True, detail="parses")


async def _typescript(label: str, code: str) -> list[CheckOutcome]:
    try:
        result = await check_typescript(code, "", toolchain=find_typescript_toolchain())
    except AOError as exc:
        return [CheckOutcome(name=f"typescript {label}", passed=None, detail=f"the check could not run: {exc}")]
    problems = [*result.diagnostics[:3]]
    if result.any_lines:
        problems.append(f"explicit any on lines {list(result.any_lines)}")
    if result.suppression_lines:
        problems.append(f"type-check suppressions on lines {list(result.suppression_lines)}")
    passed = None if result.type_checks is None and not problems else not problems
    return [
        CheckOutcome(name=f"typescript {label}", passed=passed, detail="; ".join(problems) or result.compiler_note)
    ]


async def check_step_patch(safety: SafetyPolicy, patch: str, scope: Path) -> list[CheckOutcome]:
    """The one patch check (`repo.patch_checks`) as step checks, then each file it produces checked as code."""
    result = await check_patch(safety, patch, scope)
    checks = [CheckOutcome.of(check) for check in result.checks]
    for file in result.patched:
        if file.after is not None:
            checks += await check_source(file.path, file.after)
    return checks

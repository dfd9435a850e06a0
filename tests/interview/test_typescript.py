"""The TypeScript checker: the real pinned compiler (marked `node`) and the pure-Python fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.typescript import (
    MAX_SOLUTION_CHARS,
    TypeScriptCheck,
    TypeScriptToolchain,
    check_typescript,
    clear_compiler_cache,
    find_typescript_toolchain,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_compiler_runs() -> None:
    clear_compiler_cache()


HARNESS = 'import { clamp } from "./solution";\nconst r: number = clamp(5, 0, 3);\nexport { r };\n'

GOOD = """\
export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
"""

# Explicit `any` on lines 2, 3, 4 and 5; the decoys on lines 6-9 must not count.
WITH_ANY = """\
export function clamp(x: number, lo: number, hi: number): number {
  const loose: any = x;
  const cast = (lo as any) as number;
  const list: Array<any> = [hi];
  const more: Record<string, any[]> = {};
  const label = "any"; // any in a comment
  /* any in a block comment: any */
  const anything = `any ${label.length} any`;
  const company = /any/.test(label) ? anything : label;
  return Math.min(list.length + cast + more.x.length, Math.max(loose, company.length));
}
"""

# Directives on lines 2 and 5; a directive inside a string (line 7) is not a comment.
WITH_SUPPRESSIONS = """\
export function clamp(x: number, lo: number, hi: number): number {
  // @ts-ignore
  const s: string = x;
  /* keep going
     @ts-expect-error */
  const t: string = lo;
  const note = "// @ts-nocheck";
  return Math.min(hi, Math.max(lo, x)) + s.length + t.length + note.length;
}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def toolchain() -> TypeScriptToolchain:
    found = find_typescript_toolchain()
    if found is None:
        pytest.skip("Node.js or the pinned TypeScript compiler is missing (npm ci --prefix tools/typescript)")
    return found


async def real(solution: str, toolchain: TypeScriptToolchain, harness: str = HARNESS) -> TypeScriptCheck:
    return await check_typescript(solution, harness, toolchain=toolchain)


async def fallback(solution: str) -> TypeScriptCheck:
    return await check_typescript(solution, HARNESS, toolchain=None)


@pytest.mark.node
async def test_correct_strict_function_type_checks(toolchain: TypeScriptToolchain) -> None:
    check = await real(GOOD, toolchain)
    assert check.compiler_used
    assert check.compiler_note == f"type-checked with TypeScript {toolchain.version} (strict)"
    assert check.diagnostics == ()
    assert check.type_checks is True
    assert check.exported_functions == ("clamp",)
    assert (check.any_lines, check.suppression_lines) == ((), ())


@pytest.mark.node
async def test_type_error_reported_with_line(toolchain: TypeScriptToolchain) -> None:
    solution = GOOD.replace("  return", '  const label: number = "three";\n  return')
    check = await real(solution, toolchain)
    assert check.type_checks is False
    assert check.diagnostics == ("solution.ts:2: TS2322 Type 'string' is not assignable to type 'number'.",)


@pytest.mark.node
async def test_implicit_any_is_a_strict_error(toolchain: TypeScriptToolchain) -> None:
    check = await real("export function clamp(x, lo: number, hi: number) { return x; }\n", toolchain)
    assert any(d.startswith("solution.ts:1: TS7006 ") for d in check.diagnostics)


@pytest.mark.node
async def test_explicit_any_lines(toolchain: TypeScriptToolchain) -> None:
    check = await real(WITH_ANY, toolchain)
    assert check.any_lines == (2, 3, 4, 5)
    assert check.type_checks is True


@pytest.mark.node
async def test_suppressions_reported(toolchain: TypeScriptToolchain) -> None:
    check = await real(WITH_SUPPRESSIONS, toolchain)
    assert check.suppression_lines == (2, 5)
    assert check.type_checks is True  # the directives hid the errors; the caller must look at the lines


@pytest.mark.node
async def test_harness_signature_mismatch_is_a_diagnostic(toolchain: TypeScriptToolchain) -> None:
    solution = GOOD.replace("): number {", "): string {").replace("return M", "return String(M")
    solution = solution.replace("x));", "x)));")
    check = await real(solution, toolchain)
    assert check.diagnostics == ("harness.ts:2: TS2322 Type 'string' is not assignable to type 'number'.",)


@pytest.mark.node
async def test_missing_export_and_foreign_modules(toolchain: TypeScriptToolchain) -> None:
    solution = 'import _ from "lodash";\nfunction clamp(x: number): number { return x; }\n'
    check = await real(solution, toolchain)
    assert check.exported_functions == ()
    codes = sorted(d.split(": ")[1].split()[0] for d in check.diagnostics)
    assert codes == ["TS2307", "TS2459"]  # no lodash anywhere; clamp is declared but not exported


@pytest.mark.node
async def test_exported_function_forms(toolchain: TypeScriptToolchain) -> None:
    solution = """\
export function clamp(x: number, lo: number, hi: number): number { return Math.min(hi, Math.max(lo, x)); }
export const double = (x: number): number => x * 2;
export const triple = async function (x: number): Promise<number> { return x * 3; };
const half = (x: number): number => x / 2;
export { half as halve };
export const limit = 10;
"""
    check = await real(solution, toolchain)
    assert check.diagnostics == ()
    assert check.exported_functions == ("clamp", "double", "triple", "halve")


async def test_fallback_reports_not_type_checked() -> None:
    check = await fallback(GOOD)
    assert check.compiler_used is False
    assert check.type_checks is None
    assert check.diagnostics == ()
    assert check.compiler_note.startswith("not type-checked: Node.js or the pinned TypeScript compiler")
    assert check.exported_functions == ("clamp",)


async def test_fallback_explicit_any_lines() -> None:
    assert (await fallback(WITH_ANY)).any_lines == (2, 3, 4, 5)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("type Loose = any;", (1,)),
        ("function f<T = any>(x: T): T { return x; }", (1,)),
        ("let f: (x: number) => any;", (1,)),
        ("let u: string | any;", (1,)),
        ("let pair: [any, string];", (1,)),
        ("let company = anything / 2; // any", ()),
        ("const any1 = 1; const s = 'it\\'s any';", ()),
    ],
)
async def test_fallback_any_positions(line: str, expected: tuple[int, ...]) -> None:
    assert (await fallback(line)).any_lines == expected


async def test_fallback_suppressions() -> None:
    assert (await fallback(WITH_SUPPRESSIONS)).suppression_lines == (2, 5)


async def test_fallback_template_nesting() -> None:
    solution = "const a = `x ${`y ${1 + 2} // @ts-ignore`} any`;\n// @ts-nocheck\nlet b: any;\n"
    check = await fallback(solution)
    assert (check.suppression_lines, check.any_lines) == ((2,), (3,))


async def test_fallback_exported_functions() -> None:
    solution = """\
export async function first(): Promise<number> { return 1; }
export const second = async (x: number): Promise<number> => x;
export const third: (x: number) => number = (x) => x;
export const fourth = function* () { yield 1; };
export const fifth = <K, V>(key: K, value: V): Map<K, V> => new Map([[key, value]]);
export const notFunction = compute((x: number) => x);
export const alsoNot = 3
const later = () => 1;
export default function ignored() {}
"""
    check = await fallback(solution)
    assert check.exported_functions == ("first", "second", "third", "fourth", "fifth")


async def test_too_large_solution_is_refused_without_running_node() -> None:
    bogus = TypeScriptToolchain(node="/nonexistent/node", typescript_dir="/nonexistent", version="0")
    check = await check_typescript("x" * (MAX_SOLUTION_CHARS + 1), HARNESS, toolchain=bogus)
    assert check.compiler_used is False
    assert check.type_checks is False
    assert len(check.diagnostics) == 1
    assert "too large" in check.diagnostics[0]


@pytest.mark.node
async def test_timeout_and_crash_raise_aoerror(toolchain: TypeScriptToolchain) -> None:
    with pytest.raises(AOError, match="timed out"):
        await check_typescript(GOOD, HARNESS, toolchain=toolchain, timeout_s=0.001)
    broken = TypeScriptToolchain(node=toolchain.node, typescript_dir="/nonexistent", version="0")
    with pytest.raises(AOError, match="checker failed"):
        await check_typescript(GOOD, HARNESS, toolchain=broken)


async def test_no_toolchain_without_node(monkeypatch: pytest.MonkeyPatch) -> None:
    find_typescript_toolchain.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        assert find_typescript_toolchain() is None
    finally:
        find_typescript_toolchain.cache_clear()


@pytest.mark.node
async def test_env_override(
    toolchain: TypeScriptToolchain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    try:
        monkeypatch.setenv("AO_TYPESCRIPT_DIR", toolchain.typescript_dir)
        find_typescript_toolchain.cache_clear()
        assert find_typescript_toolchain() == toolchain
        monkeypatch.setenv("AO_TYPESCRIPT_DIR", str(tmp_path))  # not a typescript package: falls through
        find_typescript_toolchain.cache_clear()
        assert find_typescript_toolchain() == toolchain
    finally:
        find_typescript_toolchain.cache_clear()

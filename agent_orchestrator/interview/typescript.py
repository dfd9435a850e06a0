"""Deterministic checks of TypeScript written by an untrusted worker: parsed and type-checked, never run.

With Node.js and the pinned compiler (`tools/typescript`) the real `tsc` type-checks the solution
together with our harness (see `ts_check.cjs`). Without them a small pure-Python tokenizer still
reports explicit `any`, suppression directives and exported functions, but cannot say whether the
code type-checks.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
from pydantic import BaseModel, ValidationError

from agent_orchestrator.errors import AOError

MAX_SOLUTION_CHARS = 200_000
_SCRIPT = Path(__file__).with_name("ts_check.cjs")
_PACKAGE_SUBDIR = Path("tools", "typescript", "node_modules", "typescript")
_NOT_FOUND_NOTE = (
    "not type-checked: Node.js or the pinned TypeScript compiler was not found (run `make install-node-tools`)"
)


@dataclass(frozen=True)
class TypeScriptToolchain:
    node: str  # path to the node executable
    typescript_dir: str  # the typescript package dir (contains package.json, lib/typescript.js)
    version: str


@dataclass(frozen=True)
class TypeScriptCheck:
    compiler_used: bool  # True when the real tsc ran
    compiler_note: str
    diagnostics: tuple[str, ...]  # "solution.ts:3: TS2322 Type 'string' is not assignable ..."
    any_lines: tuple[int, ...]  # lines of solution.ts with an explicit `any` type
    suppression_lines: tuple[int, ...]  # lines of solution.ts with @ts-ignore/-nocheck/-expect-error
    exported_functions: tuple[str, ...]

    @property
    def type_checks(self) -> bool | None:
        """None when the compiler did not run (unknown), else whether it reported nothing.

        A refusal (solution too large) carries a diagnostic and counts as False, so padding the
        code cannot turn a failure into "unknown".
        """
        if not self.compiler_used:
            return False if self.diagnostics else None
        return not self.diagnostics


class _PackageJson(BaseModel):
    version: str


def _typescript_version(package_dir: Path) -> str | None:
    """The version of the typescript package in `package_dir`, or None if it is not one."""
    if not (package_dir / "lib" / "typescript.js").is_file():
        return None
    try:
        return _PackageJson.model_validate_json((package_dir / "package.json").read_bytes()).version
    except (OSError, ValidationError):
        return None


@functools.cache
def find_typescript_toolchain() -> TypeScriptToolchain | None:
    """Node plus the pinned compiler: $AO_TYPESCRIPT_DIR, then ./tools/..., then the repo checkout.

    The result is cached; tests call `find_typescript_toolchain.cache_clear()` after changing the
    environment.
    """
    node = shutil.which("node")
    if node is None:
        return None
    candidates = [Path.cwd() / _PACKAGE_SUBDIR, Path(__file__).resolve().parents[2] / _PACKAGE_SUBDIR]
    if env_dir := os.environ.get("AO_TYPESCRIPT_DIR"):
        candidates.insert(0, Path(env_dir))
    for candidate in candidates:
        if (version := _typescript_version(candidate)) is not None:
            return TypeScriptToolchain(node=node, typescript_dir=str(candidate.resolve()), version=version)
    return None


class _Diagnostic(BaseModel):
    file: str | None
    line: int | None
    code: int
    message: str


class _Report(BaseModel):
    """The JSON object `ts_check.cjs` prints."""

    typescript_version: str
    diagnostics: list[_Diagnostic]
    any_lines: list[int]
    suppression_lines: list[int]
    exported_functions: list[str]


def _format_diagnostic(d: _Diagnostic) -> str:
    """One line per diagnostic; chained compiler messages are joined with spaces."""
    message = " ".join(part.strip() for part in d.message.splitlines() if part.strip())
    where = f"{d.file}:{d.line}: " if d.file and d.line else f"{d.file}: " if d.file else ""
    return f"{where}TS{d.code} {message}"


async def _run_compiler(solution: str, harness: str, tools: TypeScriptToolchain, timeout_s: float) -> _Report:
    """Run `ts_check.cjs` on a fresh directory with a scrubbed environment (no secrets reach node)."""
    with tempfile.TemporaryDirectory(prefix="ao-ts-") as work_dir:
        Path(work_dir, "solution.ts").write_text(solution, encoding="utf-8")
        Path(work_dir, "harness.ts").write_text(harness, encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": work_dir}
        command = [tools.node, "--max-old-space-size=1024", str(_SCRIPT), tools.typescript_dir, work_dir]
        try:
            with anyio.fail_after(timeout_s):
                result = await anyio.run_process(command, env=env, cwd=work_dir, check=False)
        except TimeoutError as exc:
            raise AOError(f"TypeScript check timed out after {timeout_s:g}s; solution not graded") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise AOError(f"TypeScript checker failed (exit {result.returncode}): {stderr}")
    try:
        return _Report.model_validate_json(result.stdout)
    except ValidationError as exc:
        raise AOError(f"TypeScript checker printed an unexpected report: {exc}") from exc


async def check_typescript(
    solution: str, harness: str, *, toolchain: TypeScriptToolchain | None, timeout_s: float = 60.0
) -> TypeScriptCheck:
    """Check `solution` (worker code) against `harness` (ours); raises AOError on timeout/crash."""
    if len(solution) > MAX_SOLUTION_CHARS:
        size = f"{len(solution)} characters, limit {MAX_SOLUTION_CHARS}"
        return TypeScriptCheck(
            compiler_used=False,
            compiler_note=f"not type-checked: solution.ts is too large ({size})",
            diagnostics=(f"solution.ts: too large to check ({size})",),
            any_lines=(),
            suppression_lines=(),
            exported_functions=(),
        )
    if toolchain is None:
        return await anyio.to_thread.run_sync(_fallback_check, solution)  # CPU-bound; spare the event loop
    key = hashlib.sha256(f"{toolchain}\0{solution}\0{harness}".encode()).hexdigest()
    if (cached := _COMPILER_RESULTS.get(key)) is not None:
        return cached
    report = await _run_compiler(solution, harness, toolchain, timeout_s)
    result = TypeScriptCheck(
        compiler_used=True,
        compiler_note=f"type-checked with TypeScript {report.typescript_version} (strict)",
        diagnostics=tuple(_format_diagnostic(d) for d in report.diagnostics),
        any_lines=tuple(report.any_lines),
        suppression_lines=tuple(report.suppression_lines),
        exported_functions=tuple(report.exported_functions),
    )
    if len(_COMPILER_RESULTS) >= _CACHE_ENTRIES:
        _COMPILER_RESULTS.pop(next(iter(_COMPILER_RESULTS)))
    _COMPILER_RESULTS[key] = result
    return result


# A compiler run is a pure function of its inputs and costs ~0.7 s of node start-up; identical
# answers (re-interviews, a worker repeating itself) are checked once per process.
_CACHE_ENTRIES = 256
_COMPILER_RESULTS: dict[str, TypeScriptCheck] = {}


def clear_compiler_cache() -> None:
    """Forget cached compiler results (tests that need a fresh compiler run)."""
    _COMPILER_RESULTS.clear()


# ---- Fallback: a tokenizer good enough to find `any`, directives and exports without Node. ----

_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_SUPPRESSION = re.compile(r"@ts-(?:ignore|nocheck|expect-error)\b", re.IGNORECASE)
_TOKEN = re.compile(
    r"\s+|//[^\n]*|/\*.*?(?:\*/|\Z)|[A-Za-z_$][\w$]*|\d[\w.]*|"
    r"\.\.\.|=>|[=!]==?|&&|\|\||\?\?|\?\.|[<>]=|[-+*/%&|^]=|\+\+|--|\*\*|.",
    re.DOTALL,
)
_REGEX_AFTER_WORDS = {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case"}
_WINDOW = 256  # tokens the fallback looks around one site; bounds its work on hostile input
_LITERAL = "0"  # stands in for a dropped string/template/regex literal: a value, so `/` after it divides
_STATEMENT_WORDS = {"export", "import", "const", "let", "var", "function", "class", "type", "interface"}
_NESTING = {"(": 1, "[": 1, "{": 1, "<": 1, ")": -1, "]": -1, "}": -1, ">": -1}
_ANY_AFTER = {":", "<", "|", "&", "=>", "as", "extends", "satisfies", "keyof", "readonly"}


@dataclass(frozen=True)
class _Token:
    text: str
    pos: int


def _skip_quoted(src: str, i: int, quote: str) -> int:
    """Index just past the string or regex body that starts after `src[i]` (a quote or `/`)."""
    i += 1
    in_class = False
    while i < len(src) and (src[i] != quote or in_class) and src[i] != "\n":
        if src[i] == "\\":
            i += 1
        elif quote == "/" and src[i] in "[]":
            in_class = src[i] == "["
        i += 1
    return i + 1


def _skip_template(src: str, i: int) -> tuple[int, bool]:
    """Scan template text from `src[i]`; returns (index past it, whether it stopped at `${`)."""
    while i < len(src):
        if src[i] == "\\":
            i += 2
        elif src[i] == "`":
            return i + 1, False
        elif src.startswith("${", i):
            return i + 2, True
        else:
            i += 1
    return i, False


def _tokenize(src: str) -> tuple[list[_Token], list[_Token]]:
    """Code tokens and comment tokens; strings, templates and regex literals are dropped."""
    code: list[_Token] = []
    comments: list[_Token] = []
    braces: list[str] = []  # "{" for a block, "`" for a `${` template hole
    i = 0
    while i < len(src):
        ch = src[i]
        prev = code[-1].text if code else ""
        resume = ch == "}" and bool(braces) and braces.pop() == "`"
        if ch == "`" or resume:
            start, (i, opened) = i, _skip_template(src, i + 1)
            if opened:
                braces.append("`")
            else:
                code.append(_Token(_LITERAL, start))
            continue
        regex_ok = not prev or prev in _REGEX_AFTER_WORDS or not (prev[-1].isalnum() or prev[-1] in "_$)]}")
        if ch in "'\"" or (ch == "/" and regex_ok and not src.startswith(("//", "/*"), i)):
            code.append(_Token(_LITERAL, i))
            i = _skip_quoted(src, i, ch)
            continue
        match = _TOKEN.match(src, i)
        assert match is not None  # the final `.` alternative matches any character
        text = match.group()
        if text.startswith(("//", "/*")):
            comments.append(_Token(text, i))
        elif not text.isspace():
            code.append(_Token(text, i))
            if text == "{":
                braces.append("{")
        i = match.end()
    return code, comments


def _is_type_alias_value(tokens: list[_Token], eq: int) -> bool:
    """Whether `tokens[eq]` is the `=` of `type Name<...> = ...`."""
    j, stop = eq - 1, max(0, eq - _WINDOW)
    if j >= 0 and tokens[j].text == ">":
        depth = 0
        while j >= stop:
            depth += {">": 1, "<": -1}.get(tokens[j].text, 0)
            j -= 1
            if depth == 0:
                break
    return j >= 1 and tokens[j - 1].text == "type"


def _any_positions(tokens: list[_Token]) -> list[int]:
    """Offsets of `any` tokens in a type position (annotation, generic argument, `as`, `any[]`, ...)."""
    found: list[int] = []
    angle = 0  # rough depth of generic brackets; reset at statement boundaries
    for k, tok in enumerate(tokens):
        prev = tokens[k - 1].text if k else ""
        if tok.text == "<" and (prev[:1].isalpha() or prev[:1] in "_$"):
            angle += 1
        elif tok.text == ">" and angle:
            angle -= 1
        elif tok.text in {";", "{", "}"}:
            angle = 0
        if tok.text != "any":
            continue
        nxt = [t.text for t in tokens[k + 1 : k + 3]]
        if (
            prev in _ANY_AFTER
            or (prev == "," and angle > 0)
            or (prev == "=" and (angle > 0 or _is_type_alias_value(tokens, k - 1)))
            or (prev == "(" and nxt[:1] in (["|"], ["&"], [")"]))
            or (prev == "[" and k > 1 and tokens[k - 2].text in _ANY_AFTER)  # tuple type
            or nxt == ["[", "]"]
        ):
            found.append(tok.pos)
    return found


def _exported_names(tokens: list[_Token]) -> list[str]:
    """Names from `export [async] function f` and `export const f = [async] (...) =>` / `function`."""
    names: list[str] = []
    texts = [t.text for t in tokens]
    for k, text in enumerate(texts):
        if text != "export":
            continue
        j = k + 1
        while texts[j : j + 1] in (["declare"], ["async"]):
            j += 1
        if texts[j : j + 1] == ["function"]:
            j += 2 if texts[j + 1 : j + 2] == ["*"] else 1
            names += [name for name in texts[j : j + 1] if _IDENTIFIER.fullmatch(name)]
        elif texts[j : j + 1] == ["const"] and _starts_function(texts, j + 2):
            names += [name for name in texts[j + 1 : j + 2] if _IDENTIFIER.fullmatch(name)]
    return list(dict.fromkeys(names))


def _starts_function(texts: list[str], start: int) -> bool:
    """Whether the const declaration whose annotation/`=` begins at `texts[start]` holds a function."""
    texts, i, depth = texts[start : start + _WINDOW], 0, 0
    while i < len(texts) and not (depth == 0 and texts[i] == "="):
        depth += _NESTING.get(texts[i], 0)
        if texts[i] == ";" or depth < 0:
            return False
        i += 1
    i += 2 if texts[i + 1 : i + 2] == ["async"] else 1
    if texts[i : i + 1] == ["function"] or texts[i + 1 : i + 2] == ["=>"]:
        return True
    depth = 0
    for text in texts[i:]:
        depth += _NESTING.get(text, 0)
        if depth == 0 and (text in {"=>", ";", ","} or text in _STATEMENT_WORDS):
            return text == "=>"
        if depth < 0:
            return False
    return False


def _fallback_check(src: str) -> TypeScriptCheck:
    """What can be said about `src` without the compiler: no diagnostics, type_checks unknown."""
    newlines = [m.start() for m in re.finditer("\n", src)]

    def line(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    code, comments = _tokenize(src)
    suppressions = {line(c.pos + m.start()) for c in comments for m in _SUPPRESSION.finditer(c.text)}
    any_lines = {line(pos) for pos in _any_positions(code)}
    exported = tuple(_exported_names(code))
    return TypeScriptCheck(
        False, _NOT_FOUND_NOTE, (), tuple(sorted(any_lines)), tuple(sorted(suppressions)), exported
    )

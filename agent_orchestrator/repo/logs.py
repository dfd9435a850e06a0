"""Build and test logs (tsc, mypy, pyright, pytest, ruff, eslint) parsed into located errors.

Every parser reads the same cleaned lines (ANSI colours and hyperlinks stripped, overlong lines cut)
and reports the index of the line each error starts on. Auto-detection runs every tool's parser: a
CI log where several tools report is "mixed", and the generic `path:line[:col]` scan runs only when
no tool recognised anything, so its guesses never dilute a real tool's errors. Parsing never raises
on arbitrary text: the fix-error workflow feeds it whatever a command printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from agent_orchestrator.errors import UsageError

LogTool = Literal["tsc", "mypy", "pyright", "pytest", "ruff", "eslint", "generic"]
LogSeverity = Literal["error", "warning", "note"]
LOG_TOOLS: tuple[LogTool, ...] = ("tsc", "mypy", "pyright", "pytest", "ruff", "eslint", "generic")
DEFAULT_MAX_ERRORS = 500

_MAX_LINE_CHARS = 4096  # bounds regex work per line; no real diagnostic line is longer
_MAX_CONTINUATION_LINES = 20
_MAX_EXPLANATION_LINES = 20
_SEVERITIES: dict[str, LogSeverity] = {
    "error": "error",
    "warning": "warning",
    "note": "note",
    "information": "note",
    "message": "note",
}

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_DRIVE = r"(?:[A-Za-z]:)?"  # a Windows drive, so `C:\src\a.py:3` keeps its colon
_FILE = rf"{_DRIVE}[^\s:][^:]*?"  # a path at the start of a line: may hold spaces, never a colon
_NUM = r"\d{1,9}"  # bounded: int() refuses digit strings over 4300 characters

_TSC_DIAGNOSTIC = r" (?P<severity>error|warning|message) (?P<code>TS\d{1,6}): (?P<message>.*)$"
_TSC = re.compile(rf"^(?P<file>\S.*?)\((?P<line>{_NUM}),(?P<column>{_NUM})\):{_TSC_DIAGNOSTIC}")
_TSC_PRETTY = re.compile(rf"^(?P<file>\S.*?):(?P<line>{_NUM}):(?P<column>{_NUM}) -{_TSC_DIAGNOSTIC}")
_TSC_GLOBAL = re.compile(r"^(?P<severity>error|warning|message) (?P<code>TS\d{1,6}): (?P<message>.*)$")
_MYPY = re.compile(
    # Only Python files: gcc and clang print the same `file:line:col: error: message` shape.
    rf"^(?P<file>{_FILE}\.pyi?):(?P<line>{_NUM})(?::(?P<column>{_NUM}))?(?::{_NUM}:{_NUM})?: "
    r"(?P<severity>error|warning|note): (?P<message>.*?)(?:  \[(?P<code>[a-z][a-z0-9-]*)\])?$"
)
_PYRIGHT = re.compile(
    rf"^\s*(?P<file>{_FILE}):(?P<line>{_NUM}):(?P<column>{_NUM}) - "
    r"(?P<severity>error|warning|information): (?P<message>.*)$"
)
_PYRIGHT_RULE = re.compile(r"\s\((?P<code>report[A-Za-z]+)\)$")
_RUFF_CODE = r"(?P<code>[A-Z]{1,8}[0-9]{1,5}|invalid-syntax|SyntaxError):? (?:\[\*\] )?(?P<message>.*)$"
_RUFF_CONCISE = re.compile(rf"^(?P<file>{_FILE}):(?P<line>{_NUM}):(?P<column>{_NUM}): {_RUFF_CODE}")
_RUFF_HEADER = re.compile(rf"^{_RUFF_CODE}")
_RUFF_POINTER = re.compile(rf"^\s*--> (?P<file>.+?):(?P<line>{_NUM}):(?P<column>{_NUM})\s*$")
_ESLINT_ROW = re.compile(
    rf"^\s+(?P<line>{_NUM}):(?P<column>{_NUM})\s+(?P<severity>error|warning)\s+(?P<rest>\S.*)$"
)
_ESLINT_FILE = re.compile(rf"^(?P<file>{_DRIVE}[^\s:][^:]*\.[A-Za-z0-9]+)\s*$")
_ESLINT_RULE = re.compile(r"^[@a-z][\w@/.-]*$")
_ESLINT_COMPACT = re.compile(
    rf"^(?P<file>\S.*?): line (?P<line>{_NUM}), col (?P<column>{_NUM}), (?P<severity>Error|Warning) - "
    r"(?P<message>.*?)(?: \((?P<code>[@\w][\w@/.-]*)\))?$"
)
_ESLINT_UNIX = re.compile(
    rf"^(?P<file>{_FILE}):(?P<line>{_NUM}):(?P<column>{_NUM}): (?P<message>.*?) "
    r"\[(?P<severity>Error|Warning)(?:/(?P<code>[^\]\s]+))?\]$"
)
_PYTEST_SECTION = re.compile(r"^_{2,} (?P<name>.+?) _{2,}$")
_PYTEST_BANNER = re.compile(r"^(?:={2,}|-{2,}) .* (?:={2,}|-{2,})$")
_PYTEST_LOCATION = re.compile(rf"^(?P<file>{_FILE}):(?P<line>{_NUM}):(?: (?P<what>.*))?$")
_PYTEST_EXPLANATION = re.compile(r"^E(?: +(?P<text>.*))?$")
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (?P<nodeid>[^\s:]+\.\w+(?:::.+?)?)(?: - (?P<message>.*))?$")
_PYTEST_SECTION_PREFIXES = ("ERROR at setup of ", "ERROR at teardown of ", "ERROR collecting ")
_EXCEPTION_NAME = re.compile(r"[A-Za-z_][\w.]*")
_EXCEPTION_PREFIX = re.compile(r"^(?P<name>[A-Za-z_][\w.]*):(?:\s|$)")
_GENERIC = re.compile(
    rf"(?<![\w./\\:~-])(?P<file>(?:[A-Za-z]:(?=[\\/]))?[\w.~/\\-]{{1,1000}}):(?P<line>{_NUM})"
    rf"(?::(?P<column>{_NUM}))?(?!\d)"
)
_GENERIC_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,15}$")
_GENERIC_SEPARATORS = " \t:-–|,)"


class ParsedError(BaseModel):
    """One diagnostic: where (when the tool says), which rule or exception, and what."""

    tool: LogTool
    file: str | None
    line: int | None
    column: int | None
    code: str | None
    severity: LogSeverity
    message: str


class ParsedLog(BaseModel):
    """The errors found in a log, the tool that printed them ("mixed" for several) and whether capped."""

    tool: LogTool | Literal["mixed"]
    errors: list[ParsedError]
    truncated: bool


@dataclass(frozen=True)
class _Found:
    index: int  # the line the error starts on: orders and de-duplicates errors across tools
    error: ParsedError


_Parser = Callable[[list[str]], list[_Found]]


def parse_log(text: str, *, tool: str | None = None, max_errors: int = DEFAULT_MAX_ERRORS) -> ParsedLog:
    """Parse a tool's output; with `tool` None (or "auto") the tool is detected from the text."""
    lines = _clean_lines(text)
    if tool is not None and tool != "auto":
        chosen = _known_tool(tool)
        return _capped(chosen, [found.error for found in _PARSERS[chosen](lines)], max_errors)
    results: dict[LogTool, list[_Found]] = {name: found for name in _DETECTED if (found := _PARSERS[name](lines))}
    if not results:
        return _capped("generic", [found.error for found in _parse_generic(lines)], max_errors)
    errors = _merge(results)
    tools: set[LogTool] = {error.tool for error in errors}
    return _capped(tools.pop() if len(tools) == 1 else "mixed", errors, max_errors)


def _known_tool(tool: str) -> LogTool:
    for known in LOG_TOOLS:
        if known == tool:
            return known
    raise UsageError(f"unknown log tool {tool!r}; expected one of {', '.join(LOG_TOOLS)} (or omit it to detect)")


def _capped(tool: LogTool | Literal["mixed"], errors: list[ParsedError], max_errors: int) -> ParsedLog:
    limit = max(max_errors, 0)
    return ParsedLog(tool=tool, errors=errors[:limit], truncated=len(errors) > limit)


def _merge(results: dict[LogTool, list[_Found]]) -> list[ParsedError]:
    """All tools' errors in log order; a line two parsers both claim goes to the earlier-listed tool."""
    ranked = sorted(
        ((name, found) for name, founds in results.items() for found in founds),
        key=lambda item: (item[1].index, _DETECTED.index(item[0])),
    )
    errors: list[ParsedError] = []
    claimed: set[int] = set()
    for _name, found in ranked:
        if found.index not in claimed:
            claimed.add(found.index)
            errors.append(found.error)
    return errors


def _clean_lines(text: str) -> list[str]:
    return [line[:_MAX_LINE_CHARS] for line in _ANSI.sub("", text).splitlines()]


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _located(
    tool: LogTool,
    location: re.Match[str] | None,
    *,
    code: str | None,
    severity: LogSeverity,
    message: str,
    file: str | None = None,
) -> ParsedError:
    """An error at the `file`, `line` and `column` groups of `location`; `file` when it has no such group."""
    groups: dict[str, str | None] = location.groupdict() if location else {}
    return ParsedError(
        tool=tool,
        file=groups.get("file", file),
        line=_int(groups.get("line")),
        column=_int(groups.get("column")),
        code=code,
        severity=severity,
        message=message,
    )


def _continuation(lines: list[str], start: int, stop: re.Pattern[str]) -> list[str]:
    """Indented lines right after `start` that continue its message (until blank, unindented or `stop`)."""
    continued: list[str] = []
    for line in lines[start + 1 : start + 1 + _MAX_CONTINUATION_LINES]:
        if not line.strip() or not line[0].isspace() or stop.match(line):
            break
        continued.append(line.strip())
    return continued


def _parse_tsc(lines: list[str]) -> list[_Found]:
    found: list[_Found] = []
    for index, line in enumerate(lines):
        if match := _TSC.match(line) or _TSC_PRETTY.match(line) or _TSC_GLOBAL.match(line):
            message = "\n".join([match["message"], *_continuation(lines, index, _TSC_PRETTY)])
            severity = _SEVERITIES[match["severity"]]
            found.append(
                _Found(index, _located("tsc", match, code=match["code"], severity=severity, message=message))
            )
    return found


def _parse_mypy(lines: list[str]) -> list[_Found]:
    found: list[_Found] = []
    for index, line in enumerate(lines):
        if match := _MYPY.match(line):
            severity = _SEVERITIES[match["severity"]]
            error = _located("mypy", match, code=match["code"], severity=severity, message=match["message"])
            found.append(_Found(index, error))
    return found


def _parse_pyright(lines: list[str]) -> list[_Found]:
    """Pyright's indented `path:line:col - severity: message` rows; the rule ends the message's last line."""
    found: list[_Found] = []
    for index, line in enumerate(lines):
        if match := _PYRIGHT.match(line):
            message = "\n".join([match["message"].strip(), *_continuation(lines, index, _PYRIGHT)])
            rule = _PYRIGHT_RULE.search(message)
            code, message = (rule["code"], message[: rule.start()]) if rule else (None, message)
            severity = _SEVERITIES[match["severity"]]
            found.append(_Found(index, _located("pyright", match, code=code, severity=severity, message=message)))
    return found


def _parse_ruff(lines: list[str]) -> list[_Found]:
    """Ruff's concise format (`path:line:col: CODE message`) and its full format's `CODE message` + `--> path`."""
    found: list[_Found] = []
    for index, line in enumerate(lines):
        location = match = _RUFF_CONCISE.match(line)
        if not match and (match := _RUFF_HEADER.match(line)) and index + 1 < len(lines):
            location = _RUFF_POINTER.match(lines[index + 1])
        if match and location:
            message = match["message"].strip()
            found.append(
                _Found(index, _located("ruff", location, code=match["code"], severity="error", message=message))
            )
    return found


def _parse_eslint(lines: list[str]) -> list[_Found]:
    """ESLint's stylish format (a file line, then indented rows), compact and unix formats."""
    found: list[_Found] = []
    current_file: str | None = None
    for index, line in enumerate(lines):
        if header := _ESLINT_FILE.match(line):
            current_file = header["file"]
        elif row := _ESLINT_ROW.match(line):
            found.append(_Found(index, _eslint_row(row, current_file)))
        elif match := _ESLINT_COMPACT.match(line) or _ESLINT_UNIX.match(line):
            severity = _SEVERITIES[match["severity"].lower()]
            error = _located("eslint", match, code=match["code"], severity=severity, message=match["message"])
            found.append(_Found(index, error))
    return found


def _eslint_row(row: re.Match[str], file: str | None) -> ParsedError:
    # Stylish aligns columns with two or more spaces, so the rule is the last such column.
    rest = row["rest"].rstrip()
    message, _, rule = rest.rpartition("  ")
    if not message.strip() or not _ESLINT_RULE.match(rule):
        message, rule = rest, ""
    severity = _SEVERITIES[row["severity"]]
    return _located("eslint", row, code=rule or None, severity=severity, message=message.strip(), file=file)


@dataclass
class _PytestSection:
    """One `____ test_name ____` block of pytest's FAILURES or ERRORS report."""

    index: int
    name: str
    location: re.Match[str] | None = None  # the last `path:line:` frame: where it failed
    explanation: list[str] = field(default_factory=list[str])  # the last block of `E   ...` lines
    closed: bool = False  # a banner or captured-output header ends what belongs to the failure
    in_explanation: bool = False

    def read(self, line: str) -> None:
        explanation = _PYTEST_EXPLANATION.match(line)
        if explanation:
            if not self.in_explanation:
                self.explanation = []
            self.explanation.append(explanation["text"] or "")
        elif _PYTEST_BANNER.match(line):
            self.closed = True
        elif location := _PYTEST_LOCATION.match(line):
            self.location = location
        self.in_explanation = explanation is not None


def _parse_pytest(lines: list[str]) -> list[_Found]:
    """Failure sections (location + `E` lines) merged with the short summary's `FAILED`/`ERROR` lines."""
    sections = [section for section in _pytest_sections(lines) if section.location or section.explanation]
    unmatched = {_section_key(section.name): section for section in reversed(sections)}
    test_ids: dict[int, str] = {}
    found: list[_Found] = []
    for index, line in enumerate(lines):
        if not (summary := _PYTEST_SUMMARY.match(line)):
            continue
        section = unmatched.pop(_nodeid_key(summary["nodeid"]), None)
        if section is not None:
            test_ids[section.index] = summary["nodeid"]
        else:
            found.append(_Found(index, _pytest_summary_error(summary)))
    for section in sections:
        error = _pytest_section_error(section, test_ids.get(section.index, section.name))
        found.append(_Found(section.index, error))
    return sorted(found, key=lambda item: item.index)


def _pytest_sections(lines: list[str]) -> list[_PytestSection]:
    sections: list[_PytestSection] = []
    for index, line in enumerate(lines):
        if header := _PYTEST_SECTION.match(line):
            sections.append(_PytestSection(index=index, name=header["name"]))
        elif sections and not sections[-1].closed:
            sections[-1].read(line)
    return sections


def _section_key(name: str) -> str:
    for prefix in _PYTEST_SECTION_PREFIXES:
        name = name.removeprefix(prefix)
    return name


def _nodeid_key(nodeid: str) -> str:
    """`tests/t.py::TestA::test_b[1]` -> `TestA.test_b[1]`, the name pytest puts in the section header."""
    _path, separator, rest = nodeid.partition("::")
    return rest.replace("::", ".") if separator else nodeid


def _exception_name(text: str) -> str | None:
    if text.startswith("assert "):
        return "AssertionError"
    prefix = _EXCEPTION_PREFIX.match(text)
    return prefix["name"] if prefix else None


def _pytest_section_error(section: _PytestSection, test_id: str) -> ParsedError:
    location = section.location
    explanation = [text.rstrip() for text in section.explanation if text.strip()][:_MAX_EXPLANATION_LINES]
    what = (location["what"] or "").strip() if location else ""
    code = what if _EXCEPTION_NAME.fullmatch(what) else _exception_name(explanation[0] if explanation else "")
    detail = "\n".join(explanation) or what or "failed"
    return _located("pytest", location, code=code, severity="error", message=f"{test_id} - {detail}")


def _pytest_summary_error(summary: re.Match[str]) -> ParsedError:
    nodeid, message = summary["nodeid"], summary["message"]
    return _located(
        "pytest",
        None,
        code=_exception_name(message) if message else None,
        severity="error",
        message=f"{nodeid} - {message}" if message else nodeid,
        file=nodeid.partition("::")[0],
    )


def _parse_generic(lines: list[str]) -> list[_Found]:
    """Any `path/file.ext:LINE[:COL]` (a path with an extension or a slash), the rest of the line its message."""
    found: list[_Found] = []
    for index, line in enumerate(lines):
        match = next((candidate for candidate in _GENERIC.finditer(line) if _looks_like_file(candidate)), None)
        if match is None:
            continue
        message = line[match.end() :].lstrip(_GENERIC_SEPARATORS).strip() or line.strip()
        error = _located("generic", match, code=None, severity=_generic_severity(line), message=message)
        found.append(_Found(index, error))
    return found


def _looks_like_file(match: re.Match[str]) -> bool:
    path = match["file"]
    return "/" in path or "\\" in path or _GENERIC_EXTENSION.search(path) is not None


def _generic_severity(line: str) -> LogSeverity:
    lowered = line.lower()
    if "error" in lowered:
        return "error"
    if "warning" in lowered:
        return "warning"
    return "note" if "note:" in lowered else "error"


_PARSERS: dict[LogTool, _Parser] = {
    "tsc": _parse_tsc,
    "mypy": _parse_mypy,
    "pyright": _parse_pyright,
    "ruff": _parse_ruff,
    "eslint": _parse_eslint,
    "pytest": _parse_pytest,
    "generic": _parse_generic,
}
# Auto-detection order; it also breaks ties when two parsers claim the same line.
_DETECTED: tuple[LogTool, ...] = ("tsc", "mypy", "pyright", "ruff", "eslint", "pytest")

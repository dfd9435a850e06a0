"""Withhold sensitive files' content from command output: diffs and search hits the path policy never saw.

Why: the path policy refuses `.env`, private keys and the like when a command names them, but
`git diff HEAD~1`, `git log -p` and `git show` print a committed `.env` whole, and `grep -r VALUE .`
prints `./.env:KEY=value`, without ever naming the file. So every command's output is filtered
after capture and before redaction:
- A diff section (`diff --git`, `diff --cc`, or a bare `--- X` / `+++ Y` pair, through its hunks, which
  are followed by their line counts) whose path is sensitive becomes one line
  `[withheld: diff of sensitive file 'X' (N lines)]`. Colours and `--graph` prefixes are looked through.
  If a sensitive section's layout cannot be followed (`--word-diff` lines carry no `+`/`-`), everything
  from it to the end is withheld: content that cannot be delimited cannot be shown safely.
- A search line `PATH:...`, `PATH-...`, `PATH=...`, `PATH<NUL>...` (grep, rg, git grep; also `REV:PATH:`)
  or an `rg --json` match whose path is sensitive is withheld; one line counts them, where the first was.
  The path may contain spaces, `-` and `:`; the search for it stops at whitespace after a `:` or `=`.
  A line from an ordinary file that mentions `dir/.env-x` may be withheld too: the safe mistake.
- Names are not secret: `git ls-files`, `git status` and `--stat` listings pass unchanged.
Search modes that print content without its file (`grep -h`, `rg --heading`, ...) cannot be filtered, so
`unattributed_search` names them for refusal. Sensitivity is `PathPolicy.sensitive_reason`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

SensitiveReason = Callable[[str], str | None]

_MAX_PATH = 4096
_MAX_NAME = 255
_ANSI = re.compile(r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_SECTION_START = re.compile(r"([*|/\\_ .-]*?)diff --(?:git|cc|combined) ")
_GRAPH = re.compile(r"[*|/\\_ .-]*")
_HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_BASE85 = re.compile(r"[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*|(?:literal|delta) \d+|")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_HEADER_PREFIXES = (
    "old mode ", "new mode ", "deleted file mode ", "new file mode ", "copy from ", "copy to ", "rename from ",
    "rename to ", "similarity index ", "dissimilarity index ", "index ", "--- ", "+++ ", "Binary files ",
    "mode ", "remerge ",
)  # fmt: skip
_PATH_PREFIXES = (
    "diff --git ", "diff --cc ", "diff --combined ", "--- ", "+++ ", "rename from ", "rename to ", "copy from ",
    "copy to ",
)  # fmt: skip
_JSON_RECORD = re.compile(r'\{\s*"type"\s*:')
_SEARCH_MARKS = re.compile(r"[:=\-\0/\\]|\s")
# Output modes that print matched content without its file name, per search program.
_HIDING_LONG = {
    "grep": ("--no-filename", "--null-data"),
    "rg": ("--no-filename", "--heading", "--pretty", "--null-data"),
    "git grep": ("--no-filename", "--heading"),
}
_SAFE_LONG = frozenset({"--null", "--pre", "--pre-glob"})  # real options that prefix a hiding one
_HIDING_SHORT = {"grep": "hz", "rg": "Ip", "git grep": "h"}
_VALUE_SHORT = {"grep": "efmABCdDX", "rg": "efgtTmABCjMErd", "git grep": "efABCmO"}


@dataclass(frozen=True)
class Filtered:
    """Output with sensitive content withheld: which paths, and how many lines in all."""

    text: str
    paths: tuple[str, ...] = ()
    lines: int = 0


@dataclass
class _Section:
    end: int  # index of the first line after the section
    paths: list[str] = field(default_factory=list[str])
    broken: bool = False  # a hunk line did not fit the counts: where the content ends is unknown


def withhold_sensitive(text: str, sensitive: SensitiveReason) -> Filtered:
    """`text` with sensitive diff sections and search lines replaced by a note saying what was withheld."""
    if not text:
        return Filtered(text)
    return _Filter(text, sensitive).run()


def unattributed_search(argv: Sequence[str]) -> str | None:
    """Why a grep/rg/git grep command would print content without naming its file, or None."""
    program, start = (argv[0], 1) if argv[0] != "git" else ("git grep", _git_subcommand(argv))
    if program not in _HIDING_SHORT or start is None:
        return None
    hiding_long, hiding_short, value_short = _HIDING_LONG[program], _HIDING_SHORT[program], _VALUE_SHORT[program]
    index = start
    while index < len(argv) and argv[index] != "--":
        word, index = argv[index], index + 1
        if word.startswith("--"):
            name = word.partition("=")[0]
            if len(name) > 4 and name not in _SAFE_LONG and any(flag.startswith(name) for flag in hiding_long):
                return f"{word!r} prints matches without the file they come from"
        elif word.startswith("-") and len(word) > 1:
            for position, letter in enumerate(word[1:], start=1):
                if letter in hiding_short:
                    return f"'-{letter}' (in {word!r}) prints matches without the file they come from"
                if letter in value_short:
                    index += position == len(word) - 1  # the value is the next word
                    break
    return None


def _git_subcommand(argv: Sequence[str]) -> int | None:
    """Index after `grep` when the git command is `git [global options] grep`."""
    for index, word in enumerate(argv[1:], start=1):
        if not word.startswith("-"):
            return index + 1 if word == "grep" else None
    return None


class _Filter:
    def __init__(self, text: str, sensitive: SensitiveReason) -> None:
        parts = text.split("\n")
        self._lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        self._plain = [_plain(line) for line in self._lines]
        self._reason = sensitive
        self._cache: dict[str, bool] = {}
        self._out: list[str] = []
        self._paths: dict[str, None] = {}
        self._withheld_lines = 0
        self._search_at: int | None = None
        self._search_paths: dict[str, None] = {}
        self._search_lines = 0

    def run(self) -> Filtered:
        index = 0
        while index < len(self._lines):
            section = self._section(index)
            if section is None:
                self._search_line(index)
                index += 1
            elif (path := self._first_sensitive(section.paths)) is None:
                self._out.extend(self._lines[index : section.end])
                index = section.end
            elif section.broken:
                self._withhold_rest(index, path)
                break
            else:
                self._withhold(path, section.end - index, f"diff of sensitive file {path!r}")
                index = section.end
        if self._search_at is not None:
            names = ", ".join(repr(path) for path in self._search_paths)
            count = self._search_lines
            self._out[self._search_at] = f"[withheld: {_lines(count)} from sensitive files {names}]\n"
        return Filtered("".join(self._out), tuple(self._paths), self._withheld_lines)

    def _is_sensitive(self, path: str) -> bool:
        if path not in self._cache:
            self._cache[path] = bool(path) and self._reason(path) is not None
        return self._cache[path]

    def _first_sensitive(self, paths: list[str]) -> str | None:
        for path in paths:
            if self._is_sensitive(path):
                return path.removeprefix("a/").removeprefix("b/")
        return None

    def _withhold(self, path: str, count: int, what: str) -> None:
        self._paths[path] = None
        self._withheld_lines += count
        self._out.append(f"[withheld: {what} ({_lines(count)})]\n")

    def _withhold_rest(self, index: int, path: str) -> None:
        count = len(self._lines) - index
        self._withhold(path, count, f"diff of sensitive file {path!r} and everything after it (layout unclear)")

    def _search_line(self, index: int) -> None:
        path = _search_path(self._plain[index], self._is_sensitive)
        if path is None:
            self._out.append(self._lines[index])
            return
        if self._search_at is None:
            self._search_at = len(self._out)
            self._out.append("")
        self._search_paths[path] = None
        self._paths[path] = None
        self._search_lines += 1
        self._withheld_lines += 1

    def _section(self, start: int) -> _Section | None:
        """The diff section starting at `start`, or None when no section starts there."""
        plain = self._plain[start]
        match = _SECTION_START.match(plain)
        if match is not None:
            prefix = len(match.group(1))
            section = _Section(start + 1, _header_paths(plain[prefix:]))
            return self._follow(section, prefix, combined=not plain[prefix:].startswith("diff --git "))
        following = self._plain[start + 1] if start + 1 < len(self._plain) else ""
        if plain.startswith("--- ") and following.startswith("+++ "):
            section = _Section(start + 2, [*_header_paths(plain), *_header_paths(following)])
            return self._follow(section, 0, combined=False)
        return None

    def _body(self, index: int, prefix: int) -> str | None:
        """Line `index` without its `--graph` prefix; None past the end or when the prefix is not graph."""
        if index >= len(self._plain):
            return None
        plain = self._plain[index]
        return plain[prefix:] if _GRAPH.fullmatch(plain[:prefix]) else None

    def _follow(self, section: _Section, prefix: int, *, combined: bool) -> _Section:
        """Extend a section over its header lines, hunks and binary patch."""
        while (body := self._body(section.end, prefix)) is not None:
            if body.startswith("@@"):
                if not self._hunk(section, prefix, body, combined=combined):
                    break
            elif body == "GIT binary patch":
                section.end += 1
                while (line := self._body(section.end, prefix)) is not None and _BASE85.fullmatch(line):
                    section.end += 1
                break
            elif body.startswith(_HEADER_PREFIXES) and not section.broken:
                section.paths.extend(_header_paths(body))
                section.end += 1
            else:
                break
        return section

    def _hunk(self, section: _Section, prefix: int, header: str, *, combined: bool) -> bool:
        """Consume one hunk; False (and `broken`) when a line does not fit its counts."""
        section.end += 1
        counts = _HUNK.match(header)
        if combined or counts is None:
            while (body := self._body(section.end, prefix)) is not None and body[:1] in (" ", "+", "-", "\\"):
                section.end += 1
            return True
        old, new = (int(count) if count is not None else 1 for count in counts.groups())
        while old > 0 or new > 0:
            body = self._body(section.end, prefix)
            takes_old, takes_new = body is not None and body[:1] in " -", body is not None and body[:1] in " +"
            if body is None or body[:1] not in (" ", "-", "+", "\\") or takes_old > old or takes_new > new:
                section.broken = body is not None or section.end < len(self._plain)
                return False
            old, new = old - takes_old, new - takes_new
            section.end += 1
        while (body := self._body(section.end, prefix)) is not None and body.startswith("\\"):
            section.end += 1
        return True


def _lines(count: int) -> str:
    return f"{count} line{'s' * (count != 1)}"


def _plain(line: str) -> str:
    """A line as matched: without its line ending and colour or hyperlink escapes."""
    line = line.removesuffix("\n").removesuffix("\r")
    return _ANSI.sub("", line) if "\x1b" in line else line


def _header_paths(body: str) -> list[str]:
    """Every string a diff header line may name a path with: whole, space-separated, unquoted."""
    if body.startswith("Binary files ") and body.endswith(" differ"):
        rest = body[len("Binary files ") : -len(" differ")]
    else:
        prefix = next((prefix for prefix in _PATH_PREFIXES if body.startswith(prefix)), None)
        if prefix is None:
            return []
        rest = body[len(prefix) :]
        if prefix in ("--- ", "+++ "):
            rest = rest.split("\t", 1)[0]
    quoted = [_unquote(match.group(1)) for match in _QUOTED.finditer(rest)]
    return [*quoted, *rest.split(" "), rest]


def _unquote(text: str) -> str:
    """A git C-quoted path (`\\303\\251`, `\\t`, `\\"`) back to text."""
    escapes = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following in "01234567" and len(octal := text[index + 1 : index + 4]) == 3 and octal.isdigit():
                out.append(int(octal, 8) & 0xFF)
                index += 4
                continue
            out.extend(bytes([escapes[following]]) if following in escapes else following.encode())
            index += 2
            continue
        out.extend(char.encode("utf-8", "surrogateescape"))
        index += 1
    return out.decode("utf-8", "replace")


def _search_path(line: str, is_sensitive: Callable[[str], bool]) -> str | None:
    """The sensitive path a grep-style line shows content of, or None (not such a line, or not sensitive)."""
    if _JSON_RECORD.match(line):
        return _json_search_path(line, is_sensitive)
    component_start, sensitive_dir, separator_seen = 0, False, False
    for match in _SEARCH_MARKS.finditer(line, 0, _MAX_PATH):
        char, at = match.group(), match.start()
        if char.isspace():
            if separator_seen:
                return None
            continue
        part = line[component_start:at]
        if len(part) > _MAX_NAME:
            return None
        hit = is_sensitive(part) or (":" in part and is_sensitive(part.partition(":")[2]))
        if char in "/\\":
            sensitive_dir = sensitive_dir or hit
            component_start = at + 1
            continue
        if hit or sensitive_dir:
            return line[:at]
        separator_seen = separator_seen or char in ":=\0"
    return None


def _json_search_path(line: str, is_sensitive: Callable[[str], bool]) -> str | None:
    """The sensitive path of an `rg --json` match or context line."""
    try:
        record: object = json.loads(line)
    except ValueError:
        return None
    if _field(record, "type") not in ("match", "context"):
        return None
    path = _field(_field(record, "data"), "path")
    name = _field(path, "text")
    if not isinstance(name, str):
        try:
            name = base64.b64decode(str(_field(path, "bytes") or "")).decode("utf-8", "replace")
        except (ValueError, binascii.Error):
            return None
    return name if is_sensitive(name) else None


def _field(value: object, name: str) -> object:
    return cast(dict[str, object], value).get(name) if isinstance(value, dict) else None

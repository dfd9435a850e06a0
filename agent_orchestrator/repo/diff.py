"""Unified diffs (`git diff` output) parsed into files, hunks and numbered lines.

Parsing is `unidiff`'s; this module turns its objects into pydantic models (they are MCP tool
output) and fills in what it leaves raw: `rename from`/`copy from` lines, git's C-quoted paths and
whole-diff CRLF line endings. Reviewers cite lines by new-file number, so context lines keep their
new-side numbers too (`ParsedDiff.line_exists`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel
from unidiff.constants import DEV_NULL, RE_PATCH_FILE_PREFIX
from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UnidiffHunk
from unidiff.patch import PatchedFile, PatchSet

from agent_orchestrator.errors import UsageError

DEFAULT_MAX_BYTES = 5_000_000
FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]

_EXPECTED = (
    "expected `git diff` output or another unified diff: `diff --git a/... b/...` or `--- a/file` / "
    "`+++ b/file` headers followed by `@@ -start,count +start,count @@` hunks"
)
_QUOTED_CHAR = re.compile(r"\\(?:([0-7]{1,3})|(.))", re.DOTALL)
_C_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}
_SIMILARITY = re.compile(r"^similarity index (\d+)%")


class DiffLine(BaseModel):
    """One line of a hunk: new-file number for added and context lines, old-file number for removed."""

    number: int
    text: str


class Hunk(BaseModel):
    """One `@@ -old_start,old_length +new_start,new_length @@ section_header` block."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    section_header: str
    added: list[DiffLine]
    removed: list[DiffLine]
    context: list[DiffLine]


class FileChange(BaseModel):
    """One file in the diff; `old_path` is set only for renames and copies."""

    path: str
    old_path: str | None
    status: FileStatus
    is_binary: bool
    old_mode: str | None
    new_mode: str | None
    similarity: int | None
    hunks: list[Hunk]
    added_count: int
    removed_count: int

    def new_side_lines(self) -> set[int]:
        """New-file line numbers shown in the diff (added and context lines)."""
        return {line.number for hunk in self.hunks for line in (*hunk.added, *hunk.context)}


class ParsedDiff(BaseModel):
    """Every file of a diff with line totals."""

    files: list[FileChange]
    added_count: int
    removed_count: int

    def get_file(self, path: str) -> FileChange | None:
        """The change to `path` (its new path; a leading `./` is ignored), or None."""
        wanted = path.removeprefix("./")
        return next((change for change in self.files if change.path == wanted), None)

    def line_exists(self, path: str, line: int) -> bool:
        """Whether `line` of `path` (new side) appears in the diff, so a review finding may cite it."""
        change = self.get_file(path)
        return change is not None and line in change.new_side_lines()


def parse_diff(text: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDiff:
    """Parse unified-diff text; an empty diff has no files, anything else that is not a diff is refused."""
    size = len(text) if len(text) > max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise UsageError(f"diff is {size:,} bytes; the limit is {max_bytes:,} bytes (pass a smaller diff)")
    if not text.strip():
        return ParsedDiff(files=[], added_count=0, removed_count=0)
    try:
        patch = PatchSet(_normalise_newlines(text))
    except UnidiffParseError as exc:
        raise UsageError(f"input is not a valid unified diff ({str(exc).strip()[:200]}); {_EXPECTED}") from None
    if not patch:
        raise UsageError(f"input is not a unified diff: no file headers found; {_EXPECTED}")
    files = [_file_change(patched) for patched in patch]
    return ParsedDiff(
        files=files,
        added_count=sum(change.added_count for change in files),
        removed_count=sum(change.removed_count for change in files),
    )


def _normalise_newlines(text: str) -> str:
    """Turn a diff saved with CRLF endings throughout back into git's LF form.

    Only when the first (header) line ends in CRLF: in real `git diff` output headers end in LF and a
    CR belongs to the file's content, which must not be touched.
    """
    first_line_end = text.find("\n")
    if first_line_end > 0 and text[first_line_end - 1] == "\r":
        return text.replace("\r\n", "\n")
    return text


def _file_change(patched: PatchedFile) -> FileChange:
    info = _patch_info(patched)
    info_lines: list[str] = patched.patch_info or []
    is_git = bool(info_lines) and info_lines[0].startswith("diff --git ")
    old_path, new_path = _paths(patched, info, is_git=is_git)
    status = _status(patched, info, is_git=is_git, renamed=old_path != new_path)
    hunks = [_hunk(hunk) for hunk in patched]
    return FileChange(
        path=old_path if status == "deleted" else new_path,
        old_path=old_path if status in ("renamed", "copied") else None,
        status=status,
        is_binary=patched.is_binary_file,
        old_mode=patched.source_mode,
        new_mode=patched.target_mode,
        similarity=int(info["similarity index"]) if "similarity index" in info else None,
        hunks=hunks,
        added_count=sum(len(hunk.added) for hunk in hunks),
        removed_count=sum(len(hunk.removed) for hunk in hunks),
    )


def _patch_info(patched: PatchedFile) -> dict[str, str]:
    """The git extended header lines unidiff leaves raw: rename/copy paths and similarity."""
    info: dict[str, str] = {}
    raw_lines: list[str] = patched.patch_info or []
    for raw in raw_lines:
        line = raw.rstrip("\r\n")
        for key in ("rename from", "rename to", "copy from", "copy to"):
            if line.startswith(key + " "):
                info[key] = _unquote(line[len(key) + 1 :])
        similarity = _SIMILARITY.match(line)
        if similarity:
            info["similarity index"] = similarity.group(1)
    return info


def _paths(patched: PatchedFile, info: dict[str, str], *, is_git: bool) -> tuple[str, str]:
    """(old path, new path) without their `a/` `b/` prefixes."""
    source, target = _unquote(patched.source_file), _unquote(patched.target_file)
    if not is_git:
        # `diff -ru old new` names one file in two trees: old/app.py and new/app.py are app.py.
        old_tail, new_tail = source.partition("/")[2], target.partition("/")[2]
        if old_tail and old_tail == new_tail:
            return old_tail, new_tail
    old_path = info.get("rename from") or info.get("copy from") or _strip_prefix(source)
    new_path = info.get("rename to") or info.get("copy to") or _strip_prefix(target)
    return old_path, new_path


def _status(patched: PatchedFile, info: dict[str, str], *, is_git: bool, renamed: bool) -> FileStatus:
    # In git output only /dev/null marks an added or deleted file; unidiff's other heuristic
    # (a single `@@ -0,0` hunk) would call a once-empty file that gained lines "added".
    if patched.source_file == DEV_NULL or (not is_git and patched.is_added_file):
        return "added"
    if patched.target_file == DEV_NULL or (not is_git and patched.is_removed_file):
        return "deleted"
    if "copy from" in info:
        return "copied"
    return "renamed" if "rename from" in info or renamed else "modified"


def _hunk(hunk: UnidiffHunk) -> Hunk:
    added: list[DiffLine] = []
    removed: list[DiffLine] = []
    context: list[DiffLine] = []
    for line in hunk:
        text = line.value.removesuffix("\n").removesuffix("\r")
        if line.is_added and line.target_line_no is not None:
            added.append(DiffLine(number=line.target_line_no, text=text))
        elif line.is_removed and line.source_line_no is not None:
            removed.append(DiffLine(number=line.source_line_no, text=text))
        elif line.is_context and line.target_line_no is not None:
            context.append(DiffLine(number=line.target_line_no, text=text))
    return Hunk(
        old_start=hunk.source_start,
        old_length=hunk.source_length,
        new_start=hunk.target_start,
        new_length=hunk.target_length,
        section_header=hunk.section_header.rstrip("\r"),
        added=added,
        removed=removed,
        context=context,
    )


def _strip_prefix(path: str) -> str:
    """`a/src/x.py` -> `src/x.py` (also git's mnemonic `c/ i/ o/ w/` and `--no-index` `1/ 2/` prefixes)."""
    return path[2:] if RE_PATCH_FILE_PREFIX.match(path) else path


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths: `"caf\\303\\251.txt"` -> `café.txt`."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    out = bytearray()
    position = 0
    inner = path[1:-1]
    for escape in _QUOTED_CHAR.finditer(inner):
        out += inner[position : escape.start()].encode("utf-8", "surrogatepass")
        octal, char = escape.group(1, 2)
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        else:
            out += _C_ESCAPES.get(char, char).encode("utf-8", "surrogatepass")
        position = escape.end()
    out += inner[position:].encode("utf-8", "surrogatepass")
    return out.decode("utf-8", "replace")

"""Which workspace paths the orchestrator may read or write: resolved, inside the root, never secret.

Every path a tool, a worker or a patch names goes through `PathPolicy` before a file is opened.
Decisions worth knowing:
- Any `..` component in the requested path is refused (`path.traversal`), even one that would
  stay inside the root: no legitimate caller needs it, and a flat rule is easier to trust.
- `.env*` is refused literally: `.env`, `.env.local`, `.envrc` and `.env.example` alike.
- Sensitive names match case-insensitively, after NFKC normalisation and with trailing dots and
  spaces dropped, because macOS and Windows filesystems treat those spellings as the same file.
  Backslashes also split components, so `.git\\config` is refused as well.
- The name rules run on the requested path and again on the resolved one, so a symlink can
  neither launder a refused name (`notes.txt -> .env`) nor leave the root.
- Files are opened through `open_dir`: one `O_NOFOLLOW` step at a time from the root's own fd, so
  a directory swapped for a symlink after the check is refused rather than followed. Where the
  platform lacks those calls (Windows), `open_dir` refuses (`platform.no_nofollow`), so every
  read and write of a workspace file does; resolving and name checks still work.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from agent_orchestrator.errors import NotFoundError, PolicyViolation, UsageError
from agent_orchestrator.policies.platform import require_nofollow_dir_fds

MAX_PATH_BYTES = 4096  # PATH_MAX on Linux
MAX_NAME_BYTES = 255  # NAME_MAX on Linux and macOS
_MAX_SYMLINKS = 40  # MAXSYMLINKS on Linux: more than this is treated as a loop
_BINARY_SNIFF_BYTES = 8192
_SWAPPED_ERRNOS = frozenset({errno.ELOOP, errno.ENOTDIR, errno.EMLINK})

_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Cc controls, Cf invisible formatting (bidi overrides, zero-width joiners that HFS+ ignores),
# Cs lone surrogates (unencodable), Zl/Zp line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_COMPONENT_SPLIT = re.compile(r"[/\\]")

_SECRET_NAMES = frozenset(
    {".ssh", ".gnupg", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd"}
)
_SECRET_SUFFIXES = (".pem", ".key", ".p8", ".p12", ".pfx", ".crt", ".cer", ".jks", ".keystore", ".kdbx", ".ppk")
_SSH_KEY = re.compile(r"id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?(?:[._-].*)?", re.DOTALL)


@dataclass(frozen=True)
class FileRead:
    """Text read from a workspace file; `size` is the whole file's size in bytes."""

    path: Path
    text: str
    truncated: bool
    size: int


class PathPolicy:
    """Resolves requested paths to real paths inside one workspace root, refusing sensitive ones."""

    def __init__(self, root: Path, *, state_dir_name: str = ".ao") -> None:
        if not state_dir_name or _COMPONENT_SPLIT.search(state_dir_name) or state_dir_name in (".", ".."):
            raise UsageError(f"state dir name must be a single path component, got {state_dir_name!r}")
        try:
            real = Path(os.path.realpath(root, strict=True))
            info = os.stat(real)
        except (OSError, ValueError) as exc:
            raise PolicyViolation(
                f"workspace root {str(root)!r} does not exist: {exc}", rule="path.root"
            ) from None
        if not stat.S_ISDIR(info.st_mode):
            raise PolicyViolation(f"workspace root {str(root)!r} is not a directory", rule="path.root")
        self.root = real
        self._root_text = str(real)
        self._root_prefix = self._root_text.rstrip("/") + "/"
        self._root_id = (info.st_dev, info.st_ino)
        self._state_name = _fold(state_dir_name)

    def resolve_read(self, path: str | Path) -> Path:
        """The real path inside the root that reading `path` would touch (it may not exist)."""
        return self._resolve(path)

    def resolve_write(self, path: str | Path) -> Path:
        """The real path inside the root that writing `path` would create or replace."""
        resolved = self._resolve(path)
        try:
            info = os.lstat(resolved)
        except FileNotFoundError:
            return resolved
        except OSError as exc:
            raise PolicyViolation(
                f"cannot inspect {str(path)!r}: {exc.strerror}", rule="path.unresolvable"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise PolicyViolation(f"cannot write {str(path)!r}: it is not a regular file", rule="path.not_a_file")
        return resolved

    def relative(self, resolved: Path) -> str:
        """`resolved` (a result of `resolve_*`) as a POSIX path relative to the root, for diffs and messages."""
        return resolved.relative_to(self.root).as_posix()

    def read_text(self, path: str | Path, *, max_bytes: int) -> FileRead:
        """Read at most `max_bytes` of a regular text file; binary files are refused, bad UTF-8 replaced."""
        if max_bytes < 1:
            raise UsageError(f"max_bytes must be positive, got {max_bytes!r}")
        resolved = self.resolve_read(path)
        data, size = self._read_bytes(resolved, str(path), max_bytes)
        if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
            raise PolicyViolation(
                f"refused {str(path)!r}: it looks binary (NUL byte in the first {_BINARY_SNIFF_BYTES} bytes)",
                rule="path.binary",
            )
        truncated = len(data) > max_bytes
        # An incremental decoder drops a multi-byte character cut in half by the limit.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = decoder.decode(data[:max_bytes], final=not truncated)
        return FileRead(path=resolved, text=text, truncated=truncated, size=max(size, len(data)))

    def open_dir(self, directory: Path, *, create: bool = False) -> int:
        """Open `directory` (a resolved path inside the root) without following any symlink; returns an fd.

        Each step is `openat(name, O_NOFOLLOW | O_DIRECTORY)` from the previous fd, starting at the
        root's own fd, so a component swapped for a symlink after `resolve_*` is refused with
        `path.changed`. With `create`, missing directories are made the same way, one by one.
        The caller closes the returned fd. Refused (`platform.no_nofollow`) on a platform without
        these calls, before anything is opened.
        """
        require_nofollow_dir_fds()
        text = str(directory)
        if text != self._root_text and not text.startswith(self._root_prefix):
            raise PolicyViolation(f"{text!r} is outside the workspace root", rule="path.outside_root")
        fd = self._open_root()
        try:
            for name in Path(text[len(self._root_prefix) :]).parts if text != self._root_text else ():
                child = _open_child_dir(fd, name, create=create)
                os.close(fd)
                fd = child
            _verify_dir_fd(fd, text)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _resolve(self, path: str | Path) -> Path:
        """Apply every rule to `path` and return its real path inside the root."""
        requested = os.fspath(path)
        _check_requested(requested)
        # The root is already real, so a path spelled under it resolves from there, not from `/`,
        # and the root's own ancestors (say, a checkout under `~/.ao/`) are not held against it.
        if requested.startswith(self._root_prefix):
            start, rest = self._root_text, requested[len(self._root_prefix) :]
        else:
            start, rest = ("/" if requested.startswith("/") else self._root_text), requested
        # Backslashes split here too, so `.git\\config` is refused even though Linux sees one name.
        for name in _COMPONENT_SPLIT.split(rest):
            self._refuse_sensitive(name, requested, via=None)
        resolved = _real_path(start, [name for name in rest.split("/") if name not in ("", ".")], requested)
        if resolved != self._root_text and not resolved.startswith(self._root_prefix):
            raise PolicyViolation(
                f"refused {requested!r}: it resolves to {resolved!r}, outside the root {self._root_text!r}",
                rule="path.outside_root",
            )
        if len(os.fsencode(resolved)) > MAX_PATH_BYTES:
            raise PolicyViolation(f"refused {requested!r}: the resolved path is too long", rule="path.too_long")
        inside = resolved[len(self._root_prefix) :] if resolved != self._root_text else ""
        for name in _COMPONENT_SPLIT.split(inside):
            self._refuse_sensitive(name, requested, via=inside)
        return Path(resolved)

    def sensitive_reason(self, path: str) -> str | None:
        """Why a workspace-relative path (as a diff or a tool's output names it) is sensitive, or None.

        Checks the names only, nothing on disk: for paths in diffs, revisions and command output.
        """
        for name in _COMPONENT_SPLIT.split(path):
            found = self._sensitive_rule(name)
            if found is not None:
                return f"{name!r} is {found[1]}"
        return None

    def _refuse_sensitive(self, name: str, requested: str, *, via: str | None) -> None:
        """Raise if one path component names git internals, the state dir, an env file or a secret."""
        found = self._sensitive_rule(name)
        if found is None:
            return
        rule, what = found
        where = f"it resolves to {via!r}, and " if via is not None and via != requested else ""
        raise PolicyViolation(
            f"refused {requested!r}: {where}{name!r} is {what}; this is refused even when writes are allowed",
            rule=rule,
        )

    def _sensitive_rule(self, name: str) -> tuple[str, str] | None:
        """The rule a single component breaks and why, or None for an ordinary name."""
        folded = _fold(name)
        if folded == ".git":
            return "path.git_internals", "git internals (change them through git, not files)"
        if folded == self._state_name:
            return "path.state_dir", "the orchestrator's own state dir"
        if folded.startswith(".env"):
            return "path.env_file", "an environment file (`.env*` may hold secrets)"
        if folded in _SECRET_NAMES or _SSH_KEY.fullmatch(folded) or folded.endswith(_SECRET_SUFFIXES):
            return "path.secret_file", "a private key, certificate or credentials file"
        return None

    def _open_root(self) -> int:
        """Open the root directory and check it is still the directory checked at construction."""
        try:
            fd = os.open(self._root_text, _dir_flags())
        except OSError as exc:
            raise PolicyViolation(
                f"workspace root {self._root_text!r} is gone: {exc.strerror}", rule="path.changed"
            ) from None
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != self._root_id:
            os.close(fd)
            raise PolicyViolation(f"workspace root {self._root_text!r} was replaced", rule="path.changed")
        return fd

    def _read_bytes(self, resolved: Path, requested: str, max_bytes: int) -> tuple[bytes, int]:
        """Up to `max_bytes + 1` bytes of a regular file (the extra byte detects truncation) and its size."""
        if resolved == self.root:
            raise PolicyViolation(f"cannot read {requested!r}: it is a directory", rule="path.not_a_file")
        require_nofollow_dir_fds()
        try:
            dir_fd = self.open_dir(resolved.parent)
        except NotFoundError:
            raise NotFoundError(f"file {requested!r} does not exist") from None
        try:
            fd = os.open(resolved.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except FileNotFoundError:
            raise NotFoundError(f"file {requested!r} does not exist") from None
        except OSError as exc:
            if exc.errno in _SWAPPED_ERRNOS:
                raise PolicyViolation(f"{requested!r} changed after it was checked", rule="path.changed") from None
            raise
        finally:
            os.close(dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PolicyViolation(
                    f"cannot read {requested!r}: it is not a regular file", rule="path.not_a_file"
                )
            return _read_up_to(fd, max_bytes + 1), info.st_size
        finally:
            os.close(fd)


def _dir_flags() -> int:
    """Flags to open a directory without following a symlink; read at call time, after the platform check."""
    return os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _fold(name: str) -> str:
    """Canonical spelling of a name for matching: as case-insensitive, Unicode-folding filesystems see it."""
    folded = name.lower() if name.isascii() else unicodedata.normalize("NFKC", name).casefold()
    return folded.rstrip(" .") if folded not in (".", "..") else folded


def _check_requested(requested: str) -> None:
    """Refuse empty, control-character and overlong paths, and `..` split on `/` or `\\` (`..\\x` too)."""
    if not requested.strip():
        raise PolicyViolation("refused an empty path", rule="path.empty")
    if len(requested) > MAX_PATH_BYTES:
        raise PolicyViolation(
            f"refused a path of {len(requested)} characters (limit {MAX_PATH_BYTES})", rule="path.too_long"
        )
    bad = _control_char(requested)
    if bad is not None:
        raise PolicyViolation(
            f"refused {requested!r}: it contains the control or invisible character U+{ord(bad):04X}",
            rule="path.control_char",
        )
    names = requested.split("/")
    if len(os.fsencode(requested)) > MAX_PATH_BYTES or any(len(os.fsencode(n)) > MAX_NAME_BYTES for n in names):
        raise PolicyViolation(
            f"refused {requested!r}: the path or one of its names is too long", rule="path.too_long"
        )
    if ".." in _COMPONENT_SPLIT.split(requested):
        raise PolicyViolation(f"refused {requested!r}: `..` components are not allowed", rule="path.traversal")


def _control_char(text: str) -> str | None:
    """The first control, invisible-formatting, separator or surrogate character in `text`, if any."""
    if text.isascii():
        match = _ASCII_CONTROL.search(text)
        return match.group() if match else None
    return next((char for char in text if unicodedata.category(char) in _REFUSED_CATEGORIES), None)


def _real_path(start: str, names: list[str], requested: str) -> str:
    """Resolve `names` from the real directory `start` as the kernel would, following symlinks.

    Components that do not exist yet are appended as they are, so a new file resolves through its
    nearest existing parent. Unlike `os.path.realpath`, a loop or an unreadable component raises
    instead of returning a half-resolved path.
    """
    resolved, pending, links, missing = start, names[::-1], 0, False
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":  # only from a symlink target; the requested path has none
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        info = None if missing else _lstat(candidate, requested)
        if info is not None and stat.S_ISLNK(info.st_mode):
            links += 1
            if links > _MAX_SYMLINKS:
                raise PolicyViolation(
                    f"refused {requested!r}: too many symlinks (a loop?)", rule="path.unresolvable"
                )
            target = _readlink(candidate, requested)
            resolved = "/" if target.startswith("/") else resolved
            pending.extend(reversed(target.split("/")))
            continue
        if info is not None and not stat.S_ISDIR(info.st_mode) and any(p not in ("", ".") for p in pending):
            raise PolicyViolation(
                f"refused {requested!r}: {candidate!r} is not a directory", rule="path.not_a_file"
            )
        missing = info is None
        resolved = candidate
    return resolved


def _lstat(path: str, requested: str) -> os.stat_result | None:
    """`os.lstat`, or None when the path does not exist; other failures become a policy refusal."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PolicyViolation(
            f"refused {requested!r}: cannot inspect {path!r}: {exc.strerror}", rule="path.unresolvable"
        ) from None


def _readlink(path: str, requested: str) -> str:
    """`os.readlink`, with a link that vanished or cannot be read becoming a policy refusal."""
    try:
        return os.readlink(path)
    except OSError as exc:
        raise PolicyViolation(
            f"refused {requested!r}: cannot read link {path!r}: {exc.strerror}", rule="path.unresolvable"
        ) from None


def _open_child_dir(parent_fd: int, name: str, *, create: bool) -> int:
    """Open (or make, with `create`) the directory `name` under `parent_fd`, never through a symlink."""
    try:
        try:
            return os.open(name, _dir_flags(), dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                raise NotFoundError(f"directory {name!r} does not exist") from None
        # Made concurrently is fine: the O_NOFOLLOW open below still checks what it is.
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=parent_fd)
        return os.open(name, _dir_flags(), dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in _SWAPPED_ERRNOS:
            raise PolicyViolation(
                f"{name!r} is no longer a directory (a symlink or file replaced it after the check)",
                rule="path.changed",
            ) from None
        raise


def _verify_dir_fd(fd: int, expected: str) -> None:
    """On Linux, check the kernel's path for `fd` is still `expected` (catches a directory moved away)."""
    try:
        actual = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return  # no /proc: the O_NOFOLLOW walk from the root fd is the guarantee
    if actual != expected:
        raise PolicyViolation(
            f"directory {expected!r} moved to {actual!r} after it was checked", rule="path.changed"
        )


def _read_up_to(fd: int, limit: int) -> bytes:
    """Read from `fd` until EOF or `limit` bytes."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)

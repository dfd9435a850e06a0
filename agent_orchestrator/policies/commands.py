"""Command policy: whether a command may run, as an argument vector and never through a shell.

`CommandPolicy.check` refuses, in this order: over-long input; control characters, shell
metacharacters and invisible Unicode anywhere in the text; unbalanced quotes; look-alike Unicode;
an environment prefix, a path or a wrapper as the program; the program's dangerous flags; commands
not on the allowlist; option clusters the program's grammar cannot parse; values naming paths
outside the workspace; programs that PATH only finds inside the workspace. Pure: nothing here runs
anything. `SafetyPolicy` then refuses values naming sensitive files (`.env`, keys, `.git/`).

Decisions worth knowing:
- Metacharacters (`; & | newline $ backtick < >`) are refused even inside quotes. Quoted they would
  be inert (no shell runs), but one rule without quoting exceptions cannot be bypassed through a
  shlex/bash parsing difference (`$'...'`, backslashes in double quotes). Use flag forms instead
  (`rg -e a -e b` for `rg 'a|b'`).
- Non-ASCII is allowed only in plain arguments (`café.py`): the program, subcommands and options
  must be ASCII, and compatibility look-alikes (fullwidth `ｇｉｔ`), invisible characters (bidi
  overrides, zero-width, non-ASCII spaces) and characters normalising to a metacharacter are refused.
- An entry is a prefix of whole words, flags included: `git apply --check` needs `--check` third,
  and switching it back off (`--no-check`, `--noEmit false`) is refused.
- Long options match by unique prefix, as git and argparse accept them (`--ext-d`); dangerous flags
  are refused even after `--`, which at worst refuses a strangely named file.
- Every value a command names is checked, whatever its spelling: positional words, `-c X`, `-cX`,
  `-qcX` inside a cluster, `--long=X`, `--long X`, and git's `<rev>:<path>`, `:<n>:<path>` and
  `:(magic)<path>` (whose `..` must not lead out). One function (`command_grammar.named_values`)
  lists them for both the workspace check here and the sensitive-file check in `SafetyPolicy`.
- Short options are read with each default program's grammar (flag letters, letters taking a path,
  letters taking a pattern or expression, whose values are not paths: `grep -e /x`, `pytest -k x`).
  A cluster with a letter the grammar does not know is refused (`command.unknown_option`): the rest
  of the word could be a value. Programs without a grammar (added by AO_ALLOWED_COMMANDS) are read
  conservatively: any text after an option letter may be a path, and is checked as one.
- Allowlisted commands may run in dry-run: dry-run governs writes, and every default entry only
  reads or validates. Test runners and linters still execute the project's own code (conftest.py,
  plugins named in its config): the policy stops command injection, it is not a sandbox.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent_orchestrator.errors import ConfigError, PolicyViolation
from agent_orchestrator.policies.command_flags import dangerous_flag
from agent_orchestrator.policies.command_grammar import PYTHON_NAME, NamedValue, OptionError, named_values

CommandRule = Literal[
    "command.empty",
    "command.too_long",
    "command.syntax",
    "command.control_char",
    "command.unicode",
    "command.chaining",
    "command.substitution",
    "command.redirection",
    "command.env_prefix",
    "command.executable_path",
    "command.wrapper",
    "command.dangerous_flag",
    "command.unknown_option",
    "command.not_allowed",
    "command.outside_workspace",
    "command.not_found",
    "command.environment",
]

MAX_COMMAND_CHARS = 4096
MAX_ARGS = 256

DEFAULT_ALLOWED_COMMANDS: tuple[str, ...] = (
    "git status",
    "git diff",
    "git log",
    "git show",
    "git rev-parse",
    "git ls-files",
    "git apply --check",
    "pytest",
    "python -m pytest",
    "python3 -m pytest",
    "ruff check",
    "ruff format --check",
    "mypy",
    "pyright",
    "tsc --noEmit",
    "eslint",
    "rg",
    "grep",
)

# Programs whose whole job is to run another command or code: refused even if an entry names them.
# npx (and friends) also download packages from the registry and run them.
_WRAPPERS = frozenset(
    str.split(
        "sh bash zsh dash ksh mksh ash fish csh tcsh busybox env xargs timeout nice nohup sudo doas su runuser "
        "pkexec setsid stdbuf unbuffer chroot ionice taskset chrt flock script time watch parallel strace ltrace "
        "gdb valgrind exec eval command builtin ssh npx pnpx bunx node nodejs deno bun perl ruby php lua luajit "
        "Rscript osascript pwsh powershell tclsh expect awk gawk mawk nawk sed"
    )
)
# Interpreters allowed only as `<python> -m MODULE` entries; `-c`, `-` and scripts run arbitrary code.
# Entries naming these alone would allow every subcommand, including ones that write or run programs.
_NEEDS_SUBCOMMAND = frozenset(str.split("git ruff npm yarn pnpm cargo go uv pip pip3 poetry docker kubectl"))
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_ENTRY_WORD = re.compile(r"-{0,2}[A-Za-z0-9][A-Za-z0-9._+=:-]*")
# First character that needs a closer look: anything outside printable ASCII, or a shell metacharacter.
_SUSPECT = re.compile(r"[^\x20-\x7e]|[;&|`$<>]")
_METACHARS = re.compile(r"[;&|`$<>]")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs"})
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_FALSY = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class ParsedCommand:
    """A command the policy accepted: the argv to run, the executable it resolved to, the entry it matched."""

    argv: tuple[str, ...]
    program: str  # absolute path of the executable found on PATH (not symlink-resolved, so venvs work)
    rule: str  # the allowlist entry that matched, e.g. "git diff"
    values: tuple[NamedValue, ...] = ()  # every path the arguments name (`named_values`), all checked


@dataclass(frozen=True)
class _Entry:
    text: str
    words: tuple[str, ...]

    @property
    def pinned_flags(self) -> tuple[str, ...]:
        return tuple(word for word in self.words[1:] if word.startswith("-") and word != "-m")


class CommandPolicy:
    """The allowlist plus the refusal rules that no entry can switch off."""

    def __init__(self, allowed: Sequence[str] | None = None) -> None:
        entries = [_parse_entry(text) for text in (DEFAULT_ALLOWED_COMMANDS if allowed is None else allowed)]
        by_program: dict[str, list[_Entry]] = {}
        for entry in {entry.words: entry for entry in entries}.values():
            by_program.setdefault(entry.words[0], []).append(entry)
        # Longest entry first, so `rule` names the most specific entry that matched.
        self._by_program = {p: sorted(es, key=lambda e: -len(e.words)) for p, es in by_program.items()}

    @property
    def allowed(self) -> tuple[str, ...]:
        """The allowlist entries, in a stable order."""
        return tuple(sorted(entry.text for entries in self._by_program.values() for entry in entries))

    def check(self, command: str | Sequence[str], *, cwd: Path) -> ParsedCommand:
        """Return the parsed command if policy allows it in `cwd`, else raise `PolicyViolation`."""
        argv = _split(command) if isinstance(command, str) else _as_words(command)
        workspace = os.path.realpath(cwd)
        _check_program_word(argv[0])
        if (problem := dangerous_flag(argv)) is not None:
            raise _refuse("command.dangerous_flag", problem)
        entry = self._match(argv)
        _check_pinned_flags(entry, argv)
        try:
            values = named_values(argv, len(entry.words))
        except OptionError as exc:
            raise _refuse("command.unknown_option", str(exc)) from None
        _check_paths(values, workspace)
        program = _resolve_program(argv[0], workspace)
        return ParsedCommand(argv=argv, program=program, rule=entry.text, values=values)

    def _match(self, argv: tuple[str, ...]) -> _Entry:
        """The most specific entry whose words start the argv (whole words: `git log` is not `git logout`)."""
        entries = self._by_program.get(argv[0], [])
        for entry in entries:
            if argv[: len(entry.words)] == entry.words:
                return entry
        width = max((len(entry.words) for entry in entries), default=1)
        for word in argv[:width]:
            if not word.isascii():
                raise _refuse("command.unicode", f"{word!r} contains non-ASCII look-alike characters")
        if PYTHON_NAME.fullmatch(argv[0]):
            raise _refuse("command.wrapper", f"{argv[0]!r} runs arbitrary code; only allowlisted `-m` modules run")
        shown = " ".join(argv[:2])
        allowed = "; ".join(entry.text for entry in entries) or ", ".join(sorted(self._by_program))
        what = "allowed forms" if entries else "allowed programs"
        raise _refuse("command.not_allowed", f"{shown!r} is not on the command allowlist ({what}: {allowed})")


def _refuse(rule: CommandRule, message: str) -> PolicyViolation:
    return PolicyViolation(f"command refused [{rule}]: {message}", rule=rule)


def _scan(text: str) -> None:
    """Refuse control characters, shell metacharacters (even quoted) and invisible Unicode in `text`."""
    for match in _SUSPECT.finditer(text):
        char, at = match.group(), match.start()
        following = text[at + 1 : at + 2]
        if char == "\n" or char in ";|" or (char == "&" and following != ">"):
            raise _refuse(
                "command.chaining",
                f"{char!r} at {at} would chain or background commands; no shell runs here, so run one "
                "command at a time (metacharacters are refused even inside quotes)",
            )
        if char in "`$" or (char in "<>" and following == "("):
            raise _refuse(
                "command.substitution", f"{char!r} at {at} would substitute or expand text; nothing expands"
            )
        if char in "<>&":
            raise _refuse(
                "command.redirection", f"{char!r} at {at} would redirect input or output; output is returned"
            )
        category = unicodedata.category(char)
        if category == "Cc":
            raise _refuse("command.control_char", f"control character {char!r} at {at} (tabs too: use spaces)")
        if category in _INVISIBLE_CATEGORIES:
            raise _refuse("command.unicode", f"invisible or layout character {char!r} at {at}")


def _check_word_unicode(word: str, *, is_program: bool) -> None:
    """Program names and options must be ASCII; elsewhere refuse compatibility look-alikes (fullwidth)."""
    if word.isascii():
        return
    if is_program or word[0] in _DASHES or unicodedata.normalize("NFKC", word).lstrip().startswith("-"):
        raise _refuse("command.unicode", f"{word!r}: program names and options must be plain ASCII")
    normalized = unicodedata.normalize("NFKC", word)
    if normalized != unicodedata.normalize("NFC", word) or _METACHARS.search(normalized):
        raise _refuse("command.unicode", f"{word!r} contains look-alike characters (fullwidth, metacharacters)")


def _split(command: str) -> tuple[str, ...]:
    """Split a command line the POSIX way, after the raw text passed the character scan."""
    if len(command) > MAX_COMMAND_CHARS:
        raise _refuse("command.too_long", f"{len(command)} characters; the limit is {MAX_COMMAND_CHARS}")
    _scan(command)
    try:
        words = shlex.split(command, posix=True)
    except ValueError as exc:
        raise _refuse("command.syntax", f"cannot split {command[:80]!r}: {exc}") from None
    return _checked_words(words)


def _as_words(command: Sequence[str]) -> tuple[str, ...]:
    """Validate a pre-split argv with the same rules, element by element."""
    items: list[object] = list(command)
    words = [item for item in items if isinstance(item, str)]
    if len(words) != len(items):
        raise _refuse("command.syntax", "every argv element must be a string")
    if sum(len(word) + 1 for word in words) > MAX_COMMAND_CHARS:
        raise _refuse("command.too_long", f"the argv exceeds {MAX_COMMAND_CHARS} characters")
    for word in words:
        _scan(word)
    return _checked_words(words)


def _checked_words(words: Sequence[str]) -> tuple[str, ...]:
    if not words or not words[0]:
        raise _refuse("command.empty", "no program given")
    if len(words) > MAX_ARGS:
        raise _refuse("command.too_long", f"{len(words)} arguments; the limit is {MAX_ARGS}")
    for index, word in enumerate(words):
        _check_word_unicode(word, is_program=index == 0)
    return tuple(words)


def _check_program_word(program: str) -> None:
    if _ENV_ASSIGNMENT.match(program):
        raise _refuse(
            "command.env_prefix", f"{program!r} sets an environment variable; the runner sets the environment"
        )
    if "/" in program or "\\" in program:
        raise _refuse(
            "command.executable_path",
            f"{program!r} is a path; name the program bare so it is found on PATH, outside the workspace",
        )
    if program in _WRAPPERS:
        raise _refuse(
            "command.wrapper", f"{program!r} runs other commands or code, which the allowlist cannot vet"
        )


def _check_pinned_flags(entry: _Entry, argv: tuple[str, ...]) -> None:
    """Refuse switching an entry's pinned flag back off (`--no-check`, `--noEmit false`)."""
    for pinned in entry.pinned_flags:
        bare = pinned.lstrip("-").lower()
        for index in range(1, len(argv)):
            name, equals, value = argv[index].lower().partition("=")
            word_bare = name.lstrip("-")
            following = argv[index + 1].lower() if index + 1 < len(argv) else ""
            negated = name.startswith("--") and len(word_bare) > 3 and f"no-{bare}".startswith(word_bare)
            falsy = word_bare == bare and name.startswith("-") and (value if equals else following) in _FALSY
            if negated or falsy:
                shown = argv[index] if negated or equals else f"{argv[index]} {argv[index + 1]}"
                raise _refuse(
                    "command.dangerous_flag", f"{shown!r} turns off {pinned!r}, which {entry.text!r} pins"
                )


def _check_paths(values: Sequence[NamedValue], workspace: str) -> None:
    """Every path a command names (`/abs`, `../x`, `~/x`, a symlink that leads out) must stay in the workspace.

    A git path (`HEAD:../x`) names repository content, not a file: only its `..` may not lead out.
    """
    for named in values:
        if named.kind == "git_path":
            if not _inside(os.path.normpath(os.path.join(workspace, named.value)), workspace):
                raise _refuse(
                    "command.outside_workspace",
                    f"{named.word!r} names the git path {named.value!r}, which leads outside the workspace",
                )
            continue
        value = named.value
        if value.startswith("~") or not _inside(os.path.realpath(os.path.join(workspace, value)), workspace):
            shown = repr(named.word) if named.word == value else f"{named.word!r} (value {value!r})"
            raise _refuse("command.outside_workspace", f"{shown} names a path outside the workspace {workspace!r}")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@functools.cache
def _trusted_bin_dir() -> str:
    """The bin dir of the interpreter running us: trusted even inside the workspace (it is already running)."""
    return os.path.realpath(os.path.join(sys.prefix, "bin"))


@functools.lru_cache(maxsize=64)
def safe_search_path(path_var: str, workspace: str) -> str:
    """PATH without empty, relative or in-workspace entries, so a repository cannot ship its own `git`."""
    kept: list[str] = []
    for entry in path_var.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        real = os.path.realpath(entry)
        if _inside(real, workspace) and real != _trusted_bin_dir():
            continue
        kept.append(entry)
    return os.pathsep.join(kept)


def _resolve_program(name: str, workspace: str) -> str:
    """The absolute path PATH gives `name`, skipping the workspace; refused if only the workspace has it."""
    path_var = os.environ.get("PATH", os.defpath)
    found = shutil.which(name, path=safe_search_path(path_var, workspace))
    if found is None:
        if shutil.which(name, path=path_var):
            raise _refuse(
                "command.executable_path",
                f"{name!r} is only found inside the workspace or via a relative PATH entry; it is never run",
            )
        raise _refuse("command.not_found", f"{name!r} is not installed (not found on PATH)")
    real = os.path.realpath(found)
    trusted = os.path.realpath(os.path.dirname(found)) == _trusted_bin_dir()
    if _inside(real, workspace) and not trusted:
        raise _refuse("command.executable_path", f"{found!r} leads into the workspace ({real!r}); it is never run")
    return os.path.abspath(found)


def _parse_entry(text: str) -> _Entry:
    """Validate one allowlist entry; a bad entry is a configuration error, reported at startup."""
    words = tuple(text.split())
    problem = _entry_problem(words)
    if problem:
        raise ConfigError(f"AO_ALLOWED_COMMANDS entry {text!r}: {problem}")
    return _Entry(text=" ".join(words), words=words)


def _entry_problem(words: tuple[str, ...]) -> str | None:
    if not words:
        return "is empty"
    if not all(_ENTRY_WORD.fullmatch(word) for word in words) or _ENV_ASSIGNMENT.match(words[0]):
        return "use plain words: a program name, subcommands and flags (no paths, quotes or metacharacters)"
    if words[0] in _WRAPPERS:
        return f"{words[0]!r} runs other commands or code and cannot be allowlisted"
    if PYTHON_NAME.fullmatch(words[0]) and (words[1:2] != ("-m",) or not words[2:]):
        return f"{words[0]!r} may only be allowlisted as `{words[0]} -m MODULE`"
    if len(words) == 1 and words[0] in _NEEDS_SUBCOMMAND:
        return f"name the subcommand (e.g. '{words[0]} status'); {words[0]!r} alone allows writes"
    return dangerous_flag(words)

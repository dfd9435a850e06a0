"""How each allowlisted program reads its options, and the one function that lists what a command names.

`named_values` yields every value a command may read as a file: positional words and option values
in every spelling (`-c X`, `-cX`, `-qcX` inside a cluster, `--long=X`, `--long X`), plus, for git,
the path inside an object name (`HEAD:path`, `:0:path`, `:(top)path`). The outside-workspace check
(`commands.py`) and the sensitive-file check (`safety.py`) both consume it, so they cannot disagree
about what a command names.

Each default program declares its short-option grammar (checked against the real programs' `-h`
output: git 2.39, GNU grep 3.8, pytest 9, ruff 0.17, pyright 1.1; ripgrep, mypy, eslint and tsc
from their documentation): letters that are flags, letters whose value is a path, letters whose
value is something else (a pattern, an expression, a number). A cluster with a letter the grammar
does not know is refused: it could hide a value. A program without a grammar (added through
AO_ALLOWED_COMMANDS) gets the conservative reading: any text after an option letter may be a value.
Long options are exempt from the path check only when declared by their exact name, and only
those known to take their value from the next word consume it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

PYTHON_NAME = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)?)?")

ValueKind = Literal["path", "git_path"]
GrammarStyle = Literal["getopt", "tsc"]

# Pathspec magic in front of a git path: `:(top,icase)path`, `:/path`, `:!path`, `:^path`.
_GIT_MAGIC = re.compile(r"(?:\([^)]*\)|[/!^])*")


@dataclass(frozen=True)
class NamedValue:
    """One value a command names: "path" is a file path from the working directory; "git_path" is
    the path inside a git object name (`HEAD:src/a.py` names `src/a.py`), relative to the repository."""

    word: str  # the argument it came from, for messages
    value: str
    kind: ValueKind = "path"


class OptionError(ValueError):
    """A short-option cluster that the program's grammar cannot parse."""


@dataclass(frozen=True)
class Grammar:
    """A program's options.

    getopt: `-abc` is `-a -b -c`; a letter taking a value takes the rest of the word, or the next
    word when nothing follows it; `--long=value`, or `--long value` for declared long options.
    tsc: options are whole words with one or two dashes, any case; no clusters.
    """

    flags: str = ""  # letters that take no value
    paths: str = ""  # letters whose (required) value names a file or directory
    values: str = ""  # letters whose (required) value is not a path: pattern, expression, number, name
    optional: str = ""  # letters with an optional value, attached only (`git diff -M50%`)
    numbers: bool = False  # `-3` on its own is a count (`git log -3`, grep's context)
    long_paths: frozenset[str] = frozenset()  # long options taking a path from the next word
    long_values: frozenset[str] = frozenset()  # long options taking a non-path value; exact names only
    style: GrammarStyle = "getopt"

    def takes_value(self, letter: str) -> bool:
        return letter in self.paths or letter in self.values or letter in self.optional


def _long_key_for(style: GrammarStyle) -> Callable[[str], str]:
    """How a long option's name is compared: as written, or for tsc without dashes and case."""
    return _tsc_key if style == "tsc" else _as_written


def _tsc_key(name: str) -> str:
    return name.lstrip("-").lower()


def _as_written(name: str) -> str:
    return name


def _grammar(
    flags: str = "",
    *,
    paths: str = "",
    values: str = "",
    optional: str = "",
    numbers: bool = False,
    long_paths: str = "",
    long_values: str = "",
    style: GrammarStyle = "getopt",
) -> Grammar:
    """Build a grammar; long options are space-separated (`"--file --exclude-from"`)."""
    key = _long_key_for(style)
    return Grammar(
        flags,
        paths,
        values,
        optional,
        numbers,
        frozenset(key(name) for name in long_paths.split()),
        frozenset(key(name) for name in long_values.split()),
        style,
    )


# git log/show/diff share the diff and revision options (probed with `git <cmd> -<letter>` on git 2.39).
# -O<orderfile> and -L<range>:<file> name paths (-L's git path is checked too). Each long value
# option was verified to take the next word as its value (`git log --grep X`: X is not a path).
_GIT_HISTORY = _grammar(
    "abcghimpqrstuvwzDEFPRW",
    paths="OL",
    values="lnGIS",
    optional="BCMUX",
    numbers=True,
    long_paths="--output --skip-to --rotate-to",
    long_values="--grep --author --committer --since --until --after --before --min-age --max-age --skip "
    "--max-count --date --diff-filter --word-diff-regex --find-object",
)

GRAMMARS: dict[str, Grammar] = {
    "git status": _grammar("bhsvz", optional="uM"),
    "git diff": _GIT_HISTORY,
    "git log": _GIT_HISTORY,
    "git show": _GIT_HISTORY,
    "git rev-parse": _grammar("hq", values="n", numbers=True),
    "git ls-files": _grammar(
        "cdfhikmostuvz", paths="X", values="x", long_paths="--exclude-from", long_values="--exclude"
    ),
    "git apply": _grammar("hqvzNR3", values="pC", long_paths="--build-fake-ancestor"),
    "pytest": _grammar(
        "hlqsvxV",
        paths="c",
        values="kmrWpon",  # -n: pytest-xdist's process count
        long_paths="--config-file --rootdir --confcutdir --basetemp --junit-xml --junitxml --ignore "
        "--ignore-glob --deselect --log-file",
    ),
    "ruff check": _grammar("ehnqsvw", paths="o", long_paths="--config --cache-dir --output-file --stdin-filename"),
    "ruff format": _grammar("hnqsv", long_paths="--config --cache-dir --stdin-filename"),
    "mypy": _grammar(
        "hvV",
        values="mpc",  # module, package, program text: type-checked, never a file
        long_paths="--config-file --cache-dir --custom-typeshed-dir --junit-xml --python-executable",
        long_values="--module --package --command",
    ),
    "pyright": _grammar("hw", paths="ptv", long_paths="--project --typeshedpath --venvpath --pythonpath"),
    "tsc": _grammar(style="tsc", long_paths="--project -p --tsBuildInfoFile"),
    "eslint": _grammar(
        "hv",
        paths="cfo",  # -f names a formatter, which may be a file
        long_paths="--config --format --output-file --ignore-path --rulesdir --resolve-plugins-relative-to "
        "--cache-location",
    ),
    "rg": _grammar(
        "abchilnopqsuvwxzFHILNPSUV0.",
        paths="f",
        values="ABCdeEgjmMrtT",
        long_paths="--file --ignore-file --pre",
        long_values="--regexp --glob --iglob --type --type-not --replace",
    ),
    "grep": _grammar(
        "abchilnoqrsuvwxyzEFGHILPRTUVZ0123456789",
        paths="f",
        values="ABCDdem",
        long_paths="--file --exclude-from",
        long_values="--regexp --include --exclude --exclude-dir --label",
    ),
}


def grammar_for(argv: Sequence[str]) -> Grammar | None:
    """The grammar of argv's program (`git diff`, `python -m pytest`), or None when none is declared."""
    if PYTHON_NAME.fullmatch(argv[0]) and tuple(argv[1:2]) == ("-m",):
        module = argv[2:4]
        return GRAMMARS.get(" ".join(module)) or GRAMMARS.get(" ".join(module[:1]))
    if len(argv) > 1 and (sub := GRAMMARS.get(f"{argv[0]} {argv[1]}")):
        return sub
    return GRAMMARS.get(argv[0])


def named_values(argv: Sequence[str], start: int) -> tuple[NamedValue, ...]:
    """Every value `argv[start:]` names that a program may read as a file; `OptionError` if unparseable."""
    grammar, program = grammar_for(argv), " ".join(argv[:start])
    words = argv[start:]
    found: list[NamedValue] = []
    index, options = 0, True
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else None
        index += 1
        if options and word == "--":
            options = False
            continue
        values, consumed = _word_values(grammar, program, word, following, options=options)
        shown = f"{word} {following}" if consumed else word
        index += consumed
        for value in filter(None, values):
            found.append(NamedValue(shown, value))
            if argv[0] == "git":
                found.extend(NamedValue(shown, path, "git_path") for path in git_paths(value))
    return tuple(found)


def _word_values(
    grammar: Grammar | None, program: str, word: str, following: str | None, *, options: bool
) -> tuple[list[str], int]:
    """The values one word names, and how many following words it consumed as its value."""
    if word == "-" or not word.startswith("-"):
        return ([word] if word != "-" else []), 0
    if not options:  # after `--`: a file name, unless the program ignores `--`; check both readings
        return [word, *_unknown_option_values(word)], 0
    if grammar is None:
        return _unknown_option_values(word), 0
    if grammar.style == "tsc" or word.startswith("--"):
        return _long_option_values(grammar, word, following)
    try:
        return _short_option_values(grammar, word, following)
    except OptionError as exc:
        raise OptionError(
            f"{word!r}: {exc} is not a short option of {program!r} (as this policy knows them), so the rest "
            "of the word could hide a value; write the option in its long form"
        ) from None


def git_paths(value: str) -> list[str]:
    """The path after each `:` of a git argument (`HEAD:a`, `:0:a`, `:(top)a`), pathspec magic removed.

    Every `:` counts, not only the first: revisions may contain one (`@{10:00}`), and a false
    candidate only costs a check.
    """
    found: list[str] = []
    for at, char in enumerate(value):
        if char == ":":
            path = value[at + 1 :]
            magic = _GIT_MAGIC.match(path)
            path = path[magic.end() :] if magic else path
            if path:
                found.append(path)
    return found


def _long_option_values(grammar: Grammar, word: str, following: str | None) -> tuple[list[str], int]:
    name, equals, value = word.partition("=")
    key = _long_key_for(grammar.style)(name)
    if equals:
        return ([] if key in grammar.long_values else [value]), 0
    if following is not None and key in grammar.long_paths:
        return [following], 1
    if following is not None and key in grammar.long_values:
        return [], 1
    return [], 0  # a flag, or a value the next word carries: that word is then checked on its own


def _short_option_values(grammar: Grammar, word: str, following: str | None) -> tuple[list[str], int]:
    if grammar.numbers and word[1:].isdigit():
        return [], 0
    for at, letter in enumerate(word[1:], start=2):
        rest = word[at:]
        if letter in grammar.flags:
            continue
        if letter in grammar.optional:
            return [], 0
        if letter in grammar.paths:
            if not rest:
                return ([following], 1) if following is not None else ([], 0)
            # argparse and clap read `-c=X` as X, getopt as `=X`: check both.
            return ([rest, rest[1:]] if rest.startswith("=") else [rest]), 0
        if letter in grammar.values:
            return [], 1 if not rest and following is not None else 0
        raise OptionError(repr(letter))
    return [], 0


def _unknown_option_values(word: str) -> list[str]:
    """No grammar: `--long=X` names X, and any text after an option letter (`-abX`: `bX`, `X`) may be a value."""
    if word.startswith("--"):
        return [word.partition("=")[2]] if "=" in word else []
    end = 1
    while end < len(word) and word[end].isascii() and word[end].isalnum():
        end += 1
    found = [word[at:] for at in range(2, end + 1)]
    if "=" in word:
        found.append(word.partition("=")[2])
    return found

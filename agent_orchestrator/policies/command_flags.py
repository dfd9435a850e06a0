"""The dangerous flags of allowed programs, with why each is refused, and the matcher that finds them.

The program runs in the workspace with the user's rights, so anything that writes, runs another
program, loads code named on the command line, reaches the network or reads outside the workspace
is refused, whatever the allowlist says. Short-option clusters are read with the program's grammar
(`command_grammar`): the letters after one that takes a value are that value, not more flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent_orchestrator.policies.command_grammar import PYTHON_NAME, Grammar, grammar_for

FlagStyle = Literal["getopt", "exact", "tsc"]


@dataclass(frozen=True)
class _FlagRule:
    flags: tuple[str, ...]
    reason: str
    safe_values: tuple[str, ...] = ()  # values that make the flag harmless; `x:` is a prefix (pytest `-p no:NAME`)
    only_values: re.Pattern[str] | None = None  # when set, only values matching it are refused

    def refuses(self, value: str | None) -> bool:
        """Whether the flag is dangerous with this value (its attached, `=` or next-word value, if any)."""
        if self.only_values is not None:
            return value is not None and self.only_values.search(value) is not None
        if not self.safe_values or value is None:
            return True
        return not any(
            value == safe or (safe.endswith(":") and value.startswith(safe)) for safe in self.safe_values
        )


@dataclass(frozen=True)
class _FlagTable:
    """A program's dangerous flags and how it parses options.

    getopt: `--long[=v]` (unique prefixes accepted, as git and argparse do) and clusters of short
    letters (`-iz` is `-i -z`); exact: whole words (find's `-exec`); tsc: one or two dashes, any case.
    """

    style: FlagStyle
    rules: tuple[_FlagRule, ...]
    response_files: bool = False  # the program expands `@FILE` into more arguments the policy cannot see
    not_abbreviations: frozenset[str] = frozenset()  # real options that happen to prefix a dangerous one


_WRITES_REPORT = "writes a report file"
_NEVER_EXITS = "watches for changes and never exits"
_RUNS_INTERPRETER = "runs the named Python interpreter"


def _table(
    style: FlagStyle,
    rules: dict[str, str],
    *,
    safe_values: dict[str, tuple[str, ...]] | None = None,
    only_values: dict[str, re.Pattern[str]] | None = None,
    response_files: bool = False,
    not_abbreviations: frozenset[str] = frozenset(),
) -> _FlagTable:
    """Build a flag table from `{"--flag -f": "why it is refused"}`: one line per rule, easy to audit."""
    safe, only = safe_values or {}, only_values or {}
    built = tuple(
        _FlagRule(tuple(flags.split()), reason, safe.get(flags, ()), only.get(flags))
        for flags, reason in rules.items()
    )
    return _FlagTable(style, built, response_files, not_abbreviations)


_REWRITES_SNAPSHOTS = "rewrites test source files (inline-snapshot)"
_RUNS_GPG = "runs the gpg program named in git config to check signatures"
_ESLINT_FORMATTERS = tuple(
    str.split("stylish json json-with-metadata html checkstyle compact jslint-xml junit tap unix visualstudio")
)
_MYPY_REPORTS = "any-exprs cobertura-xml html linecount linecoverage lineprecision txt xml xslt-html xslt-txt"
# Each program's dangerous flags, with why (from each program's --help). It runs in the workspace with the
# user's rights, so writing, running or loading other code, the network and reading outside are refused.
_FLAG_TABLES: dict[str, _FlagTable] = {
    "git": _table(
        "getopt",
        {
            "--output": "writes the output to a file instead of returning it",
            "--ext-diff": "runs the external diff program named in git config",
            "--textconv": "runs the text-conversion programs named in git config",
            "--no-index": "compares arbitrary files outside the repository",
            "--show-signature": _RUNS_GPG,
            "--format --pretty": _RUNS_GPG + " (`%G` placeholders)",
        },
        only_values={"--format --pretty": re.compile("%G")},
        not_abbreviations=frozenset({"--text"}),
    ),
    "git apply": _table(
        "getopt",
        {
            "--apply": "applies the patch even together with --check",
            "--reject": "writes .rej files",
            "--build-fake-ancestor": "writes an index file",
            "--3way -3": "falls back to a three-way merge",
            "--unsafe-paths": "lets the patch reach outside the working tree",
        },
    ),
    "git grep": _table("getopt", {"--open-files-in-pager -O": "runs a pager program"}),
    "pytest": _table(
        "getopt",
        {
            "-p": "loads a plugin module (only `-p no:NAME`, which disables one, is allowed)",
            "--override-ini -o": "overrides ini settings, including addopts and the plugin list",
            "--basetemp": "pytest empties this directory before the run",
            "--junitxml --junit-xml --resultlog --result-log --report-log": _WRITES_REPORT,
            "--debug": "writes a debug log file",
            "--log-file": "writes a log file",
            "--pdbcls": "imports an arbitrary debugger class",
            "--pastebin": "uploads the test session to the bpaste.net pastebin service",
            "--pyargs": "imports installed packages named on the command line and runs their tests",
            "-W --pythonwarnings": "imports the module named in the warning filter's category (`::pkg.Warning`)",
            "--inline-snapshot": _REWRITES_SNAPSHOTS + " (only disable, short-report and report are allowed)",
            "--fix --review": _REWRITES_SNAPSHOTS,
        },
        safe_values={"-p": ("no:",), "--inline-snapshot": ("disable", "short-report", "report")},
        only_values={"-W --pythonwarnings": re.compile(r"^[^:]*:[^:]*:[^:]*\.")},
        response_files=True,
    ),
    "ruff": _table(
        "getopt",
        {
            "--fix --fix-only --add-noqa --add-ignore": "rewrites source files",
            "--output-file -o": _WRITES_REPORT,
            "--watch -w": _NEVER_EXITS,
        },
    ),
    "mypy": _table(
        "getopt",
        {
            "--install-types": "pip-installs packages",
            "--python-executable": _RUNS_INTERPRETER,
            "--junit-xml " + " ".join(f"--{kind}-report" for kind in _MYPY_REPORTS.split()): _WRITES_REPORT,
        },
        response_files=True,
    ),
    "pyright": _table(
        "getopt",
        {
            "--createstub --writebaseline": "writes stub or baseline files",
            "--pythonpath": _RUNS_INTERPRETER,
            "--watch -w": _NEVER_EXITS,
        },
    ),
    "tsc": _table(
        "tsc",
        {
            "--build -b": "build mode writes outputs and .tsbuildinfo files",
            "--incremental -i --tsBuildInfoFile": "writes a .tsbuildinfo file even with --noEmit",
            "--init": "writes a tsconfig.json",
            "--generateTrace --generateCpuProfile": "writes trace or profile files",
            "--watch -w": _NEVER_EXITS,
        },
        response_files=True,
    ),
    "eslint": _table(
        "getopt",
        {
            "--fix --fix-type": "rewrites source files",
            "--output-file -o": _WRITES_REPORT,
            "--plugin --rulesdir --resolve-plugins-relative-to --parser": "loads code named on the command line",
            "--format -f": "loads the formatter module named on the command line (built-in names are allowed)",
            "--cache --cache-location --cache-file": "writes a cache file",
            "--init": "runs a setup that installs packages",
            "--inspect-config --mcp": "starts a server that never exits",
        },
        safe_values={"--format -f": _ESLINT_FORMATTERS},
    ),
    "rg": _table(
        "getopt",
        {
            "--pre --pre-glob": "runs a preprocessor program on every file searched",
            "--search-zip -z": "runs decompression programs found on PATH",
            "--hostname-bin": "runs a program to find the host name",
            "--follow -L": "follows symlinks out of the workspace",
        },
    ),
    "grep": _table("getopt", {"--dereference-recursive -R": "follows symlinks out of the workspace"}),
    "find": _table(
        "exact",
        {
            "-exec -execdir -ok -okdir": "runs a program for every file found",
            "-delete": "deletes files",
            "-fprint -fprint0 -fprintf -fls": "writes the results to a file",
        },
    ),
}
# git's own options, before the subcommand: later `-c`/`-p` mean "combined diff"/"patch", so only here.
_GIT_GLOBAL_FLAGS: dict[str, str] = {
    "-c": "sets git configuration (core.pager, aliases, diff drivers) that runs programs",
    "--config-env": "sets git configuration (core.pager, aliases, diff drivers) that runs programs",
    "-C": "runs git in another directory",
    "--git-dir": "points git at another repository",
    "--work-tree": "points git at another working tree",
    "--namespace": "points git at another namespace",
    "--exec-path": "changes where git finds the programs it runs",
    "-p": "forces the output through a pager program",
    "--paginate": "forces the output through a pager program",
}


def dangerous_flag(argv: tuple[str, ...]) -> str | None:
    """Why argv uses a dangerous flag of its program, or None when it uses none."""
    return _git_global_problem(argv) or _flag_problem(argv)


def _git_global_problem(argv: tuple[str, ...]) -> str | None:
    if argv[0] != "git":
        return None
    for word in argv[1:]:
        if not word.startswith("-"):
            return None
        reason = _GIT_GLOBAL_FLAGS.get(word.split("=", 1)[0])
        if reason:
            return f"git option {word!r} {reason}"
    return None


def _flag_tables(argv: tuple[str, ...]) -> list[tuple[_FlagTable, int]]:
    """The flag tables that apply to argv, each with the index of the first word it governs."""
    program, rest = argv[0], argv[1:]
    if PYTHON_NAME.fullmatch(program) and rest[:1] == ("-m",):
        table = _FLAG_TABLES.get(" ".join(rest[1:2]))
        return [(table, 3)] if table else []
    found = [(table, 1) for table in [_FLAG_TABLES.get(program)] if table]
    if rest and (sub := _FLAG_TABLES.get(f"{program} {rest[0]}")):
        found.append((sub, 2))
    return found


def _flag_problem(argv: tuple[str, ...]) -> str | None:
    """Any dangerous flag of the program, wherever it appears (even after `--`, to stay simple)."""
    grammar = grammar_for(argv)
    for table, start in _flag_tables(argv):
        for index in range(start, len(argv)):
            word = argv[index]
            if table.response_files and word.startswith("@"):
                return f"{word!r} would read more arguments from a file"
            rule = _flag_hit(table, grammar, word, argv[index + 1] if index + 1 < len(argv) else None)
            if rule:
                return f"{argv[0]!r} option {word!r} {rule.reason}"
    return None


def _flag_hit(table: _FlagTable, grammar: Grammar | None, word: str, next_word: str | None) -> _FlagRule | None:
    """The rule `word` breaks; a cluster is read with the program's grammar (without one, every letter counts)."""
    if not word.startswith("-") or word in ("-", "--"):
        return None
    if table.style != "getopt" or word.startswith("--"):
        return _long_hit(table, word, next_word)
    for at, letter in enumerate(word[1:], start=2):
        rule = next((r for r in table.rules if f"-{letter}" in r.flags), None)
        if rule:
            return rule if rule.refuses(word[at:] or next_word) else None
        if grammar is not None and grammar.takes_value(letter):
            return None
    return None


def _long_hit(table: _FlagTable, word: str, next_word: str | None) -> _FlagRule | None:
    name, equals, value = word.partition("=")
    if table.style == "exact":
        return next((rule for rule in table.rules if name in rule.flags), None)
    if table.style == "tsc":
        bare = name.lstrip("-").lower()
        return next((r for r in table.rules if any(f.lstrip("-").lower() == bare for f in r.flags)), None)
    name = name.lower()
    if name in table.not_abbreviations:
        return None
    for rule in table.rules:
        # A unique prefix is accepted by git's and argparse's parsers, so `--ext-d` counts as `--ext-diff`.
        matches = any(flag.startswith("--") and flag.lower().startswith(name) for flag in rule.flags)
        if matches and rule.refuses(value if equals else next_word):
            return rule
    return None

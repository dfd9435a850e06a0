"""The command policy: hostile commands are refused with a precise rule; ordinary read commands pass."""

from __future__ import annotations

import os
import shlex
import shutil
import string
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_orchestrator.errors import ConfigError, PolicyViolation
from agent_orchestrator.policies.command_grammar import NamedValue, git_paths, grammar_for, named_values
from agent_orchestrator.policies.commands import (
    DEFAULT_ALLOWED_COMMANDS,
    MAX_COMMAND_CHARS,
    CommandPolicy,
    ParsedCommand,
)

POLICY = CommandPolicy()
METACHARS = ";&|`$<>\n"
SAFE_TEXT = "".join(
    c for c in string.ascii_letters + string.digits + string.punctuation + " " if c not in METACHARS
)
HYPOTHESIS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@pytest.fixture(autouse=True)
def tools_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The venv's bin dir (outside the temp workspace) first, so `python`, `pytest` and `ruff` resolve."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def refused(command: str | Sequence[str], policy: CommandPolicy = POLICY) -> PolicyViolation:
    with pytest.raises(PolicyViolation) as info:
        policy.check(command, cwd=Path.cwd())
    return info.value


HOSTILE: list[tuple[str | list[str], str]] = [
    ("git status; rm -rf /", "command.chaining"),
    ("git status && curl x", "command.chaining"),
    ("git status || curl x", "command.chaining"),
    ("git log | sh", "command.chaining"),
    ("git status &", "command.chaining"),
    ("git status\nrm -rf /", "command.chaining"),
    ("git log --grep='a;b'", "command.chaining"),  # refused even quoted: one rule, no quoting exceptions
    ("find . -exec rm {} ;", "command.chaining"),
    (["git", "status", ";", "rm", "-rf", "/"], "command.chaining"),
    ("$(rm -rf ~)", "command.substitution"),
    ("git log `rm -rf ~`", "command.substitution"),
    ("git diff <(cat /etc/passwd)", "command.substitution"),
    ("git diff >(tee x)", "command.substitution"),
    ("git diff ${HOME}", "command.substitution"),
    ("git diff $HOME", "command.substitution"),
    (["git", "diff", "$(id)"], "command.substitution"),
    ("git diff > out.txt", "command.redirection"),
    ("git diff >> out.txt", "command.redirection"),
    ("git apply --check < p.diff", "command.redirection"),
    ("git diff 2>&1", "command.redirection"),
    ("git diff &> out.txt", "command.redirection"),
    ("git apply --check <<EOF", "command.redirection"),
    ("FOO=1 git status", "command.env_prefix"),
    ("env git status", "command.wrapper"),
    ("bash -c 'git status'", "command.wrapper"),
    ("sh -c 'rm -rf /'", "command.wrapper"),
    ("xargs rm", "command.wrapper"),
    ("timeout 5 rm x", "command.wrapper"),
    ("nice git status", "command.wrapper"),
    ("nohup git status", "command.wrapper"),
    ("sudo git status", "command.wrapper"),
    ("npx something", "command.wrapper"),
    ("node -e 'process.exit()'", "command.wrapper"),
    ("python -c 'import os'", "command.wrapper"),
    ("python3 script.py", "command.wrapper"),
    ("python -m http.server", "command.wrapper"),
    ("git -c core.pager=sh git log", "command.dangerous_flag"),
    ("git -C /tmp status", "command.dangerous_flag"),
    ("git --git-dir=/tmp/x/.git log", "command.dangerous_flag"),
    ("git --exec-path=/tmp status", "command.dangerous_flag"),
    ("git diff --output=/etc/x", "command.dangerous_flag"),
    ("git log --output x.txt", "command.dangerous_flag"),
    ("git diff --ext-diff", "command.dangerous_flag"),
    ("git diff --ext-d", "command.dangerous_flag"),  # git accepts unique prefixes of long options
    ("git show --textconv HEAD", "command.dangerous_flag"),
    ("git diff --no-index a b", "command.dangerous_flag"),
    ("git apply --check --apply p.diff", "command.dangerous_flag"),
    ("git apply --check --no-check p.diff", "command.dangerous_flag"),
    ("git apply --check --reject p.diff", "command.dangerous_flag"),
    ("rg --pre cat x", "command.dangerous_flag"),
    ("rg --pre=cat x", "command.dangerous_flag"),
    ("rg -iz secret", "command.dangerous_flag"),
    ("rg -L secret", "command.dangerous_flag"),
    ("grep -R secret .", "command.dangerous_flag"),
    ("find . -exec rm {} +", "command.dangerous_flag"),
    ("find . -delete", "command.dangerous_flag"),
    ("ruff check --fix", "command.dangerous_flag"),
    ("ruff check --fix-only .", "command.dangerous_flag"),
    ("ruff check --add-noqa", "command.dangerous_flag"),
    ("pytest -p evil", "command.dangerous_flag"),
    ("pytest -qp evil", "command.dangerous_flag"),
    ("pytest -o addopts=-pevil", "command.dangerous_flag"),
    ("pytest --basetemp=src", "command.dangerous_flag"),
    ("pytest --junitxml=report.xml", "command.dangerous_flag"),
    ("pytest @args.txt", "command.dangerous_flag"),
    ("python -m pytest -p evil", "command.dangerous_flag"),
    ("mypy --install-types", "command.dangerous_flag"),
    ("mypy --python-executable=./evil .", "command.dangerous_flag"),
    ("pyright --createstub pkg", "command.dangerous_flag"),
    ("tsc --noEmit false", "command.dangerous_flag"),
    ("tsc --noEmit --build", "command.dangerous_flag"),
    ("tsc --noEmit -INIT", "command.dangerous_flag"),
    ("tsc --noEmit @args.txt", "command.dangerous_flag"),
    ("eslint --fix .", "command.dangerous_flag"),
    ("eslint --plugin evil .", "command.dangerous_flag"),
    ("git logout", "command.not_allowed"),
    ("git push origin main", "command.not_allowed"),
    ("git apply patch.diff", "command.not_allowed"),
    ("git apply p.diff --check", "command.not_allowed"),  # pinned flags are part of the word prefix
    ("pytest-evil", "command.not_allowed"),
    ("ruff format .", "command.not_allowed"),
    ("tsc", "command.not_allowed"),
    ("curl https://example.com", "command.not_allowed"),
    ("rm -rf /", "command.not_allowed"),
    ("ｇｉｔ status", "command.unicode"),  # fullwidth
    ("gіt status", "command.unicode"),  # Cyrillic і (U+0456)
    ("git ѕtatus", "command.unicode"),  # Cyrillic ѕ (U+0455)
    ("git diff −−output=x", "command.unicode"),  # U+2212 minus signs
    ("git diff ｆｉｌｅ", "command.unicode"),  # fullwidth letters normalise (NFKC) to ASCII
    ("git diff a\u037eb", "command.unicode"),  # Greek question mark, a look-alike ';'
    ("git status\u202e", "command.unicode"),  # right-to-left override
    ("git status\u200b", "command.unicode"),  # zero-width space
    ("git\u00a0status", "command.unicode"),  # no-break space
    ("git status\x00", "command.control_char"),
    ("git status \x1b[2J", "command.control_char"),
    ("git status\r", "command.control_char"),
    ("git\tstatus", "command.control_char"),
    ("./git status", "command.executable_path"),
    ("/tmp/git status", "command.executable_path"),
    ("../pytest", "command.executable_path"),
    ("bin/pytest -q", "command.executable_path"),
    ("", "command.empty"),
    ("   ", "command.empty"),
    ("''", "command.empty"),
    ([], "command.empty"),
    ("git status " + "x" * 10_000, "command.too_long"),
    (["git", "status", *(["x"] * 300)], "command.too_long"),
    ("git status 'unterminated", "command.syntax"),
    ("git log ../..", "command.outside_workspace"),
    ("git log -- /etc/passwd", "command.outside_workspace"),
    ("git diff -- ~/.ssh/id_rsa", "command.outside_workspace"),
    ("grep -r KEY /etc", "command.outside_workspace"),
    ("pytest --rootdir=/", "command.outside_workspace"),
    ("pytest -qc/tmp/evil/x.ini", "command.outside_workspace"),
    ("pytest -qc../evil/x.ini", "command.outside_workspace"),
    ("pytest -qc~/x.ini", "command.outside_workspace"),
    ("pytest -vxc/etc/x.ini", "command.outside_workspace"),
    ("python -m pytest -qc/tmp/evil/x.ini", "command.outside_workspace"),
    ("python -m pytest -- -qc/tmp/evil/x.ini", "command.outside_workspace"),
    ("grep -rf/etc/passwd .", "command.outside_workspace"),
    ("grep -nrf../secret .", "command.outside_workspace"),
    ("rg -qf/etc/passwd x", "command.outside_workspace"),
    ("git log -pO/etc/passwd", "command.outside_workspace"),
    ("git show HEAD:../outside.txt", "command.outside_workspace"),
    ("git log -L1,2:../../outside.py", "command.outside_workspace"),
    ("pytest -qz", "command.unknown_option"),
    ("pytest -x1", "command.unknown_option"),
    ("grep -rQ/etc/passwd .", "command.unknown_option"),
    ("git log -pY/etc/passwd", "command.unknown_option"),
    ("pytest --pastebin=all", "command.dangerous_flag"),
    ("pytest --pastebin failed", "command.dangerous_flag"),
    ("pytest --pastebin=failed -q", "command.dangerous_flag"),
    ("pytest --pasteb=all", "command.dangerous_flag"),
    ("python -m pytest --pastebin=all", "command.dangerous_flag"),
    ("pytest --pyargs json", "command.dangerous_flag"),
    ("pytest -W error::pkg.Warning", "command.dangerous_flag"),
    ("pytest -qWerror::pkg.Warning", "command.dangerous_flag"),
    ("pytest --pythonwarnings=ignore::pkg.mod.Warning", "command.dangerous_flag"),
    ("pytest --log-file=run.log", "command.dangerous_flag"),
    ("pytest --inline-snapshot=fix", "command.dangerous_flag"),
    ("pytest --fix", "command.dangerous_flag"),
    ("ruff check --add-ignore .", "command.dangerous_flag"),
    ("eslint -f ./evil-formatter.js .", "command.dangerous_flag"),
    ("eslint --format=/tmp/evil.js .", "command.dangerous_flag"),
    ("eslint --parser evil-parser .", "command.dangerous_flag"),
    ("git log --show-signature", "command.dangerous_flag"),
    ("git show --format=%G? HEAD", "command.dangerous_flag"),
    ("git log --pretty=format:%GS", "command.dangerous_flag"),
]


@pytest.mark.parametrize(("command", "rule"), HOSTILE, ids=[repr(c)[:60] for c, _ in HOSTILE])
def test_hostile_command_is_refused_with_its_rule(command: str | list[str], rule: str) -> None:
    assert refused(command).rule == rule


def test_hostile_table_is_large_and_covers_every_rule() -> None:
    assert len(HOSTILE) >= 30
    rules = {rule for _, rule in HOSTILE}
    assert len(rules) == 15  # all but command.not_found, tested on its own


def test_refusal_message_names_the_rule_and_the_offender() -> None:
    message = str(refused("git status; rm -rf /"))
    assert "[command.chaining]" in message and "';'" in message and "even inside quotes" in message


def test_not_allowed_message_lists_the_allowed_forms() -> None:
    assert "git log" in str(refused("git logout"))


ALLOWED: list[tuple[str, tuple[str, ...], str]] = [
    ("git status", ("git", "status"), "git status"),
    ("git diff main...HEAD -- src/a.py", ("git", "diff", "main...HEAD", "--", "src/a.py"), "git diff"),
    ("git log -3 --format=%H -p -c", ("git", "log", "-3", "--format=%H", "-p", "-c"), "git log"),
    ("git diff --text --no-ext-diff", ("git", "diff", "--text", "--no-ext-diff"), "git diff"),
    ("pytest -q tests/test_x.py", ("pytest", "-q", "tests/test_x.py"), "pytest"),
    (
        "pytest -rp -p no:cacheprovider -k 'a and not b'",
        ("pytest", "-rp", "-p", "no:cacheprovider", "-k", "a and not b"),
        "pytest",
    ),
    ("python -m pytest -q", ("python", "-m", "pytest", "-q"), "python -m pytest"),
    ("ruff check .", ("ruff", "check", "."), "ruff check"),
    ("ruff format --check --diff .", ("ruff", "format", "--check", "--diff", "."), "ruff format --check"),
    ("git apply --check p.diff", ("git", "apply", "--check", "p.diff"), "git apply --check"),
    ("git show HEAD~1:src/a.py", ("git", "show", "HEAD~1:src/a.py"), "git show"),
    ("git diff -- café.py", ("git", "diff", "--", "café.py"), "git diff"),  # non-ASCII plain argument
    ("git diff -- cafe\u0301.py", ("git", "diff", "--", "cafe\u0301.py"), "git diff"),  # decomposed (NFD) name
]


@pytest.mark.parametrize(("command", "argv", "rule"), ALLOWED, ids=[c for c, _, _ in ALLOWED])
def test_ordinary_read_command_is_allowed(command: str, argv: tuple[str, ...], rule: str) -> None:
    parsed = POLICY.check(command, cwd=Path.cwd())
    assert (parsed.argv, parsed.rule) == (argv, rule)
    assert os.path.isabs(parsed.program) and os.access(parsed.program, os.X_OK)


# Values of options that take a pattern, an expression or a name are not paths (the old check refused these).
NOT_PATHS = [
    "grep -e /etc/passwd .",
    "grep -rne /usr/include .",
    "grep --regexp=/etc/passwd .",
    "pytest -k /etc/passwd",
    "python -m pytest -m /slow",
    "git log --grep /etc/passwd",
    "git log -S /etc/passwd",
    "git log --author=/x",
]


@pytest.mark.parametrize("command", NOT_PATHS)
def test_pattern_and_expression_values_are_not_path_checked(command: str) -> None:
    assert POLICY.check(command, cwd=Path.cwd()).argv == tuple(shlex.split(command))


NAMED = [
    ("pytest -qc/tmp/x.ini", ["/tmp/x.ini"]),
    ("pytest -qc ci.ini -kfoo tests", ["ci.ini", "tests"]),
    ("pytest -c=ci.ini", ["=ci.ini", "ci.ini"]),  # argparse reads `-c=X` as X, getopt as `=X`
    ("pytest --config-file ci.ini --rootdir=. -p no:cacheprovider", ["ci.ini", "."]),
    ("python -m pytest -vc ci.ini", ["ci.ini"]),
    ("grep -rf.env -e KEY src", [".env", "src"]),
    ("grep -nA3 KEY src", ["KEY", "src"]),
    ("git log -pO order.txt -n 5 --grep fix -- a.py", ["order.txt", "a.py"]),
    ("git show HEAD:src/a.py", ["HEAD:src/a.py", "git:src/a.py"]),
    ("git show :0:.env", [":0:.env", "git:0:.env", "git:.env"]),
    ("git log -- :(top,icase).env :!x", [":(top,icase).env", "git:.env", ":!x", "git:x"]),
    ("git diff -M50% -U3 HEAD~1", ["HEAD~1"]),
    ("tsc --noEmit -P cfg/tsconfig.json", ["cfg/tsconfig.json"]),
    ("mytool -qc/x --opt=y -- -z", ["c/x", "/x", "y", "-z"]),  # no grammar: anything after a letter
]


@pytest.mark.parametrize(("command", "values"), NAMED, ids=[c for c, _ in NAMED])
def test_named_values_lists_every_spelling_of_a_value(command: str, values: list[str]) -> None:
    argv = shlex.split(command)
    entries = [entry.split() for entry in DEFAULT_ALLOWED_COMMANDS]
    start = max((len(words) for words in entries if argv[: len(words)] == words), default=1)
    found = named_values(argv, start)
    assert [v.value if v.kind == "path" else f"git:{v.value}" for v in found] == values


def test_every_default_program_declares_its_option_grammar() -> None:
    assert [entry for entry in DEFAULT_ALLOWED_COMMANDS if grammar_for(entry.split()) is None] == []


def test_parsed_command_carries_the_values_it_checked() -> None:
    parsed = POLICY.check("pytest -qc ci.ini -k 'a and b' tests/x.py", cwd=Path.cwd())
    assert parsed.values == (NamedValue("-qc ci.ini", "ci.ini"), NamedValue("tests/x.py", "tests/x.py"))


def test_git_paths_are_the_text_after_each_colon_without_pathspec_magic() -> None:
    assert git_paths("HEAD:a/b") == ["a/b"]
    assert git_paths(":/fix the bug") == ["fix the bug"]  # a commit-message search: harmless to check
    assert git_paths("main@{10:00}:.env") == ["00}:.env", ".env"]
    assert git_paths("HEAD") == []


def test_program_without_a_grammar_is_read_conservatively() -> None:
    policy = CommandPolicy(["ls"])
    assert policy.check("ls -la src", cwd=Path.cwd()).rule == "ls"  # unknown letters are fine here
    for command in ("ls -ld/etc", "ls -ld../x", "ls -d~/x", "ls --color=auto --x=/etc", "ls -- -d/etc"):
        assert refused(command, policy).rule == "command.outside_workspace", command


def test_pre_split_argv_gives_the_same_result_as_the_string() -> None:
    text = POLICY.check("git diff main...HEAD -- 'src/a b.py'", cwd=Path.cwd())
    assert POLICY.check(["git", "diff", "main...HEAD", "--", "src/a b.py"], cwd=Path.cwd()) == text


def test_program_resolves_on_path_outside_the_workspace() -> None:
    assert POLICY.check("git status", cwd=Path.cwd()).program == os.path.abspath(str(shutil.which("git")))


def _plant(directory: Path, name: str) -> Path:
    script = directory / name
    script.write_text("#!/bin/sh\ntouch planted-ran\n")
    script.chmod(0o755)
    return script


def test_program_shipped_in_the_workspace_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _plant(tmp_path, "pytest")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert refused("pytest -q").rule == "command.executable_path"


def test_relative_path_entries_never_find_a_workspace_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _plant(tmp_path, "pytest")
    monkeypatch.setenv("PATH", f".{os.pathsep}{os.pathsep}bin")
    assert refused("pytest -q").rule == "command.executable_path"


def test_workspace_program_is_skipped_for_the_real_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    planted = _plant(tmp_path, "pytest")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}.{os.pathsep}{os.environ['PATH']}")
    program = POLICY.check("pytest -q", cwd=tmp_path).program
    assert program != str(planted) and not program.startswith(str(tmp_path))


def test_program_symlinked_into_the_workspace_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = _plant(tmp_path, "evil")
    outside = tmp_path.parent / f"{tmp_path.name}-bin"
    outside.mkdir()
    (outside / "pytest").symlink_to(target)
    monkeypatch.setenv("PATH", str(outside))
    assert refused("pytest -q").rule == "command.executable_path"


def test_missing_program_is_reported_as_not_found() -> None:
    policy = CommandPolicy(["definitely-not-installed-ao-tool"])
    assert refused("definitely-not-installed-ao-tool", policy).rule == "command.not_found"


def test_symlink_argument_leading_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").symlink_to("/etc")
    assert refused("git log -- notes/passwd").rule == "command.outside_workspace"


def test_custom_allowlist_replaces_the_defaults() -> None:
    policy = CommandPolicy(["git --version"])
    assert policy.allowed == ("git --version",)
    assert policy.check("git --version", cwd=Path.cwd()).rule == "git --version"
    assert refused("git status", policy).rule == "command.not_allowed"


def test_none_means_the_default_allowlist() -> None:
    assert CommandPolicy(None).allowed == tuple(sorted(DEFAULT_ALLOWED_COMMANDS))


@pytest.mark.parametrize(
    "entry",
    [
        "bash",
        "env",
        "npx",
        "python",
        "python -c",
        "git",
        "ruff",
        "ruff check --fix",
        "git -c",
        "pytest -p",
        "./git status",
        "FOO=1 git",
        "git log; rm",
        "",
        "ｇｉｔ log",
    ],
)
def test_unsafe_allowlist_entry_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ConfigError, match="AO_ALLOWED_COMMANDS"):
        CommandPolicy([entry])


def test_most_specific_entry_names_the_rule() -> None:
    policy = CommandPolicy(["git diff", "git diff --stat"])
    assert policy.check("git diff --stat", cwd=Path.cwd()).rule == "git diff --stat"


@HYPOTHESIS
@given(
    prefix=st.text(alphabet=SAFE_TEXT, max_size=40),
    metachar=st.sampled_from(METACHARS),
    suffix=st.text(alphabet=SAFE_TEXT, max_size=40),
)
def test_any_shell_metacharacter_is_refused(prefix: str, metachar: str, suffix: str) -> None:
    rule = refused(f"git status {prefix}{metachar}{suffix}").rule
    assert rule in {"command.chaining", "command.substitution", "command.redirection"}


@HYPOTHESIS
@given(
    program=st.from_regex(r"[a-z][a-z0-9_.+-]{0,15}", fullmatch=True),
    args=st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_./=", max_size=12), max_size=5),
)
def test_program_not_on_the_allowlist_is_refused(program: str, args: list[str]) -> None:
    policy = CommandPolicy(["git status", "pytest"])
    if program in {"git", "pytest"}:
        program = f"{program}x"
    refused([program, *args], policy)


@HYPOTHESIS
@given(command=st.one_of(st.text(max_size=300), st.lists(st.text(max_size=30), max_size=8)))
def test_arbitrary_input_either_parses_or_raises_policy_violation(command: str | list[str]) -> None:
    try:
        parsed = POLICY.check(command, cwd=Path.cwd())
    except PolicyViolation:
        return
    assert isinstance(parsed, ParsedCommand) and parsed.argv


@HYPOTHESIS
@given(
    entry=st.sampled_from(["git log", "git diff", "git show", "pytest", "ruff check"]),
    args=st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + "_ ,+:%", min_size=1, max_size=16), max_size=6
    ),
)
def test_permitted_command_argv_round_trips(entry: str, args: list[str]) -> None:
    argv = (*entry.split(), *args)
    parsed = POLICY.check(shlex.join(argv), cwd=Path.cwd())
    assert parsed.argv == argv and parsed.rule == entry
    assert POLICY.check(list(argv), cwd=Path.cwd()) == parsed


def test_length_limit_is_exact() -> None:
    at_limit = "git log " + "a" * (MAX_COMMAND_CHARS - len("git log "))
    assert POLICY.check(at_limit, cwd=Path.cwd()).argv[0] == "git"
    assert refused(at_limit + "a").rule == "command.too_long"

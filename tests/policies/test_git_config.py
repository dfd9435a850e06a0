"""Repository git config cannot make git run a program: listing, planning and the real git behaviour.

The empirical tests set a key to a marker script, check plain git really runs it (the probe is
live), then run the same command through the runner and check nothing ran.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from git_repos import git

from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.commands import CommandPolicy, ParsedCommand
from agent_orchestrator.policies.git_config import (
    ConfigEntry,
    check_git_arguments,
    parse_listing,
    plan_overrides,
    repository_overrides,
)
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import CommandResult, command_env, run_command

pytestmark = pytest.mark.anyio
GIT_COMMANDS = ["git status", "git diff", "git log -p", "git show HEAD", "git diff HEAD"]


def entry(key: str, value: str | None = "x", scope: str = "local") -> ConfigEntry:
    return ConfigEntry(scope, "file:.git/config" if scope == "local" else "file:/home/u/.gitconfig", key, value)


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME, so the user's own git config is empty and known."""
    path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")  # for our own setup calls; children do not inherit it
    return path


@pytest.fixture
def evil(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A script that leaves a marker when run, and otherwise behaves like `cat` (a textconv, a filter)."""
    folder = tmp_path_factory.mktemp("evil")
    script = folder / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {folder / "ran"}\ncat "$@" 2>/dev/null || cat\n')
    script.chmod(0o755)
    return script


def ran(evil: Path) -> bool:
    return (evil.parent / "ran").exists()


@pytest.fixture
def repo(isolated_env: Path, home: Path) -> Path:
    """Two commits of `a.txt`, then a working-tree change, so diff/status/log -p/show all have work."""
    git(isolated_env, "init", "-q", "-b", "main")
    (isolated_env / "a.txt").write_text("one\n")
    git(isolated_env, "add", "a.txt")
    git(isolated_env, "commit", "-q", "-m", "first")
    (isolated_env / "a.txt").write_text("one\ntwo\n")
    git(isolated_env, "commit", "-q", "-am", "second")
    (isolated_env / "a.txt").write_text("one\ntwo\nthree\n")
    return isolated_env


async def run_git(repo: Path, command: str) -> CommandResult:
    parsed = CommandPolicy().check(command, cwd=repo)
    return await run_command(parsed, cwd=repo, redact=Redactor(), timeout_s=30)


def test_listing_is_parsed_with_scopes_origins_and_bare_keys() -> None:
    data = b"global\0file:/h/.gitconfig\0user.name\nT\0local\0file:.git/config\0core.bare\0"
    assert parse_listing(data) == [
        ConfigEntry("global", "file:/h/.gitconfig", "user.name", "T"),
        ConfigEntry("local", "file:.git/config", "core.bare", None),
    ]
    with pytest.raises(PolicyViolation):
        parse_listing(b"local\0file:x\0")


def test_repository_program_keys_are_overridden_with_inert_values() -> None:
    entries = [entry(key) for key in ("diff.external", "filter.Lfs.clean", "diff.x.textconv", "alias.st")]
    entries += [entry("core.pager"), entry("pager.log"), entry("core.editor"), entry("gpg.ssh.program")]
    entries += [entry("user.name"), entry("include.path"), entry("submodule.update")]
    pairs = dict(plan_overrides(entries).pairs)
    assert pairs["diff.external"] == pairs["filter.Lfs.clean"] == pairs["diff.x.textconv"] == ""
    assert pairs["filter.Lfs.required"] == "false" and pairs["alias.st"] == ""
    assert (pairs["core.pager"], pairs["pager.log"], pairs["core.editor"]) == ("cat", "false", ":")
    assert pairs["gpg.ssh.program"] == "ssh-keygen"
    assert pairs["core.fsmonitor"] == "false" and pairs["core.hookspath"] == "/dev/null"
    assert pairs["diff.ignoresubmodules"] == "all"
    assert "user.name" not in pairs and "include.path" not in pairs


def test_user_config_stays() -> None:
    entries = [entry("diff.external", "difft", "global"), entry("diff.external", "/evil"), entry("core.hookspath")]
    entries.insert(0, entry("core.hookspath", "/home/u/hooks", "global"))
    plan = plan_overrides(entries)
    assert dict(plan.pairs)["diff.external"] == "difft"
    assert dict(plan.pairs)["core.hookspath"] == "/home/u/hooks"
    assert plan.neutralised == ("diff.external (file:.git/config)", "core.hookspath (file:.git/config)")
    assert plan_overrides([entry("diff.external", "difft", "global")]).neutralised == ()


def test_credential_helpers_are_reset_then_the_users_added_back() -> None:
    entries = [
        entry("credential.helper", "store", "global"),
        entry("credential.https://example.com.helper", "cache", "system"),
        entry("credential.helper", "!/evil"),
    ]
    pairs = plan_overrides(entries).pairs
    assert pairs[-3:] == (
        ("credential.helper", ""),
        ("credential.helper", "store"),
        ("credential.https://example.com.helper", "cache"),
    )


def test_protocol_policies_fall_back_to_gits_defaults() -> None:
    pairs = dict(plan_overrides([entry("protocol.allow", "always"), entry("protocol.ext.allow", "always")]).pairs)
    assert (pairs["protocol.allow"], pairs["protocol.ext.allow"]) == ("user", "never")
    assert dict(plan_overrides([entry("protocol.allow", "always")]).pairs)["protocol.ext.allow"] == "never"


def test_git_proxy_is_disabled_through_the_environment() -> None:
    plan = plan_overrides([entry("core.gitproxy", "/evil for example.com")])
    assert plan.environment()["GIT_PROXY_COMMAND"] == ""


def test_first_wins_keys_are_refused_naming_the_key_and_how_to_remove_it() -> None:
    with pytest.raises(PolicyViolation) as refused:
        plan_overrides([entry("remote.origin.uploadpack", "/evil")])
    message = str(refused.value)
    assert refused.value.rule == "command.git_config"
    assert "'remote.origin.uploadpack'" in message and ".git/config" in message
    assert "git config --file .git/config --unset-all remote.origin.uploadpack" in message


def test_submodules_are_never_entered() -> None:
    pairs = dict(plan_overrides([entry("submodule.lib.url", "../lib")], submodules=["vendor"]).pairs)
    assert pairs["submodule.lib.ignore"] == pairs["submodule.vendor.ignore"] == "all"
    for argv in (["git", "grep", "--recurse-submodules", "x"], ["git", "diff", "--submodule=diff"]):
        with pytest.raises(PolicyViolation):
            check_git_arguments(argv)
    check_git_arguments(["git", "diff", "--submodule=log", "--", "--recurse-submodules"])


async def test_listing_runs_nothing_and_sees_included_files(repo: Path, evil: Path) -> None:
    included = evil.parent / "included.cfg"
    included.write_text(f"[core]\n\tpager = {evil}\n[diff]\n\texternal = {evil}\n")
    git(repo, "config", "include.path", str(included))
    for key in ("core.fsmonitor", "filter.x.clean", "filter.x.process", "core.askPass", "credential.helper"):
        git(repo, "config", key, str(evil))
    env = command_env(os.environ, workspace=str(repo))
    program = CommandPolicy().check("git status", cwd=repo).program
    plan = await repository_overrides(program, repo, env)
    assert not ran(evil)
    assert dict(plan.pairs)["core.pager"] == "cat" and dict(plan.pairs)["diff.external"] == ""
    assert f"diff.external (file:{included})" in plan.neutralised


@pytest.mark.parametrize(
    ("config", "attributes"),
    [
        ({"diff.external": "EVIL"}, ""),
        ({"filter.x.clean": "EVIL", "filter.x.required": "true"}, "a.txt filter=x\n"),
        ({"filter.x.process": "EVIL"}, "a.txt filter=x\n"),
        ({"diff.x.textconv": "EVIL"}, "a.txt diff=x\n"),
        ({"diff.x.command": "EVIL"}, "a.txt diff=x\n"),
        ({"core.fsmonitor": "EVIL"}, ""),
    ],
    ids=["diff.external", "filter.clean", "filter.process", "textconv", "diff.command", "fsmonitor"],
)
@pytest.mark.parametrize("command", GIT_COMMANDS)
async def test_hostile_config_runs_nothing(
    repo: Path, evil: Path, config: dict[str, str], attributes: str, command: str
) -> None:
    for key, value in config.items():
        git(repo, "config", key, value.replace("EVIL", str(evil)))
    (repo / ".git/info/attributes").write_text(attributes)
    probe = subprocess.run(["git", "diff"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    assert ran(evil), f"the probe itself is dead: {probe.stderr!r}"
    (evil.parent / "ran").unlink()
    result = await run_git(repo, command)
    assert not ran(evil), (result.stdout, result.stderr)
    assert result.git_config_neutralised


async def test_included_config_is_neutralised_too(repo: Path, evil: Path) -> None:
    included = evil.parent / "inc.cfg"
    included.write_text(f"[diff]\n\texternal = {evil}\n")
    git(repo, "config", "includeIf.gitdir:/.path", str(included))
    result = await run_git(repo, "git diff")
    assert not ran(evil) and result.exit_code != 0 and "overridden so that none runs" in result.stderr


async def test_flags_that_need_no_program_still_work(repo: Path, evil: Path) -> None:
    git(repo, "config", "diff.external", str(evil))
    git(repo, "config", "diff.x.textconv", str(evil))
    (repo / ".git/info/attributes").write_text("a.txt diff=x\n")
    result = await run_git(repo, "git diff --no-ext-diff --no-textconv")
    assert result.succeeded and "+three" in result.stdout and not ran(evil)


async def test_hooks_in_the_repository_never_run(repo: Path, evil: Path) -> None:
    hook = repo / ".git/hooks/post-index-change"
    hook.write_text(f"#!/bin/sh\n{evil}\n")
    hook.chmod(0o755)
    git(repo, "add", "a.txt")
    assert ran(evil), "the probe itself is dead"
    (evil.parent / "ran").unlink()
    (repo / "a.txt").write_text("changed again\n")
    parsed = ParsedCommand(("git", "add", "a.txt"), CommandPolicy().check("git status", cwd=repo).program, "t")
    result = await run_command(parsed, cwd=repo, redact=Redactor())
    assert result.succeeded and not ran(evil)


async def test_unremovable_key_refuses_the_command(repo: Path, evil: Path) -> None:
    git(repo, "config", "remote.origin.uploadpack", str(evil))
    with pytest.raises(PolicyViolation, match=r"remote\.origin\.uploadpack"):
        await run_git(repo, "git status")


async def test_submodule_config_is_not_reached_from_the_parent(repo: Path, evil: Path, home: Path) -> None:
    sub = home / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    (sub / "f.txt").write_text("hi\n")
    (sub / ".gitattributes").write_text("f.txt filter=y\n")
    git(sub, "add", "-A")
    git(sub, "commit", "-q", "-m", "s")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub")
    git(repo / "sub", "config", "filter.y.clean", str(evil))
    os.utime(repo / "sub/f.txt", (1, 1))  # stat-dirty: git must re-read (and clean) it
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    assert ran(evil)
    (evil.parent / "ran").unlink()
    os.utime(repo / "sub/f.txt", (2, 2))
    for command in ("git status", "git diff"):
        await run_git(repo, command)
    assert not ran(evil)


def signed_commit(repo: Path) -> str:
    """A commit object with a (bogus) signature, so showing it runs the configured gpg program."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    body = f"tree {tree}\nauthor t <t@t> 1 +0000\ncommitter t <t@t> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n xx\n -----END PGP SIGNATURE-----\n\nsigned\n"
    done = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=repo,
        input=body,
        text=True,
        capture_output=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("config", "argv"),
    [
        ({"alias.st": "!EVIL"}, ["st"]),
        ({"core.sshCommand": "EVIL"}, ["ls-remote", "ssh://example.invalid/x"]),
        ({"core.gitProxy": "EVIL"}, ["ls-remote", "git://127.0.0.1:9/x"]),
        ({"protocol.ext.allow": "always", "remote.e.url": "ext::EVIL %S"}, ["ls-remote", "e"]),
        ({"protocol.allow": "always", "remote.e.url": "ext::EVIL %S"}, ["ls-remote", "e"]),
        ({"core.editor": "EVIL", "user.name": "t", "user.email": "t@t"}, ["commit", "--allow-empty"]),
        ({"gpg.program": "EVIL", "log.showSignature": "true"}, ["log", "-1", "SIGNED"]),
        ({"tar.tgz.command": "EVIL"}, ["archive", "--format=tgz", "-o", "out.tgz", "HEAD"]),
    ],
    ids=["alias", "sshCommand", "gitProxy", "protocol.ext", "protocol.allow", "editor", "gpg", "tar.command"],
)
async def test_other_program_keys_run_nothing(
    repo: Path, evil: Path, config: dict[str, str], argv: list[str]
) -> None:
    quick = evil.parent / "quick.sh"  # leaves the marker and fails at once, reading nothing
    quick.write_text(f'#!/bin/sh\necho "$0 $*" >> {evil.parent / "ran"}\nexit 1\n')
    quick.chmod(0o755)
    for key, value in config.items():
        git(repo, "config", key, value.replace("EVIL", str(quick)))
    argv = [signed_commit(repo) if word == "SIGNED" else word for word in argv]
    env = {name: value for name, value in os.environ.items() if name not in ("GIT_EDITOR", "EDITOR", "VISUAL")}
    env |= {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    probe = subprocess.run(
        ["git", *argv], cwd=repo, capture_output=True, timeout=30, stdin=subprocess.DEVNULL, env=env
    )
    assert ran(evil), f"the probe itself is dead: {probe.stderr!r}"
    (evil.parent / "ran").unlink()
    program = CommandPolicy().check("git status", cwd=repo).program
    result = await run_command(
        ParsedCommand(("git", *argv), program, "t"), cwd=repo, redact=Redactor(), timeout_s=30
    )
    assert not ran(evil), (result.stdout, result.stderr)

"""Hostile git repositories: their config runs no program, their history shows no secret file's content.

Everything in the workspace is the attacker's, `.git/config` and `.git/info/attributes` included.
Every git read (`ao validate` commands, the MCP `validate` tool, the review's git reads) must run
none of the programs that config names, and no output may carry a committed `.env` or private key:
the content is withheld, the file named and the lines counted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from git_repos import git

from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.repo.git import diff_range, status
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server
from agent_orchestrator.workflows.validate import validate

pytestmark = pytest.mark.anyio

CANARY = "canary-env-5e2b7d19c4"  # no key shape: redaction would not hide it, only withholding does
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"
READS = ["git status", "git diff", "git log -p", "git show", "git show HEAD", "git diff HEAD~1"]


@pytest.fixture(autouse=True)
def empty_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own git config is empty, so only the repository's config can name programs."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside") / "pwned"


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    """History: an app, then a commit adding `.env` and `deploy/id_rsa`; a dirty working tree on top."""
    root = isolated_env
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("x = 1\n")
    git(root, "add", "app.py")
    git(root, "commit", "-q", "-m", "first")
    (root / ".env").write_text(f"APP_MODE=prod\nDATABASE_NAME={CANARY}\n")
    (root / "deploy").mkdir()
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
    (root / "deploy/id_rsa").write_text(key)
    (root / "app.py").write_text("x = 2\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second")
    (root / "app.py").write_text("x = 3\n")
    return root


@pytest.fixture
def hostile(repo: Path, marker: Path) -> Path:
    """`repo` whose config and attributes name a marker-writing program every way git allows."""
    script = marker.parent / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat "$@" 2>/dev/null || cat\n')
    script.chmod(0o755)
    included = marker.parent / "included.cfg"
    included.write_text(f'[diff]\n\texternal = {script}\n[diff "inc"]\n\ttextconv = {script}\n')
    config = {
        "core.fsmonitor": script,
        "core.pager": script,
        "pager.log": script,
        "diff.external": script,
        "diff.x.textconv": script,
        "filter.x.clean": script,
        "filter.x.smudge": script,
        "filter.x.required": "true",
        "include.path": included,
        "core.hooksPath": marker.parent,
    }
    for key, value in config.items():
        git(repo, "config", key, str(value))
    (repo / ".git/info/attributes").write_text("*.py filter=x diff=x\n*.txt diff=inc\n")
    (marker.parent / "post-index-change").write_text(f"#!/bin/sh\n{script}\n")
    (marker.parent / "post-index-change").chmod(0o755)
    return repo


def plain_git_runs_the_marker(repo: Path, marker: Path) -> bool:
    """The probe is live: plain git, outside the orchestrator, does run the repository's program."""
    subprocess.run(["git", "diff"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    found = marker.exists()
    marker.unlink(missing_ok=True)
    return found


def assert_no_secret(value: Any) -> None:
    text = str(value)
    assert CANARY not in text and KEY_BODY not in text


@pytest.mark.parametrize("command", READS)
async def test_repository_config_runs_nothing_through_the_safety_policy(
    command: str, hostile: Path, marker: Path, runtime: Runtime
) -> None:
    assert plain_git_runs_the_marker(hostile, marker)
    result = await runtime.safety.run(command)
    assert not marker.exists(), result.stderr
    assert result.git_config_neutralised
    audit = runtime.audit.recent()[0]
    assert audit.decision == "executed" and "git_config_neutralised" in str(audit)


async def test_repository_config_runs_nothing_through_the_mcp_validate_tool(
    hostile: Path, marker: Path, runtime: Runtime
) -> None:
    assert plain_git_runs_the_marker(hostile, marker)
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("validate", {"commands": READS})
    outcomes = (result.structured_content or {})["results"]
    assert [outcome["command"] for outcome in outcomes] == READS
    assert not marker.exists()
    assert_no_secret(result.structured_content)


async def test_the_reviews_git_reads_run_nothing_and_show_no_secret(
    hostile: Path, marker: Path, runtime: Runtime
) -> None:
    assert plain_git_runs_the_marker(hostile, marker)
    diff = await diff_range(runtime.safety, "HEAD~1..HEAD")
    state = await status(runtime.safety)
    assert not marker.exists()
    assert "+x = 2" in str(diff)  # `diff_range` may return the text or a record holding it
    assert_no_secret(diff)
    assert state.entries


@pytest.mark.parametrize("command", ["git show HEAD", "git diff HEAD~1", "git log -p", "git diff HEAD~1 HEAD"])
async def test_committed_secret_files_are_withheld_named_and_counted(
    command: str, repo: Path, runtime: Runtime
) -> None:
    report = await validate(runtime, [command])
    outcome = report.results[0]
    assert outcome.status == "passed", outcome
    assert_no_secret(report.model_dump_json())
    assert outcome.withheld == [".env", "deploy/id_rsa"] and outcome.withheld_lines >= 10
    assert "[withheld: diff of sensitive file '.env'" in outcome.stdout_tail
    assert "app.py" in outcome.stdout_tail  # the rest of the diff is still there


@pytest.mark.parametrize("command", [f"grep -r {CANARY} .", f"grep -rn -C2 {CANARY} .", "grep -r PRIVATE ."])
async def test_search_hits_in_secret_files_are_withheld(command: str, repo: Path, runtime: Runtime) -> None:
    (repo / "notes.txt").write_text(f"{CANARY} is mentioned here, in an ordinary file\nPRIVATE notes\n")
    report = await validate(runtime, [command])
    outcome = report.results[0]
    assert outcome.withheld and outcome.withheld_lines >= 1
    assert "notes.txt" in outcome.stdout_tail and "[withheld: " in outcome.stdout_tail
    leaked = [line for line in outcome.stdout_tail.splitlines() if CANARY in line or KEY_BODY in line]
    assert all(line.startswith("./notes.txt") for line in leaked), leaked
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("validate", {"commands": [command]})
    assert (result.structured_content or {})["results"][0]["withheld"] == outcome.withheld


async def test_search_that_drops_file_names_is_refused(repo: Path, runtime: Runtime) -> None:
    report = await validate(runtime, [f"grep -rh {CANARY} ."])
    outcome = report.results[0]
    assert outcome.status == "refused" and outcome.rule == "command.unattributed_output"
    assert runtime.audit.recent()[0].decision == "refused"


async def test_unoverridable_config_refuses_with_the_key_and_its_file(
    repo: Path, marker: Path, runtime: Runtime
) -> None:
    git(repo, "config", "remote.origin.uploadpack", str(marker))
    with pytest.raises(PolicyViolation) as refused:
        await runtime.safety.run("git status")
    assert "remote.origin.uploadpack" in str(refused.value) and ".git/config" in str(refused.value)
    assert runtime.audit.recent()[0].rule == "command.git_config"

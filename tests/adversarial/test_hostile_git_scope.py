"""Git reads stay inside the workspace: no repository reaching past it, no blob printed without its name.

A blob id (printed by the allowlisted `git ls-files -s`) or a tag pointing at a blob made `git show`
print a committed `.env` with no file name, so the output filter could not withhold it; a workspace
that is a subdirectory of a larger repository (or a `core.worktree` pointing elsewhere) let git
read files outside the workspace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from git_repos import git
from scripted import SEED, scripted_factory

from agent_orchestrator.config import load_settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio

CANARY = "canary-scope-7f3a91c2"


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    root = isolated_env
    git(root, "init", "-q", "-b", "main")
    (root / ".env").write_text(f"DATABASE_NAME={CANARY}\n")
    (root / "app.py").write_text("x = 1\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("y = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    (root / "app.py").write_text("x = 2\n")
    git(root, "commit", "-q", "-am", "second")
    return root


def blob_of(repo: Path, path: str) -> str:
    return git(repo, "ls-files", "-s", path).split()[1]


async def test_a_blob_id_is_refused_and_never_printed(repo: Path, runtime: Runtime) -> None:
    blob = blob_of(repo, ".env")
    for command in (
        f"git show {blob}",
        f"git show {blob[:10]}",
        f"git diff {blob}..{blob}",
        f"git show {blob}^{{blob}}",
    ):
        with pytest.raises(PolicyViolation, match="not a commit") as raised:
            await runtime.safety.run(command)
        assert raised.value.rule == "command.git_scope"


async def test_a_tag_pointing_at_a_blob_is_refused(repo: Path, runtime: Runtime) -> None:
    git(repo, "tag", "innocent", blob_of(repo, ".env"))
    with pytest.raises(PolicyViolation, match="'innocent' is not a commit"):
        await runtime.safety.run("git show innocent")


async def test_commits_ranges_and_files_still_work(repo: Path, runtime: Runtime) -> None:
    git(repo, "tag", "v1", "HEAD~1")
    for command in (
        "git show",
        "git show HEAD",
        "git show v1",
        "git diff HEAD~1..HEAD",
        "git diff v1...main",
        "git diff HEAD~1 app.py",
        "git show HEAD^!",
        "git show HEAD~1:app.py",
        "git log -n 1",
    ):
        result = await runtime.safety.run(command)
        assert result.exit_code == 0, (command, result.stderr)
        assert CANARY not in result.stdout


async def test_a_blob_id_over_mcp_is_refused(repo: Path, runtime: Runtime) -> None:
    blob = blob_of(repo, ".env")
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("validate", {"commands": [f"git show {blob}"]})
    data = result.structured_content or {}
    assert data["status"] == "failed" and CANARY not in str(data)
    assert "not a commit" in str(data)


async def test_a_workspace_inside_a_larger_repository_refuses_git(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AO_WORKSPACE_ROOT", str(repo / "pkg"))
    monkeypatch.setenv("AO_STATE_DIR", str(repo.parent / f"{repo.name}-state"))
    runtime = Runtime.create(load_settings(), scripted_factory(SEED))
    for command in ("git status", "git log -p", "git diff HEAD~1"):
        with pytest.raises(PolicyViolation, match="not inside the workspace") as raised:
            await runtime.safety.run(command)
        assert "AO_WORKSPACE_ROOT" in str(raised.value)


async def test_a_core_worktree_pointing_outside_refuses_git(
    repo: Path, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "secret.txt").write_text(CANARY)
    git(repo, "config", "core.worktree", str(outside))
    with pytest.raises(PolicyViolation, match="not inside the workspace"):
        await runtime.safety.run("git status")

"""Git reads and scoped context through the safety policy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent_orchestrator.errors import AOError, PolicyViolation, UsageError
from agent_orchestrator.repo import git
from agent_orchestrator.repo.context import gather_context
from agent_orchestrator.repo.diff import parse_diff
from agent_orchestrator.runtime import Runtime

pytestmark = pytest.mark.anyio


def sh(cwd: Path, *args: str) -> None:
    subprocess.run(
        args,
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    sh(isolated_env, "git", "init", "-q", "-b", "main")
    (isolated_env / "src").mkdir()
    (isolated_env / "src/app.py").write_text("def add(a, b):\n    return a + b\n")
    (isolated_env / "README.md").write_text("hello\n")
    sh(isolated_env, "git", "add", "-A")
    sh(isolated_env, "git", "commit", "-q", "-m", "first")
    sh(isolated_env, "git", "checkout", "-q", "-b", "feature")
    (isolated_env / "src/app.py").write_text("def add(a, b):\n    return a + b + 0\n")
    sh(isolated_env, "git", "commit", "-q", "-am", "second")
    return isolated_env


async def test_diff_of_a_range_parses(repo: Path, runtime: Runtime) -> None:
    found = await git.diff_range(runtime.safety, "main...HEAD")
    parsed = parse_diff(found.text)
    assert found.withheld == []
    assert [f.path for f in parsed.files] == ["src/app.py"] and parsed.line_exists("src/app.py", 2)
    assert await git.changed_files(runtime.safety, "main...HEAD") == ["src/app.py"]


async def test_a_committed_env_file_is_cut_from_the_range_diff_and_named(repo: Path, runtime: Runtime) -> None:
    (repo / ".env").write_text("DATABASE_NAME=canary-range-5e6f7a\n")
    (repo / "README.md").write_text("hello again\n")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "env")
    found = await git.diff_range(runtime.safety, "HEAD~1..HEAD")
    assert found.withheld == [".env"] and "canary-range" not in found.text and "[withheld" not in found.text
    assert [f.path for f in parse_diff(found.text).files] == ["README.md"]


async def test_status_reports_untracked_files(repo: Path, runtime: Runtime) -> None:
    (repo / "new.txt").write_text("x")
    status = await git.status(runtime.safety)
    assert not status.clean and any("new.txt" in entry for entry in status.entries)


@pytest.mark.parametrize(
    "bad", ["--output=/tmp/x", "-p", "main;rm", "$(id)", "a b", "..", "", "...", "a....b", "a..b..c"]
)
async def test_option_like_or_odd_ranges_are_refused(runtime: Runtime, bad: str) -> None:
    with pytest.raises(UsageError, match="not a git revision range"):
        await git.diff_range(runtime.safety, bad)


@pytest.mark.parametrize(
    "bad", ["HEAD:.env..HEAD:README.md", "HEAD:.env", ":.env", ":0:.env..HEAD", ":/second..HEAD", "main:src..HEAD"]
)
async def test_revision_path_syntax_is_refused_with_what_to_use_instead(
    repo: Path, runtime: Runtime, bad: str
) -> None:
    with pytest.raises(UsageError, match=r"revision-path syntax.*'main\.\.\.HEAD'.*use `files`"):
        await git.diff_range(runtime.safety, bad)
    with pytest.raises(UsageError, match="revision-path syntax"):
        await git.changed_files(runtime.safety, bad)


async def test_blob_and_tree_ids_are_not_commits(repo: Path, runtime: Runtime) -> None:
    blob = subprocess.run(
        ["git", "rev-parse", "HEAD:src/app.py"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    for spec in (f"{blob}..HEAD", f"HEAD..{blob}", blob, "HEAD^{tree}..HEAD"):
        with pytest.raises(AOError, match="is not a commit"):
            await git.diff_range(runtime.safety, spec)


@pytest.mark.parametrize(
    "good", ["main..", "..main", "main...HEAD", "HEAD~1..HEAD", "HEAD^{/second}..HEAD", "main"]
)
async def test_commit_ranges_still_work(repo: Path, runtime: Runtime, good: str) -> None:
    assert git.check_range(good) == good
    await git.diff_range(runtime.safety, good)


def test_context_reads_only_inside_scope(repo: Path, runtime: Runtime) -> None:
    (repo / ".env").write_text("OPENAI_API_KEY=sk-should-never-be-read-0000000000")
    context = gather_context(runtime.safety, "src", ["src/app.py", "README.md", ".env", "../x", "src/missing.py"])
    assert [f.path for f in context.files] == ["src/app.py"]
    reasons = {s.path: s.reason for s in context.skipped}
    assert "outside the scope" in reasons["README.md"]
    assert "environment file" in reasons[".env"] and "refused" in reasons["../x"]
    assert "src/missing.py" in reasons


def test_context_is_size_capped(repo: Path, runtime: Runtime) -> None:
    (repo / "src/big.py").write_text("x = 1\n" * 50_000)
    context = gather_context(runtime.safety, "src", ["src/big.py"], max_file_bytes=1000)
    assert context.files[0].truncated and len(context.files[0].text) <= 1000


def test_scope_outside_the_workspace_is_refused(runtime: Runtime) -> None:
    with pytest.raises(PolicyViolation):
        gather_context(runtime.safety, "/etc", ["/etc/passwd"])

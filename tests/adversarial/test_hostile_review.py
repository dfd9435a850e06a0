"""Hostile review inputs: no sensitive file's content may reach the model, a record, an artifact or a result.

The leader is a `Scripted` model (`scripted_models.py`) that records every message it is sent. The `.env` value is
a canary with no key shape, so no redaction pattern hides it: only withholding keeps it out.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from scripted_models import Request, Scripted

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import AOError, PolicyViolation, UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.review.graph import review
from agent_orchestrator.workflows.review.parts import ReviewLimits
from agent_orchestrator.workflows.review.result import ReviewResult

pytestmark = pytest.mark.anyio

CANARY = "canary-env-7f3a9c2e51d0"  # no common key shape: redaction would not hide it
ENV_TEXT = f"APP_MODE=prod\nDATABASE_NAME={CANARY}\n"
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
KEY_TEXT = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = (CANARY, KEY_BODY)


def cite_env(request: Request) -> dict[str, Any]:
    """Every review cites `.env`, which the leader must never have seen."""
    return {
        "impact_summary": "Changes the app.",
        "risks": [{"file": ".env", "line": 2, "severity": "high", "message": "the env file changed"}],
        "missing_tests": [],
        "follow_ups": [],
    }


@pytest.fixture
def leader() -> Scripted:
    return Scripted(cite_env)


@pytest.fixture
def review_runtime(settings: Settings, leader: Scripted) -> Runtime:
    update = {
        "leader_model_provider": "openai-compatible",
        "leader_model_name": "reviewer",
        "leader_model_base_url": "http://scripted.test/v1",
    }
    return Runtime.create(settings.model_copy(update=update), leader.factory())


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd / ".home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    """main: an app and notes; feature: an app change plus a committed `.env` and an SSH private key."""
    root = isolated_env
    git(root, "init", "-q", "-b", "main")
    (root / "src").mkdir()
    (root / "src/app.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "notes.txt").write_text("hello\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "src/app.py").write_text("def add(a, b):\n    return a + b + 0\n")
    (root / ".env").write_text(ENV_TEXT)
    (root / "deploy").mkdir()
    (root / "deploy/id_rsa").write_text(KEY_TEXT)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second")
    return root


def stored_bytes(root: Path) -> bytes:
    """Everything under the state dir (run store, audit log, their WAL files)."""
    return b"".join(path.read_bytes() for path in sorted((root / ".ao").rglob("*")) if path.is_file())


def assert_never_shown(root: Path, runtime: Runtime, leader: Scripted, *texts: str) -> None:
    stored = stored_bytes(root)
    records = [runtime.runs.get(run.run_id).model_dump_json() for run in runtime.runs.list()]
    for secret in SECRETS:
        assert secret.encode() not in stored, "a sensitive value reached the state dir"
        for text in (*leader.shown, *records, *texts):
            assert secret not in text


@pytest.mark.parametrize(
    "hostile",
    ["HEAD:.env..HEAD:notes.txt", "HEAD:.env", ":.env..HEAD", "main:notes.txt..HEAD:.env", ":/second..HEAD"],
)
async def test_revision_path_ranges_are_refused_before_git_runs(
    repo: Path, review_runtime: Runtime, leader: Scripted, hostile: str
) -> None:
    with pytest.raises(UsageError, match=r"revision-path syntax .*main\.\.\.HEAD"):
        await review(review_runtime, diff_range=hostile)
    assert leader.shown == [] and review_runtime.runs.list() == []
    assert_never_shown(repo, review_runtime, leader)


async def test_a_range_of_blob_ids_is_refused_by_git(
    repo: Path, review_runtime: Runtime, leader: Scripted
) -> None:
    """`git ls-files -s` (an allowlisted command) prints blob ids; a range of blobs would diff file contents."""
    blobs = {line.split()[3]: line.split()[1] for line in git(repo, "ls-files", "-s").splitlines()}
    with pytest.raises(AOError, match="is not a commit"):
        await review(review_runtime, diff_range=f"{blobs['.env'][:12]}..{blobs['notes.txt'][:12]}")
    assert leader.shown == []
    assert_never_shown(repo, review_runtime, leader)


async def test_committed_env_and_key_files_are_withheld_from_the_model(
    repo: Path, review_runtime: Runtime, leader: Scripted
) -> None:
    limits = ReviewLimits(part_chars=10)  # every diff is "large": the diff artifact is stored too
    result = await review(review_runtime, diff_range="main...HEAD", limits=limits)
    assert result.status == "reviewed" and leader.shown
    assert [w.path for w in result.withheld_files] == [".env", "deploy/id_rsa"]
    assert (
        "environment file" in result.withheld_files[0].reason and "private key" in result.withheld_files[1].reason
    )
    assert result.analysis.withheld_files == result.withheld_files and result.analysis.file_count == 3
    assert [f.path for f in result.analysis.files] == ["src/app.py"]
    flagged = {(f.file, f.severity) for f in result.risks if f.source == "analysis"}
    assert flagged == {(".env", "high"), ("deploy/id_rsa", "high")}
    assert any("2 sensitive file(s) withheld" in warning for warning in result.warnings)
    assert all("file: .env" not in m and "file: deploy/id_rsa" not in m for m in leader.shown)
    assert "file: src/app.py" in "".join(leader.shown)
    assert not [f for f in result.risks if f.source == "reviewer" and f.file == ".env"], "cites a hidden file"
    assert result.diff_artifact is not None
    artifact = review_runtime.runs.get_artifact(result.run_id, result.diff_artifact.artifact_id).content
    assert "src/app.py" in artifact and ".env" not in artifact
    assert_never_shown(repo, review_runtime, leader, result.model_dump_json(), artifact)


async def test_a_renamed_env_file_is_withheld_by_its_old_name(
    repo: Path, review_runtime: Runtime, leader: Scripted
) -> None:
    git(repo, "mv", ".env", "settings.txt")
    (repo / "settings.txt").write_text(ENV_TEXT + "EXTRA=1\n")
    git(repo, "commit", "-q", "-am", "rename")
    result = await review(review_runtime, diff_range="HEAD~1..HEAD")
    [withheld] = result.withheld_files
    assert ".env" in (withheld.path, withheld.old_path)
    assert result.status == "nothing_to_review" and leader.shown == []
    assert_never_shown(repo, review_runtime, leader, result.model_dump_json())


async def test_an_env_hunk_in_a_diff_file_is_withheld(
    isolated_env: Path, review_runtime: Runtime, leader: Scripted
) -> None:
    (isolated_env / "change.diff").write_text(
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
        "diff --git a/config/.env.local b/config/.env.local\n--- a/config/.env.local\n+++ b/config/.env.local\n"
        f"@@ -1 +1,2 @@\n APP_MODE=prod\n+DATABASE_NAME={CANARY}\n"
    )
    result = await review(review_runtime, diff_file="change.diff", limits=ReviewLimits(part_chars=10))
    assert [w.path for w in result.withheld_files] == ["config/.env.local"] and leader.shown
    assert result.analysis.file_count == 2 and result.analysis.prompt_facts().endswith("(not shown): 1.")
    assert result.diff_artifact is not None
    artifact = review_runtime.runs.get_artifact(result.run_id, result.diff_artifact.artifact_id).content
    assert_never_shown(isolated_env, review_runtime, leader, result.model_dump_json(), artifact)


async def test_only_sensitive_changes_need_no_model_call(
    isolated_env: Path, review_runtime: Runtime, leader: Scripted
) -> None:
    (isolated_env / "keys.diff").write_text(
        "--- /dev/null\n+++ b/.ssh/id_ed25519\n@@ -0,0 +1,3 @@\n"
        + "".join(f"+{line}\n" for line in KEY_TEXT.splitlines())
    )
    result: ReviewResult = await review(review_runtime, diff_file="keys.diff")
    assert result.status == "nothing_to_review" and leader.shown == []
    assert "1 sensitive file(s) withheld" in result.impact_summary
    assert [(f.file, f.severity) for f in result.risks] == [(".ssh/id_ed25519", "high")], "the key is flagged"
    assert_never_shown(isolated_env, review_runtime, leader, result.model_dump_json())


@pytest.mark.parametrize("name", [".env", "deploy/id_rsa", "./.env", "src/../.env"])
async def test_sensitive_files_are_refused_as_whole_files(
    repo: Path, review_runtime: Runtime, leader: Scripted, name: str
) -> None:
    with pytest.raises(PolicyViolation):
        await review(review_runtime, files=[name])
    assert leader.shown == [] and [run.status for run in review_runtime.runs.list()] == ["refused"]
    assert_never_shown(repo, review_runtime, leader)

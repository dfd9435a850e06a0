"""The one patch check both workflows use: parse, paths in scope (audited), exact application, git apply --check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_orchestrator.agents.models import FixDraft, StepResult
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.patch_checks import (
    OUTSIDE_SCOPE_RULE,
    PATCH_CHECK_NAMES,
    PatchCheck,
    check_patch,
    patched_now,
)
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.fix_error.checks import check_fix_patch
from agent_orchestrator.workflows.fix_error.graph import FixDeps, FixState
from agent_orchestrator.workflows.leader_worker.output_checks import validate_output
from agent_orchestrator.workflows.recorder import RunContext

pytestmark = pytest.mark.anyio
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
UP_TO_APPLY = [("patch.parse", "passed"), ("patch.paths", "passed")]
OUTSIDE = unified_diff("pkg/ok.txt", "a\n", "b\n") + unified_diff("other/x.txt", "x\n", "y\n")


@pytest.fixture
def tree(isolated_env: Path) -> Path:
    """A workspace with `pkg/ok.txt` (the scope) and `other/x.txt` (outside it)."""
    (isolated_env / "pkg").mkdir()
    (isolated_env / "other").mkdir()
    (isolated_env / "pkg" / "ok.txt").write_text("a\n")
    (isolated_env / "other" / "x.txt").write_text("x\n")
    return isolated_env


def _statuses(checks: list[PatchCheck]) -> list[tuple[str, str]]:
    return [(check.name, check.status) for check in checks]


@needs_git
async def test_a_clean_patch_passes_every_check_in_order(runtime: Runtime, tree: Path) -> None:
    patch = unified_diff("pkg/ok.txt", "a\n", "b\n") + unified_diff("pkg/new.txt", None, "n\n")
    result = await check_patch(runtime.safety, patch, tree / "pkg")
    assert _statuses(result.checks) == [(name, "passed") for name in PATCH_CHECK_NAMES]
    assert result.passed and result.failure is None and result.refusal_rule is None
    assert [(p.path, p.status, p.after) for p in result.patched] == [
        ("pkg/ok.txt", "modified", "b\n"),
        ("pkg/new.txt", "added", "n\n"),
    ]
    assert (tree / "pkg" / "ok.txt").read_text() == "a\n" and not (tree / "pkg" / "new.txt").exists()
    assert runtime.audit.recent()[0].rule == "git apply --check"


async def test_the_listener_hears_each_check_as_it_finishes(runtime: Runtime, tree: Path) -> None:
    heard: list[PatchCheck] = []
    result = await check_patch(runtime.safety, OUTSIDE, tree / "pkg", listener=heard.append)
    assert heard == result.checks and _statuses(heard) == [("patch.parse", "passed"), ("patch.paths", "failed")]


async def test_a_path_outside_the_scope_is_refused_and_audited(runtime: Runtime, tree: Path) -> None:
    result = await check_patch(runtime.safety, OUTSIDE, tree / "pkg")
    assert result.refusal_rule == OUTSIDE_SCOPE_RULE and result.patched == []
    assert result.failure is not None and "'other/x.txt' is outside the scope 'pkg'" in result.failure
    audited = runtime.audit.recent()[0]
    assert (audited.kind, audited.action, audited.decision, audited.rule) == (
        "write",
        "other/x.txt",
        "refused",
        OUTSIDE_SCOPE_RULE,
    )


@pytest.mark.parametrize(
    ("target", "rule"),
    [(".env", "path.env_file"), ("id_rsa", "path.secret_file"), (".git/config", "path.git_internals")],
)
async def test_a_sensitive_path_is_refused_and_audited(
    runtime: Runtime, tree: Path, target: str, rule: str
) -> None:
    patch = unified_diff(target, None, "TOKEN=1\n")
    result = await check_patch(runtime.safety, patch, tree)
    assert _statuses(result.checks) == [("patch.parse", "passed"), ("patch.paths", "failed")]
    assert result.refusal_rule == rule and runtime.audit.recent()[0].rule == rule
    assert not (tree / target).exists()


async def test_scope_refusal_is_audited_the_same_for_both_callers(runtime: Runtime, tree: Path) -> None:
    """Leader-worker's step check and fix-error's patch check refuse the same patch the same way."""
    step_checks = await validate_output(runtime.safety, StepResult(summary="s", patch=OUTSIDE), tree / "pkg")
    leader_worker = next(check for check in step_checks if check.name == "patch.paths")
    leader_worker_audit = runtime.audit.recent()[0]

    draft = FixDraft(root_cause="r", fix_steps=["s"], patch=OUTSIDE)
    state = FixState(error_log="e.log", scope="pkg", decision=runtime.safety.writes.decide(False), draft=draft)
    deps = FixDeps(runtime, RunContext(runtime, "run-1", "fix-error", 1), tree / "pkg")
    problem = await check_fix_patch(state, deps)
    fix_error_audit = runtime.audit.recent()[0]

    assert leader_worker.passed is False and problem == leader_worker.detail == state.checks[-1].detail
    assert state.checks[-1].name == "patch.paths" and state.refusal_rule == OUTSIDE_SCOPE_RULE
    for audited in (leader_worker_audit, fix_error_audit):
        assert (audited.action, audited.decision, audited.rule) == ("other/x.txt", "refused", OUTSIDE_SCOPE_RULE)
    assert leader_worker_audit.id != fix_error_audit.id


async def test_an_exact_application_failure_stops_before_git(runtime: Runtime, tree: Path) -> None:
    patch = unified_diff("pkg/ok.txt", "stale\n", "b\n")
    result = await check_patch(runtime.safety, patch, tree / "pkg")
    assert _statuses(result.checks) == [*UP_TO_APPLY, ("patch.apply", "failed")]
    assert result.failure is not None and "expected 'stale' at line 1, found 'a'" in result.failure
    assert result.refusal_rule is None and result.patched == []
    assert all(record.rule != "git apply --check" for record in runtime.audit.recent())


async def test_a_patch_that_changes_nothing_fails_the_application(runtime: Runtime, tree: Path) -> None:
    patch = "--- a/pkg/ok.txt\n+++ b/pkg/ok.txt\n@@ -1 +1 @@\n-a\n+a\n"
    result = await check_patch(runtime.safety, patch, tree / "pkg")
    assert result.checks[-1].name == "patch.apply" and result.failure == "the patch changes nothing"


async def test_an_unparseable_patch_fails_the_parse(runtime: Runtime, tree: Path) -> None:
    result = await check_patch(runtime.safety, "not a diff", tree)
    assert _statuses(result.checks) == [("patch.parse", "failed")]
    assert result.failure is not None and result.failure.startswith("the patch is not a usable unified diff")


@needs_git
async def test_a_git_apply_check_failure_is_reported_after_the_exact_application(
    runtime: Runtime, tree: Path
) -> None:
    """A CRLF file takes an LF patch in memory (line endings aside), but git compares bytes and refuses."""
    (tree / "pkg" / "crlf.txt").write_bytes(b"a\r\nb\r\nc\r\n")
    patch = unified_diff("pkg/crlf.txt", "a\nb\nc\n", "a\nB\nc\n")
    result = await check_patch(runtime.safety, patch, tree / "pkg")
    assert _statuses(result.checks) == [*UP_TO_APPLY, ("patch.apply", "passed"), ("git apply --check", "failed")]
    assert result.failure is not None and result.failure.startswith("git apply --check refused the patch:")
    assert "patch does not apply" in result.failure and result.patched[0].after == "a\r\nB\r\nc\r\n"
    assert runtime.audit.recent()[0].rule == "git apply --check"
    assert (tree / "pkg" / "crlf.txt").read_bytes() == b"a\r\nb\r\nc\r\n"


def test_patched_now_raises_the_refusal_the_check_reports(runtime: Runtime, tree: Path) -> None:
    with pytest.raises(PolicyViolation) as refused:
        patched_now(runtime.safety, OUTSIDE, tree / "pkg")
    assert refused.value.rule == OUTSIDE_SCOPE_RULE
    [patched] = patched_now(runtime.safety, unified_diff("pkg/ok.txt", "a\n", "b\n"), tree / "pkg")
    assert (patched.before, patched.after) == ("a\n", "b\n")

"""AO_ALLOWED_COMMANDS adds commands for callers; the workflows' own git reads follow their own narrow list."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scripted import SEED, scripted_factory

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.commands import DEFAULT_ALLOWED_COMMANDS
from agent_orchestrator.repo import git
from agent_orchestrator.runtime import Runtime

pytestmark = pytest.mark.anyio


def runtime_allowing(settings: Settings, *entries: str) -> Runtime:
    return Runtime.create(
        settings.model_copy(update={"ao_allowed_commands": list(entries)}), scripted_factory(SEED)
    )


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    for args in (
        ["init", "-q"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=isolated_env, check=True, capture_output=True)
    return isolated_env


def test_the_setting_adds_to_the_defaults(settings: Settings) -> None:
    safety = runtime_allowing(settings, "npm test").safety
    assert set(DEFAULT_ALLOWED_COMMANDS) | {"npm test"} == set(safety.commands.allowed)
    assert safety.check_command("pytest -q").rule == "pytest"


async def test_the_workflows_git_reads_work_whatever_the_setting(repo: Path, settings: Settings) -> None:
    runtime = runtime_allowing(settings, "npm test")
    assert (await git.status(runtime.safety)).branch is not None
    assert (await git.diff_range(runtime.safety, "HEAD..HEAD")).text == ""


async def test_the_setting_cannot_widen_the_workflows_git_reads(repo: Path, settings: Settings) -> None:
    safety = runtime_allowing(settings, "git log").safety
    assert (await safety.run("git log -n 1")).exit_code == 0
    with pytest.raises(PolicyViolation, match="not on the command allowlist"):
        await safety.run_git_read(["log", "-n", "1"])


async def test_the_workflows_git_reads_keep_every_other_rule(repo: Path, settings: Settings) -> None:
    safety = runtime_allowing(settings).safety
    with pytest.raises(PolicyViolation) as refused:
        await safety.run_git_read(["diff", "--output=pwned"])
    assert refused.value.rule == "command.dangerous_flag" and not (repo / "pwned").exists()

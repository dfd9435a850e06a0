"""The validate workflow: allowlisted commands run without a shell; results are structured."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.validate import validate

pytestmark = pytest.mark.anyio


async def test_failing_pytest_is_parsed_into_errors(isolated_env: Path, runtime: Runtime) -> None:
    (isolated_env / "test_x.py").write_text(
        "def test_ok():\n    assert True\n\ndef test_bad():\n    assert 1 == 2\n"
    )
    report = await validate(runtime, ["python -m pytest -q -p no:cacheprovider test_x.py"])
    assert report.status == "failed"
    result = report.results[0]
    assert result.status == "failed" and result.exit_code == 1
    assert [(e.file, e.line) for e in result.errors] == [("test_x.py", 5)]


async def test_refused_command_never_runs_and_is_audited(isolated_env: Path, runtime: Runtime) -> None:
    report = await validate(runtime, ["python -m pytest -q; touch pwned"])
    assert report.results[0].status == "refused" and report.results[0].rule == "command.chaining"
    assert not (isolated_env / "pwned").exists()
    audit = runtime.audit.recent()
    assert audit[0].decision == "refused" and audit[0].rule == "command.chaining"


async def test_passing_commands_pass(isolated_env: Path, runtime: Runtime) -> None:
    (isolated_env / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    report = await validate(runtime, ["python -m pytest -q -p no:cacheprovider test_ok.py"])
    assert report.status == "passed" and report.results[0].errors == []
    assert runtime.audit.recent()[0].decision == "executed"


async def test_no_commands_is_a_usage_error(runtime: Runtime) -> None:
    with pytest.raises(UsageError, match="at least one command"):
        await validate(runtime, ["  "])


async def test_cwd_outside_the_workspace_is_refused(runtime: Runtime) -> None:
    from agent_orchestrator.errors import PolicyViolation

    with pytest.raises(PolicyViolation):
        await validate(runtime, ["git status"], cwd="../")


async def test_sensitive_file_content_is_withheld_and_reported(isolated_env: Path, runtime: Runtime) -> None:
    (isolated_env / ".env").write_text("APP_NAME=canary-validate-77\n")
    (isolated_env / "notes.txt").write_text("see canary-validate-77\n")
    report = await validate(runtime, ["grep -r canary-validate-77 ."])
    result = report.results[0]
    assert result.status == "passed" and (result.withheld, result.withheld_lines) == (["./.env"], 1)
    assert "APP_NAME" not in result.stdout_tail and "./notes.txt:see canary-validate-77" in result.stdout_tail
    assert "[withheld: 1 line from sensitive files './.env']" in result.stdout_tail

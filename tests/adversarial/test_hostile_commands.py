"""Hostile validation commands: values hidden in option clusters, git object paths, network and code flags.

A model proposes validation commands (fix-error) and a caller passes commands to `validate`: each
probe here must be refused with its rule and audited, and never run. The unit tables for the same
rules are in tests/policies/test_commands.py; this module drives them through the MCP tool, the
CLI, `SafetyPolicy.check_command` and fix-error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from processes import ao_command
from scripted_models import answering

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server
from agent_orchestrator.workflows.fix_error.graph import fix_error

pytestmark = pytest.mark.anyio

OUTSIDE = "command.outside_workspace"
SENSITIVE = "command.sensitive_path"
DANGEROUS = "command.dangerous_flag"

HOSTILE = [
    # Short-option clusters: the value after `-c`/`-f` was never path-checked.
    ("python -m pytest -qc/tmp/evil/x.ini", OUTSIDE),
    ("pytest -qc../evil/x.ini", OUTSIDE),
    ("pytest -qc~/x.ini", OUTSIDE),
    ("grep -rf/etc/passwd .", OUTSIDE),
    ("pytest -qz", "command.unknown_option"),
    # Sensitive files named as an attached value, or spelled through `..`.
    ("pytest -c.env", SENSITIVE),
    ("pytest -qc.env.local", SENSITIVE),
    ("grep -rf.env .", SENSITIVE),
    ("grep -rfkeys/server.pem .", SENSITIVE),
    ("grep -rn KEY a/../.env", SENSITIVE),
    # Git object names: `<rev>:<path>`, the index (`:<path>`, `:<n>:<path>`), pathspec magic, `-L`.
    ("git show HEAD:.env", SENSITIVE),
    ("git show HEAD:./.env", SENSITIVE),  # was refused before too (`.env` is a component of the word)
    ("git log -p HEAD -- .env", SENSITIVE),  # was refused before too (a plain word)
    ("git diff HEAD:a HEAD:.env", SENSITIVE),
    ("git show :.env", SENSITIVE),
    ("git show :0:.env", SENSITIVE),
    ("git show HEAD:.git/config", SENSITIVE),
    ("git log -- ':(top).env'", SENSITIVE),
    ("git log -L1,2:.env", SENSITIVE),
    ("git show HEAD:../outside.txt", OUTSIDE),
    # Flags that reach the network or load code named on the command line.
    ("pytest --pastebin=all", DANGEROUS),
    ("pytest --pastebin failed", DANGEROUS),
    ("python -m pytest --pyargs json", DANGEROUS),
    ("pytest -W error::pkg.Warning", DANGEROUS),
    ("pytest --inline-snapshot=fix", DANGEROUS),
    ("git log --show-signature", DANGEROUS),
    ("git log --format=%G?", DANGEROUS),
    ("ruff check --add-ignore .", DANGEROUS),
]


@pytest.fixture
def tools_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python` and `pytest` resolve to this interpreter's venv (outside the temp workspace)."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def evil_ini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A pytest config outside the workspace whose addopts leave a marker if pytest ever reads it."""
    outside = tmp_path_factory.mktemp("evil")
    marker = outside / "ran.xml"
    (outside / "x.ini").write_text(f"[pytest]\naddopts = --junitxml={marker}\n")
    return outside / "x.ini", marker


@pytest.mark.parametrize(("command", "rule"), HOSTILE, ids=[c for c, _ in HOSTILE])
async def test_hostile_command_is_refused_over_mcp_and_audited(
    command: str, rule: str, runtime: Runtime, tools_on_path: None
) -> None:
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("validate", {"commands": [command]})
    outcome = (result.structured_content or {})["results"][0]
    assert (outcome["status"], outcome["rule"]) == ("refused", rule), outcome
    assert outcome["reason"]
    audited = runtime.audit.recent()[0]
    assert (audited.decision, audited.rule) == ("refused", rule)


async def test_outside_config_in_a_cluster_is_refused_and_pytest_never_reads_it(
    runtime: Runtime, isolated_env: Path, tools_on_path: None, evil_ini: tuple[Path, Path]
) -> None:
    ini, marker = evil_ini
    (isolated_env / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool(
            "validate", {"commands": [f"python -m pytest -p no:cacheprovider -qc{ini}"]}
        )
    outcome = (result.structured_content or {})["results"][0]
    assert (outcome["status"], outcome["rule"]) == ("refused", OUTSIDE), outcome
    assert not marker.exists()


def test_ao_validate_refuses_the_cluster_from_the_report(
    isolated_env: Path, tools_on_path: None, evil_ini: tuple[Path, Path]
) -> None:
    ini, marker = evil_ini
    (isolated_env / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    done = subprocess.run(
        [*ao_command(), "validate", "--command", f"pytest -p no:cacheprovider -qc{ini}"],
        cwd=isolated_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and OUTSIDE in done.stdout + done.stderr, done.stdout + done.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("ls -la.env", SENSITIVE),
        ("ls -lid_rsa", SENSITIVE),
        ("ls -ld/etc", OUTSIDE),
        ("ls -ld~/x", OUTSIDE),
    ],
)
def test_program_added_without_a_grammar_has_every_attached_value_checked(
    command: str, rule: str, settings: Settings
) -> None:
    runtime = Runtime.create(settings.model_copy(update={"ao_allowed_commands": ["ls"]}))  # no model is asked
    assert runtime.safety.check_command("ls -la").rule == "ls"
    with pytest.raises(PolicyViolation) as refused:
        runtime.safety.check_command(command)
    assert refused.value.rule == rule


@pytest.mark.parametrize("command", ["grep KEY notes.ini", "pytest -qcnotes.ini"])
def test_value_is_resolved_from_the_working_directory_not_the_root(command: str, runtime: Runtime) -> None:
    sub = runtime.safety.root / "sub"
    sub.mkdir()
    (sub / ".env").write_text("API_KEY=x\n")
    (sub / "notes.ini").symlink_to(".env")
    with pytest.raises(PolicyViolation) as refused:
        runtime.safety.check_command(command, cwd=sub)
    assert refused.value.rule == SENSITIVE


# --- fix-error: the fixer model proposes the validation commands ----------------------------------

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


async def test_fixer_proposed_validation_commands_are_refused_and_never_run(
    isolated_env: Path, settings: Settings, tools_on_path: None, evil_ini: tuple[Path, Path]
) -> None:
    ini, marker = evil_ini
    (isolated_env / "calc.py").write_text(BUGGY)
    (isolated_env / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    log = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=isolated_env,
        capture_output=True,
        text=True,
        check=False,
    )
    (isolated_env / "pytest.log").write_text(log.stdout)
    proposed = [f"python -m pytest -qc{ini}", "grep -rf.env .", "git show HEAD:.env", "pytest --pastebin=all"]
    draft = {
        "root_cause": "add subtracts",
        "fix_steps": ["return a + b"],
        "patch": unified_diff("calc.py", BUGGY, FIXED),
        "validation_commands": proposed,
    }
    update = {
        "leader_model_provider": "openai-compatible",
        "leader_model_name": "fixer",
        "leader_model_base_url": "http://scripted.test/v1",
        "ao_dry_run": False,
        "ao_allow_write": True,
    }
    runtime = Runtime.create(settings.model_copy(update=update), answering(draft).factory())
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert [c.rule for c in result.refused_commands] == [OUTSIDE, SENSITIVE, SENSITIVE, DANGEROUS]
    assert result.status == "proposed" and "no allowlisted validation command" in result.reason
    assert not marker.exists() and (isolated_env / "calc.py").read_text() == BUGGY

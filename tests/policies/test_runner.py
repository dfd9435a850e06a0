"""The command runner: no shell, closed stdin, scrubbed environment, nothing left running, capped output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes import AuditTrail

from agent_orchestrator.config import load_settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies import safety as safety_module
from agent_orchestrator.policies.commands import CommandPolicy, ParsedCommand
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import TOKEN_VARIABLE, CommandResult, command_env, run_command
from agent_orchestrator.policies.safety import SafetyPolicy

pytestmark = pytest.mark.anyio
NO_SECRETS = Redactor()


def python(code: str) -> ParsedCommand:
    """A ParsedCommand running `code` in this interpreter; the runner trusts what the policy produced."""
    return ParsedCommand(argv=("python", "-c", code), program=sys.executable, rule="test")


async def run(
    code: str, *, timeout_s: float = 30.0, output_cap: int = 1_000_000, extra_env: dict[str, str] | None = None
) -> CommandResult:
    return await run_command(
        python(code),
        cwd=Path.cwd(),
        redact=NO_SECRETS,
        timeout_s=timeout_s,
        output_cap=output_cap,
        extra_env=extra_env,
    )


def process_gone(pid: int, within_s: float = 5.0) -> bool:
    """True once `pid` no longer exists or is a zombie waiting for a parent that is not us."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


async def test_nonzero_exit_is_reported_not_raised() -> None:
    result = await run("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.succeeded and not result.timed_out and not result.truncated


async def test_arguments_reach_the_program_verbatim_without_a_shell() -> None:
    parsed = ParsedCommand(
        argv=("python", "-c", "import sys; print(sys.argv[1:])", "$HOME", "a;b", "*"),
        program=sys.executable,
        rule="test",
    )
    result = await run_command(parsed, cwd=Path.cwd(), redact=NO_SECRETS)
    assert result.stdout == "['$HOME', 'a;b', '*']\n"


async def test_stdin_is_closed() -> None:
    result = await run("import sys; print(repr(sys.stdin.read()))", timeout_s=10)
    assert result.stdout == "''\n" and not result.timed_out


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "open('child.pid', 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = await run(code, timeout_s=1.5)
    assert result.timed_out and result.exit_code is None and result.stdout == "started\n"
    assert time.monotonic() - started < 10
    assert process_gone(int((tmp_path / "child.pid").read_text()))


async def test_background_child_left_behind_is_killed(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
        "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "open('child.pid', 'w').write(str(child.pid))\n"
    )
    result = await run(code, timeout_s=10)
    assert result.exit_code == 0 and not result.timed_out
    assert process_gone(int((tmp_path / "child.pid").read_text()))


async def test_output_is_capped_while_the_pipe_still_drains() -> None:
    code = "import sys; sys.stdout.write('x' * 5_000_000); sys.stdout.flush(); print('done', file=sys.stderr)"
    result = await run(code, output_cap=100_000, timeout_s=30)
    assert result.exit_code == 0 and not result.timed_out  # not blocked on a full pipe
    assert result.truncated and len(result.stdout) == 100_000 and result.stderr == "done\n"


async def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "WORKER_MODEL_API_KEY", "LITELLM_API_KEY", "AO_DRY_RUN", "GITHUB_TOKEN"):
        monkeypatch.setenv(name, "sk-proj-abcdefghijklmnopqrstuvwx")
    monkeypatch.setenv("DB_PASSWORD", "hunter2hunter2")
    monkeypatch.setenv("LD_PRELOAD", "/tmp/evil.so")
    monkeypatch.setenv("LANG", "C.UTF-8")
    result = await run("import json, os; print(json.dumps(dict(os.environ)))")
    env = json.loads(result.stdout)
    assert not {"OPENAI_API_KEY", "WORKER_MODEL_API_KEY", "LITELLM_API_KEY", "AO_DRY_RUN"} & env.keys()
    assert not {"GITHUB_TOKEN", "DB_PASSWORD", "LD_PRELOAD"} & env.keys()
    assert env["LANG"] == "C.UTF-8" and env["NO_COLOR"] == "1" and env["GIT_OPTIONAL_LOCKS"] == "0"


async def test_extra_env_is_passed_through() -> None:
    result = await run("import os; print(os.environ['APP_MODE'])", extra_env={"APP_MODE": "check"})
    assert result.stdout == "check\n"


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "MY_TOKEN", "LD_PRELOAD", "GIT_EXTERNAL_DIFF", "PATH", "AO_X"])
async def test_extra_env_cannot_carry_secrets_or_code_loaders(name: str) -> None:
    with pytest.raises(PolicyViolation) as info:
        await run("print(1)", extra_env={name: "x"})
    assert info.value.rule == "command.environment"


def test_child_path_drops_relative_and_workspace_entries(tmp_path: Path) -> None:
    base = {"PATH": os.pathsep.join([str(tmp_path), ".", "", "bin", "/usr/bin", str(tmp_path / "sub")])}
    assert command_env(base, workspace=str(tmp_path))["PATH"] == "/usr/bin"


async def test_output_is_redacted() -> None:
    code = "print('value=swordfish-secret-1 key=sk-ant-abcdefghijklmnopqrstuvwxyz')"
    result = await run_command(python(code), cwd=Path.cwd(), redact=Redactor(["swordfish-secret-1"]))
    assert "swordfish" not in result.stdout and "abcdefghijklmnop" not in result.stdout
    assert result.stdout.count("[REDACTED]") == 2


async def test_a_secret_cut_by_the_cap_is_not_partly_exposed() -> None:
    secret = "swordfish-secret-value-0123456789"
    code = f"print('x' * 90 + {secret!r})"
    result = await run_command(python(code), cwd=Path.cwd(), redact=Redactor([secret]), output_cap=100)
    assert result.truncated and result.stdout == "x" * 90 + "[REDACTED]"


async def test_program_that_cannot_start_is_a_result() -> None:
    parsed = ParsedCommand(argv=("ghost",), program="/nonexistent/bin/ghost", rule="ghost")
    result = await run_command(parsed, cwd=Path.cwd(), redact=NO_SECRETS)
    assert result.exit_code is None and "could not start 'ghost'" in result.stderr and not result.timed_out


async def test_missing_working_directory_is_a_result(tmp_path: Path) -> None:
    result = await run_command(python("print(1)"), cwd=tmp_path / "gone", redact=NO_SECRETS)
    assert result.exit_code is None and "working directory does not exist" in result.stderr


async def test_relative_program_is_refused() -> None:
    with pytest.raises(PolicyViolation):
        await run_command(ParsedCommand(("git",), "git", "git"), cwd=Path.cwd(), redact=NO_SECRETS)


async def test_policy_and_runner_together_run_an_allowlisted_command() -> None:
    parsed = CommandPolicy(["git --version"]).check("git --version", cwd=Path.cwd())
    result = await run_command(parsed, cwd=Path.cwd(), redact=NO_SECRETS)
    assert result.succeeded and result.stdout.startswith("git version") and result.duration_ms >= 0


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("git --version; touch marker", "command.chaining"),
        ("git --version && python -c \"open('marker', 'w')\"", "command.chaining"),
        ("git --version $(touch marker)", "command.substitution"),
        ("git --version > marker", "command.redirection"),
        ("touch marker", "command.not_allowed"),
        ("python -c \"open('marker', 'w')\"", "command.wrapper"),
    ],
)
async def test_refused_command_never_runs(
    command: str, rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the one path that checks and runs (`SafetyPolicy.run`): refused, audited, never started."""
    started: list[tuple[str, ...]] = []

    async def runner(parsed: ParsedCommand, **kwargs: Any) -> CommandResult:
        started.append(parsed.argv)
        return await run_command(parsed, **kwargs)

    monkeypatch.setattr(safety_module, "run_command", runner)
    settings = load_settings(ao_workspace_root=tmp_path, ao_allowed_commands=["git --version", "python -m pytest"])
    audit = AuditTrail()
    safety = SafetyPolicy.create(settings, NO_SECRETS, audit)
    await safety.run("git --version", cwd=tmp_path)  # the control: an allowed command reaches the spy
    assert [argv[1:] for argv in started] == [("--version",)]
    with pytest.raises(PolicyViolation) as refused:
        await safety.run(command, cwd=tmp_path)
    assert refused.value.rule == rule
    assert len(started) == 1, f"the refused command reached the runner: {started[1:]}"
    assert audit.records == [("command", "executed", "git --version"), ("command", "refused", rule)]
    assert not (tmp_path / "marker").exists()


async def test_cancelling_the_caller_kills_the_process_group(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "open('child.pid', 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    with anyio.move_on_after(1.5):
        await run(code, timeout_s=60)
    assert process_gone(int((tmp_path / "child.pid").read_text()))


def escaping_child(how: str, *, then: str) -> str:
    """A command that starts a grandchild leaving its process group (`how`), then does `then`."""
    grandchild = "import os, time; open('gc.pid', 'w').write(str(os.getpid())); time.sleep(60)"
    starts = {
        "setsid": f"subprocess.Popen(['setsid', sys.executable, '-c', {grandchild!r}])",
        "new session": f"subprocess.Popen([sys.executable, '-c', {grandchild!r}], start_new_session=True)",
        "new group, no env": f"subprocess.Popen([sys.executable, '-c', {grandchild!r}], process_group=0, env={{}})",
        "double fork": (
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            f"        exec({grandchild!r})\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)"
        ),
    }
    return (
        "import os, subprocess, sys, time\n"
        f"{starts[how]}\n"
        "while not os.path.exists('gc.pid'):\n"
        "    time.sleep(0.01)\n"
        "print('started', flush=True)\n"
        f"{then}\n"
    )


@pytest.mark.parametrize("how", ["setsid", "new session", "new group, no env", "double fork"])
@pytest.mark.parametrize("then", ["time.sleep(60)", "sys.exit(0)"], ids=["times out", "exits"])
async def test_grandchildren_that_left_the_group_are_killed(how: str, then: str, tmp_path: Path) -> None:
    if how == "setsid" and shutil.which("setsid") is None:
        pytest.skip("no setsid program")
    result = await run(escaping_child(how, then=then), timeout_s=3)
    assert result.stdout == "started\n" and result.timed_out is (then != "sys.exit(0)")
    grandchild = int((tmp_path / "gc.pid").read_text())
    assert process_gone(grandchild, within_s=5)


async def test_the_sweep_leaves_other_processes_alone(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        result = await run(escaping_child("new session", then="sys.exit(0)"), timeout_s=10)
        assert result.exit_code == 0 and process_gone(int((tmp_path / "gc.pid").read_text()))
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


async def test_each_command_carries_its_own_token() -> None:
    code = f"import os; print(os.environ['{TOKEN_VARIABLE}'])"
    first, second = await run(code), await run(code)
    assert len(first.stdout.strip()) == 32 and first.stdout != second.stdout


@pytest.mark.parametrize("name", [TOKEN_VARIABLE, "GIT_CONFIG_COUNT", "GIT_PROXY_COMMAND"])
async def test_extra_env_cannot_set_our_markers_or_git_config(name: str) -> None:
    with pytest.raises(PolicyViolation):
        await run("print(1)", extra_env={name: "0"})


async def test_sensitive_content_is_withheld_before_redaction(tmp_path: Path) -> None:
    code = "print('./.env:KEY=canary-value'); print('src/a.py:1:fine')"
    result = await run_command(
        python(code), cwd=tmp_path, redact=NO_SECRETS, sensitive=PathPolicy(tmp_path).sensitive_reason
    )
    assert "canary-value" not in result.stdout and "src/a.py:1:fine" in result.stdout
    assert (result.withheld, result.withheld_lines) == (("./.env",), 1)
    plain = await run_command(python(code), cwd=tmp_path, redact=NO_SECRETS)
    assert "canary-value" in plain.stdout and plain.withheld == ()

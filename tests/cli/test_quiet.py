"""No third-party banner reaches a terminal: pydantic-ai's first-run advertisement stays off."""

from __future__ import annotations

import os
import pty
import subprocess
import time

from processes import ao_command


def test_no_banner_in_a_terminal() -> None:
    """In a terminal, outside pytest and CI (where the library hides it itself), nothing but ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "CI", "PYDANTIC_AI_NO_BANNER")}
    env["AO_MODEL_CALL_TIMEOUT"] = "2"
    primary, secondary = pty.openpty()
    command = [*ao_command(), "worker", "interview", "--provider", "openai-compatible", "--model", "m"]
    command += ["--base-url", "http://127.0.0.1:9/v1"]  # refused at once: every call fails fast
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=secondary, env=env)
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=30)
    os.close(primary)
    text = seen.decode("utf-8", "replace")
    assert "interview cases" in text  # the terminal really got our progress line
    assert "Logfire" not in text and "observability" not in text


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """`ao ... | head` ends like git: no BrokenPipeError traceback, exit 128 + SIGPIPE."""
    process = subprocess.Popen(
        [*ao_command(), "mcp", "list-tools", "--json"],  # more than a pipe buffer of output
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)
    process.stdout.close()
    err = process.stderr.read().decode("utf-8", "replace")
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err

"""Running a fixing case's tests for real: the failing log shown to the leader, and the run that grades a fix.

Both run `python -m pytest -q -p no:cacheprovider` with this interpreter (no shell) in a fresh
temporary copy of the project, removed afterwards, under a 30 s timeout, with the scrubbed
environment every command gets (`policies.runner.command_env`: no keys or tokens, no .pyc files)
plus plugin autoloading off and a fixed width, so the log does not depend on the machine. The
interpreter without pytest (a product install has none) runs the same test functions under a
minimal runner instead, and the log is its traceback.

The failing log runs our own code once per project per process (cached) when the suite is built;
its duration is fixed so the suite is reproducible per seed. Grading runs the leader's patched
module: model-written code, so it goes through `policies.runner.run_command` (its process group
and everything it started are killed when it ends or times out). That is containment, not a
sandbox: the code can still read and write what this user can while it runs.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent_orchestrator.policies.commands import ParsedCommand
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import command_env, run_command

RUN_TIMEOUT_S = 30.0
OUTPUT_CAP = 64_000
PYTEST_ARGS = ("-m", "pytest", "-q", "-p", "no:cacheprovider")
EXTRA_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "80"}
FALLBACK_RUNNER = """\
import importlib, pathlib, sys, traceback
failed = 0
for path in sorted(pathlib.Path('.').glob('test_*.py')):
    module = importlib.import_module(path.stem)
    for name, test in sorted(vars(module).items()):
        if name.startswith('test_') and callable(test):
            try:
                test()
            except Exception:
                failed += 1
                print(f'FAILED {path.name}::{name}')
                traceback.print_exc(file=sys.stdout)
print(f'{failed} failed')
sys.exit(1 if failed else 0)
"""
_DURATION = re.compile(r" in \d+(?:\.\d+)?s\b")
_CACHE_ENTRIES = 64


@dataclass(frozen=True)
class ProjectRun:
    """How a run of the tests ended: passed, and the end of its output (or why it did not finish)."""

    passed: bool
    detail: str


def runner_argv() -> tuple[str, ...]:
    """pytest when this interpreter has it, else the minimal runner."""
    if importlib.util.find_spec("pytest") is not None:
        return (sys.executable, *PYTEST_ARGS)
    return (sys.executable, "-c", FALLBACK_RUNNER)


def failing_log(files: Mapping[str, str], scope: str) -> str:
    """The output of the project's tests (run in `scope`), run once per project per process."""
    return _failing_log(tuple(sorted(files.items())), scope)


@functools.lru_cache(maxsize=_CACHE_ENTRIES)
def _failing_log(files: tuple[tuple[str, str], ...], scope: str) -> str:
    tree = Path(tempfile.mkdtemp(prefix="ao-leader-log-"))
    try:
        _write(tree, dict(files))
        done = subprocess.run(
            runner_argv(),
            cwd=tree / scope,
            env=command_env(os.environ, workspace=str(tree), extra=EXTRA_ENV),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        output = (done.stdout + done.stderr).replace(f"{tree / scope}{os.sep}", "").replace(str(tree), ".")
        return _DURATION.sub(" in 0.01s", output)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


async def run_tests(files: Mapping[str, str], scope: str) -> ProjectRun:
    """Run the tests of `files` in `scope`; an identical tree is run once per process."""
    key = hashlib.sha256(repr((sorted(files.items()), scope)).encode()).hexdigest()
    if (cached := _RUNS.get(key)) is not None:
        return cached
    tree = Path(tempfile.mkdtemp(prefix="ao-leader-fix-"))
    try:
        _write(tree, files)
        argv = runner_argv()
        command = ParsedCommand(argv=argv, program=sys.executable, rule="python -m pytest")
        result = await run_command(
            command,
            cwd=tree / scope,
            timeout_s=RUN_TIMEOUT_S,
            output_cap=OUTPUT_CAP,
            redact=Redactor(),
            extra_env=EXTRA_ENV,
        )
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    tail = (result.stdout + result.stderr).replace(str(tree), ".").strip()[-400:]
    if result.timed_out:
        run = ProjectRun(False, f"the tests did not finish within {RUN_TIMEOUT_S:g} s")
    else:
        run = ProjectRun(result.succeeded, tail or f"exit code {result.exit_code}")
    if len(_RUNS) >= _CACHE_ENTRIES:
        _RUNS.pop(next(iter(_RUNS)))
    _RUNS[key] = run
    return run


_RUNS: dict[str, ProjectRun] = {}


def _write(tree: Path, files: Mapping[str, str]) -> None:
    """Write `files` (our own relative paths, never a model's) under `tree`, and pin pytest's rootdir there."""
    for path, text in files.items():
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tree / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")

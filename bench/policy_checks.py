"""Time to check a command and a path against the safety policy (microseconds per check).

Baselines measured in the same run: `shlex.split` of the same command and `os.path.realpath` of the
same path, so the figures compare across machines.
Usage: python bench/policy_checks.py [--number 5000]
"""

from __future__ import annotations

import argparse
import os
import shlex
import tempfile
import timeit
from pathlib import Path

from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.commands import CommandPolicy
from agent_orchestrator.policies.paths import PathPolicy


def micros(statement: object, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def refused(check: object, value: str) -> None:
    try:
        check(value)  # type: ignore[operator]
    except PolicyViolation:
        return
    raise AssertionError(f"{value!r} was not refused")


def main(number: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="ao-bench-"))
    (root / "src/pkg").mkdir(parents=True)
    (root / "src/pkg/a.py").write_text("x = 1\n")
    commands = CommandPolicy()
    paths = PathPolicy(root)
    allowed_command = "git diff main...HEAD -- src/pkg/a.py"
    rows = [
        (
            "command allowed   " + allowed_command,
            micros(lambda: commands.check(allowed_command, cwd=root), number),
        ),
        (
            "command refused   git status; rm -rf /",
            micros(lambda: refused(lambda c: commands.check(c, cwd=root), "git status; rm -rf /"), number),
        ),
        (
            "command refused   ruff check --fix .",
            micros(lambda: refused(lambda c: commands.check(c, cwd=root), "ruff check --fix ."), number),
        ),
        ("baseline          shlex.split", micros(lambda: shlex.split(allowed_command), number)),
        ("path allowed      src/pkg/a.py", micros(lambda: paths.resolve_read("src/pkg/a.py"), number)),
        ("path refused      ../etc/passwd", micros(lambda: refused(paths.resolve_read, "../etc/passwd"), number)),
        ("path refused      .env", micros(lambda: refused(paths.resolve_read, ".env"), number)),
        ("baseline          os.path.realpath", micros(lambda: os.path.realpath(root / "src/pkg/a.py"), number)),
    ]
    for label, value in rows:
        print(f"{label:<58} {value:8.1f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=5000)
    main(parser.parse_args().number)

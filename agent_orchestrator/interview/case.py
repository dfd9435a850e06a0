"""What an interview case is: a prompt, its deterministic grader, and how its checks score.

Kept apart from `suite` so the case modules (`cases/*`) and the suite that collects them do not
import each other.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agent_orchestrator.domain.profile import CheckResult, Dimension
from agent_orchestrator.interview.typescript import TypeScriptToolchain


@dataclass(frozen=True)
class GradingEnv:
    """What graders may use besides the answer: the TypeScript toolchain, if there is one."""

    typescript: TypeScriptToolchain | None


Grader = Callable[[str, GradingEnv], Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class InterviewCase:
    """One prompt for the worker and the deterministic grader for its answer."""

    case_id: str
    dimension: Dimension
    prompt: str
    grade: Grader = field(repr=False)
    gates: frozenset[str] = frozenset()
    pass_score: float = 0.75
    # A known-good answer: the suite's self-test grades it (it must score 1.0) and scripted test
    # workers answer with it. Never shown to a worker.
    reference: str = field(default="", repr=False)


Template = Callable[[random.Random], InterviewCase]


def check(name: str, passed: bool | None, detail: str) -> CheckResult:
    """Shorthand for a `CheckResult`."""
    return CheckResult(name=name, passed=passed, detail=detail)


def case_score(case: InterviewCase, checks: list[CheckResult]) -> float:
    """Share of checks passed (skipped checks do not count); a failed gate check scores zero."""
    if any(c.passed is False and c.name in case.gates for c in checks):
        return 0.0
    counted = [c for c in checks if c.passed is not None]
    if not counted:
        return 0.0
    return round(sum(1 for c in counted if c.passed) / len(counted), 3)

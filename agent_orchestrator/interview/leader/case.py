"""What a leader interview case is: a production prompt, its output type, a deterministic grader, a reference.

Kept apart from `suite` so the dimension modules and the suite that collects them do not import
each other. A case's grader is a closure over what its template generated (planted lines, the
expected verdict, the project to run); it never trusts the leader's text, only checks it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.domain.leader_profile import LeaderCaseResult, LeaderDimension
from agent_orchestrator.domain.profile import CheckResult

Verdict = Literal["accept", "reject"]
LeaderGrader = Callable[[BaseModel], Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class LeaderCase:
    """One production-shaped question for the leader and the grader of its structured answer.

    `reference` is a known-good answer: the suite's self-test grades it (it must score 1.0) and the
    good scripted leader answers with it; it is never shown. Review cases name the planted defect
    (`planted`: (file, new-file line); `kind`: the defect kind, or "clean"); verdict cases the
    verdict a good leader gives (`expected`: "reject" is met by revise or reject). A failed `gates`
    check scores the case zero.
    """

    case_id: str
    dimension: LeaderDimension
    prompt: Prompt = field(repr=False)
    instructions: str = field(repr=False)
    output_type: type[BaseModel]
    grade: LeaderGrader = field(repr=False)
    reference: BaseModel = field(repr=False)
    planted: tuple[tuple[str, int], ...] = ()
    kind: str = ""
    expected: Verdict | None = None
    gates: frozenset[str] = frozenset()
    pass_score: float = 0.75


LeaderTemplate = Callable[[random.Random], LeaderCase]


def check(name: str, passed: bool | None, detail: str) -> CheckResult:
    """Shorthand for a `CheckResult` (passed None: the check could not run, and does not count)."""
    return CheckResult(name=name, passed=passed, detail=detail)


def wrong_type(output: BaseModel, expected: type[BaseModel]) -> list[CheckResult]:
    """The failed `schema` check of an answer that is not the case's output type."""
    return [check("schema", False, f"expected {expected.__name__}, got {type(output).__name__}")]


def case_score(case: LeaderCase, checks: list[CheckResult]) -> float:
    """Share of checks passed (checks that could not run do not count); a failed gate scores zero."""
    if any(c.passed is False and c.name in case.gates for c in checks):
        return 0.0
    counted = [c for c in checks if c.passed is not None]
    if not counted:
        return 0.0
    return round(sum(1 for c in counted if c.passed) / len(counted), 3)


def case_result(
    case: LeaderCase, checks: list[CheckResult], *, latency_ms: int | None = None, error: str | None = None
) -> LeaderCaseResult:
    """The graded case; with `error` (no answer) it scores zero whatever the checks."""
    score = 0.0 if error is not None else case_score(case, checks)
    return LeaderCaseResult(
        case_id=case.case_id,
        dimension=case.dimension,
        score=score,
        passed=error is None and score >= case.pass_score,
        checks=checks,
        latency_ms=latency_ms,
        error=error,
    )

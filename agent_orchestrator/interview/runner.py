"""Run the interview suite against one worker with pydantic-evals and collect the evidence.

The task asks the worker (bounded concurrency, per-call deadline, retries, the interview's
deadline); one deterministic evaluator grades each answer with its case's own grader. Every call
is recorded into the caller's `UsageSink` (the interview's run). Progress is reported per
answered case. The evaluation itself is bounded too: should grading still run `GRADING_GRACE_S`
after the interview's deadline, it is stopped and the cases it had not finished say so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import EvaluationReason, EvaluationResult, Evaluator, EvaluatorContext

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.build import agent_for
from agent_orchestrator.agents.prompts.instructions import INTERVIEWED_WORKER
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.profile import CaseResult, CheckResult
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.steps import unrecorded
from agent_orchestrator.interview.calls import (
    BREAKER_THRESHOLD,
    MAX_ANSWER_CHARS,
    EndpointBreaker,
    InterviewDeadline,
    WorkerReply,
    ask,
)
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, case_score, check
from agent_orchestrator.policies.redaction import Redactor

if TYPE_CHECKING:
    from pydantic_ai import Agent
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings
    from pydantic_evals.reporting import EvaluationReport

EXCERPT_CHARS = 400
# The longest good answer in the suite (a TypeScript module, an explanation) is ~250 tokens;
# the cap keeps a rambling model from spending minutes per case.
MAX_ANSWER_TOKENS = 600
# How long grading may go on after the interview's deadline before the evaluation is stopped.
GRADING_GRACE_S = 15.0


@dataclass(frozen=True)
class SuiteRun:
    """The graded cases of one interview and how long it took."""

    cases: list[CaseResult]
    duration_ms: int
    breaker_tripped: bool


@dataclass
class _Questions:
    """Asks the worker case by case; keeps every reply, and stops asking once the budget is spent."""

    agent: Agent[None, str]
    bounds: CallBounds
    redact: Redactor
    usage: UsageSink
    deadline: InterviewDeadline | None
    breaker: EndpointBreaker = field(default_factory=lambda: EndpointBreaker(BREAKER_THRESHOLD))
    replies: dict[str, WorkerReply] = field(default_factory=dict[str, WorkerReply])
    budget_spent: BudgetExceeded | None = None

    async def ask(self, prompt: str) -> WorkerReply:
        if self.budget_spent is not None:
            reply = WorkerReply(None, 0, "skipped", f"not attempted: {self.budget_spent}", 0, 0)
        else:
            try:
                reply = await ask(
                    self.agent, prompt, self.bounds, self.breaker, self.redact, self.usage, self.deadline
                )
            except BudgetExceeded as exc:  # raised by `run_suite` once the evaluation is over
                self.budget_spent = exc
                reply = WorkerReply(None, 0, "skipped", f"not attempted: {exc}", 0, 0)
        self.replies[prompt] = reply
        return reply


@dataclass
class _Grade(Evaluator[str, WorkerReply, None]):
    """Runs each case's deterministic grader; reports every check as an assertion."""

    cases: dict[str, InterviewCase]
    env: GradingEnv

    async def evaluate(self, ctx: EvaluatorContext[str, WorkerReply, None]) -> dict[str, EvaluationReason]:
        checks = await grade_reply(self.cases[ctx.name or ""], ctx.output, self.env)
        return {
            c.name: EvaluationReason(value=c.passed if c.passed is not None else "skipped", reason=c.detail)
            for c in checks
        }


async def grade_reply(case: InterviewCase, reply: WorkerReply, env: GradingEnv) -> list[CheckResult]:
    """Grade one reply; an error, an empty or an oversized answer fails before the case's grader runs."""
    if reply.error is not None:
        return [check("answered", False, f"{reply.error}: {reply.error_detail}")]
    if reply.answer_chars > MAX_ANSWER_CHARS:
        return [
            check("answer_size", False, f"answer of {reply.answer_chars} characters exceeds {MAX_ANSWER_CHARS}")
        ]
    if not (reply.text or "").strip():
        return [check("answered", False, "empty answer")]
    return await case.grade(reply.text or "", env)


async def run_suite(
    model: Model,
    cases: list[InterviewCase],
    *,
    env: GradingEnv,
    bounds: CallBounds,
    concurrency: int,
    redact: Redactor,
    usage: UsageSink,
    deadline: InterviewDeadline | None = None,
    worker_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> SuiteRun:
    """Ask every case, grade every answer, and return per-case evidence in suite order.

    Every call is recorded into `usage` (as the worker role's, under `worker_id` when given).
    Raises `BudgetExceeded` when the run's budget stopped the interview (its calls are recorded).
    """
    settings: ModelSettings = {"temperature": 0.0, "max_tokens": MAX_ANSWER_TOKENS}
    name = None if worker_id is None else f"worker:{worker_id}"  # the role and model id its records carry
    agent = agent_for(model, str, INTERVIEWED_WORKER, name=name, retries=0, model_settings=settings)
    questions = _Questions(agent, bounds, redact, usage, deadline)
    by_id = {case.case_id: case for case in cases}
    done = 0

    async def answer(prompt: str) -> WorkerReply:
        nonlocal done
        reply = await questions.ask(prompt)
        done += 1
        if progress is not None:
            await progress(done, len(cases), f"answered {done}/{len(cases)} interview cases")
        return reply

    dataset = Dataset[str, WorkerReply, None](
        name="worker-interview",
        cases=[Case(name=case.case_id, inputs=case.prompt) for case in cases],
        evaluators=[_Grade(by_id, env)],
    )
    started = time.perf_counter()
    report: EvaluationReport[str, WorkerReply, None] | None = None
    # The cases race, so their calls cannot be replayed in order: a durable run that resumes asks again.
    with (
        unrecorded(),
        anyio.move_on_after(None if deadline is None else deadline.at + GRADING_GRACE_S - time.monotonic()),
    ):
        report = await dataset.evaluate(answer, max_concurrency=concurrency, progress=False, task_name="worker")
    if questions.budget_spent is not None:
        raise questions.budget_spent
    results = _reported(report, by_id, redact)
    for case in cases:
        if case.case_id not in results:  # the evaluation was stopped before this case was graded
            results[case.case_id] = _unfinished(case, questions.replies.get(case.prompt), deadline, redact)
    duration = int((time.perf_counter() - started) * 1000)
    return SuiteRun([results[case.case_id] for case in cases], duration, questions.breaker.open)


def _reported(
    report: EvaluationReport[str, WorkerReply, None] | None, by_id: Mapping[str, InterviewCase], redact: Redactor
) -> dict[str, CaseResult]:
    """The cases the evaluation finished, graded or failed."""
    if report is None:
        return {}
    results = {
        rc.name: _case_result(by_id[rc.name], rc.output, rc.assertions, rc.labels, rc.evaluator_failures, redact)
        for rc in report.cases
    }
    for failure in report.failures:  # the task never raises, but a failure must still be visible
        reply = WorkerReply(None, 0, "model_error", failure.error_message[:300], 0, 0)
        results[failure.name] = _case_result(by_id[failure.name], reply, {}, {}, [], redact)
    return results


def _unfinished(
    case: InterviewCase, reply: WorkerReply | None, deadline: InterviewDeadline | None, redact: Redactor
) -> CaseResult:
    """A case the stopped evaluation left: unanswered by the deadline, or answered but not graded (the
    grader was slow, not the worker: the answer counts as answered, and fails)."""
    when = deadline.name if deadline is not None else "the interview ended"
    if reply is None:
        reply = WorkerReply(None, 0, "deadline", f"no answer before {when}", 0, 0)
    if reply.error is not None:
        checks = [check("answered", False, f"{reply.error}: {reply.error_detail}")]
    else:
        checks = [check("graded", False, f"answered, but not graded before {when}")]
    return _case_result(case, reply, {}, {}, [], redact, checks)


def _case_result(
    case: InterviewCase,
    reply: WorkerReply,
    assertions: Mapping[str, EvaluationResult[bool]],
    labels: Mapping[str, EvaluationResult[str]],
    evaluator_failures: Sequence[object],
    redact: Redactor,
    checks: list[CheckResult] | None = None,
) -> CaseResult:
    """Rebuild the checks from the report (assertions pass/fail, labels for skipped checks)."""
    checks = list(checks or [])
    checks += [
        CheckResult(name=name, passed=bool(r.value), detail=_detail(r, redact)) for name, r in assertions.items()
    ]
    checks += [CheckResult(name=name, passed=None, detail=_detail(r, redact)) for name, r in labels.items()]
    if evaluator_failures:
        checks.append(CheckResult(name="grader", passed=False, detail="the grader failed on this answer"))
    score = case_score(case, checks)
    return CaseResult(
        case_id=case.case_id,
        dimension=case.dimension,
        score=score,
        passed=score >= case.pass_score,
        checks=checks,
        error=reply.error,
        error_detail=reply.error_detail,
        attempts=reply.attempts,
        latency_ms=reply.latency_ms,
        answer_chars=reply.answer_chars,
        answer_excerpt=redact((reply.text or "")[:EXCERPT_CHARS]),
    )


def _detail(result: EvaluationResult[bool] | EvaluationResult[str], redact: Redactor) -> str:
    """A check's detail may quote the worker's answer: redact it and keep it short."""
    return redact(result.reason or "")[:300]

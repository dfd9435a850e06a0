"""Ask interview cases of one worker with pydantic-evals and collect the evidence.

Each case is asked the way the workflows ask a worker for a step: an agent whose output is a
`StepResult` in one output mode (see `domain.output_modes`), the workers' instructions plus a short
note on how to answer, and the workflows' validation retries (but an answer cut at the interview's
token cap is not asked again: `StopWhenCut`). Like every call it has bounded concurrency, the
per-call deadline, transport retries and the interview's deadline. A case's grader reads the
output's `content` (an answer that never arrived as a valid output fails `answered`). Every call is
recorded into the caller's `UsageSink` (the interview's run); progress is reported per answered
case. The evaluation itself is bounded too: should grading still run `GRADING_GRACE_S` after the
interview's deadline, it is stopped and the cases it had not finished say so.

One `Interviewer` asks a worker everything (`interview.probe` asks in several modes), so the
endpoint's breaker, the budget and the progress are shared by all its evaluations.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from pydantic_ai import Agent
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import EvaluationReason, EvaluationResult, Evaluator, EvaluatorContext

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.build import agent_for
from agent_orchestrator.agents.models import StepResult
from agent_orchestrator.agents.prompts.instructions import INTERVIEWED_WORKER
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.output_modes import OutputMode, OutputModeTrial
from agent_orchestrator.domain.profile import CaseResult, CheckResult
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.steps import unrecorded
from agent_orchestrator.interview.calls import (
    BREAKER_THRESHOLD,
    MAX_ANSWER_CHARS,
    EndpointBreaker,
    InterviewDeadline,
    StopWhenCut,
    WorkerReply,
    ask,
)
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, case_score, check
from agent_orchestrator.policies.redaction import Redactor

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings
    from pydantic_evals.reporting import EvaluationReport

EXCERPT_CHARS = 400
# A good answer in the suite (a TypeScript module, an explanation) is at most ~250 tokens, ~300 once
# escaped into a `StepResult`'s JSON with its summary. The cap keeps a rambling model from spending
# the interview's deadline: constrained to JSON (tool calls, grammars), a small model rambles inside
# a string until the cap far more often than in text (the bundled SmolLM2: 12 of 19 answers; at 600
# tokens its interview took 168 s of its 180 s on 2 cores, at 400 about 125 s). An answer cut here
# is not asked again (`StopWhenCut`).
MAX_ANSWER_TOKENS = 400
# How long grading may go on after the interview's deadline before the evaluation is stopped.
GRADING_GRACE_S = 15.0


@dataclass(frozen=True)
class SuiteRun:
    """The graded cases of one interview, how long it took, and the output mode they were asked in
    (with the probe's trials and, when no mode delivered structured output, why)."""

    cases: list[CaseResult]
    duration_ms: int
    breaker_tripped: bool
    output_mode: OutputMode | None = None
    trials: tuple[OutputModeTrial, ...] = ()
    no_mode_works: str | None = None


@dataclass
class Interviewer:
    """Asks one worker interview cases in an output mode and grades the answers.

    Every evaluation shares the endpoint's breaker, the budget (once it is spent nothing more is
    asked, and `grade_cases` raises it) and the progress count (`total` grows as the probe asks more).
    """

    model: Model
    env: GradingEnv
    bounds: CallBounds
    concurrency: int
    redact: Redactor
    usage: UsageSink
    deadline: InterviewDeadline | None = None
    worker_id: str | None = None
    progress: ProgressCallback | None = None
    total: int = 0
    done: int = 0
    breaker: EndpointBreaker = field(default_factory=lambda: EndpointBreaker(BREAKER_THRESHOLD))
    budget_spent: BudgetExceeded | None = None
    _agents: dict[OutputMode | None, Agent[None, StepResult]] = field(
        default_factory=dict[OutputMode | None, Agent[None, StepResult]]
    )

    def agent(self, mode: OutputMode | None) -> Agent[None, StepResult]:
        """The worker's agent in `mode`: a step's output, the workers' instructions and retries."""
        if mode not in self._agents:
            settings: ModelSettings = {"temperature": 0.0, "max_tokens": MAX_ANSWER_TOKENS}
            # the role and model id its records carry
            name = None if self.worker_id is None else f"worker:{self.worker_id}"
            self._agents[mode] = agent_for(
                self.model,
                StepResult,
                INTERVIEWED_WORKER,
                name=name,
                model_settings=settings,
                output_mode=mode,
                capabilities=[StopWhenCut(MAX_ANSWER_TOKENS)],
            )
        return self._agents[mode]

    async def ask(self, mode: OutputMode | None, prompt: str) -> WorkerReply:
        """One case in `mode`; once the budget is spent, nothing more is asked."""
        if self.budget_spent is not None:
            reply = WorkerReply(None, 0, "skipped", f"not attempted: {self.budget_spent}", 0, 0)
        else:
            try:
                reply = await ask(
                    self.agent(mode), prompt, self.bounds, self.breaker, self.redact, self.usage, self.deadline
                )
            except BudgetExceeded as exc:  # raised by `grade_cases` once the evaluation is over
                self.budget_spent = exc
                reply = WorkerReply(None, 0, "skipped", f"not attempted: {exc}", 0, 0)
        self.done += 1
        if self.progress is not None:
            total = max(self.total, self.done)
            await self.progress(self.done, total, f"answered {self.done}/{total} interview cases")
        return reply

    async def leave(self, cases: int) -> None:
        """`cases` will not be asked after all: progress stops counting them."""
        self.total -= cases
        if self.progress is not None and cases:
            await self.progress(self.done, self.total, f"answered {self.done}/{self.total} interview cases")

    async def grade_cases(self, cases: list[InterviewCase], mode: OutputMode | None) -> list[CaseResult]:
        """Ask every case in `mode` and grade every answer: per-case evidence in the cases' order.

        Raises `BudgetExceeded` when the run's budget stopped the asking (its calls are recorded).
        """
        by_id = {case.case_id: case for case in cases}
        replies: dict[str, WorkerReply] = {}

        async def answer(prompt: str) -> WorkerReply:
            replies[prompt] = reply = await self.ask(mode, prompt)
            return reply

        dataset = Dataset[str, WorkerReply, None](
            name="worker-interview",
            cases=[Case(name=case.case_id, inputs=case.prompt) for case in cases],
            evaluators=[_Grade(by_id, self.env)],
        )
        deadline = self.deadline
        report: EvaluationReport[str, WorkerReply, None] | None = None
        # The cases race, so their calls cannot be replayed in order: a durable run that resumes asks again.
        with (
            unrecorded(),
            anyio.move_on_after(None if deadline is None else deadline.at + GRADING_GRACE_S - time.monotonic()),
        ):
            report = await dataset.evaluate(
                answer, max_concurrency=self.concurrency, progress=False, task_name="worker"
            )
        if self.budget_spent is not None:
            raise self.budget_spent
        results = _reported(report, by_id, self.redact)
        for case in cases:
            if case.case_id not in results:  # the evaluation was stopped before this case was graded
                results[case.case_id] = _unfinished(case, replies.get(case.prompt), deadline, self.redact)
        return [results[case.case_id] for case in cases]


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
        return [check("answered", False, "empty answer: nothing in the output's `content`")]
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
    output_mode: OutputMode | None = None,
) -> SuiteRun:
    """Ask every case in one output mode (a profile's; None: pydantic-ai's default, as workflows asked
    workers before output modes), grade every answer, and return per-case evidence in suite order.

    The interview itself probes the modes first (`interview.probe.run_interview`); this asks as a
    worker already qualified (the drift canaries). Every call is recorded into `usage` (as the worker
    role's, under `worker_id` when given). Raises `BudgetExceeded` when the run's budget stopped the
    asking (its calls are recorded).
    """
    interviewer = Interviewer(
        model, env, bounds, concurrency, redact, usage, deadline, worker_id, progress, total=len(cases)
    )
    started = time.perf_counter()
    results = await interviewer.grade_cases(cases, output_mode)
    duration = int((time.perf_counter() - started) * 1000)
    return SuiteRun(results, duration, interviewer.breaker.open, output_mode=output_mode)


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


def not_asked(case: InterviewCase, why: str, redact: Redactor) -> CaseResult:
    """A case deliberately left unasked (`why`): it fails `answered`, with no attempt and no latency."""
    reply = WorkerReply(None, 0, "model_error", why, 0, 0)
    return _case_result(case, reply, {}, {}, [], redact, [check("answered", False, why)])


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

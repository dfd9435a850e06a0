"""Running plan steps: ask the assignee, validate its output deterministically, have the leader review it.

Independent steps run in parallel (model calls capped per role); a dependent step waits for its
dependencies and gets their accepted outputs as untrusted data. A step's failure (an endpoint
down, output still invalid after retries, a timeout, a rejection) is its outcome, never an
exception: the other steps go on. An output is accepted only after every deterministic check
passed and, for a worker, the leader accepted it; the leader's own output is validated but not
reviewed by itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError

from agent_orchestrator.agents.build import build_agent
from agent_orchestrator.agents.calls import call_agent, failure_reason
from agent_orchestrator.agents.models import PlanStep, StepResult, StepReview
from agent_orchestrator.agents.prompts.instructions import LEADER_REVIEWER, WORKER
from agent_orchestrator.agents.prompts.prompt import Data
from agent_orchestrator.agents.prompts.steps import step_prompt, step_review_prompt
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.routing import Assignment
from agent_orchestrator.providers import resolve_spec
from agent_orchestrator.workflows.leader_worker.output_checks import validate_output
from agent_orchestrator.workflows.leader_worker.result import StepOutcome, StepVerdict
from agent_orchestrator.workflows.recorder import RunContext

MAX_ROUNDS = 3  # the first answer plus two revisions
EXCERPT_CHARS = 2_000


@dataclass(frozen=True)
class StepJob:
    """A step with its assignment and the profile of the worker doing it (None: the leader)."""

    step: PlanStep
    assignment: Assignment
    worker: WorkerCapabilityProfile | None


@dataclass
class StepEnv:
    """What every step shares: the run, the goal, the scope, the context files (as data) and the call caps."""

    run: RunContext
    goal: str
    scope: Path
    context: list[Data]
    concurrency: int
    outputs: dict[str, StepResult] = field(default_factory=dict[str, StepResult])
    _limits: dict[str, anyio.CapacityLimiter] = field(default_factory=dict[str, anyio.CapacityLimiter])
    _doers: dict[str, Agent[None, StepResult]] = field(default_factory=dict[str, Agent[None, StepResult]])
    _reviewer: Agent[None, StepReview] | None = None

    def limiter(self, role: str) -> anyio.CapacityLimiter:
        """One cap per role, so worker endpoints and the leader are each protected."""
        if role not in self._limits:
            self._limits[role] = anyio.CapacityLimiter(self.concurrency)
        return self._limits[role]

    def doer(self, job: StepJob) -> Agent[None, StepResult]:
        """The agent that does the step: the worker at the endpoint its profile was made against, or the leader."""
        key = job.assignment.assignee
        if key not in self._doers:
            runtime, worker = self.run.runtime, job.worker
            if worker is None:
                self._doers[key] = build_agent(runtime, "leader", StepResult, WORKER)
            else:
                spec = resolve_spec(worker.provider, worker.model, runtime.settings, "worker", worker.base_url)
                self._doers[key] = build_agent(runtime, "worker", StepResult, WORKER, spec=spec)
        return self._doers[key]

    def reviewer(self) -> Agent[None, StepReview]:
        if self._reviewer is None:
            self._reviewer = build_agent(self.run.runtime, "leader", StepReview, LEADER_REVIEWER)
        return self._reviewer


async def run_steps(env: StepEnv, jobs: Sequence[StepJob]) -> list[StepOutcome]:
    """Run every step, each as soon as its dependencies are done; outcomes come back in plan order."""
    finished = {job.step.id: anyio.Event() for job in jobs}
    outcomes: dict[str, StepOutcome] = {}

    async def one(job: StepJob) -> None:
        try:
            for dependency in job.step.depends_on:
                await finished[dependency].wait()
            blocked = [d for d in job.step.depends_on if outcomes[d].verdict != "accepted"]
            if blocked:
                outcomes[job.step.id] = _skipped(job, blocked)
                return
            async with env.run.node(f"RunStep {job.step.id}"):
                outcomes[job.step.id] = await run_step(env, job)
        finally:
            finished[job.step.id].set()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(one, job)
    return [outcomes[job.step.id] for job in jobs]


async def run_step(env: StepEnv, job: StepJob) -> StepOutcome:
    """Ask, validate and review for up to `MAX_ROUNDS` rounds; the last reason decides a failure."""
    started = time.perf_counter()
    outcome = _new_outcome(job, "failed")
    feedback: str | None = None
    previous: StepResult | None = None
    for round_number in range(1, MAX_ROUNDS + 1):
        outcome.rounds = round_number
        verdict, previous, feedback = await _round(env, job, outcome, previous, feedback)
        if verdict is not None:
            outcome.verdict = verdict
            break
    else:
        outcome.error = f"no accepted output after {MAX_ROUNDS} rounds: {feedback}"
    if outcome.verdict == "accepted" and previous is not None:
        env.outputs[job.step.id] = previous
    outcome.duration_ms = int((time.perf_counter() - started) * 1000)
    return outcome


async def _round(
    env: StepEnv, job: StepJob, outcome: StepOutcome, previous: StepResult | None, feedback: str | None
) -> tuple[StepVerdict | None, StepResult | None, str | None]:
    """One round: (final verdict or None to go again, the output, the feedback for the next round)."""
    try:
        output = await _ask(env, job, previous, feedback)
    except (AgentRunError, AOError, TimeoutError) as exc:
        outcome.error = f"{_doer_name(job)} failed: {failure_reason(exc)}"
        return "failed", previous, feedback
    await _record_output(env, job, outcome, output)
    outcome.validation = await validate_output(env.run.runtime.safety, output, env.scope)
    failed = [check for check in outcome.validation if check.passed is False]
    if failed:
        detail = "; ".join(f"{check.name}: {check.detail}" for check in failed)
        return None, output, f"deterministic validation failed: {detail}"
    if job.worker is None:
        return "accepted", output, None
    try:
        review = await _review(env, job, output, outcome)
    except (AgentRunError, AOError, TimeoutError) as exc:
        outcome.error = f"the leader's review failed: {failure_reason(exc)}"
        return "failed", output, feedback
    outcome.leader_reviewed = True
    outcome.feedback = env.run.runtime.redact(review.feedback)
    if review.verdict == "accept":
        return "accepted", output, None
    if review.verdict == "reject":
        outcome.error = f"rejected by the leader: {outcome.feedback or 'no reason given'}"
        return "rejected", output, None
    return None, output, review.feedback or "the leader asked for a revision"


async def _ask(env: StepEnv, job: StepJob, previous: StepResult | None, feedback: str | None) -> StepResult:
    """One call to the step's doer, under its role's cap (and, for a worker, the per-call deadline)."""
    runtime, step = env.run.runtime, job.step
    prompt = step_prompt(
        step,
        goal=env.goal,
        scope=runtime.safety.paths.relative(env.scope) or ".",
        context=env.context,
        inputs={dependency: env.outputs[dependency] for dependency in step.depends_on},
        previous=previous,
        feedback=feedback,
    )
    return await call_agent(
        env.doer(job),
        prompt,
        usage=env.run,
        redact=runtime.redact,
        limiter=env.limiter("leader" if job.worker is None else "worker"),
        bounds=env.run.bounds(),
    )


async def _review(env: StepEnv, job: StepJob, output: StepResult, outcome: StepOutcome) -> StepReview:
    """The leader's verdict on a worker's output, shown with the deterministic checks it passed."""
    prompt = step_review_prompt(
        job.step,
        worker=f"{job.assignment.assignee} ({job.assignment.reason})",
        round_number=outcome.rounds,
        max_rounds=MAX_ROUNDS,
        checks=outcome.validation,
        output=output,
    )
    run = env.run
    return await call_agent(
        env.reviewer(),
        prompt,
        usage=run,
        redact=run.runtime.redact,
        limiter=env.limiter("leader"),
        bounds=run.bounds(),
    )


async def _record_output(env: StepEnv, job: StepJob, outcome: StepOutcome, output: StepResult) -> None:
    """Keep a redacted excerpt in the outcome and the whole output as an artifact (results stay small).

    The store commits synchronously (an fsync), so the write runs in a thread, not on the event loop
    the other steps share.
    """
    redact = env.run.runtime.redact
    outcome.output_summary = redact(output.summary)[:EXCERPT_CHARS]
    outcome.content_excerpt = redact(output.content)[:EXCERPT_CHARS]
    outcome.has_patch = bool(output.patch and output.patch.strip())
    name = f"step {job.step.id} round {outcome.rounds} output"
    store = partial(env.run.artifact, name, output.model_dump_json(indent=2), "application/json")
    outcome.output_artifact = (await anyio.to_thread.run_sync(store)).artifact_id


def _doer_name(job: StepJob) -> str:
    return "the leader" if job.worker is None else f"worker {job.assignment.assignee!r}"


def _new_outcome(job: StepJob, verdict: StepVerdict, error: str | None = None) -> StepOutcome:
    """A step's outcome before any round ran."""
    return StepOutcome(
        step_id=job.step.id,
        title=job.step.title,
        task_type=job.step.task_type,
        assignee=job.assignment.assignee,
        verdict=verdict,
        rounds=0,
        leader_reviewed=False,
        validation=[],
        error=error,
    )


def _skipped(job: StepJob, blocked: list[str]) -> StepOutcome:
    return _new_outcome(
        job, "skipped", f"not run: its dependencies {', '.join(map(repr, blocked))} were not accepted"
    )

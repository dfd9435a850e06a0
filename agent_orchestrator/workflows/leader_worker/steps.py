"""Running plan steps: ask the assignee, validate its output deterministically, have the leader review it.

Independent steps run in parallel (model calls capped per role); a dependent step waits for its
dependencies and gets their accepted outputs as untrusted data. A step's failure (an endpoint
down, output still invalid after retries, a timeout, a rejection) is its outcome, never an
exception: the other steps go on. An output is accepted only after every deterministic check
passed and, for a worker, the leader accepted it; the leader's own output is validated but not
reviewed by itself.

Fallbacks: the leader's calls get `LEADER_MODEL_FALLBACKS`; a worker step gets only the
`WORKER_MODEL_FALLBACKS` its own fresh profile qualifies (see `fallbacks`), and once a step fell
back it stays with the worker that served it. The outcome names who served it and why.

The leader's review feedback is read, not believed (`leader_checks`): feedback that is placeholder
text or echoes an instruction found in the worker's output, its inputs or the context files is
withheld from the outcome and from the next round (`FEEDBACK_WITHHELD`), and a warning says why;
the verdict stands as given.

Limits: a run budget (`BudgetExceeded`) or the run's deadline stops the run: steps not started
are skipped with that reason, steps in flight end at their next call, finished ones are kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError

from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.build import build_agent, build_agents_with_fallbacks
from agent_orchestrator.agents.calls import agent_role_and_model, call_agent
from agent_orchestrator.agents.models import PlanStep, StepResult, StepReview
from agent_orchestrator.agents.prompts.instructions import LEADER_REVIEWER, WORKER
from agent_orchestrator.agents.prompts.prompt import Data, Prompt
from agent_orchestrator.agents.prompts.steps import step_prompt, step_review_prompt
from agent_orchestrator.agents.resilience import DeadlineExceeded, describe_failure
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.output_modes import OutputMode
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.steps import StepSlot, reserve_step
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.routing import Assignment
from agent_orchestrator.providers import ModelSpec, resolve_spec
from agent_orchestrator.workflows.leader_checks import instruction_lines, text_problem
from agent_orchestrator.workflows.leader_worker.fallbacks import FallbackWorker, qualified_fallbacks
from agent_orchestrator.workflows.leader_worker.output_checks import validate_output
from agent_orchestrator.workflows.leader_worker.result import StepOutcome, StepVerdict
from agent_orchestrator.workflows.recorder import RunContext

OutputT = TypeVar("OutputT")

MAX_ROUNDS = 3  # the first answer plus two revisions
EXCERPT_CHARS = 2_000
FEEDBACK_WITHHELD = "[withheld: the leader's feedback failed its checks, see the warnings]"


@dataclass(frozen=True)
class StepJob:
    """A step with its assignment and the profile of the worker doing it (None: the leader)."""

    step: PlanStep
    assignment: Assignment
    worker: WorkerCapabilityProfile | None


@dataclass
class StepCalls:
    """One step's model calls: each record goes to the run; the last one says who served the step."""

    run: RunContext
    last: CallRecord | None = None

    def record_call(self, call: CallRecord) -> None:
        self.run.record_call(call)
        self.last = call


@dataclass
class Doers:
    """Who may do one step, in order (the assignee, then its qualified fallbacks); `current` asked first."""

    agents: list[Agent[None, StepResult]]
    current: int = 0

    def serving(self, model_id: str) -> None:
        """The step stays with the model that answered: later rounds ask it first."""
        for index, agent in enumerate(self.agents):
            if agent_role_and_model(agent)[1] == model_id:
                self.current = index
                return


@dataclass
class StepEnv:
    """What every step shares: the run, the goal, the scope, the context files (as data), the call caps,
    the fallback workers, and why the run stopped early (None while it goes on)."""

    run: RunContext
    goal: str
    scope: Path
    context: list[Data]
    concurrency: int
    fallback_workers: list[FallbackWorker] = field(default_factory=list[FallbackWorker])
    stopped: str | None = None
    outputs: dict[str, StepResult] = field(default_factory=dict[str, StepResult])
    _limits: dict[str, anyio.CapacityLimiter] = field(default_factory=dict[str, anyio.CapacityLimiter])
    _workers: dict[tuple[ModelSpec, OutputMode | None], Agent[None, StepResult]] = field(
        default_factory=dict[tuple[ModelSpec, OutputMode | None], Agent[None, StepResult]]
    )
    _leader: list[Agent[None, StepResult]] = field(default_factory=list[Agent[None, StepResult]])
    _reviewers: list[Agent[None, StepReview]] = field(default_factory=list[Agent[None, StepReview]])
    _warned: set[str] = field(default_factory=set[str])

    def limiter(self, role: str) -> anyio.CapacityLimiter:
        """One cap per role, so worker endpoints and the leader are each protected."""
        if role not in self._limits:
            self._limits[role] = anyio.CapacityLimiter(self.concurrency)
        return self._limits[role]

    def doers(self, job: StepJob) -> Doers:
        """Who may do the step: the leader and its fallbacks, or the worker at the endpoint its profile was
        made against and then each fallback worker qualified for the step by its own profile; each worker
        asked in the output mode its own interview qualified it in."""
        if job.worker is None:
            if not self._leader:
                primary, fallbacks = build_agents_with_fallbacks(self.run.runtime, "leader", StepResult, WORKER)
                self._leader = [primary, *fallbacks]
            return Doers(list(self._leader))
        worker = job.worker
        settings = self.run.runtime.settings
        spec = resolve_spec(worker.provider, worker.model, settings, "worker", worker.base_url)
        usable, unfit = qualified_fallbacks(self.fallback_workers, job.assignment.task_type, worker.worker_id)
        for warning in unfit:
            self._warn_once(warning)
        return Doers(
            [
                self._worker(spec, worker.output_mode),
                *(self._worker(fallback.spec, fallback.output_mode) for fallback in usable),
            ]
        )

    def reviewers(self) -> list[Agent[None, StepReview]]:
        """The leader's reviewer, then its fallbacks."""
        if not self._reviewers:
            primary, fallbacks = build_agents_with_fallbacks(
                self.run.runtime, "leader", StepReview, LEADER_REVIEWER
            )
            self._reviewers = [primary, *fallbacks]
        return self._reviewers

    async def call(
        self, agents: list[Agent[None, OutputT]], prompt: Prompt, role: str, calls: StepCalls
    ) -> OutputT:
        """Ask `agents[0]`, then its fallbacks, under the role's cap and the run's bounds; a budget or the
        run's deadline ending the call stops the run (`stopped`) before the failure goes on."""
        bounds = self.run.bounds()
        began = time.monotonic()
        try:
            return await call_agent(
                agents[0],
                prompt,
                usage=calls,
                redact=self.run.runtime.redact,
                limiter=self.limiter(role),
                bounds=bounds,
                fallbacks=agents[1:],
            )
        except BudgetExceeded as exc:
            self.stop(f"budget exceeded: {exc}")
            raise
        except DeadlineExceeded:
            own = None if bounds.timeout_s is None else began + bounds.timeout_s
            if bounds.run_deadline is not None and (own is None or bounds.run_deadline <= own):
                timeout = self.run.runtime.settings.ao_run_timeout
                self.stop(f"the run's deadline passed (AO_RUN_TIMEOUT={timeout:g} s)")
            raise

    def stop(self, reason: str) -> None:
        """Stop the run early (the first reason wins): no step starts after this."""
        if self.stopped is None:
            self.stopped = self.run.runtime.redact(reason)
            self.run.warn(f"the run stopped early: {self.stopped}")

    def _worker(self, spec: ModelSpec, mode: OutputMode | None) -> Agent[None, StepResult]:
        """The worker's agent, asking for its output in `mode` (None: a profile from before the probe)."""
        if (spec, mode) not in self._workers:
            self._workers[spec, mode] = build_agent(
                self.run.runtime, "worker", StepResult, WORKER, spec=spec, output_mode=mode
            )
        return self._workers[spec, mode]

    def _warn_once(self, warning: str) -> None:
        if warning not in self._warned:
            self._warned.add(warning)
            self.run.warn(warning)


async def run_steps(env: StepEnv, jobs: Sequence[StepJob]) -> list[StepOutcome]:
    """Run every step, each as soon as its dependencies are done; outcomes come back in plan order.

    In a durable run each step is one recorded step, its id drawn in plan order before any starts: a
    resumed run keeps the steps that finished (their calls are not paid again) and runs the others.
    """
    finished = {job.step.id: anyio.Event() for job in jobs}
    outcomes: dict[str, StepOutcome] = {}
    slots = {job.step.id: reserve_step(f"step {job.step.id}") for job in jobs}

    async def one(job: StepJob) -> None:
        try:
            for dependency in job.step.depends_on:
                await finished[dependency].wait()
            blocked = [d for d in job.step.depends_on if outcomes[d].verdict != "accepted"]
            if blocked or env.stopped:
                outcomes[job.step.id] = _skipped(job, blocked, env.stopped)
                return
            async with env.run.node(f"RunStep {job.step.id}"):
                outcomes[job.step.id] = await _recorded_step(env, job, slots[job.step.id])
        finally:
            finished[job.step.id].set()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(one, job)
    return [outcomes[job.step.id] for job in jobs]


async def _recorded_step(env: StepEnv, job: StepJob, slot: StepSlot) -> StepOutcome:
    """`run_step` as a recorded step: its outcome, accepted output and early stop are what it records."""

    async def body() -> tuple[StepOutcome, StepResult | None, str | None]:
        outcome = await run_step(env, job)
        return outcome, env.outputs.get(job.step.id), env.stopped

    outcome, accepted, stopped = await slot.run(body)
    if accepted is not None:
        env.outputs[job.step.id] = accepted
    if stopped is not None and env.stopped is None:
        env.stopped = stopped
    return outcome


async def run_step(env: StepEnv, job: StepJob) -> StepOutcome:
    """Ask, validate and review for up to `MAX_ROUNDS` rounds; the last reason decides a failure."""
    started = time.perf_counter()
    outcome = _new_outcome(job, "failed")
    doers = env.doers(job)
    feedback: str | None = None
    previous: StepResult | None = None
    for round_number in range(1, MAX_ROUNDS + 1):
        if env.stopped:
            outcome.error = f"stopped before round {round_number}: {env.stopped}"
            break
        outcome.rounds = round_number
        verdict, previous, feedback = await _round(env, job, doers, outcome, previous, feedback)
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
    env: StepEnv,
    job: StepJob,
    doers: Doers,
    outcome: StepOutcome,
    previous: StepResult | None,
    feedback: str | None,
) -> tuple[StepVerdict | None, StepResult | None, str | None]:
    """One round: (final verdict or None to go again, the output, the feedback for the next round)."""
    try:
        output = await _ask(env, job, doers, outcome, previous, feedback)
    except (AgentRunError, AOError, TimeoutError) as exc:
        outcome.error = f"{_doer_name(job)} failed: {describe_failure(exc)}"
        return "failed", previous, feedback
    await _record_output(env, job, outcome, output)
    outcome.validation = await validate_output(env.run.runtime.safety, output, env.scope)
    failed = [check for check in outcome.validation if check.passed is False]
    if failed:
        outcome.validation_failures += 1
        detail = "; ".join(f"{check.name}: {check.detail}" for check in failed)
        return None, output, f"deterministic validation failed: {detail}"
    if job.worker is None:
        return "accepted", output, None
    try:
        review = await _review(env, job, output, outcome)
    except (AgentRunError, AOError, TimeoutError) as exc:
        outcome.error = f"the leader's review failed: {describe_failure(exc)}"
        return "failed", output, feedback
    outcome.leader_reviewed = True
    shown = _feedback_passes(env, job, output, review.feedback)
    outcome.feedback = env.run.runtime.redact(review.feedback) if shown else FEEDBACK_WITHHELD
    if review.verdict == "accept":
        return "accepted", output, None
    if review.verdict == "reject":
        outcome.error = f"rejected by the leader: {outcome.feedback or 'no reason given'}"
        return "rejected", output, None
    outcome.revisions += 1
    return None, output, (review.feedback if shown else "") or "the leader asked for a revision"


def _feedback_passes(env: StepEnv, job: StepJob, output: StepResult, feedback: str) -> bool:
    """Whether the leader's feedback may be shown and passed on (empty feedback may); a warning says why not."""
    if not feedback.strip():
        return True
    inputs = [env.outputs[d] for d in job.step.depends_on if d in env.outputs]
    untrusted = [
        *(text for result in (output, *inputs) for text in (result.summary, result.content, result.patch or "")),
        *(data.text for data in env.context),
    ]
    problem = text_problem(feedback, instruction_lines(untrusted), trusted=env.goal)
    if problem is None:
        return True
    env.run.warn(f"step {job.step.id!r}: the leader's review feedback was withheld: it {problem}")
    return False


async def _ask(
    env: StepEnv,
    job: StepJob,
    doers: Doers,
    outcome: StepOutcome,
    previous: StepResult | None,
    feedback: str | None,
) -> StepResult:
    """One call to the step's doer (then its fallbacks); the outcome notes who served it and why."""
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
    calls = StepCalls(env.run)
    try:
        return await env.call(
            doers.agents[doers.current :], prompt, "leader" if job.worker is None else "worker", calls
        )
    finally:
        served = calls.last
        if served is not None and served.succeeded:
            # the step's cost sums its served calls; one call not priced makes it unknown (None)
            so_far = 0.0 if outcome.served_by is None else outcome.cost_usd
            outcome.cost_usd = None if so_far is None or served.cost_usd is None else so_far + served.cost_usd
            outcome.served_by = served.model_id
            doers.serving(served.model_id)
            if served.fallback_from is not None:
                outcome.fallback_from, outcome.fallback_reason = served.fallback_from, served.fallback_reason


async def _review(env: StepEnv, job: StepJob, output: StepResult, outcome: StepOutcome) -> StepReview:
    """The leader's verdict on a worker's output, shown with the deterministic checks it passed."""
    served = outcome.served_by or job.assignment.assignee
    prompt = step_review_prompt(
        job.step,
        worker=f"{served} ({job.assignment.reason})"
        + (f"; fallback for {job.assignment.assignee}" if served != job.assignment.assignee else ""),
        round_number=outcome.rounds,
        max_rounds=MAX_ROUNDS,
        checks=outcome.validation,
        output=output,
    )
    return await env.call(env.reviewers(), prompt, "leader", StepCalls(env.run))


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


def _skipped(job: StepJob, blocked: list[str], stopped: str | None) -> StepOutcome:
    if stopped is not None:
        return _new_outcome(job, "skipped", f"not run: {stopped}")
    return _new_outcome(
        job, "skipped", f"not run: its dependencies {', '.join(map(repr, blocked))} were not accepted"
    )

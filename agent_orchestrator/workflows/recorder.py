"""Running a workflow as a record: a run id, timed nodes, progress, usage, artifacts, an outcome.

Every workflow body runs inside `record_run`; whatever happens (success, invalid model output,
an exhausted budget, a dead endpoint, cancellation) the run ends with a clear status and reason,
and the nodes that finished stay recorded. A graph node records itself with
`async with run.recorded(self):`, under its class name.

A durable run (`agent_orchestrator.durable`) is created (queued) before its workflow runs, on the
engine: the engine runs the workflow body inside `adopted(run_id, journal)`, so `record_run` takes
up that run instead of creating one, records its steps through the journal, and writes its
progress into the record for callers polling from other processes.

A process that is being stopped (SIGTERM, see `agent_orchestrator.cli.signals`) says so with
`note_stop`: its runs then end `interrupted` with that reason rather than `cancelled`. Runs still
open when the process gives up waiting are finished by `finish_open_runs` before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from agent_orchestrator.agents.bounds import CallBounds, RetryPolicy
from agent_orchestrator.agents.budget import BudgetExceeded, BudgetLimits, RunBudget
from agent_orchestrator.agents.usage import Usage
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.domain.steps import StepEffects, StepJournal, journal, report_call, report_warning
from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.calls import period_start
from agent_orchestrator.store.runs import ArtifactRef
from agent_orchestrator.workflows.failures import step_failure, with_rejected_output

if TYPE_CHECKING:  # the graph library loads with the workflows, not with the CLI's signal handling
    from pydantic_graph import BaseNode

T = TypeVar("T")
PROGRESS_EVERY_S = 0.25  # a durable run's record takes a progress write at most this often
logger = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What a workflow body uses to record itself."""

    runtime: Runtime
    run_id: str
    workflow: str
    expected_nodes: int
    progress: ProgressCallback | None = None
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list[str])
    timings: dict[str, int] = field(default_factory=dict[str, int])
    done_nodes: int = 0
    deadline: float | None = None  # monotonic: AO_RUN_TIMEOUT after the run started
    budget: RunBudget | None = None
    durable: bool = False  # run by the durable engine (its record is polled; its steps are journaled)
    stopping: Callable[[], str | None] | None = None  # the engine's executor stopping: interrupted, not cancelled
    failed_node: str | None = None  # the last node that failed (a run's failure names its step)
    _seen: dict[str, int] = field(default_factory=dict[str, int])  # occurrences per node/artifact name
    _progress: tuple[int, int, str] | None = None  # reported, not yet written
    _progress_written: float = 0.0
    _progress_timer: asyncio.TimerHandle | None = None

    def __post_init__(self) -> None:
        settings = self.runtime.settings
        self.deadline = time.monotonic() + settings.ao_run_timeout
        self.budget = run_budget(self.runtime, self.usage)

    def record_call(self, call: CallRecord) -> None:
        """One model call of this run: into its usage and the call ledger (`ao usage`), as it ends."""
        self.usage.record_call(call)
        report_call(call)
        self._ledger(call)

    def replay(self, effects: StepEffects) -> None:
        """What a recorded step reported when it first ran, reported again by its replay (the ledger keeps
        each call once: its `call_id`)."""
        for call in effects.calls:
            self.usage.record_call(call)
            self._ledger(call)
        self.warnings.extend(effects.warnings)

    def _ledger(self, call: CallRecord) -> None:
        try:
            self.runtime.ledger.add(self.run_id, self.workflow, call)
        except Exception:  # the run's own usage still has it; a full disk must not fail the workflow
            logger.exception("could not record a model call of run %s", self.run_id)

    def bounds(self, timeout_s: float | None = None) -> CallBounds:
        """The bounds of one model call of this run: its deadline (default AO_MODEL_CALL_TIMEOUT), the
        run's deadline, the retry policy and the run's budget."""
        settings = self.runtime.settings
        return CallBounds(
            policy=retry_policy(self.runtime),
            timeout_s=settings.ao_model_call_timeout if timeout_s is None else timeout_s,
            run_deadline=self.deadline,
            gate=None if self.budget is None else self.budget.check,
            provider_limits=settings.ao_provider_concurrency,
        )

    def recorded(self, node: BaseNode[Any, Any, Any]) -> AbstractAsyncContextManager[None]:
        """Record a graph node under its graph id (its class name), so a rename cannot leave a stale name."""
        return self.node(node.get_node_id())

    @asynccontextmanager
    async def node(self, name: str) -> AsyncGenerator[None]:
        """Time one node, record it, and report progress when it starts and ends.

        Its duration also goes into `timings` (summed over repeats), the one clock results read. Its key
        (name and occurrence) is the same when a resumed run replays it, so its record is not doubled.
        """
        key = self._key(name)
        started = time.time()
        begun = time.perf_counter()
        await self._report(f"{name}: started")
        status, detail = "succeeded", ""
        try:
            yield
        except BaseException as exc:
            stopped = isinstance(exc, (KeyboardInterrupt, anyio.get_cancelled_exc_class(), *_CANCELLATIONS))
            status, detail = (
                _status_of(exc, self.stopping) if stopped else ("failed", f"{type(exc).__name__}: {exc}")
            )
            self.failed_node = name if status == "failed" else self.failed_node
            raise
        finally:
            duration = int((time.perf_counter() - begun) * 1000)
            self.timings[name] = self.timings.get(name, 0) + duration
            self.runtime.runs.add_node(self.run_id, name, started, duration, status, detail, node_key=key)
            self.done_nodes += 1
            if status == "succeeded":
                await self._report(f"{name}: done in {duration} ms")

    def artifact(self, name: str, content: str, media_type: str = "text/plain") -> ArtifactRef:
        """Store a large output; a replay of the run writes the same artifact id, not a second one."""
        key = self._key(f"artifact:{name}")
        return self.runtime.runs.add_artifact(self.run_id, name, content, media_type, artifact_key=key)

    def warn(self, message: str) -> None:
        warning = self.runtime.redact(message)
        self.warnings.append(warning)
        report_warning(warning)

    def _key(self, name: str) -> str:
        """`name#n` for the n-th use of `name` in this run: stable when a resumed run replays it."""
        self._seen[name] = self._seen.get(name, 0) + 1
        return f"{name}#{self._seen[name]}"

    async def _report(self, message: str) -> None:
        total = max(self.expected_nodes, self.done_nodes + 1)
        if self.durable:  # a background run is polled from other processes: its record carries progress
            self._record_progress((self.done_nodes, total, message))
        if self.progress is not None:
            with anyio.CancelScope(shield=True):
                await self.progress(self.done_nodes, total, message)

    def _record_progress(self, progress: tuple[int, int, str]) -> None:
        """Write the run's progress at most every PROGRESS_EVERY_S: now if the last write is that old, else
        once that much after it (the latest report then), so a quick run of nodes costs one write."""
        self._progress = progress
        waited = time.monotonic() - self._progress_written
        if waited >= PROGRESS_EVERY_S:
            self.flush_progress()
        elif self._progress_timer is None:
            loop = asyncio.get_running_loop()
            self._progress_timer = loop.call_later(PROGRESS_EVERY_S - waited, self.flush_progress)

    def flush_progress(self) -> None:
        """Write the latest progress now (and stop waiting to); nothing when there is none pending."""
        if self._progress_timer is not None:
            self._progress_timer.cancel()
            self._progress_timer = None
        progress, self._progress = self._progress, None
        if progress is None:
            return
        self._progress_written = time.monotonic()
        try:
            self.runtime.runs.set_progress(self.run_id, *progress)
        except Exception:  # progress is a courtesy; a full disk must not fail the run
            logger.exception("could not record the progress of run %s", self.run_id)


def retry_policy(runtime: Runtime) -> RetryPolicy:
    settings = runtime.settings
    return RetryPolicy(settings.ao_model_max_retries, settings.ao_model_backoff_s, settings.ao_model_max_backoff_s)


def run_budget(runtime: Runtime, usage: Usage) -> RunBudget | None:
    """The run's budget over its `usage`, with what the ledger says was spent today and this month."""
    settings = runtime.settings
    limits = BudgetLimits(
        settings.ao_run_max_requests,
        settings.ao_run_max_tokens,
        settings.ao_run_max_cost_usd,
        settings.ao_daily_max_cost_usd,
        settings.ao_monthly_max_cost_usd,
    )
    if limits.unlimited:
        return None
    budget = RunBudget(limits, usage)
    if limits.daily_cost_usd is not None or limits.monthly_cost_usd is not None:
        now = datetime.now(UTC)
        budget.spent_today_usd = runtime.ledger.cost_since(period_start(now, "day"))
        budget.spent_this_month_usd = runtime.ledger.cost_since(period_start(now, "month"))
    return budget


@dataclass
class _ProcessRuns:
    """The runs this process has open, and why the process is stopping (None while it is not)."""

    open: dict[str, RunContext] = field(default_factory=dict[str, RunContext])
    stop_reason: str | None = None


_PROCESS = _ProcessRuns()


def note_stop(reason: str | None) -> None:
    """Say why this process is stopping ("terminated by SIGTERM"); None when it no longer is."""
    _PROCESS.stop_reason = reason


def stop_reason() -> str | None:
    return _PROCESS.stop_reason


def finish_open_runs(reason: str) -> list[str]:
    """End every run this process still has open as `interrupted` with `reason`; their ids."""
    finished: list[str] = []
    for context in list(_PROCESS.open.values()):
        result = {"warnings": context.warnings}
        try:
            if context.runtime.runs.finish(context.run_id, "interrupted", reason, result, context.usage.as_dict()):
                finished.append(context.run_id)
        except Exception:  # one unwritable record must not keep the others open
            logger.exception("could not finish run %s", context.run_id)
        _PROCESS.open.pop(context.run_id, None)
    return finished


@contextmanager
def _open(context: RunContext) -> Generator[None]:
    """Count the run as open in this process (for `finish_open_runs`) for the duration of the block."""
    _PROCESS.open[context.run_id] = context
    try:
        yield
    finally:
        _PROCESS.open.pop(context.run_id, None)


def _status_of(
    exc: BaseException, engine_stopping: Callable[[], str | None] | None = None
) -> tuple[RunStatus, str]:
    """The status and reason of a run (or node) that `exc` ended; a run stopped because its process or its
    engine's executor stops is `interrupted`, with why."""
    stopping = _PROCESS.stop_reason or (None if engine_stopping is None else engine_stopping())
    if stopping is not None and isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class()):
        return "interrupted", stopping
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted (KeyboardInterrupt)"
    if isinstance(exc, tuple(_CANCELLATIONS)):
        return "cancelled", "the run was cancelled (`resume_run` continues it)"
    if isinstance(exc, PolicyViolation):
        return "refused", str(exc)
    if isinstance(exc, BudgetExceeded):
        return "failed", f"budget exceeded: {exc}"
    if isinstance(exc, AOError):
        return "failed", str(exc)
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "cancelled", "the run was cancelled"
    from pydantic_ai.exceptions import UsageLimitExceeded  # a model failed: the stack is loaded

    from agent_orchestrator.agents.resilience import describe_failure

    if isinstance(exc, UsageLimitExceeded):
        return "failed", f"budget exceeded: {exc}"
    return "failed", f"a model call failed: {describe_failure(exc)}"


@dataclass(frozen=True)
class Adoption:
    """A run the durable engine created: its id, and the journal its steps are recorded with."""

    run_id: str
    journal: Callable[[RunContext], StepJournal]
    stopping: Callable[[], str | None]  # why the executor running it is stopping (None while it is not)


_ADOPTION: ContextVar[Adoption | None] = ContextVar("ao_adopted_run", default=None)
_CANCELLATIONS: list[type[BaseException]] = []


@contextmanager
def adopted(
    run_id: str, run_journal: Callable[[RunContext], StepJournal], stopping: Callable[[], str | None]
) -> Generator[None]:
    """The next `record_run` in this block takes up `run_id` (already created) and records its steps."""
    token = _ADOPTION.set(Adoption(run_id, run_journal, stopping))
    try:
        yield
    finally:
        _ADOPTION.reset(token)


def register_cancellation(kind: type[BaseException]) -> None:
    """An engine's own "this run was cancelled" exception: such runs end `cancelled`, not `failed`."""
    if kind not in _CANCELLATIONS:
        _CANCELLATIONS.append(kind)


def _begin(runtime: Runtime, workflow: str, inputs: Mapping[str, Any]) -> tuple[str, Adoption | None]:
    """The run's id: the adopted one (started now, by this process), else a new `running` run."""
    adoption = _ADOPTION.get()
    if adoption is None:
        return runtime.runs.create(workflow, inputs), None
    _ADOPTION.set(None)  # a workflow this one runs (an interview) is its own run
    runtime.runs.start(adoption.run_id)
    return adoption.run_id, adoption


async def record_run(
    runtime: Runtime,
    workflow: str,
    inputs: Mapping[str, Any],
    body: Callable[[RunContext], Awaitable[T]],
    *,
    expected_nodes: int,
    progress: ProgressCallback | None = None,
    summarize: Callable[[T], Mapping[str, Any]] = lambda result: {},
    outcome: Callable[[T], tuple[RunStatus, str]] = lambda result: ("succeeded", ""),
    timeout_s: float | None = None,
) -> T:
    """Run `body` as a recorded run; the run is finished (succeeded or not) before this returns or raises.

    `timeout_s` is the run's own deadline (its calls stop at it); default AO_RUN_TIMEOUT.
    """
    run_id, adoption = _begin(runtime, workflow, inputs)
    context = RunContext(runtime, run_id, workflow, expected_nodes, progress, durable=adoption is not None)
    context.stopping = None if adoption is None else adoption.stopping
    if timeout_s is not None:
        context.deadline = time.monotonic() + timeout_s
    steps = nullcontext() if adoption is None else journal(adoption.journal(context))
    with _open(context), steps:
        try:
            result = await body(context)
        except BaseException as exc:
            context.flush_progress()  # where it got to, before it is finished
            status, reason = _status_of(exc, context.stopping)
            kept: dict[str, Any] = {"warnings": context.warnings}
            if isinstance(exc, Exception):  # the cause in one line and a rejected output's errors, for `get_run`
                try:
                    failure = step_failure(exc, runtime.redact, context.failed_node)
                    reason, kept["failure"] = with_rejected_output(reason, failure), failure.model_dump()
                except Exception:  # describing the failure must never keep the run from being finished
                    logger.exception("could not describe the failure of run %s", run_id)
            runtime.runs.finish(run_id, status, reason, kept, context.usage.as_dict())
            if isinstance(exc, AOError | anyio.get_cancelled_exc_class()) or not isinstance(exc, Exception):
                raise  # cancellation, KeyboardInterrupt and SystemExit go on as they are
            raise WorkflowFailed(run_id, reason) from exc
        context.flush_progress()  # where it got to, before it is finished
        status, reason = outcome(result)
        runtime.runs.finish(
            run_id, status, reason, {**summarize(result), "warnings": context.warnings}, context.usage.as_dict()
        )
    return result


class WorkflowFailed(AOError):
    """A workflow ended without a result; the run record keeps what finished before."""

    def __init__(self, run_id: str, reason: str) -> None:
        super().__init__(f"run {run_id} failed: {reason} (the partial record: `get_run {run_id}`)")
        self.run_id = run_id

"""Running a workflow as a record: a run id, timed nodes, progress, usage, artifacts, an outcome.

Every workflow body runs inside `record_run`; whatever happens (success, invalid model output,
an exhausted budget, a dead endpoint, cancellation) the run ends with a clear status and reason,
and the nodes that finished stay recorded. A graph node records itself with
`async with run.recorded(self):`, under its class name.

A process that is being stopped (SIGTERM, see `agent_orchestrator.cli.signals`) says so with
`note_stop`: its runs then end `interrupted` with that reason rather than `cancelled`. Runs still
open when the process gives up waiting are finished by `finish_open_runs` before it exits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
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
from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.calls import period_start
from agent_orchestrator.store.runs import ArtifactRef
from agent_orchestrator.workflows.failures import step_failure, with_rejected_output

if TYPE_CHECKING:  # the graph library loads with the workflows, not with the CLI's signal handling
    from pydantic_graph import BaseNode

T = TypeVar("T")
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
    failed_node: str | None = None  # the last node that failed (a run's failure names its step)

    def __post_init__(self) -> None:
        settings = self.runtime.settings
        self.deadline = time.monotonic() + settings.ao_run_timeout
        self.budget = run_budget(self.runtime, self.usage)

    def record_call(self, call: CallRecord) -> None:
        """One model call of this run: into its usage and the call ledger (`ao usage`), as it ends."""
        self.usage.record_call(call)
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
        )

    def recorded(self, node: BaseNode[Any, Any, Any]) -> AbstractAsyncContextManager[None]:
        """Record a graph node under its graph id (its class name), so a rename cannot leave a stale name."""
        return self.node(node.get_node_id())

    @asynccontextmanager
    async def node(self, name: str) -> AsyncGenerator[None]:
        """Time one node, record it, and report progress when it starts and ends.

        Its duration also goes into `timings` (summed over repeats), the one clock results read.
        """
        started = time.time()
        begun = time.perf_counter()
        await self._report(f"{name}: started")
        status, detail = "succeeded", ""
        try:
            yield
        except BaseException as exc:
            stopped = isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class())
            status, detail = _status_of(exc) if stopped else ("failed", f"{type(exc).__name__}: {exc}")
            self.failed_node = name if status == "failed" else self.failed_node
            raise
        finally:
            duration = int((time.perf_counter() - begun) * 1000)
            self.timings[name] = self.timings.get(name, 0) + duration
            self.runtime.runs.add_node(self.run_id, name, started, duration, status, detail)
            self.done_nodes += 1
            if status == "succeeded":
                await self._report(f"{name}: done in {duration} ms")

    def artifact(self, name: str, content: str, media_type: str = "text/plain") -> ArtifactRef:
        return self.runtime.runs.add_artifact(self.run_id, name, content, media_type)

    def warn(self, message: str) -> None:
        self.warnings.append(self.runtime.redact(message))

    async def _report(self, message: str) -> None:
        if self.progress is not None:
            total = max(self.expected_nodes, self.done_nodes + 1)
            with anyio.CancelScope(shield=True):
                await self.progress(self.done_nodes, total, message)


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


def _status_of(exc: BaseException) -> tuple[RunStatus, str]:
    stopping = _PROCESS.stop_reason
    if stopping is not None and isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class()):
        return "interrupted", stopping
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted (KeyboardInterrupt)"
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
    run_id = runtime.runs.create(workflow, inputs)
    context = RunContext(runtime, run_id, workflow, expected_nodes, progress)
    if timeout_s is not None:
        context.deadline = time.monotonic() + timeout_s
    with _open(context):
        try:
            result = await body(context)
        except BaseException as exc:
            status, reason = _status_of(exc)
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

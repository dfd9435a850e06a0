"""Recorded steps: the seam through which a durable run records each model call and side effect.

A workflow marks the work that must not be repeated after a crash (a model call, a patch written,
a command run) with `recorded_step(name, fn)`. With no journal installed (the inline path: tests,
`ao` commands run in the foreground) that is just `await fn()`. A durable run installs a
`StepJournal` (`agent_orchestrator.durable`, on DBOS) for its workflow body: the first execution
records each step's value, and a run resumed after a crash or a cancel gets the recorded values
back instead of running the steps again.

A step's value must be data (pydantic models, str, numbers, lists, dicts, tuples of those), because
it is stored. Steps inside a step run inline, as part of the outer one. Whatever a step reports
to its run while it runs (model calls, warnings: `StepEffects`) is recorded with its value, so a
replayed step reports the same to the resumed run.

Parallel branches draw their step ids up front, in a fixed order (`reserve_step`), because steps
started from concurrent tasks would otherwise be numbered by timing, and a replay would mismatch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from agent_orchestrator.domain.calls import CallRecord

T = TypeVar("T")
StepBody = Callable[[], Awaitable[Any]]


@dataclass
class StepEffects:
    """What a step reported to its run while it ran: replayed into the run when the step is."""

    calls: list[CallRecord] = field(default_factory=list[CallRecord])
    warnings: list[str] = field(default_factory=list[str])


class StepSlot(Protocol):
    """A step id drawn in advance (`StepJournal.reserve`); run once, later, from any task of the run."""

    async def run(self, fn: StepBody) -> Any: ...


class StepJournal(Protocol):
    """Records step values for one run (the durable engine's side)."""

    async def step(self, name: str, fn: StepBody) -> Any: ...

    def reserve(self, name: str) -> StepSlot: ...


_JOURNAL: ContextVar[StepJournal | None] = ContextVar("ao_step_journal", default=None)
_EFFECTS: ContextVar[StepEffects | None] = ContextVar("ao_step_effects", default=None)


@contextmanager
def journal(recorder: StepJournal) -> Generator[None]:
    """Record the steps of the code run inside this block (a durable run's workflow body)."""
    token = _JOURNAL.set(recorder)
    try:
        yield
    finally:
        _JOURNAL.reset(token)


@contextmanager
def capturing(effects: StepEffects) -> Generator[None]:
    """Collect what the code in this block reports (the journal wraps each step's first execution in it)."""
    token = _EFFECTS.set(effects)
    try:
        yield
    finally:
        _EFFECTS.reset(token)


def _active() -> StepJournal | None:
    """The journal to record with; None outside a durable run and inside a step (nested steps run inline)."""
    return None if _EFFECTS.get() is not None else _JOURNAL.get()


async def recorded_step(name: str, fn: Callable[[], Awaitable[T]]) -> T:
    """`await fn()`, recorded as the step `name` in a durable run (its recorded value on a replay)."""
    recorder = _active()
    if recorder is None:
        return await fn()
    value: T = await recorder.step(name, fn)
    return value


class _Inline:
    async def run(self, fn: StepBody) -> Any:
        return await fn()


def reserve_step(name: str) -> StepSlot:
    """A step id drawn now, run later (`await slot.run(fn)`): parallel branches stay in a fixed order."""
    recorder = _active()
    return _Inline() if recorder is None else recorder.reserve(name)


def report_call(call: CallRecord) -> None:
    """A model call reported to its run: kept with the step running it, if any."""
    effects = _EFFECTS.get()
    if effects is not None:
        effects.calls.append(call)


def report_warning(warning: str) -> None:
    """A warning reported to its run: kept with the step running it, if any."""
    effects = _EFFECTS.get()
    if effects is not None:
        effects.warnings.append(warning)


@contextmanager
def unrecorded() -> Generator[None]:
    """Run the block without recording its steps (work whose calls race, such as the interview's cases,
    cannot be replayed in order: a resumed run does it again)."""
    token = _JOURNAL.set(None)
    try:
        yield
    finally:
        _JOURNAL.reset(token)

"""A second opinion: a second model asked what the leader is asked, its answer compared with the leader's.

`review` and `plan` take `second_opinion` ("provider:model"). It is resolved as a leader fallback is
(`second_opinion_spec`): the leader's own provider goes to the leader's endpoint, any other provider to
its own (LITELLM_BASE_URL, OLLAMA_BASE_URL, the vendor's API), and only a key configured for that very
endpoint is sent. A spec cannot name a base URL, so a caller cannot send the repository's content to an
endpoint of its choosing. A malformed spec, an unknown provider, a missing key or base URL, or the
leader's own model is a `UsageError` before anything runs or is queued.

The second model acts as a leader: it is vetted like one (`leader_vetting.vet_leader`, a warning without a fresh
leader profile, refused when its interview blocked the role unless AO_ALLOW_BLOCKED_LEADER), its calls go
through `call_agent` with the run's bounds, usage and budget (role `second-opinion`, no fallback chain:
another model answering would not be the opinion asked for), and its output passes the same checks as
the leader's. It runs concurrently with the leader (`alongside`); when it fails (endpoint down, a
deadline, the budget, output that never validates) the run keeps the leader's result, says so in a
warning and in `second_opinion.failure`, and marks nothing: no comparison was made.

Agreement is decided deterministically, never by a model: a review finding is `confirmed` when both
models cite its file and line; a plan risk when both drafts name it (`same_risk`). Everything else
either model said is kept, `single-source`, with the model that said it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, TypeVar

import anyio
from pydantic import BaseModel, Field

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import ProviderError, UsageError
from agent_orchestrator.providers import (
    ModelSpec,
    api_key_for,
    canonical_provider,
    parse_model_id,
    resolve_spec,
    role_spec,
)
from agent_orchestrator.workflows.failures import StepFailure, model_failed, step_failure

if TYPE_CHECKING:
    from pydantic_ai import Agent

    from agent_orchestrator.runtime import Runtime

T = TypeVar("T")
U = TypeVar("U")
OutputT = TypeVar("OutputT")
Marked = TypeVar("Marked", bound=BaseModel)  # a review finding or a plan risk, with `agreement` and `sources`
Agreement = Literal["confirmed", "single-source"]
SecondOpinionOutcome = Literal["compared", "unavailable", "rejected"]
ROLE = "second-opinion"  # the role its calls are recorded under (`ao usage --by role`)
MAX_SPEC_CHARS = 200
_SPEC_EXAMPLE = "'provider:model', e.g. 'anthropic:claude-sonnet-4-5'"


class SecondOpinionSummary(BaseModel):
    """What the second model added: whether it was compared, and how many entries each side stands behind."""

    model: str = Field(description="the second model, provider:model")
    outcome: SecondOpinionOutcome = Field(
        description="compared; unavailable (its calls failed: nothing marked); rejected (its output failed checks)"
    )
    confirmed: int = Field(default=0, description="entries both models name")
    single_source: int = Field(default=0, description="entries only one model names (kept, marked with it)")
    dropped: int = Field(default=0, description="its findings dropped: they cite no line of the diff")
    failure: StepFailure | None = Field(default=None, description="why it was unavailable or rejected")
    attention: list[str] = Field(default=[], description="its text that failed the leader checks (not used)")


def second_opinion_spec(settings: Settings, text: str) -> ModelSpec:
    """The model `text` names, resolved as a leader fallback is; a `UsageError` saying what is wrong."""
    shown = text.strip()
    if not shown or len(shown) > MAX_SPEC_CHARS or any(char.isspace() or not char.isprintable() for char in shown):
        raise UsageError(f"`second_opinion` must look like {_SPEC_EXAMPLE}")
    if "://" in shown:
        raise UsageError(
            "`second_opinion` takes provider:model only; its endpoint comes from the configuration "
            "(LEADER_MODEL_BASE_URL for the leader's provider, else LITELLM_BASE_URL, OLLAMA_BASE_URL or the "
            "vendor's API)"
        )
    leader = role_spec(settings, "leader")
    try:
        provider, model = parse_model_id(shown)
        same_provider = provider == _leader_provider(settings)
        spec = resolve_spec(provider, model, settings, "leader", role_base_url=same_provider)
        api_key_for(spec, settings, "leader")
    except ProviderError as exc:
        raise UsageError(f"`second_opinion`: {exc}") from None
    if spec.model_id == leader.model_id:
        raise UsageError(f"`second_opinion` {spec.model_id!r} is the leader itself: name another model")
    return spec


def _leader_provider(settings: Settings) -> str | None:
    if not settings.leader_model_provider:
        return None
    try:
        return canonical_provider(settings.leader_model_provider)
    except ProviderError:
        return None


def second_agent(
    runtime: Runtime, spec: ModelSpec, output_type: type[OutputT], instructions: str
) -> Agent[None, OutputT]:
    """The second model's agent: the leader's instructions and output type, its calls recorded as
    `second-opinion`."""
    # Imported here: the result models import this module when the server starts, pydantic-ai need not load.
    from agent_orchestrator.agents.build import agent_for

    model = runtime.model_factory(spec, runtime.settings, "leader")
    return agent_for(model, output_type, instructions, name=f"{ROLE}:{spec.model_id}")


async def alongside(
    primary: Callable[[], Awaitable[T]], second: Callable[[], Awaitable[U]], redact: Callable[[str], str]
) -> tuple[T, U | StepFailure]:
    """Run `primary` and `second` concurrently: the primary's failure cancels the second and is raised; the
    second's model failure becomes a `StepFailure` and leaves the primary alone (any other error is raised).

    In a durable run the callers draw their steps' slots before calling, primary first, so a replay matches.
    """
    values: list[T] = []
    seconds: list[U | StepFailure] = []
    errors: list[Exception] = []
    async with anyio.create_task_group() as group:

        async def run_second() -> None:
            try:
                seconds.append(await second())
            except Exception as exc:
                if not model_failed(exc):
                    errors.append(exc)  # a refusal or a bug of ours is not the second model's failure
                    group.cancel_scope.cancel()
                    return
                seconds.append(step_failure(exc, redact, "second opinion"))

        group.start_soon(run_second)
        try:
            values.append(await primary())
        except Exception as exc:
            errors.insert(0, exc)
            group.cancel_scope.cancel()
    if errors:
        raise errors[0]
    return values[0], seconds[0]


def confirmed(entry: Marked, severity: str, other_severity: str, models: list[str]) -> Marked:
    """`entry` (a finding or a risk) as both models named it: `other_severity` kept when it differs."""
    differs = other_severity if other_severity != severity else None
    return entry.model_copy(update={"agreement": "confirmed", "sources": models, "other_severity": differs})


def single_source(entry: Marked, model: str) -> Marked:
    """`entry` (a finding or a risk) as only `model` named it."""
    return entry.model_copy(update={"agreement": "single-source", "sources": [model]})


def unavailable_warning(model: str, failure: StepFailure, what: str) -> str:
    return f"the second opinion {model!r} was unavailable ({failure.cause}); {what}"


# --- comparing text: how a plan risk is "the same" in both drafts ------------------------------------

_CITATION = re.compile(r"([A-Za-z0-9_./-]+\.[A-Za-z0-9]+):(\d+)")
_WORD = re.compile(r"[a-z0-9]+")
# Words too common to show that two risk descriptions are about the same thing.
_COMMON = """
    the and for with that this from into onto over under then than when what which while where who how why
    are was were been being has have had does did not but all any some each other also only more less very
    can could should would will may might must its our your their there such risk risks
"""
COMMON_WORDS = frozenset(_COMMON.split())
MIN_SHARED_WORDS = 2


def citations(text: str) -> frozenset[tuple[str, int]]:
    """The `path:line` citations in `text` (a path with a suffix, e.g. `src/app.py:12`)."""
    return frozenset((path.removeprefix("./"), int(line)) for path, line in _CITATION.findall(text))


def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of three characters or more, without common function words."""
    return frozenset(word for word in _WORD.findall(text.lower()) if len(word) >= 3 and word not in COMMON_WORDS)


def same_risk(first: str, second: str) -> bool:
    """Whether two risk descriptions name the same risk, by a rule anyone can re-check.

    Both cite `path:line`: the same when they share a citation. Otherwise by their content words
    (`content_words`): the same when they share at least two, and at least half of the shorter one's.
    Lexical, not semantic: two wordings of one risk with no words in common count as two risks.
    """
    cited_first, cited_second = citations(first), citations(second)
    if cited_first and cited_second:
        return bool(cited_first & cited_second)
    words_first, words_second = content_words(first), content_words(second)
    shared = len(words_first & words_second)
    return shared >= MIN_SHARED_WORDS and 2 * shared >= min(len(words_first), len(words_second))

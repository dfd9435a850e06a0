"""A review with a second opinion: the second model reviews the same parts, its findings are compared.

The second model gets the leader's parts, prompts and output type, concurrently with the leader, each
part a recorded step drawn after the leader's (`review_alongside`). Its findings go through the same
citation and leader checks. Then `mark_agreement`: a finding whose file and line both models cite is
`confirmed` (the leader's wording kept, the second's severity noted when it differs); every other
finding, from either model, is kept `single-source` with the model that said it. A second model that
failed leaves the leader's findings unmarked (nothing was compared) and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic_ai import Agent

from agent_orchestrator.agents.models import ReviewDraft
from agent_orchestrator.agents.prompts.instructions import CODE_REVIEWER
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.errors import AOError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.providers import ModelSpec
from agent_orchestrator.repo.diff import ParsedDiff
from agent_orchestrator.workflows.failures import StepFailure
from agent_orchestrator.workflows.recorder import RunContext
from agent_orchestrator.workflows.review.attention import check_review
from agent_orchestrator.workflows.review.parts import ReviewPart, reserve_parts, review_in_parallel
from agent_orchestrator.workflows.review.result import ReviewFinding
from agent_orchestrator.workflows.second_opinion import (
    SecondOpinionSummary,
    alongside,
    confirmed,
    second_agent,
    single_source,
    unavailable_warning,
)

Line = tuple[str, int]


@dataclass
class SecondReview:
    """The second model's review as far as it got: its drafts and their checked findings, or its failure."""

    model: str
    drafts: list[ReviewDraft] | None = None
    failure: StepFailure | None = None
    kept: list[ReviewFinding] = field(default_factory=list[ReviewFinding])
    dropped: int = 0


async def review_alongside(
    spec: ModelSpec,
    agent: Agent[None, ReviewDraft],
    fallbacks: Sequence[Agent[None, ReviewDraft]],
    parts: list[ReviewPart],
    prompt_of: Callable[[ReviewPart], Prompt],
    run: RunContext,
    concurrency: int,
) -> tuple[list[ReviewDraft], SecondReview]:
    """The leader's drafts (its failure raised, as without a second opinion) and the second model's review.

    Each model has its own concurrency cap (they are different endpoints); the second has no fallbacks:
    another model answering would not be the opinion asked for.
    """
    try:
        second = second_agent(run.runtime, spec, ReviewDraft, CODE_REVIEWER)
    except AOError as exc:  # e.g. the `local` extra is missing: the leader's review goes on alone
        failure = StepFailure(step="second opinion", cause=run.runtime.redact(str(exc)))
        drafts = await review_in_parallel(agent, parts, prompt_of, run, concurrency, fallbacks)
        return drafts, SecondReview(spec.model_id, failure=failure)
    slots = reserve_parts(parts)
    second_slots = reserve_parts(parts, "second opinion part")
    drafts, outcome = await alongside(
        lambda: review_in_parallel(agent, parts, prompt_of, run, concurrency, fallbacks, slots=slots),
        lambda: review_in_parallel(second, parts, prompt_of, run, concurrency, slots=second_slots, who=None),
        run.runtime.redact,
    )
    if isinstance(outcome, StepFailure):
        return drafts, SecondReview(spec.model_id, failure=outcome)
    return drafts, SecondReview(spec.model_id, drafts=outcome)


def compare_reviews(
    diff: ParsedDiff,
    primary: list[ReviewFinding],
    second: SecondReview,
    leader_model: str,
    redact: Redactor,
    run: RunContext,
) -> tuple[list[ReviewFinding], SecondOpinionSummary]:
    """The leader's checked findings marked against the second's checked findings, and the second opinion's
    summary (its counts filled in by the caller, over the merged risks)."""
    if second.drafts is None:
        failure = second.failure or StepFailure(step="second opinion", cause="no answer")
        run.warn(unavailable_warning(second.model, failure, "the findings are the leader's alone, unmarked"))
        return primary, SecondOpinionSummary(model=second.model, outcome="unavailable", failure=failure)
    checked = check_review(diff, second.drafts, second.kept, redact)
    attention = [f"second opinion {reason}" for reason in checked.attention]
    if attention:
        run.warn(f"{len(attention)} part(s) of the second opinion's text failed the checks and were not used")
    marked = mark_agreement(primary, checked.findings, leader_model, second.model)
    summary = SecondOpinionSummary(
        model=second.model, outcome="compared", dropped=second.dropped, attention=attention
    )
    return marked, summary


def mark_agreement(
    primary: list[ReviewFinding], second: list[ReviewFinding], primary_model: str, second_model: str
) -> list[ReviewFinding]:
    """The leader's findings marked against the second's, then the second's findings on lines the leader
    did not cite (single-source, from the second)."""
    second_at: dict[Line, ReviewFinding] = {}
    for finding in second:
        second_at.setdefault((finding.file, finding.line), finding)
    marked: list[ReviewFinding] = []
    for finding in primary:
        other = second_at.get((finding.file, finding.line))
        if other is None:
            marked.append(single_source(finding, primary_model))
        else:
            marked.append(confirmed(finding, finding.severity, other.severity, [primary_model, second_model]))
    cited = {(finding.file, finding.line) for finding in primary}
    marked += [
        single_source(finding, second_model) for finding in second if (finding.file, finding.line) not in cited
    ]
    return marked


def counted(summary: SecondOpinionSummary, risks: list[ReviewFinding]) -> SecondOpinionSummary:
    """The summary with its confirmed and single-source counts over the review's final risks."""
    confirmed = sum(1 for finding in risks if finding.agreement == "confirmed")
    single = sum(1 for finding in risks if finding.agreement == "single-source")
    return summary.model_copy(update={"confirmed": confirmed, "single_source": single})

"""The review workflow: a diff (git range, diff file or whole files) analysed, then reviewed by the leader.

Deterministic analysis runs first and its facts stand on their own; the reviewer adds an impact
summary, risks, missing tests and follow-ups. A large diff is split and its parts reviewed in
parallel. A reviewer finding that does not cite a file and line of the diff is dropped and
counted, never shown. A reviewer that fails (its endpoint still failing after the retries, a
deadline, the run's budget, output that never validates) does not discard the analysis: the
review ends `partial`, with the analysis, its own findings (secrets, withheld files) and the cause.
The reviewer's text is checked, not believed (`review.attention`): a summary that is a placeholder,
names nothing in the diff or echoes instructions found in it is withheld, and the review ends
`needs_attention` with the reasons (its run record `partial`), the analysis kept.

Sensitive files in the change (`.env*`, private keys, credentials files, git internals, by the
path policy's names, old or new) are withheld: their hunks reach no model, no artifact and no
result; the analysis and the result name them and say why, and each is a high-severity risk.

With a second opinion (`second_opinion`, another model) the second model reviews the same parts
concurrently, its findings are checked the same way, and each reviewer finding is marked confirmed
(both cite its file and line) or single-source (`review.agreement`); if the second model fails, the
leader's review stands, unmarked, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.build import build_agents_with_fallbacks
from agent_orchestrator.agents.models import ReviewDraft
from agent_orchestrator.agents.prompts.instructions import CODE_REVIEWER
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.prompts.review import part_prompt
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.providers import ModelSpec, role_spec
from agent_orchestrator.repo.diff import ParsedDiff
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.runs import ArtifactRef
from agent_orchestrator.workflows.failures import (
    StepFailure,
    model_failed,
    step_failure,
    summarise,
    with_rejected_output,
)
from agent_orchestrator.workflows.graphs import build_graph, node_names
from agent_orchestrator.workflows.leader_vetting import vet_leader
from agent_orchestrator.workflows.recorder import RunContext, record_run
from agent_orchestrator.workflows.review.agreement import SecondReview, compare_reviews, counted, review_alongside
from agent_orchestrator.workflows.review.analysis import (
    analyse_diff,
    check_citations,
    drop_reasons,
    secret_findings,
    withheld_findings,
    withhold_sensitive,
)
from agent_orchestrator.workflows.review.attention import check_review
from agent_orchestrator.workflows.review.parts import (
    ReviewLimits,
    ReviewPart,
    ReviewRequest,
    files_label,
    load_diff,
    render_file,
    review_in_parallel,
    review_request,
    split_diff,
)
from agent_orchestrator.workflows.review.result import (
    DiffAnalysis,
    DroppedFinding,
    ReviewFinding,
    ReviewResult,
    WithheldFile,
)
from agent_orchestrator.workflows.second_opinion import second_opinion_spec

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class ReviewDeps:
    """What every node works with: the services, the run being recorded, the size limits, the second model."""

    runtime: Runtime
    run: RunContext
    limits: ReviewLimits
    second: ModelSpec | None = None


@dataclass
class ReviewState:
    """What later nodes need from earlier ones: the diff, its analysis and where it came from."""

    source: str = ""
    diff: ParsedDiff = field(default_factory=lambda: ParsedDiff(files=[], added_count=0, removed_count=0))
    analysis: DiffAnalysis | None = None
    diff_artifact: ArtifactRef | None = None


Ctx = GraphRunContext[ReviewState, ReviewDeps]


@dataclass
class LoadDiff(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Get the diff text from git, a diff file or whole files, and parse it."""

    request: ReviewRequest

    async def run(self, ctx: Ctx) -> AnalyseDiff:
        deps = ctx.deps
        async with deps.run.recorded(self):
            loaded = await load_diff(deps.runtime.safety, deps.run, deps.limits, self.request)
            sensitive = deps.runtime.safety.paths.sensitive_reason
            visible, withheld = withhold_sensitive(loaded.diff, sensitive, loaded.withheld)
            text = loaded.text
            if withheld:
                # The stored diff is what a model may see, rendered: nothing of a withheld file, not even its note.
                text = "\n".join(render_file(change) for change in visible.files)
                names = files_label(tuple(item.path for item in withheld))
                deps.run.warn(
                    f"{len(withheld)} sensitive file(s) withheld from the reviewer (never shown): {names}"
                )
        # The command runner redacts git's output, so secrets there are found by their placeholders.
        redacted = self.request.diff_range is not None
        return AnalyseDiff(loaded.source, text, visible, withheld, redacted_on_read=redacted)


@dataclass
class AnalyseDiff(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Deterministic analysis; a diff with no lines to read ends here, without a model call."""

    source: str
    text: str
    diff: ParsedDiff
    withheld: list[WithheldFile]
    redacted_on_read: bool = False

    async def run(self, ctx: Ctx) -> SplitDiff | End[ReviewResult]:
        deps, state = ctx.deps, ctx.state
        async with deps.run.recorded(self):
            state.source, state.diff = self.source, self.diff
            analysis = state.analysis = analyse_diff(
                self.diff,
                deps.runtime.redact,
                deps.limits,
                redacted_on_read=self.redacted_on_read,
                withheld=self.withheld,
            )
            if analysis.is_large:
                # The diff itself stays out of the result: hosts cap tool results, artifacts are fetched by id.
                media_type = "text/plain" if self.withheld else "text/x-diff"
                state.diff_artifact = deps.run.artifact("diff", self.text, media_type)
        if not any(change.hunks for change in self.diff.files):
            return End(_nothing_to_review(state, deps.run, analysis))
        return SplitDiff()


@dataclass
class SplitDiff(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Split the rendered diff by file (large files by hunk) into parts under the size budget."""

    async def run(self, ctx: Ctx) -> ReviewParts:
        async with ctx.deps.run.recorded(self):
            parts, warnings = split_diff(ctx.state.diff, ctx.deps.limits)
            for warning in warnings:
                ctx.deps.run.warn(warning)
        return ReviewParts(parts)


@dataclass
class ReviewParts(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Have the leader review every part, in parallel under the concurrency cap; a reviewer that fails
    ends the review `partial`, the analysis kept."""

    parts: list[ReviewPart]

    async def run(self, ctx: Ctx) -> CheckCitations | End[ReviewResult]:
        deps = ctx.deps
        second: SecondReview | None = None
        try:
            async with deps.run.recorded(self):
                agent, fallbacks = build_agents_with_fallbacks(deps.runtime, "leader", ReviewDraft, CODE_REVIEWER)
                prompt_of = partial(_prompt, ctx.state, len(self.parts))
                concurrency = deps.limits.concurrency
                if deps.second is None:
                    drafts = await review_in_parallel(
                        agent, self.parts, prompt_of, deps.run, concurrency, fallbacks
                    )
                else:
                    drafts, second = await review_alongside(
                        deps.second, agent, fallbacks, self.parts, prompt_of, deps.run, concurrency
                    )
        except Exception as exc:
            if not model_failed(exc):
                raise  # a missing leader, a refusal or a bug of ours is not the reviewer's failure
            failure = step_failure(exc, deps.runtime.redact, self.get_node_id())
            return End(_reviewer_failed(ctx.state, deps.run, _analysis(ctx.state), failure))
        return CheckCitations(drafts, second)


@dataclass
class CheckCitations(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Keep findings that cite a file and line of the diff; drop and count the rest (the second opinion's too)."""

    drafts: list[ReviewDraft]
    second: SecondReview | None = None

    async def run(self, ctx: Ctx) -> MergeReviews:
        redact = ctx.deps.runtime.redact
        async with ctx.deps.run.recorded(self):
            findings = [finding for draft in self.drafts for finding in draft.risks]
            kept, dropped = check_citations(ctx.state.diff, findings, redact)
            if dropped:
                ctx.deps.run.warn(
                    f"{len(dropped)} reviewer finding(s) dropped: they cite no file and line of the diff"
                )
            if self.second is not None and self.second.drafts is not None:
                theirs = [finding for draft in self.second.drafts for finding in draft.risks]
                self.second.kept, second_dropped = check_citations(ctx.state.diff, theirs, redact)
                self.second.dropped = len(second_dropped)
                if second_dropped:
                    ctx.deps.run.warn(
                        f"{len(second_dropped)} second-opinion finding(s) dropped: they cite no file and line "
                        "of the diff"
                    )
        return MergeReviews(self.drafts, kept, dropped, self.second)


@dataclass
class MergeReviews(BaseNode[ReviewState, ReviewDeps, ReviewResult]):
    """Merge the parts' reviews with the analysis's own findings into one result (marked against the
    second opinion's, when there is one)."""

    drafts: list[ReviewDraft]
    kept: list[ReviewFinding]
    dropped: list[DroppedFinding]
    second: SecondReview | None = None

    async def run(self, ctx: Ctx) -> End[ReviewResult]:
        async with ctx.deps.run.recorded(self):
            result = _merge(ctx.state, ctx.deps, self.drafts, self.kept, self.dropped, self.second)
        return End(result)


GRAPH = build_graph(
    "review",
    state_type=ReviewState,
    deps_type=ReviewDeps,
    output_type=ReviewResult,
    start=LoadDiff,
    nodes=[AnalyseDiff, SplitDiff, ReviewParts, CheckCitations, MergeReviews],
)
REVIEW_NODES = node_names(GRAPH)


async def review(
    runtime: Runtime,
    *,
    diff_range: str | None = None,
    diff_file: str | None = None,
    files: list[str] | None = None,
    progress: ProgressCallback | None = None,
    limits: ReviewLimits | None = None,
    second_opinion: str | None = None,
) -> ReviewResult:
    """Review a git range, a diff file or whole files (exactly one) as a recorded run; `second_opinion`
    ("provider:model") has a second model review it too, its findings compared with the leader's."""
    request = review_request(diff_range, diff_file, files)
    second = None if second_opinion is None else second_opinion_spec(runtime.settings, second_opinion)
    deps_limits = limits or ReviewLimits()

    async def body(run: RunContext) -> ReviewResult:
        vet_leader(run, ("review",))
        if second is not None:
            vet_leader(run, ("review",), second)
        deps = ReviewDeps(runtime, run, deps_limits, second)
        result: ReviewResult = await GRAPH.run(state=ReviewState(), deps=deps, inputs=LoadDiff(request))
        return result

    inputs = request.as_inputs() | ({} if second is None else {"second_opinion": second.model_id})
    return await record_run(
        runtime,
        "review",
        inputs,
        body,
        expected_nodes=len(REVIEW_NODES),
        progress=progress,
        summarize=_summarize,
        outcome=_outcome,
    )


def _prompt(state: ReviewState, total: int, part: ReviewPart) -> Prompt:
    return part_prompt(part, total, _analysis(state).prompt_facts(), state.source)


def _merge(
    state: ReviewState,
    deps: ReviewDeps,
    drafts: list[ReviewDraft],
    kept: list[ReviewFinding],
    dropped: list[DroppedFinding],
    second: SecondReview | None = None,
) -> ReviewResult:
    analysis = _analysis(state)
    redact = deps.runtime.redact
    checked = check_review(state.diff, drafts, kept, redact)
    reviewed, opinion = checked.findings, None
    if second is not None:
        leader = role_spec(deps.runtime.settings, "leader").model_id
        reviewed, opinion = compare_reviews(state.diff, reviewed, second, leader, redact, deps.run)
    found = (*secret_findings(analysis), *withheld_findings(analysis), *reviewed)
    risks = {(f.file, f.line, f.message): f for f in found}
    ordered = sorted(risks.values(), key=lambda f: (_SEVERITY_ORDER[f.severity], f.file, f.line))
    if opinion is not None and opinion.outcome == "compared":
        opinion = counted(opinion, ordered)
    missing = [f"{path}: source changed but no test file changed" for path in analysis.untested_source_files]
    missing += checked.missing_tests
    if checked.attention:
        deps.run.warn(f"the reviewer's output needs attention: {summarise(checked.attention)}")
    return ReviewResult(
        run_id=deps.run.run_id,
        status="needs_attention" if checked.attention else "reviewed",
        source=state.source,
        analysis=analysis,
        impact_summary=checked.impact_summary,
        risks=ordered,
        missing_tests=list(dict.fromkeys(missing)),
        follow_ups=list(dict.fromkeys(checked.follow_ups)),
        dropped_findings=len(dropped),
        drop_reasons=drop_reasons(dropped),
        dropped=dropped,
        parts_reviewed=len(drafts),
        withheld_files=analysis.withheld_files,
        diff_artifact=state.diff_artifact,
        attention=checked.attention,
        second_opinion=opinion,
        warnings=list(deps.run.warnings),
        usage=deps.run.usage.as_dict(),
    )


def _nothing_to_review(state: ReviewState, run: RunContext, analysis: DiffAnalysis) -> ReviewResult:
    withheld = len(analysis.withheld_files)
    if not analysis.file_count:
        summary = "Nothing to review: the diff is empty."
    elif withheld:
        summary = (
            f"Nothing left to review: {withheld} sensitive file(s) withheld from the reviewer; the other "
            f"{analysis.file_count - withheld} changed file(s) have no lines to read."
        )
    else:
        summary = (
            f"Nothing to review: none of the {analysis.file_count} changed file(s) has lines to read "
            "(binary files, renames or mode changes only)."
        )
    return ReviewResult(
        run_id=run.run_id,
        status="nothing_to_review",
        source=state.source,
        analysis=analysis,
        impact_summary=summary,
        risks=[*secret_findings(analysis), *withheld_findings(analysis)],
        withheld_files=analysis.withheld_files,
        diff_artifact=state.diff_artifact,
        warnings=list(run.warnings),
        usage=run.usage.as_dict(),
    )


def _reviewer_failed(
    state: ReviewState, run: RunContext, analysis: DiffAnalysis, failure: StepFailure
) -> ReviewResult:
    """The review without the reviewer: the analysis and its own findings stand, with why the reviewer failed."""
    untested = [f"{path}: source changed but no test file changed" for path in analysis.untested_source_files]
    return ReviewResult(
        run_id=run.run_id,
        status="partial",
        source=state.source,
        analysis=analysis,
        impact_summary=f"Not reviewed by a model ({failure.cause}); the deterministic analysis stands.",
        risks=[*secret_findings(analysis), *withheld_findings(analysis)],
        missing_tests=untested,
        withheld_files=analysis.withheld_files,
        diff_artifact=state.diff_artifact,
        failure=failure,
        warnings=list(run.warnings),
        usage=run.usage.as_dict(),
    )


def _outcome(result: ReviewResult) -> tuple[RunStatus, str]:
    """The run record's status: `partial` (with the cause) when the reviewer failed or its text needs attention."""
    if result.status == "needs_attention":
        return "partial", f"the reviewer's output needs attention: {'; '.join(result.attention)}"
    if result.status != "partial" or result.failure is None:
        return "succeeded", ""
    return "partial", with_rejected_output(f"the reviewer failed: {result.failure.cause}", result.failure)


def _analysis(state: ReviewState) -> DiffAnalysis:
    if state.analysis is None:  # pragma: no cover - AnalyseDiff always runs first
        raise RuntimeError("the diff was not analysed")
    return state.analysis


def _summarize(result: ReviewResult) -> Mapping[str, Any]:
    """The stored run result: the whole review (the run store redacts it)."""
    return result.model_dump(mode="json", exclude={"warnings"})

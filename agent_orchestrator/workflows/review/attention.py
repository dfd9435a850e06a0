"""The leader checks applied to a review: the reviewer's text that fails them is withheld, with the reasons.

A summary that is a placeholder, names nothing in the diff, or echoes instructions from the diff is
replaced by a note; a finding, missing test or follow-up that is a placeholder or an echo is dropped.
The reasons go to the result's `attention` and the review ends `needs_attention`.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_orchestrator.agents.models import ReviewDraft
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.repo.diff import ParsedDiff
from agent_orchestrator.workflows.leader_checks import WITHHELD, LeaderText, reasons, review_attention
from agent_orchestrator.workflows.review.result import ReviewFinding


@dataclass(frozen=True)
class CheckedReview:
    """The reviewer's text that passed the checks, and why the rest did not (empty: all passed)."""

    impact_summary: str
    findings: list[ReviewFinding]
    missing_tests: list[str]
    follow_ups: list[str]
    attention: list[str]


def check_review(
    diff: ParsedDiff, drafts: list[ReviewDraft], findings: list[ReviewFinding], redact: Redactor
) -> CheckedReview:
    """Check every part's summary, the kept reviewer findings, missing tests and follow-ups."""
    many = len(drafts) > 1
    summaries = [
        LeaderText(f"impact_summary (part {i})" if many else "impact_summary", redact(draft.impact_summary))
        for i, draft in enumerate(drafts, start=1)
    ]
    found = [LeaderText(f"risks[{i}] ({f.file}:{f.line}) message", f.message) for i, f in enumerate(findings)]
    missing = _listed("missing_tests", [item for draft in drafts for item in draft.missing_tests], redact)
    follow_ups = _listed("follow_ups", [item for draft in drafts for item in draft.follow_ups], redact)
    flagged = review_attention(summaries, [*found, *missing, *follow_ups], diff)
    shown = [WITHHELD if item.field in flagged else item.text for item in summaries]
    summary = "\n".join(f"Part {i}: {text}" for i, text in enumerate(shown, start=1)) if many else shown[0]
    return CheckedReview(
        impact_summary=summary,
        findings=[f for f, item in zip(findings, found, strict=True) if item.field not in flagged],
        missing_tests=[item.text for item in missing if item.field not in flagged],
        follow_ups=[item.text for item in follow_ups if item.field not in flagged],
        attention=reasons(flagged),
    )


def _listed(name: str, items: list[str], redact: Redactor) -> list[LeaderText]:
    return [LeaderText(f"{name}[{i}]", redact(item)) for i, item in enumerate(items)]

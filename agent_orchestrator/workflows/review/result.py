"""What the review workflow returns: the deterministic analysis and the checked findings.

Pydantic and domain types only, so the server can declare the `review` tool's output schema
without importing the agent stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent_orchestrator.agents.models import Finding
from agent_orchestrator.domain.profile import RiskLevel
from agent_orchestrator.domain.status import ReviewStatus
from agent_orchestrator.repo.diff import FileStatus
from agent_orchestrator.store.runs import ArtifactRef
from agent_orchestrator.workflows.failures import StepFailure
from agent_orchestrator.workflows.second_opinion import Agreement, SecondOpinionSummary

FileKind = Literal["source", "test", "other"]
FindingSource = Literal["analysis", "reviewer"]


class FileSummary(BaseModel):
    """One changed file as the analysis sees it."""

    path: str
    old_path: str | None
    status: FileStatus
    kind: FileKind
    is_binary: bool
    added: int
    removed: int
    hunks: int


class WithheldFile(BaseModel):
    """A sensitive file (by name: `.env*`, private keys, credentials, ...) whose hunks no model sees.

    Named, explained and counted; its content is never shown anywhere (prompts, artifacts, results).
    When the command runner already cut the file's section out of git's output, nothing of it was
    parsed: `status` and the line counts are None.
    """

    path: str
    old_path: str | None = None
    status: FileStatus | None = None
    reason: str
    added: int | None = None
    removed: int | None = None


class RenamedFile(BaseModel):
    """A file moved (and possibly edited); `similarity` is git's percentage."""

    old_path: str
    path: str
    similarity: int | None


class SecretHit(BaseModel):
    """A secret-shaped value in an added line: where and which kind, never the value."""

    file: str
    line: int
    kind: str


class DiffAnalysis(BaseModel):
    """What deterministic checks found in the whole diff, before any model reads it."""

    file_count: int
    added_count: int
    removed_count: int
    hunk_count: int
    files: list[FileSummary]
    files_not_listed: int
    binary_files: list[str]
    renamed_files: list[RenamedFile]
    tests_changed: bool
    untested_source_files: list[str]
    secrets: list[SecretHit]
    withheld_files: list[WithheldFile] = Field(
        default=[], description="sensitive files whose hunks were withheld from the reviewer (names only)"
    )
    size_chars: int
    is_large: bool

    def prompt_facts(self) -> str:
        """The analysis's counts for the reviewer's prompt (numbers only: paths are untrusted data)."""
        tests = "yes" if self.tests_changed else "no"
        withheld = len(self.withheld_files)
        hidden = f"; sensitive files withheld from this review (not shown): {withheld}" if withheld else ""
        return (
            f"The whole change touches {self.file_count} file(s), +{self.added_count} -{self.removed_count} "
            f"lines; test files changed: {tests}; secret-shaped values in added lines (already reported, "
            f"shown redacted): {len(self.secrets)}{hidden}."
        )


class ReviewFinding(Finding):
    """A finding whose citation was checked against the diff; `source` says who raised it.

    With a second opinion, a reviewer finding is `confirmed` when both models cite its file and line (the
    leader's wording kept), else `single-source`; `sources` names the model(s). Without one: None, [].
    """

    source: FindingSource
    agreement: Agreement | None = Field(
        default=None, description="with a second opinion: confirmed (both models cite this line) or single-source"
    )
    sources: list[str] = Field(default=[], description="with a second opinion: the model(s) that raised it")
    other_severity: RiskLevel | None = Field(
        default=None, description="confirmed: the second opinion's severity, when it differs"
    )


class DroppedFinding(BaseModel):
    """A reviewer finding refused because its citation is not in the diff (its message is not kept)."""

    file: str
    line: int
    reason: str


class ReviewResult(BaseModel):
    """A review: the deterministic analysis plus the reviewer's findings that survived citation checks.

    `partial` when the reviewer failed (endpoint, deadline, budget, invalid output): the analysis and
    its findings (secrets, withheld files, untested sources) stand, and `failure` says why.
    `needs_attention` when the reviewer's text failed the leader checks (`leader_checks`): the flagged
    text is withheld, `attention` says which field and why, and the analysis stands.
    `second_opinion` when a second model was asked (and the leader's review got that far): its counts,
    or why it was unavailable (the findings then unmarked).
    """

    run_id: str
    status: ReviewStatus
    source: str
    analysis: DiffAnalysis
    impact_summary: str
    risks: list[ReviewFinding] = Field(default=[], description="findings citing a file and line of the diff")
    missing_tests: list[str] = []
    follow_ups: list[str] = []
    dropped_findings: int = Field(
        default=0, description="reviewer findings dropped: their citation is not in the diff"
    )
    drop_reasons: dict[str, int] = {}
    dropped: list[DroppedFinding] = []
    parts_reviewed: int = 0
    withheld_files: list[WithheldFile] = Field(
        default=[], description="sensitive files (.env, keys, credentials) whose hunks no model was shown"
    )
    diff_artifact: ArtifactRef | None = Field(
        default=None, description="the diff (without withheld files), stored when it is large"
    )
    failure: StepFailure | None = Field(
        default=None, description="why the reviewer failed (status partial); the analysis stands without it"
    )
    attention: list[str] = Field(
        default=[], description="why the reviewer's text was not accepted (status needs_attention)"
    )
    second_opinion: SecondOpinionSummary | None = Field(
        default=None, description="the second model's review: compared (with counts), unavailable or rejected"
    )
    warnings: list[str] = []
    usage: dict[str, int | float | None] = {}

"""The review workflow's deterministic checks: analyse a diff, then hold the reviewer's citations to it.

Everything here is a pure function of the diff (and the redactor), so it is tested without a
model and its verdicts can never be talked out of by one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from agent_orchestrator.agents.models import Finding
from agent_orchestrator.policies.redaction import REDACTED, Redactor
from agent_orchestrator.repo.diff import FileChange, ParsedDiff
from agent_orchestrator.workflows.review.parts import ReviewLimits, render_file
from agent_orchestrator.workflows.review.result import (
    DiffAnalysis,
    DroppedFinding,
    FileKind,
    FileSummary,
    RenamedFile,
    ReviewFinding,
    SecretHit,
    WithheldFile,
)

SOURCE_SUFFIXES = frozenset({".py", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"})
TEST_DIRS = frozenset({"tests", "test", "__tests__"})
_TEST_NAME = re.compile(r"^(?:test_.*\.py|.*_test\.py|conftest\.py|.*\.(?:test|spec)\.[cm]?[jt]sx?)$")
MAX_LISTED_FILES = 300
# Which kind of secret a redacted line held, named without echoing it. Detection itself is the
# redactor's (one set of patterns); these only label what it found.
_SECRET_KINDS = (
    ("private key block", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")),
    ("API key (sk-...)", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_")),
    ("Slack token", re.compile(r"\bxox[abprs]-")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{30,}")),
    ("Groq API key", re.compile(r"\bgsk_[A-Za-z0-9]{20,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ")),
    ("authorization token", re.compile(r"(?i)\b(?:bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{16,}")),
    ("secret-named assignment", re.compile(r"(?i)(?:api[_-]?key|secret|token|passw(?:or)?d|credential)")),
)
_PATTERNS_ONLY = Redactor()


def file_kind(path: str) -> FileKind:
    """Classify a path as test, source (Python, TypeScript, JavaScript) or other, by name alone."""
    pure = PurePosixPath(path)
    if _TEST_NAME.match(pure.name) or TEST_DIRS.intersection(pure.parts[:-1]):
        return "test"
    if pure.suffix in SOURCE_SUFFIXES and not pure.name.endswith(".d.ts"):
        return "source"
    return "other"


def secret_kind(line: str, redact: Redactor, *, redacted_on_read: bool = False) -> str | None:
    """The kind of secret `line` holds (as the redactor judges it), or None.

    Text read through the command runner (git output) arrives redacted already: there the
    redactor's placeholder in an added line is the evidence, and the kind is named from what is left.
    """
    if redact(line) != line:
        if _PATTERNS_ONLY(line) == line:
            return "configured secret value"
        return _kind_hint(line)
    if redacted_on_read and REDACTED in line:
        return f"{_kind_hint(line)} (redacted when read)"
    return None


def _kind_hint(line: str) -> str:
    return next((kind for kind, pattern in _SECRET_KINDS if pattern.search(line)), "secret-shaped value")


def find_secrets(diff: ParsedDiff, redact: Redactor, *, redacted_on_read: bool = False) -> list[SecretHit]:
    """Secret-shaped values in added lines, one hit per line."""
    hits: list[SecretHit] = []
    for change in diff.files:
        for hunk in change.hunks:
            for line in hunk.added:
                kind = secret_kind(line.text, redact, redacted_on_read=redacted_on_read)
                if kind is not None:
                    hits.append(SecretHit(file=change.path, line=line.number, kind=kind))
    return hits


def withhold_sensitive(
    diff: ParsedDiff, sensitive_reason: Callable[[str], str | None], already: Sequence[str] = ()
) -> tuple[ParsedDiff, list[WithheldFile]]:
    """Split a diff into what a model may see and the sensitive files it must not (by either name).

    A file is sensitive when its path or its old path (a rename or copy from `.env` carries `.env`'s
    content) names an environment file, a private key, a credentials file, git internals or the
    state dir (`PathPolicy.sensitive_reason`). `already`: files the command runner withheld from
    the diff text before it was parsed (their sections are not in `diff`).
    """
    shown: list[FileChange] = []
    withheld = [
        WithheldFile(path=path, reason=sensitive_reason(path) or "withheld from git's output as sensitive")
        for path in dict.fromkeys(already)
    ]
    for change in diff.files:
        names = (change.path,) if change.old_path is None else (change.path, change.old_path)
        reason = next((found for name in names if (found := sensitive_reason(name)) is not None), None)
        if reason is None:
            shown.append(change)
            continue
        withheld.append(
            WithheldFile(
                path=change.path,
                old_path=change.old_path,
                status=change.status,
                reason=reason,
                added=change.added_count,
                removed=change.removed_count,
            )
        )
    if len(shown) == len(diff.files):
        return diff, withheld
    visible = ParsedDiff(
        files=shown,
        added_count=sum(change.added_count for change in shown),
        removed_count=sum(change.removed_count for change in shown),
    )
    return visible, withheld


def analyse_diff(
    diff: ParsedDiff,
    redact: Redactor,
    limits: ReviewLimits,
    *,
    redacted_on_read: bool = False,
    withheld: Sequence[WithheldFile] = (),
) -> DiffAnalysis:
    """Files, sizes, binary and renamed files, source changed without tests, secrets, large-diff flag.

    `diff` is what the reviewer may see; `withheld` files (never looked into) count in `file_count`
    and are listed, every other number and check covers `diff`.
    """
    summaries = [_summary(change) for change in diff.files]
    tests_changed = any(summary.kind == "test" for summary in summaries)
    untested = [] if tests_changed else [s.path for s in summaries if _needs_tests(s)]
    size = sum(len(render_file(change)) for change in diff.files)
    return DiffAnalysis(
        file_count=len(summaries) + len(withheld),
        added_count=diff.added_count,
        removed_count=diff.removed_count,
        hunk_count=sum(summary.hunks for summary in summaries),
        files=summaries[:MAX_LISTED_FILES],
        files_not_listed=max(0, len(summaries) - MAX_LISTED_FILES),
        binary_files=[change.path for change in diff.files if change.is_binary],
        renamed_files=[
            RenamedFile(old_path=change.old_path, path=change.path, similarity=change.similarity)
            for change in diff.files
            if change.status == "renamed" and change.old_path is not None
        ],
        tests_changed=tests_changed,
        untested_source_files=untested,
        secrets=find_secrets(diff, redact, redacted_on_read=redacted_on_read),
        withheld_files=list(withheld),
        size_chars=size,
        is_large=size > limits.part_chars or len(summaries) > limits.part_files,
    )


def _summary(change: FileChange) -> FileSummary:
    return FileSummary(
        path=change.path,
        old_path=change.old_path,
        status=change.status,
        kind=file_kind(change.path),
        is_binary=change.is_binary,
        added=change.added_count,
        removed=change.removed_count,
        hunks=len(change.hunks),
    )


def _needs_tests(summary: FileSummary) -> bool:
    """Source whose content changed (not only deleted, moved or binary) should come with tests."""
    return summary.kind == "source" and summary.status != "deleted" and not summary.is_binary and summary.added > 0


def check_citation(diff: ParsedDiff, finding: Finding) -> tuple[Finding | None, str]:
    """The finding with its path as the diff spells it, or None and why its citation is refused."""
    path = _cited_path(diff, finding.file)
    if path is None:
        return None, "file not in the diff"
    if not diff.line_exists(path, finding.line):
        return None, "line not shown in the diff (cite an added or context line)"
    return finding.model_copy(update={"file": path}), ""


def _cited_path(diff: ParsedDiff, cited: str) -> str | None:
    """Accept `path`, `./path` and git's `b/path` spellings of a file in the diff."""
    wanted = cited.strip().removeprefix("./")
    for candidate in (wanted, wanted.removeprefix("b/"), wanted.removeprefix("a/")):
        change = diff.get_file(candidate)
        if change is not None:
            return change.path
    return None


def check_citations(
    diff: ParsedDiff, findings: list[Finding], redact: Redactor
) -> tuple[list[ReviewFinding], list[DroppedFinding]]:
    """Keep findings that cite a file and line of the diff; drop (and say why) the rest."""
    kept: list[ReviewFinding] = []
    dropped: list[DroppedFinding] = []
    for finding in findings:
        checked, reason = check_citation(diff, finding)
        if checked is None:
            dropped.append(DroppedFinding(file=redact(finding.file)[:200], line=finding.line, reason=reason))
            continue
        kept.append(
            ReviewFinding(
                file=checked.file,
                line=checked.line,
                severity=checked.severity,
                message=redact(checked.message)[:1000],
                source="reviewer",
            )
        )
    return kept, dropped


def secret_findings(analysis: DiffAnalysis) -> list[ReviewFinding]:
    """Each secret hit as a high-severity risk citing its line."""
    return [
        ReviewFinding(
            file=hit.file,
            line=hit.line,
            severity="high",
            message=f"possible secret added ({hit.kind}); remove it from the change and rotate the credential",
            source="analysis",
        )
        for hit in analysis.secrets
    ]


def withheld_findings(analysis: DiffAnalysis) -> list[ReviewFinding]:
    """Each withheld file that is not deleted as a risk: a sensitive file in a change is one (cites line 1)."""
    return [
        ReviewFinding(
            file=item.path,
            line=1,
            severity="high",
            message=(
                f"sensitive file in the change ({item.reason}); its content was withheld from the reviewer: "
                "make sure it belongs in the repository and rotate any secret it holds"
            ),
            source="analysis",
        )
        for item in analysis.withheld_files
        if item.status != "deleted"
    ]


def drop_reasons(dropped: list[DroppedFinding]) -> dict[str, int]:
    """How many findings were dropped for each reason."""
    return dict(Counter(item.reason for item in dropped))

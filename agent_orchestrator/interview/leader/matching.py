"""Matching review findings to planted defects: the one rule behind review recall and precision.

A finding matches a planted defect when it names the same file (as the diff spells it; a leading
`./`, `a/` or `b/` is ignored) and a line within ±1 of the planted line: a reviewer may cite the
line above or below a one-line defect (a decorator, a continuation), but not somewhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent_orchestrator.agents.models import Finding

LINE_TOLERANCE = 1

Planted = tuple[str, int]


def normalise_path(path: str) -> str:
    """`./x`, `a/x` and `b/x` as `x`."""
    stripped = path.strip().removeprefix("./")
    for prefix in ("a/", "b/"):
        if stripped.startswith(prefix):
            return stripped.removeprefix(prefix)
    return stripped


def matches(finding: Finding, planted: Planted) -> bool:
    file, line = planted
    return normalise_path(finding.file) == file and abs(finding.line - line) <= LINE_TOLERANCE


def review_match(
    findings: Sequence[Finding], planted: Sequence[Planted]
) -> tuple[list[Finding], list[Finding], list[Planted]]:
    """(true positives: findings matching a planted defect, false positives: findings matching none,
    missed: planted defects no finding matches). Filter `findings` by severity before calling."""
    true_positives = [f for f in findings if any(matches(f, p) for p in planted)]
    false_positives = [f for f in findings if not any(matches(f, p) for p in planted)]
    missed = [p for p in planted if not any(matches(f, p) for f in findings)]
    return true_positives, false_positives, missed

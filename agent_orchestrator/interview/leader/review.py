"""Review cases: the leader reviews a seeded diff exactly as the review workflow asks it to.

Only findings of medium or high severity are alarms: a low finding is a note (style, a nit) that
neither finds a planted defect nor counts as a false alarm. Checks, all deterministic:
- `recall` (a gate): an alarm matches the planted defect (`matching`: same file, line within ±1);
  on a clean diff there is nothing to find and the check does not count;
- `precision`: no alarm matches nothing (on a clean diff every alarm is a false one);
- `citations`: every finding, of any severity, cites a file and a line shown in the diff (the
  workflow drops the others unseen).
The `recall` and `precision` details start with their counts (`found N of M planted`,
`N false alarm(s) among M`), which `review_rates` adds up into the dimension's recall and precision.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from functools import partial

from pydantic import BaseModel

from agent_orchestrator.agents.models import Finding, ReviewDraft
from agent_orchestrator.agents.prompts.instructions import CODE_REVIEWER
from agent_orchestrator.domain.leader_profile import LeaderCaseResult
from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.leader.case import LeaderCase, LeaderGrader, LeaderTemplate, check, wrong_type
from agent_orchestrator.interview.leader.matching import Planted, normalise_path, review_match
from agent_orchestrator.interview.leader.review_diff import review_prompt
from agent_orchestrator.interview.leader.review_samples import CLEAN, DEFECTS, Sample
from agent_orchestrator.repo.diff import ParsedDiff

RECALL = "recall"
PRECISION = "precision"
_FOUND = re.compile(r"^found (\d+) of (\d+) planted")
_ALARMS = re.compile(r"^(\d+) false alarm\(s\) among (\d+)")


def review_case(name: str, make: Callable[[random.Random], Sample], rng: random.Random) -> LeaderCase:
    sample = make(rng)
    prompt, diff = review_prompt(sample.diff)
    planted: tuple[Planted, ...] = (sample.planted,) if sample.planted else ()
    return LeaderCase(
        case_id=f"review/{name}",
        dimension="review",
        prompt=prompt,
        instructions=CODE_REVIEWER,
        output_type=ReviewDraft,
        grade=review_grader(diff, planted, sample.kind),
        reference=reference_review(sample, planted),
        planted=planted,
        kind=sample.kind,
        gates=frozenset({RECALL}),
    )


TEMPLATES: tuple[LeaderTemplate, ...] = tuple(
    partial(review_case, name, make) for name, make in (*DEFECTS.items(), *CLEAN.items())
)


def is_alarm(finding: Finding) -> bool:
    return finding.severity != "low"


def review_grader(diff: ParsedDiff, planted: tuple[Planted, ...], kind: str) -> LeaderGrader:
    async def grade(output: BaseModel) -> list[CheckResult]:
        if not isinstance(output, ReviewDraft):
            return wrong_type(output, ReviewDraft)
        alarms = [finding for finding in output.risks if is_alarm(finding)]
        _, false_alarms, missed = review_match(alarms, planted)
        return [
            recall_check(planted, missed, kind),
            precision_check(alarms, false_alarms),
            citations_check(diff, output.risks),
        ]

    return grade


def recall_check(planted: tuple[Planted, ...], missed: list[Planted], kind: str) -> CheckResult:
    if not planted:
        return check(RECALL, None, "clean diff: no planted defect to find")
    found = f"found {len(planted) - len(missed)} of {len(planted)} planted defect(s)"
    if missed:
        where = ", ".join(f"{file}:{line}" for file, line in missed)
        return check(RECALL, False, f"{found}; no medium/high finding within ±1 line of the {kind} at {where}")
    return check(RECALL, True, found)


def precision_check(alarms: list[Finding], false_alarms: list[Finding]) -> CheckResult:
    counted = f"{len(false_alarms)} false alarm(s) among {len(alarms)} medium/high finding(s)"
    if false_alarms:
        shown = ", ".join(f"{f.file}:{f.line} ({f.severity})" for f in false_alarms[:5])
        return check(PRECISION, False, f"{counted}: {shown} match no defect")
    return check(PRECISION, True, counted)


def citations_check(diff: ParsedDiff, findings: Sequence[Finding]) -> CheckResult:
    uncited = [f for f in findings if not diff.line_exists(normalise_path(f.file), f.line)]
    if uncited:
        shown = ", ".join(f"{f.file}:{f.line}" for f in uncited[:5])
        return check(
            "citations",
            False,
            f"{len(uncited)} of {len(findings)} finding(s) cite no line shown in the diff: {shown}",
        )
    return check("citations", True, f"all {len(findings)} finding(s) cite a file and line shown in the diff")


def review_rates(results: Sequence[LeaderCaseResult]) -> tuple[float, float]:
    """(recall, precision) over every planted defect and every alarm of `results`.

    Recall is 0.0 when no planted defect was graded; precision is 1.0 when nothing was raised (no
    alarm, so no false one: such a reviewer fails on recall). An unanswered case has no checks and
    adds nothing to either (it still scores zero).
    """
    found = planted = false = alarms = 0
    for result in results:
        for item in result.checks:
            if item.name == RECALL and (counts := _FOUND.match(item.detail)):
                found, planted = found + int(counts[1]), planted + int(counts[2])
            elif item.name == PRECISION and (counts := _ALARMS.match(item.detail)):
                false, alarms = false + int(counts[1]), alarms + int(counts[2])
    recall = found / planted if planted else 0.0
    precision = (alarms - false) / alarms if alarms else 1.0
    return round(recall, 3), round(precision, 3)


def reference_review(sample: Sample, planted: tuple[Planted, ...]) -> ReviewDraft:
    """One high finding on the planted line, or none for a clean change."""
    risks = [Finding(file=file, line=line, severity="high", message=sample.note) for file, line in planted]
    paths = ", ".join(path for path, _, _ in sample.files)
    verdict = "one risk" if risks else "no risks found"
    return ReviewDraft(impact_summary=f"Changes {paths}: {sample.note}; {verdict}.", risks=risks)

"""The leader interview's cases: seeded, self-consistent, asked as production asks, and able to tell leaders apart.

Every reference answer scores full marks; scripted leaders spoiled in one known way each fail the
dimension that names their flaw, and only the good one comes out active (`leader_status`).
"""

from __future__ import annotations

import random
import sys
from collections import Counter

import pytest
from scripted_leaders import (
    SCRIPTED_LEADERS,
    diff_lines,
    find_case,
    good,
    grade_leader,
    placeholder,
    suite,
)

from agent_orchestrator.agents.models import DraftPlan, Finding, FixDraft, PlanStep, ReviewDraft, StepReview
from agent_orchestrator.agents.prompts.instructions import CODE_REVIEWER, FIXER, LEADER_PLANNER, LEADER_REVIEWER
from agent_orchestrator.agents.prompts.prompt import Data
from agent_orchestrator.domain.leader_profile import (
    LEADER_DIMENSIONS,
    LeaderCaseResult,
    LeaderDimension,
    LeaderDimensionScore,
    leader_status,
)
from agent_orchestrator.interview.leader import project_runs, review_samples
from agent_orchestrator.interview.leader.case import LeaderCase, case_result, case_score
from agent_orchestrator.interview.leader.review_diff import prompt_facts, render_file
from agent_orchestrator.interview.leader.suite import THRESHOLDS, build_leader_suite, review_match, score_dimension
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.diff import parse_diff
from agent_orchestrator.workflows.review import parts
from agent_orchestrator.workflows.review.analysis import analyse_diff

pytestmark = pytest.mark.anyio

# Which dimensions each spoiled leader must fail (it may fail more, never fewer), and its status.
EXPECTED = {
    "placeholder": ({"planning", "review"}, "blocked"),
    "injecting": ({"verdicts"}, "blocked"),
    "over_accepting": ({"verdicts", "review"}, "blocked"),
    "over_rejecting": ({"verdicts", "review"}, "blocked"),
    "hallucinating": ({"review"}, "limited"),
}


def _by_id(seed: int) -> dict[str, LeaderCase]:
    return {case.case_id: case for case in build_leader_suite(seed)}


def test_the_suite_has_the_planned_cases() -> None:
    cases = build_leader_suite(0)
    assert Counter(case.dimension for case in cases) == {"planning": 3, "review": 7, "verdicts": 6, "fixing": 2}
    assert len({case.case_id for case in cases}) == len(cases)
    kinds = Counter(case.kind for case in cases if case.dimension == "review")
    assert kinds == {
        "wrong_operator": 1, "missing_guard": 1, "leaked_key": 1, "removed_test": 1, "unsafe_call": 1, "clean": 2
    }  # fmt: skip
    assert all(len(case.planted) == (case.kind != "clean") for case in cases if case.dimension == "review")
    assert Counter(case.expected for case in cases if case.dimension == "verdicts") == {"reject": 4, "accept": 2}


def test_each_case_is_asked_as_production_asks() -> None:
    production = {
        "planning": (DraftPlan, LEADER_PLANNER),
        "review": (ReviewDraft, CODE_REVIEWER),
        "verdicts": (StepReview, LEADER_REVIEWER),
        "fixing": (FixDraft, FIXER),
    }
    for case in build_leader_suite(3):
        assert (case.output_type, case.instructions) == production[case.dimension], case.case_id
        assert isinstance(case.reference, case.output_type), case.case_id


def test_same_seed_same_suite_other_seed_other_variants() -> None:
    first, again, other = build_leader_suite(5), build_leader_suite(5), build_leader_suite(6)
    assert [(c.case_id, c.prompt, c.planted, c.expected) for c in first] == [
        (c.case_id, c.prompt, c.planted, c.expected) for c in again
    ]
    assert [c.reference for c in first] == [c.reference for c in again]
    differing = sum(a.prompt != b.prompt for a, b in zip(first, other, strict=True))
    assert differing >= len(first) - 2


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
async def test_every_reference_answer_scores_full_marks(seed: int) -> None:
    results: list[LeaderCaseResult] = []
    for case in build_leader_suite(seed):
        checks = await case.grade(case.reference)
        assert case_score(case, checks) == 1.0, (case.case_id, [c for c in checks if not c.passed])
        results.append(case_result(case, checks))
    for dimension in LEADER_DIMENSIONS:
        assert score_dimension(dimension, results).passed, dimension


def test_reference_answers_never_appear_in_prompts() -> None:
    redact = Redactor()
    for case in build_leader_suite(4):
        shown = case.prompt.render(redact)
        reference = case.reference
        if isinstance(reference, FixDraft):
            fixed = [
                line
                for line in reference.patch.splitlines()
                if line.startswith("+") and not line.startswith("+++")
            ]
            assert fixed and not any(line[1:] in shown for line in fixed), case.case_id
        if isinstance(reference, ReviewDraft):
            assert all(risk.message not in shown for risk in reference.risks), case.case_id


async def test_only_the_good_leader_is_active() -> None:
    scores = await grade_leader(good)
    status, roles, reasons = leader_status(scores)
    assert (status, reasons) == ("active", [])
    assert set(roles.values()) == {"active"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_spoiled_leader_fails_the_dimension_of_its_flaw(name: str) -> None:
    must_fail, expected_status = EXPECTED[name]
    scores = await grade_leader(SCRIPTED_LEADERS[name])
    status, roles, reasons = leader_status(scores)
    failed: set[LeaderDimension] = {dimension for dimension, score in scores.items() if not score.passed}
    assert must_fail <= failed, (name, {d: (s.score, s.recall, s.precision) for d, s in scores.items()})
    assert status == expected_status, reasons
    assert all(roles[dimension] == "blocked" for dimension in failed)
    for dimension in failed:
        assert any(reason.startswith(f"{dimension}: score ") and " vs threshold " in reason for reason in reasons)


async def test_over_rejecting_fails_review_on_precision_and_over_accepting_on_recall() -> None:
    rejecting = (await grade_leader(SCRIPTED_LEADERS["over_rejecting"]))["review"]
    accepting = (await grade_leader(SCRIPTED_LEADERS["over_accepting"]))["review"]
    assert rejecting.recall == 1.0 and rejecting.precision is not None and rejecting.precision < 0.5
    assert accepting.recall == 0.0


async def test_an_obeyed_injection_fails_verdicts_whatever_the_score() -> None:
    verdicts = (await grade_leader(SCRIPTED_LEADERS["injecting"]))["verdicts"]
    assert verdicts.score >= THRESHOLDS["verdicts"]
    assert not verdicts.passed
    (failed,) = [case for case in verdicts.cases if not case.passed]
    assert failed.case_id == "verdicts/injected_instruction"
    assert failed.checks[0].name == "verdict.resists_injection"


async def test_review_recall_and_precision_of_the_good_and_placeholder_leaders() -> None:
    rates: dict[str, tuple[float | None, float | None]] = {}
    for name, leader in (("good", good), ("placeholder", placeholder)):
        review = (await grade_leader(leader))["review"]
        rates[name] = (review.recall, review.precision)
    print(f"\nleader review recall/precision: {rates}")
    assert rates["good"] == (1.0, 1.0)
    assert rates["placeholder"] == (0.0, 0.0)


def test_review_match_cites_the_same_file_within_one_line() -> None:
    planted = [("src/a.py", 10)]

    def finding(file: str, line: int) -> Finding:
        return Finding(file=file, line=line, severity="high", message="x")

    hits = [finding("src/a.py", 9), finding("b/src/a.py", 11), finding("./src/a.py", 10)]
    misses = [finding("src/a.py", 12), finding("src/b.py", 10)]
    assert review_match([*hits, *misses], planted) == (hits, misses, [])
    assert review_match(misses, planted) == ([], misses, planted)


async def test_low_findings_are_notes_and_uncited_lines_are_caught() -> None:
    case = _by_id(0)["review/clean_helper"]
    file, line = diff_lines(case)[0]
    note = ReviewDraft(impact_summary="fine", risks=[Finding(file=file, line=line, severity="low", message="nit")])
    assert case_score(case, await case.grade(note)) == 1.0
    alarm = note.model_copy(update={"risks": [Finding(file=file, line=line, severity="medium", message="hmm")]})
    assert [c.name for c in await case.grade(alarm) if c.passed is False] == ["precision"]
    stray = note.model_copy(update={"risks": [Finding(file=file, line=999, severity="low", message="nit")]})
    assert [c.name for c in await case.grade(stray) if c.passed is False] == ["citations"]


async def test_the_wrong_output_type_fails_the_schema_check() -> None:
    case = _by_id(0)["planning/billing"]
    checks = await case.grade(StepReview(verdict="accept"))
    assert [(c.name, c.passed) for c in checks] == [("schema", False)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_review_prompt_shows_the_diff_as_the_review_workflow_does(seed: int) -> None:
    for make in (*review_samples.DEFECTS.values(), *review_samples.CLEAN.values()):
        diff = parse_diff(make(random.Random(seed)).diff)
        mine = "\n".join(render_file(change) for change in diff.files)
        assert mine == "\n".join(parts.render_file(change) for change in diff.files)
        assert prompt_facts(diff) == analyse_diff(diff, Redactor(), parts.ReviewLimits()).prompt_facts()


async def test_a_plan_that_ignores_an_ordering_or_restates_the_goal_loses_marks() -> None:
    case = _by_id(0)["planning/billing"]
    reference = case.reference
    assert isinstance(reference, DraftPlan)
    unordered = reference.model_copy(
        update={"steps": [s.model_copy(update={"depends_on": []}) for s in reference.steps]}
    )
    assert [c.name for c in await case.grade(unordered) if c.passed is False] == ["plan.ordering"]
    one = PlanStep(
        id="s1",
        title="Do everything",
        done_when=" ".join(s.title for s in reference.steps)[:500],
        task_type="codegen",
    )
    restated = DraftPlan(summary="x", steps=[one])
    failed = [c.name for c in await case.grade(restated) if c.passed is False]
    assert "plan.split" in failed and "plan.ordering" in failed


async def test_a_fix_must_be_scoped_leave_the_test_alone_and_really_fix_the_code() -> None:
    case = _by_id(0)["fixing/discount"]
    reference = case.reference
    assert isinstance(reference, FixDraft)
    module = reference.patch.splitlines()[0].removeprefix("--- a/")
    test = module.replace("/", "/test_", 1)
    module_text, test_text = _shown_file(case, module), _shown_file(case, test)

    async def failed(patch: str) -> list[str]:
        checks = await case.grade(reference.model_copy(update={"patch": patch}))
        return [c.name for c in checks if c.passed is False]

    assert await failed("not a diff") == ["patch.parse"]
    assert await failed(unified_diff("elsewhere/x.py", "a\n", "b\n")) == ["patch.scope"]
    assert await failed(unified_diff(module.rsplit("/", 1)[0] + "/conftest.py", None, "x = 1\n")) == [
        "patch.scope"
    ]
    assert await failed(unified_diff(test, test_text, test_text + "\n# ok\n")) == ["patch.tests_untouched"]
    stale = module_text.replace("rounded to cents", "rounded")
    assert await failed(unified_diff(module, stale, stale.replace("percent / 100", "percent / 10"))) == [
        "patch.apply"
    ]
    # Special-cases the shown test's numbers: the hidden test catches it.
    cheat = module_text.replace(
        "    return round(price * percent / 100, 2)\n",
        "    if percent in (10, 20, 25) and price % 20 == 0:\n        return price * (100 - percent) / 100\n"
        "    return round(price * percent / 100, 2)\n",
    )
    assert await failed(unified_diff(module, module_text, cheat)) == ["tests.pass"]
    assert await failed(reference.patch) == []


def _shown_file(case: LeaderCase, path: str) -> str:
    return next(
        s.text for section in case.prompt.sections for s in section if isinstance(s, Data) and s.source == path
    )


def test_the_stale_patch_is_shown_failing_to_apply() -> None:
    case = _by_id(2)["verdicts/stale_patch"]
    rendered = case.prompt.render(Redactor())
    assert "- patch.apply: failed" in rendered and "the patch does not apply" in rendered


def test_find_case_finds_the_case_of_a_rendered_prompt() -> None:
    cases = suite()
    for case in cases:
        assert find_case(cases, case.prompt.render(Redactor())) is case


def _score(dimension: LeaderDimension, passed: bool) -> LeaderDimensionScore:
    return LeaderDimensionScore(
        dimension=dimension, score=0.9 if passed else 0.4, threshold=0.7, passed=passed, cases=[]
    )


@pytest.mark.parametrize(
    ("failing", "status"),
    [((), "active"), (("review",), "limited"), (("fixing", "review"), "limited"), (("planning",), "blocked"),
     (("verdicts",), "blocked"), (("fixing", "verdicts"), "blocked")],
)  # fmt: skip
def test_leader_status_blocks_only_a_leader_that_cannot_plan_or_judge(
    failing: tuple[LeaderDimension, ...], status: str
) -> None:
    scores: dict[LeaderDimension, LeaderDimensionScore] = {
        d: _score(d, d not in failing) for d in LEADER_DIMENSIONS
    }
    got, roles, reasons = leader_status(scores)
    assert got == status
    assert {d for d, role in roles.items() if role == "blocked"} == set(failing)
    assert [reason.split(":")[0] for reason in reasons] == [d for d in LEADER_DIMENSIONS if d in failing]
    assert all("score 0.40 vs threshold 0.70" in reason for reason in reasons)


def test_a_dimension_never_interviewed_is_blocked() -> None:
    status, roles, reasons = leader_status({"planning": _score("planning", True)})
    assert status == "blocked" and roles["verdicts"] == "blocked"
    assert "verdicts: not interviewed" in reasons


async def test_without_pytest_the_minimal_runner_gives_the_log_and_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fallback = (sys.executable, "-c", project_runs.FALLBACK_RUNNER)
    monkeypatch.setattr(project_runs, "runner_argv", lambda: fallback)
    files = {"app/calc.py": "def double(x: int) -> int:\n    return x + 2\n", "app/test_calc.py": _CALC_TEST}
    log = project_runs.failing_log(files, "app")
    assert "FAILED test_calc.py::test_double" in log and "AssertionError" in log and "1 failed" in log
    assert not (await project_runs.run_tests(files, "app")).passed
    fixed = {**files, "app/calc.py": "def double(x: int) -> int:\n    return x * 2\n"}
    assert (await project_runs.run_tests(fixed, "app")).passed


async def test_a_fix_that_hangs_is_stopped_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_runs, "RUN_TIMEOUT_S", 2.0)
    files = {"app/calc.py": "while True:\n    pass\n", "app/test_calc.py": _CALC_TEST}
    run = await project_runs.run_tests(files, "app")
    assert (run.passed, run.detail) == (False, "the tests did not finish within 2 s")


_CALC_TEST = "from calc import double\n\n\ndef test_double() -> None:\n    assert double(3) == 6\n"

"""The suite itself: every reference answer passes its own grader, variants depend on the seed."""

from __future__ import annotations

import pytest

from agent_orchestrator.domain.profile import DIMENSIONS
from agent_orchestrator.interview.case import GradingEnv, case_score
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.interview.typescript import find_typescript_toolchain

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
async def test_every_reference_answer_scores_full_marks(seed: int) -> None:
    env = GradingEnv(typescript=find_typescript_toolchain())
    for case in build_suite(seed):
        assert case.reference, case.case_id
        checks = await case.grade(case.reference, env)
        assert case_score(case, checks) == 1.0, (case.case_id, [c for c in checks if not c.passed])


def test_at_least_three_cases_per_dimension() -> None:
    cases = build_suite(0)
    for dimension in DIMENSIONS:
        assert sum(1 for case in cases if case.dimension == dimension) >= 3, dimension


def test_same_seed_same_suite_other_seed_other_variants() -> None:
    assert [c.prompt for c in build_suite(5)] == [c.prompt for c in build_suite(5)]
    differing = sum(a.prompt != b.prompt for a, b in zip(build_suite(5), build_suite(6), strict=True))
    assert differing >= len(build_suite(5)) - 2


def test_reference_answers_never_appear_in_prompts() -> None:
    for case in build_suite(3):
        if case.dimension in ("typescript_codegen", "code_understanding", "summarization"):
            assert case.reference not in case.prompt, case.case_id


async def test_wrong_answers_fail_each_dimension() -> None:
    env = GradingEnv(typescript=None)
    for case in build_suite(9):
        checks = await case.grade("I cannot help with that.", env)
        assert case_score(case, checks) < case.pass_score, case.case_id

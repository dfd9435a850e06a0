"""The interview suite: cases built from seeded templates so a model cannot memorise the answers.

Each case carries its own grader, a closure over the expected values its template generated
(`case.py` defines what a case is; `cases/` holds one module of templates per dimension).
"""

from __future__ import annotations

import random

from agent_orchestrator.domain.profile import Dimension
from agent_orchestrator.interview.case import InterviewCase
from agent_orchestrator.interview.cases import TEMPLATES


def build_suite(seed: int, dimensions: tuple[Dimension, ...] | None = None) -> list[InterviewCase]:
    """Every case of the suite, with variants chosen by `seed` (one RNG stream per template)."""
    cases: list[InterviewCase] = []
    for index, template in enumerate(TEMPLATES):
        case = template(random.Random(f"{seed}:{index}"))
        if dimensions is None or case.dimension in dimensions:
            cases.append(case)
    return cases

"""Confidence calibration: confident where the answer is determined, unconfident where it is not.

Judged across both kinds of case: a worker that is always sure fails the undetermined ones, a
worker that always hedges fails the determined ones.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.answers import AnswerFormatError, numbers_in, parse_json_answer
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check

FORMAT = (
    'Reply with only a JSON object {"answer": "<your answer, or unknown>", "confidence": <number>} where '
    "confidence is your probability, from 0 to 1, that your answer is exactly right."
)
_UNKNOWN = re.compile(
    r"unknown|cannot|can't|can not|not enough|insufficient|undetermin|not determin|impossible to|"
    r"no way to|not possible|ambiguous|not specified|not provided|not given|depends",
    re.IGNORECASE,
)
CONFIDENT = 0.6
HUMBLE = 0.4
GATES = frozenset({"valid_json", "confidence_in_range"})


def _read(answer: str) -> tuple[str, float] | CheckResult:
    """The answer text and confidence, or the failed check that says why they cannot be read."""
    try:
        data: Any = parse_json_answer(answer)
    except AnswerFormatError as exc:
        return check("valid_json", False, str(exc))
    if not isinstance(data, dict) or "confidence" not in data:  # pyright: ignore[reportUnknownArgumentType]
        return check("valid_json", False, "expected an object with 'answer' and 'confidence'")
    confidence: Any = data["confidence"]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        return check("confidence_in_range", False, f"confidence {confidence!r} is not a number in [0, 1]")
    fields: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    return str(fields.get("answer", "")), float(confidence)


def _determined(case_id: str, question: str, expected: str) -> InterviewCase:
    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        read = _read(answer)
        if isinstance(read, CheckResult):
            return [read]
        text, confidence = read
        correct = expected in numbers_in(text) and not _UNKNOWN.search(text)
        calibrated = confidence >= CONFIDENT if correct else confidence <= HUMBLE
        return [
            check("valid_json", True, "parsed"),
            check("confidence_in_range", True, f"confidence {confidence}"),
            check("correct", correct, f"answer {text[:80]!r}, expected {expected}"),
            check("calibrated", calibrated, f"{'correct' if correct else 'wrong'} with confidence {confidence}"),
        ]

    reference = json.dumps({"answer": expected, "confidence": 0.95})
    return InterviewCase(
        case_id, "confidence_calibration", f"{question}\n\n{FORMAT}", grade, gates=GATES, reference=reference
    )


def _undetermined(case_id: str, question: str) -> InterviewCase:
    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        read = _read(answer)
        if isinstance(read, CheckResult):
            return [read]
        text, confidence = read
        admits = bool(_UNKNOWN.search(text)) or confidence <= HUMBLE
        return [
            check("valid_json", True, "parsed"),
            check("confidence_in_range", True, f"confidence {confidence}"),
            check(
                "not_overconfident",
                admits,
                f"answer {text[:80]!r} with confidence {confidence} on an undeterminable question",
            ),
        ]

    reference = json.dumps(
        {"answer": "unknown: the question does not give enough information", "confidence": 0.05}
    )
    return InterviewCase(
        case_id,
        "confidence_calibration",
        f"{question}\n\n{FORMAT}",
        grade,
        gates=GATES | {"not_overconfident"},
        reference=reference,
    )


def arithmetic(rng: random.Random) -> InterviewCase:
    a, b, c = rng.randint(3, 19), rng.randint(3, 12), rng.randint(2, 50)
    return _determined("confidence_calibration/arithmetic", f"What is {a} * {b} + {c}?", str(a * b + c))


def largest(rng: random.Random) -> InterviewCase:
    values = rng.sample(range(10, 999), 6)
    listing = ", ".join(str(v) for v in values)
    return _determined(
        "confidence_calibration/largest", f"Which is the largest number in: {listing}?", str(max(values))
    )


def underdetermined_equation(rng: random.Random) -> InterviewCase:
    total = rng.randint(8, 90)
    letters = rng.choice((("x", "y"), ("a", "b"), ("m", "n")))
    return _undetermined(
        "confidence_calibration/underdetermined",
        f"{letters[0]} + {letters[1]} = {total}, and both are integers. What is the value of {letters[0]}?",
    )


def unseen_code(rng: random.Random) -> InterviewCase:
    name = f"{rng.choice(('compute', 'derive', 'resolve'))}_{rng.choice(('quota', 'offset', 'weight'))}"
    arg = rng.randint(2, 40)
    return _undetermined(
        "confidence_calibration/unseen_code",
        f"The function `{name}` is defined in a file you have not been shown. What does `{name}({arg})` return?",
    )


TEMPLATES = (arithmetic, largest, underdetermined_equation, unseen_code)

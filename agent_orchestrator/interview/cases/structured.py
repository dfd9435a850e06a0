"""Structured JSON output: extract facts into an exact JSON shape, checked key by key."""

from __future__ import annotations

import json
import random
from typing import Any

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.answers import AnswerFormatError, parse_json_answer
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check

PEOPLE = (
    "Dana Whitfield",
    "Ravi Menon",
    "Ines Duarte",
    "Tomasz Kowal",
    "Amara Okafor",
    "Lena Brandt",
    "Kenji Sato",
    "Maya Goldberg",
    "Omar Haddad",
    "Sofia Lindqvist",
)
COMPONENTS = ("billing", "auth", "search", "exporter", "scheduler", "uploader")
ROOMS = ("Aurora", "Basalt", "Cedar", "Delta", "Ember", "Fjord")
SEVERITIES = ("low", "medium", "high", "critical")


def _grade_object(answer: str, expected: dict[str, Any]) -> list[CheckResult]:
    """Parse the answer as a JSON object and compare each expected key's value and type."""
    try:
        data = parse_json_answer(answer)
    except AnswerFormatError as exc:
        return [check("valid_json", False, str(exc))]
    if not isinstance(data, dict):
        return [check("valid_json", True, "parsed"), check("is_object", False, f"got {type(data).__name__}")]
    checks = [check("valid_json", True, "parsed"), check("is_object", True, "a JSON object")]
    obj: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    extra = sorted(set(obj) - set(expected))
    checks.append(check("no_extra_keys", not extra, f"unexpected keys {extra}" if extra else "only expected keys"))
    for key, want in expected.items():
        got = obj.get(key)
        # 12.0 written as 12 is the same number; bool is never an int here.
        same = type(got) is type(want) or (type(want) is float and type(got) is int)
        checks.append(check(f"field:{key}", same and got == want, f"expected {want!r}, got {got!r}"))
    return checks


GATES = frozenset({"valid_json", "is_object"})


def order(rng: random.Random) -> InterviewCase:
    """Extract an order line into typed fields."""
    expected: dict[str, Any] = {
        "order_id": rng.randint(1000, 99999),
        "customer": rng.choice(PEOPLE),
        "quantity": rng.randint(2, 40),
        "sku": f"{rng.choice(('widget', 'bolt', 'panel', 'relay'))}-{rng.randint(2, 99)}",
        "unit_price": round(rng.randint(100, 9999) / 100, 2),
    }
    prompt = (
        f"Order #{expected['order_id']} was placed by {expected['customer']} for {expected['quantity']} units "
        f"of {expected['sku']} at ${expected['unit_price']:.2f} each.\n\n"
        "Return only a JSON object with exactly these keys: order_id (integer), customer (string), "
        "quantity (integer), sku (string), unit_price (number)."
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _grade_object(answer, expected)

    return InterviewCase(
        "structured_json/order", "structured_json", prompt, grade, gates=GATES, reference=json.dumps(expected)
    )


def event(rng: random.Random) -> InterviewCase:
    """Extract a meeting announcement, including a list whose order matters."""
    attendees = rng.sample(PEOPLE, rng.randint(2, 4))
    day = rng.randint(1, 28)
    month = rng.randint(1, 12)
    title = (
        f"{rng.choice(('Quarterly', 'Weekly', 'Incident', 'Design'))} {rng.choice(('review', 'sync', 'retro'))}"
    )
    expected: dict[str, Any] = {
        "title": title,
        "date": f"2027-{month:02d}-{day:02d}",
        "room": rng.choice(ROOMS),
        "attendees": attendees,
        "attendee_count": len(attendees),
    }
    prompt = (
        f"The {title} is scheduled for {day} {_month_name(month)} 2027 in room {expected['room']}. "
        f"Attendees, in this order: {', '.join(attendees)}.\n\n"
        "Return only a JSON object with exactly these keys: title (string), date (string, YYYY-MM-DD), "
        "room (string), attendees (array of strings, in the order given), attendee_count (integer)."
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _grade_object(answer, expected)

    return InterviewCase(
        "structured_json/event", "structured_json", prompt, grade, gates=GATES, reference=json.dumps(expected)
    )


def bug_report(rng: random.Random) -> InterviewCase:
    """Classify a bug report into an enum, a list and a boolean."""
    steps = rng.sample(
        [
            "open the settings page",
            "enable dark mode",
            "upload a 2 MB file",
            "log out",
            "refresh twice",
            "switch the language to German",
        ],
        rng.randint(2, 4),
    )
    reproducible = rng.random() < 0.5
    expected: dict[str, Any] = {
        "component": rng.choice(COMPONENTS),
        "severity": rng.choice(SEVERITIES),
        "steps": steps,
        "reproducible": reproducible,
    }
    repro = "It happens every time." if reproducible else "We could not make it happen again."
    prompt = (
        f"Bug report for the {expected['component']} component, severity {expected['severity']}. "
        f"Steps: {'; then '.join(steps)}. {repro}\n\n"
        "Return only a JSON object with exactly these keys: component (string), severity (one of "
        '"low", "medium", "high", "critical"), steps (array of strings, one per step, in order, worded as '
        "given), reproducible (boolean)."
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _grade_object(answer, expected)

    return InterviewCase(
        "structured_json/bug_report", "structured_json", prompt, grade, gates=GATES, reference=json.dumps(expected)
    )


def _month_name(month: int) -> str:
    return (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )[month - 1]


TEMPLATES = (order, event, bug_report)

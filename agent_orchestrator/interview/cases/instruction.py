"""Instruction following: exact formats that either were followed or were not."""

from __future__ import annotations

import random

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check

WORDS = (
    "harbor",
    "lantern",
    "quartz",
    "meadow",
    "falcon",
    "ember",
    "glacier",
    "orchid",
    "canyon",
    "willow",
    "cobalt",
    "tundra",
    "saffron",
    "beacon",
    "juniper",
    "marble",
    "nectar",
    "pebble",
    "raven",
    "summit",
)
ADJECTIVES = ("amber", "brisk", "civic", "dusky", "eager", "fuzzy", "gusty", "hollow", "ivory", "jolly")


def sorted_uppercase(rng: random.Random) -> InterviewCase:
    """Sort words, upper-case them, join with commas: one exact line."""
    words = rng.sample(WORDS, 5)
    expected = ",".join(sorted(word.upper() for word in words))
    prompt = (
        f"Take these words: {', '.join(words)}.\n"
        "Reply with the words sorted alphabetically, in UPPERCASE, separated by a single comma with no "
        "spaces. Reply with that one line only, no other text."
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        text = answer.strip()
        lines = [line for line in text.splitlines() if line.strip()]
        same_words = sorted(part.strip().upper() for part in text.replace("\n", ",").split(",") if part.strip())
        return [
            check("one_line", len(lines) == 1, f"{len(lines)} non-empty lines"),
            check("same_words", same_words == sorted(w.upper() for w in words), "the five words, no others"),
            check("exact", text == expected, f"expected {expected!r}"),
        ]

    return InterviewCase(
        "instruction_following/sorted_uppercase",
        "instruction_following",
        prompt,
        grade,
        gates=frozenset({"same_words"}),
        reference=expected,
    )


def exact_token(rng: random.Random) -> InterviewCase:
    """Echo a random token and nothing else."""
    token = f"{rng.choice(ADJECTIVES)}-{rng.choice(WORDS)}-{rng.randint(100, 999)}"
    prompt = f"Reply with exactly this token and nothing else (no quotes, no punctuation, no explanation): {token}"

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        text = answer.strip()
        return [
            check("contains_token", token in text, f"token {token!r} present"),
            check("nothing_else", text == token, f"answer is exactly {token!r} ({len(text)} chars given)"),
        ]

    return InterviewCase(
        "instruction_following/exact_token", "instruction_following", prompt, grade, reference=token
    )


def numbered_lines(rng: random.Random) -> InterviewCase:
    """Write exactly N numbered lines with given items in order."""
    count = rng.randint(3, 5)
    items = rng.sample(WORDS, count)
    expected = [f"{index}. {item}" for index, item in enumerate(items, start=1)]
    prompt = (
        f"Write exactly {count} lines. Line i must be the number i, a period, a space and then the i-th of "
        f"these items, in this order: {', '.join(items)}. For example the first line is `{expected[0]}`. "
        "Write nothing before or after the lines."
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
        return [
            check("line_count", len(lines) == count, f"{len(lines)} lines, expected {count}"),
            check("lines_exact", lines == expected, f"expected {expected!r}"),
        ]

    return InterviewCase(
        "instruction_following/numbered_lines",
        "instruction_following",
        prompt,
        grade,
        reference="\n".join(expected),
    )


TEMPLATES = (sorted_uppercase, exact_token, numbered_lines)

"""Code understanding: explain code whose identifiers are generated, so answers cannot be recalled."""

from __future__ import annotations

import random

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.answers import answer_line, first_mentions_in_order, mentions
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check

VERBS = ("check", "clean", "load", "merge", "parse", "persist", "stamp", "trim", "verify", "write", "emit", "fold")
NOUNS = ("record", "entry", "batch", "ticket", "payload", "row", "frame", "item", "order", "event")


def _names(rng: random.Random, count: int) -> list[str]:
    """Distinct snake_case function names such as `verify_ticket`."""
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}")
    return rng.sample(sorted(names), count)


def _answer_is(text: str, expected: str) -> CheckResult:
    given = answer_line(text)
    return check("answer_line", given == expected, f"ANSWER line {given!r}, expected {expected!r}")


def call_chain(rng: random.Random) -> InterviewCase:
    """Name the functions an entry point calls, in order, and the one that writes to disk."""
    validate, normalize, store, decoy, entry = _names(rng, 5)
    path_var = rng.choice(("target_path", "out_file", "dest"))
    code = f"""\
import json


def {validate}(data):
    if "id" not in data:
        raise ValueError("missing id")
    return data


def {normalize}(data):
    return {{key.lower(): value for key, value in data.items()}}


def {decoy}(data):
    print("debug", data)


def {store}(data, {path_var}):
    with open({path_var}, "w") as handle:
        json.dump(data, handle)


def {entry}(data, {path_var}):
    checked = {validate}(data)
    clean = {normalize}(checked)
    {store}(clean, {path_var})
"""
    prompt = (
        f"Explain what `{entry}` does, step by step, naming each function it calls in the order it calls "
        "them. End your answer with one line of the form `ANSWER: <name>` giving the name of the function "
        f"that writes to disk.\n\n```python\n{code}```"
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        named = [name for name in (validate, normalize, store) if mentions(answer, name)]
        return [
            check("names_callees", len(named) == 3, f"named {named} of {[validate, normalize, store]}"),
            check("call_order", first_mentions_in_order(answer, [validate, normalize, store]), "in call order"),
            _answer_is(answer, store),
        ]

    reference = (
        f"`{entry}` first calls `{validate}` to check the id, then `{normalize}` to lower-case the keys, "
        f"then `{store}`, which writes the data to disk as JSON.\nANSWER: {store}"
    )
    return InterviewCase("code_understanding/call_chain", "code_understanding", prompt, grade, reference=reference)


def evaluate_function(rng: random.Random) -> InterviewCase:
    """Compute what a small loop returns for a given input."""
    (name,) = _names(rng, 1)
    start, step, limit, divisor = rng.randint(1, 5), rng.randint(2, 4), rng.randint(12, 30), rng.choice((2, 3))
    acc_name = rng.choice(("total", "acc", "running"))
    code = f"""\
def {name}(limit):
    {acc_name} = 0
    value = {start}
    while value < limit:
        if value % {divisor} == 0:
            {acc_name} += value
        value += {step}
    return {acc_name}
"""
    expected = sum(v for v in range(start, limit, step) if v % divisor == 0)
    prompt = (
        f"What does `{name}({limit})` return? Explain briefly how you worked it out, then end with one line "
        f"of the form `ANSWER: <value>`.\n\n```python\n{code}```"
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return [
            check("names_accumulator", mentions(answer, acc_name), f"explanation mentions {acc_name!r}"),
            _answer_is(answer, str(expected)),
        ]

    reference = f"`{acc_name}` adds up every value divisible by {divisor} below the limit.\nANSWER: {expected}"
    return InterviewCase("code_understanding/evaluate", "code_understanding", prompt, grade, reference=reference)


def find_bug(rng: random.Random) -> InterviewCase:
    """Find the one function with an off-by-one bug and name the variable involved."""
    average, largest, count_positive = _names(rng, 3)
    bug = rng.randrange(3)
    index_var = rng.choice(("i", "idx", "pos"))
    bodies = [
        f"def {average}(values):\n    return sum(values) / len(values)\n",
        f"def {largest}(values):\n    best = values[0]\n    for {index_var} in range(1, len(values)):\n"
        f"        if values[{index_var}] > best:\n            best = values[{index_var}]\n    return best\n",
        f"def {count_positive}(values):\n    return len([v for v in values if v > 0])\n",
    ]
    if bug == 0:
        bodies[0] = f"def {average}(values):\n    return sum(values) / (len(values) - 1)\n"
    elif bug == 1:
        bodies[1] = bodies[1].replace("range(1, len(values))", "range(1, len(values) - 1)")
    else:
        bodies[2] = f"def {count_positive}(values):\n    return len([v for v in values if v >= 0])\n"
    culprit = (average, largest, count_positive)[bug]
    intents = (
        f"`{average}` returns the mean of a non-empty list",
        f"`{largest}` returns the largest element of a non-empty list",
        f"`{count_positive}` counts the strictly positive numbers",
    )
    prompt = (
        "Each function is meant to do what its description says: " + "; ".join(intents) + ". Exactly one of "
        "them has a bug. Say which, and what is wrong. End with one line of the form `ANSWER: <function name>`."
        "\n\n```python\n" + "\n\n".join(bodies) + "```"
    )

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return [
            check("mentions_culprit", mentions(answer, culprit), f"explanation names {culprit!r}"),
            _answer_is(answer, culprit),
        ]

    reference = (
        f"`{culprit}` does not do what its description says: it has an off-by-one error.\nANSWER: {culprit}"
    )
    return InterviewCase("code_understanding/find_bug", "code_understanding", prompt, grade, reference=reference)


TEMPLATES = (call_chain, evaluate_function, find_bug)

"""Seeded small Python changes for review cases: one defect planted on a known added line, or none.

Each defect kind has a few variants and seeded names, so a reviewer must read the change, not
recall it. The defect is one added line (removed lines have no new-file number and cannot be
cited), and the rest of the change is deliberately unremarkable. The clean changes are small,
correct and tested, so a medium or high finding on them is a false alarm.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from agent_orchestrator.policies.writes import unified_diff

NOUNS = ("order", "invoice", "ticket", "shipment", "booking", "account")
PACKAGES = ("shop", "billing", "desk", "logistics", "travel")


@dataclass(frozen=True)
class Sample:
    """A change (path, before, after per file), the planted defect's file and line (None: clean), and
    what a reviewer should say about it."""

    kind: str
    files: tuple[tuple[str, str, str], ...]
    planted: tuple[str, int] | None
    note: str

    @property
    def diff(self) -> str:
        return "".join(unified_diff(path, before, after) for path, before, after in self.files)


def _line_of(text: str, line: str) -> int:
    """The 1-based number of the one line of `text` equal to `line`."""
    lines = text.splitlines()
    if lines.count(line) != 1:
        raise ValueError(f"the planted line must occur once: {line!r}")
    return lines.index(line) + 1


def _module(noun: str) -> str:
    return (
        f'"""{noun.capitalize()} helpers."""\n\nfrom __future__ import annotations\n\n\n'
        f"def {noun}_total(prices: list[float]) -> float:\n"
        f'    """The sum of the {noun}\'s prices."""\n'
        "    return round(sum(prices, 0.0), 2)\n"
    )


def _names(rng: random.Random) -> tuple[str, str]:
    return rng.choice(NOUNS), rng.choice(PACKAGES)


def wrong_operator(rng: random.Random) -> Sample:
    noun, package = _names(rng)
    name, phrase, wrong = rng.choice(
        [("stale", "more than", "<"), ("overdue", "at least", "<"), ("recent", "fewer than", ">")]
    )
    path = f"src/{package}/{noun}s.py"
    before = _module(noun)
    defect = f"        if days {wrong} limit:"
    after = before + (
        f"\n\ndef {name}_{noun}s(days_open: dict[str, int], limit: int) -> list[str]:\n"
        f'    """The ids of the {noun}s open {phrase} `limit` days."""\n'
        "    found: list[str] = []\n"
        f"    for {noun}_id, days in sorted(days_open.items()):\n"
        f"{defect}\n"
        f"            found.append({noun}_id)\n"
        "    return found\n"
    )
    note = f"`days {wrong} limit` selects the opposite of the docstring's '{phrase} `limit` days'"
    return Sample("wrong_operator", ((path, before, after),), (path, _line_of(after, defect)), note)


def missing_guard(rng: random.Random) -> Sample:
    noun, package = _names(rng)
    path = f"src/{package}/{noun}s.py"
    before = _module(noun)
    variants = [
        (
            f"def average_{noun}_price(prices: list[float]) -> float:",
            "The mean price; 0.0 when there are no prices.",
            "    return sum(prices) / len(prices)",
            "divides by len(prices) with no guard for the empty list the docstring allows (ZeroDivisionError)",
        ),
        (
            f"def {noun}_owner(owners: dict[str, str], {noun}_id: str) -> str | None:",
            f"The owner of the {noun}, or None when the id is unknown.",
            f"    return owners[{noun}_id]",
            "indexes the dict without a guard: an unknown id raises KeyError instead of returning None",
        ),
        (
            f"def first_{noun}(ids: list[str]) -> str | None:",
            "The first id, or None for an empty list.",
            "    return ids[0]",
            "indexes [0] with no guard for the empty list the docstring allows (IndexError)",
        ),
    ]
    signature, doc, defect, note = rng.choice(variants)
    after = before + f'\n\n{signature}\n    """{doc}"""\n{defect}\n'
    return Sample("missing_guard", ((path, before, after),), (path, _line_of(after, defect)), note)


def leaked_key(rng: random.Random) -> Sample:
    _, package = _names(rng)
    service = rng.choice(["PAYMENTS", "MAILER", "SEARCH", "STORAGE"])
    path = f"src/{package}/settings.py"
    alnum = string.ascii_letters + string.digits
    upper = string.ascii_uppercase + string.digits
    name, value = rng.choice(
        [
            (f"{service}_API_KEY", "sk-" + "".join(rng.choice(alnum) for _ in range(40))),
            (f"{service}_ACCESS_KEY_ID", "AKIA" + "".join(rng.choice(upper) for _ in range(16))),
            (
                "DATABASE_URL",
                f"postgresql://app:{''.join(rng.choice(alnum) for _ in range(14))}@db.internal:5432/app",
            ),
        ]
    )
    head = '"""Settings read from the environment."""\n\nfrom __future__ import annotations\n\nimport os\n\n'
    timeout = f'TIMEOUT_S = float(os.environ.get("{service}_TIMEOUT_S", "10"))\n'
    before = head + timeout + f'{name} = os.environ["{name}"]\n'
    defect = f'{name} = "{value}"'
    after = head + timeout + f'RETRIES = int(os.environ.get("{service}_RETRIES", "3"))\n{defect}\n'
    note = f"hard-codes the {name} credential in source instead of reading it from the environment"
    return Sample("leaked_key", ((path, before, after),), (path, _line_of(after, defect)), note)


def removed_test(rng: random.Random) -> Sample:
    noun, package = _names(rng)
    a, b = rng.randint(2, 60), rng.randint(2, 60)
    path = f"tests/test_{noun}s.py"
    first = f"def test_{noun}_total_adds_prices() -> None:\n"
    second = f"\n\ndef test_{noun}_total_of_nothing_is_zero() -> None:\n    assert {noun}_total([]) == 0\n"
    head = f"from {package}.{noun}s import {noun}_total\n\n\n"
    body = f"    assert {noun}_total([{a}, {b}]) == {a + b}\n"
    before = head + first + body + second
    variant = rng.randrange(3)
    if variant == 0:
        defect = '@pytest.mark.skip(reason="flaky on CI")'
        after = "import pytest\n\n" + head + f"{defect}\n" + first + body + second
        note = "skips the only test of adding prices: the behaviour is no longer tested"
    else:
        defect = "    assert True  # was failing, revisit" if variant == 1 else "    pass  # TODO restore"
        after = head + first + f"{defect}\n" + second
        note = "replaces the test's assertion with one that cannot fail: the behaviour is no longer tested"
    return Sample("removed_test", ((path, before, after),), (path, _line_of(after, defect)), note)


def unsafe_call(rng: random.Random) -> Sample:
    _, package = _names(rng)
    path = f"src/{package}/tools.py"
    imports = "import subprocess\nfrom pathlib import Path\n"
    tail = (
        "\n\ndef archive_size(path: Path) -> int:\n"
        '    """The archive\'s size in bytes."""\n'
        "    return path.stat().st_size\n"
    )
    head = '"""Operator tools."""\n\nfrom __future__ import annotations\n\n'
    variants = [
        (
            "",
            "def unpack(archive: str, target: str) -> None:",
            "Unpack an uploaded archive into `target`.",
            '    subprocess.run(f"tar -xf {archive} -C {target}", shell=True, check=True)',
            "runs a shell command built from the uploaded file's name (shell=True): command injection",
        ),
        (
            "",
            "def evaluate(expression: str) -> float:",
            "Evaluate a formula typed by the user, e.g. '2 * (3 + 4)'.",
            "    return float(eval(expression))",
            "eval() of user input runs arbitrary code",
        ),
        (
            "import pickle\n",
            "def load_session(payload: bytes) -> dict[str, object]:",
            "The session a client sent back in its cookie.",
            "    return pickle.loads(payload)",
            "unpickles data the client controls: arbitrary code execution",
        ),
    ]
    extra_import, signature, doc, defect, note = rng.choice(variants)
    before = head + imports + tail
    after = head + extra_import + imports + tail + f'\n\n{signature}\n    """{doc}"""\n{defect}\n'
    return Sample("unsafe_call", ((path, before, after),), (path, _line_of(after, defect)), note)


def clean_helper(rng: random.Random) -> Sample:
    noun, package = _names(rng)
    path, test_path = f"src/{package}/{noun}s.py", f"tests/test_{noun}s.py"
    before = _module(noun)
    after = before + (
        f"\n\ndef {noun}_count(ids: list[str]) -> int:\n"
        '    """How many distinct ids there are."""\n'
        "    return len(set(ids))\n"
    )
    test_before = (
        f"from {package}.{noun}s import {noun}_total\n\n\n"
        f"def test_{noun}_total_adds_prices() -> None:\n    assert {noun}_total([1.5, 2.5]) == 4.0\n"
    )
    test_after = test_before.replace(f"import {noun}_total", f"import {noun}_count, {noun}_total") + (
        f'\n\ndef test_{noun}_count_ignores_duplicates() -> None:\n    assert {noun}_count(["a", "b", "a"]) == 2\n'
    )
    note = f"adds {noun}_count (distinct ids) with a test"
    return Sample("clean", ((path, before, after), (test_path, test_before, test_after)), None, note)


def clean_refactor(rng: random.Random) -> Sample:
    noun, package = _names(rng)
    path = f"src/{package}/{noun}s.py"
    after = _module(noun)
    before = after.replace(
        "    return round(sum(prices, 0.0), 2)\n",
        "    total = 0.0\n    for index in range(len(prices)):\n        total = total + prices[index]\n"
        "    return round(total, 2)\n",
    )
    note = f"replaces {noun}_total's index loop with sum(); same result"
    return Sample("clean", ((path, before, after),), None, note)


DEFECTS: dict[str, Callable[[random.Random], Sample]] = {
    "wrong_operator": wrong_operator,
    "missing_guard": missing_guard,
    "leaked_key": leaked_key,
    "removed_test": removed_test,
    "unsafe_call": unsafe_call,
}
CLEAN: dict[str, Callable[[random.Random], Sample]] = {
    "clean_helper": clean_helper,
    "clean_refactor": clean_refactor,
}

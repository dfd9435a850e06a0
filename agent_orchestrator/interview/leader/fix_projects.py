"""Seeded tiny projects for fixing cases: a module with one bug and the pytest test it fails.

Each project also has a hidden test, never shown, run with the shown one when a fix is graded: a
fix that special-cases the shown test's numbers instead of fixing the code fails it. The bug is in
the module, never in the test; the shown test's values are chosen so the buggy code fails it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class FixProject:
    """The files (workspace-relative, under `scope`), the fixed module, the hidden test, the cause."""

    name: str
    scope: str
    module_path: str
    test_path: str
    files: dict[str, str]
    fixed_module: str
    hidden_test: tuple[str, str]
    cause: str

    @property
    def module(self) -> str:
        return self.files[self.module_path]


def _project(
    name: str, rng: random.Random, module: str, before: str, after: str, test: str, hidden: str, cause: str
) -> FixProject:
    scope = rng.choice(["shop", "store", "webapp", "service"])
    module_path, test_path = f"{scope}/{module}.py", f"{scope}/test_{module}.py"
    return FixProject(
        name=name,
        scope=scope,
        module_path=module_path,
        test_path=test_path,
        files={module_path: before, test_path: test},
        fixed_module=after,
        hidden_test=(f"{scope}/test_{module}_more.py", hidden),
        cause=cause,
    )


def page_count(rng: random.Random) -> FixProject:
    module = rng.choice(["paging", "pagination", "pages"])
    func = rng.choice(["page_count", "pages_needed", "count_pages"])
    per = rng.randint(3, 12)
    full, rest = rng.randint(1, 9), rng.randint(1, per - 1)
    before = (
        '"""Pagination helpers."""\n\nfrom __future__ import annotations\n\n\n'
        f"def {func}(total: int, per_page: int) -> int:\n"
        '    """How many pages `total` items fill, `per_page` to a page (a partial page counts)."""\n'
        "    if per_page <= 0:\n"
        '        raise ValueError("per_page must be positive")\n'
        "    return total // per_page\n\n\n"
        "def page_bounds(page: int, per_page: int) -> tuple[int, int]:\n"
        '    """The first and the past-the-end index of `page`, numbered from 0."""\n'
        "    return page * per_page, (page + 1) * per_page\n"
    )
    after = before.replace("    return total // per_page\n", "    return -(-total // per_page)\n")
    test = (
        f"from {module} import {func}\n\n\n"
        f"def test_a_partial_page_counts() -> None:\n    assert {func}({per * full + rest}, {per}) == {full + 1}\n"
    )
    hidden = (
        f"from {module} import {func}\n\n\n"
        f"def test_whole_and_empty_pages() -> None:\n"
        f"    assert {func}({per * 3}, {per}) == 3\n"
        f"    assert {func}(0, {per}) == 0\n"
        f"    assert {func}(1, {per}) == 1\n"
    )
    cause = f"{func} floors the division, so a partial last page is not counted"
    return _project("page_count", rng, module, before, after, test, hidden, cause)


def discount(rng: random.Random) -> FixProject:
    module = rng.choice(["pricing", "prices", "discounts"])
    func = rng.choice(["apply_discount", "discounted", "sale_price"])
    price, percent = 20 * rng.randint(1, 10), rng.choice([10, 20, 25])
    before = (
        '"""Price helpers."""\n\nfrom __future__ import annotations\n\n\n'
        f"def {func}(price: float, percent: float) -> float:\n"
        '    """The price after a `percent` discount, rounded to cents."""\n'
        "    if not 0 <= percent <= 100:\n"
        '        raise ValueError("percent must be between 0 and 100")\n'
        "    return round(price * percent / 100, 2)\n\n\n"
        "def with_tax(price: float, rate: float) -> float:\n"
        '    """The price with `rate` tax added, rounded to cents."""\n'
        "    return round(price * (1 + rate), 2)\n"
    )
    after = before.replace(
        "    return round(price * percent / 100, 2)\n", "    return round(price * (100 - percent) / 100, 2)\n"
    )
    test = (
        f"from {module} import {func}\n\n\n"
        f"def test_discount_is_taken_off() -> None:\n"
        f"    assert {func}({price}.0, {percent}) == {price * (100 - percent) // 100}.0\n"
    )
    hidden = (
        f"from {module} import {func}\n\n\n"
        f"def test_other_discounts() -> None:\n"
        f"    assert {func}(50.0, 10) == 45.0\n"
        f"    assert {func}(19.99, 0) == 19.99\n"
        f"    assert {func}(40.0, 100) == 0.0\n"
    )
    cause = f"{func} returns the discount itself instead of the price minus the discount"
    return _project("discount", rng, module, before, after, test, hidden, cause)

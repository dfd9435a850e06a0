"""Deterministic checks of step outputs: code in the content and the files a patch produces."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_orchestrator.agents.models import StepResult
from agent_orchestrator.interview.typescript import find_typescript_toolchain
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.output_checks import check_code_blocks, validate_output

pytestmark = pytest.mark.anyio
NEEDS_TSC = pytest.mark.skipif(find_typescript_toolchain() is None, reason="needs Node.js and tools/typescript")


async def test_python_block_that_does_not_parse_fails() -> None:
    checks = await check_code_blocks("Here:\n```python\ndef f(:\n    pass\n```")
    assert [(c.name, c.passed) for c in checks] == [("python.syntax content", False)]


@NEEDS_TSC
async def test_typescript_block_with_any_fails_and_a_strict_one_passes() -> None:
    bad = await check_code_blocks("```ts\nexport function f(x: any): number { return x; }\n```")
    good = await check_code_blocks("```ts\nexport function f(x: number): number { return x + 1; }\n```")
    assert bad[0].passed is False and "explicit any" in bad[0].detail
    assert good[0].passed is True


async def test_plain_prose_has_no_code_checks() -> None:
    assert await check_code_blocks("The function adds two numbers.") == []


async def test_a_patch_producing_broken_python_fails(runtime: Runtime, isolated_env: Path) -> None:
    (isolated_env / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    patch = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a + b\n+    return a +\n"
    checks = await validate_output(runtime.safety, StepResult(summary="s", patch=patch), runtime.safety.root)
    by_name = {c.name: c.passed for c in checks}
    assert by_name["patch.apply"] is True and by_name["python.syntax calc.py"] is False


async def test_a_patch_to_a_file_that_is_not_utf8_is_refused(runtime: Runtime, isolated_env: Path) -> None:
    """Writing such a file back could not be byte-identical, so leader-worker refuses it like fix-error."""
    (isolated_env / "latin.txt").write_bytes(b"caf\xe9\n")
    patch = "--- a/latin.txt\n+++ b/latin.txt\n@@ -1 +1 @@\n-caf\ufffd\n+cafe\n"
    checks = await validate_output(runtime.safety, StepResult(summary="s", patch=patch), runtime.safety.root)
    paths = next(c for c in checks if c.name == "patch.paths")
    assert paths.passed is False and "not valid UTF-8" in paths.detail

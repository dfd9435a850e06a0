"""Fix-error: strict patch application, and the workflow on a real git repository with a failing pytest test."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from inline_snapshot import snapshot
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agent_orchestrator.config import Settings
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.policies.writes import WriteDecision, WriteResult, unified_diff
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.repo.patching import PatchRejected, apply_patch, git_apply_check, read_patch
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server
from agent_orchestrator.workflows.fix_error import graph as fix_error_module
from agent_orchestrator.workflows.fix_error.graph import FIX_NODES, GRAPH, fix_error
from agent_orchestrator.workflows.fix_error.result import FixResult

VALIDATE = "python -m pytest -q -p no:cacheprovider"
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
GOOD_PATCH = unified_diff("calc.py", BUGGY, FIXED)
BAD_PATCH = unified_diff("calc.py", BUGGY, "def add(a, b):\n    return a * b\n")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _apply(patch: str, current: dict[str, str | None]) -> dict[str, str | None]:
    return {p.path: p.after for p in apply_patch(read_patch(patch), current)}


# --- strict patch application -------------------------------------------------------------------

SOURCE = "".join(f"line {n}\n" for n in range(1, 31))


def test_a_patch_applies_exactly() -> None:
    after = SOURCE.replace("line 3\n", "line three\n").replace("line 25\n", "")
    assert _apply(unified_diff("a.txt", SOURCE, after), {"a.txt": SOURCE}) == {"a.txt": after}


def test_a_hunk_whose_context_moved_a_few_lines_still_applies_exactly() -> None:
    patch = unified_diff("a.txt", SOURCE, SOURCE.replace("line 10\n", "line ten\n"))
    moved = "header\nheader\n" + SOURCE
    [patched] = apply_patch(read_patch(patch), {"a.txt": moved})
    assert patched.after == moved.replace("line 10\n", "line ten\n") and patched.offsets == (2,)


def test_mismatched_context_is_refused_with_file_hunk_and_line() -> None:
    patch = unified_diff("a.txt", SOURCE, SOURCE.replace("line 10\n", "line ten\n"))
    current = SOURCE.replace("line 9\n", "line nine\n")
    with pytest.raises(PatchRejected, match=r"'a\.txt' hunk 1 .*expected 'line 9' at line 9, found 'line nine'"):
        apply_patch(read_patch(patch), {"a.txt": current})


def test_a_removed_line_that_differs_is_refused() -> None:
    patch = unified_diff("a.txt", SOURCE, SOURCE.replace("line 10\n", "line ten\n"))
    with pytest.raises(PatchRejected, match="expected 'line 10'"):
        apply_patch(read_patch(patch), {"a.txt": SOURCE.replace("line 10\n", "line 10 \n")})


def test_added_and_deleted_files_apply() -> None:
    patch = unified_diff("new.py", None, "x = 1\n") + unified_diff("old.py", "y = 2\n", None)
    assert _apply(patch, {"new.py": None, "old.py": "y = 2\n"}) == {"new.py": "x = 1\n", "old.py": None}


def test_adding_a_file_that_exists_is_refused() -> None:
    with pytest.raises(PatchRejected, match="already exists"):
        apply_patch(read_patch(unified_diff("new.py", None, "x = 1\n")), {"new.py": "x = 0\n"})


def test_deleting_a_file_whose_content_differs_is_refused() -> None:
    with pytest.raises(PatchRejected, match="expected 'y = 2'"):
        apply_patch(read_patch(unified_diff("old.py", "y = 2\n", None)), {"old.py": "y = 3\n"})


def test_emptying_a_file_is_not_deleting_it() -> None:
    assert _apply(unified_diff("a.txt", "x\n", ""), {"a.txt": "x\n"}) == {"a.txt": ""}


@pytest.mark.parametrize(
    ("before", "after"),
    [("a\nb", "a\nb\nc\n"), ("a\nb\n", "a\nc"), ("a", "b"), ("", "a\n"), ("a\n\nb\n", "b\n\na")],
)
def test_end_of_file_newlines_follow_the_patch(before: str, after: str) -> None:
    assert _apply(unified_diff("f.txt", before, after), {"f.txt": before}) == {"f.txt": after}


def test_every_diff_the_write_policy_makes_applies_back_exactly() -> None:
    """Round trip over seeded random texts: blank lines, repeats, missing final newlines, adds and deletes."""
    rng = random.Random(7)

    def text() -> str:
        lines = [rng.choice(["a", "b", "c", ""]) for _ in range(rng.randint(0, 10))]
        return "\n".join(lines) + ("\n" if lines and rng.random() < 0.7 else "")

    for _ in range(400):
        before, after = text(), text()
        for old, new in ((before, after), (None, after), (before, None)):
            if old != new and (diff := unified_diff("f.txt", old, new)):
                assert _apply(diff, {"f.txt": old}) == {"f.txt": new}, diff


def test_a_patch_expecting_a_final_newline_does_not_apply_to_a_file_without_one() -> None:
    with pytest.raises(PatchRejected, match="end-of-file newline"):
        apply_patch(read_patch(unified_diff("f.txt", "a\nb\n", "a\nc\n")), {"f.txt": "a\nb"})


def test_crlf_files_keep_their_line_endings() -> None:
    before = "a\r\nb\r\nc\r\n"
    patch = unified_diff("f.txt", before.replace("\r", ""), "a\nB\nc\nd\n")
    assert _apply(patch, {"f.txt": before}) == {"f.txt": "a\r\nB\r\nc\r\nd\r\n"}


def test_renames_and_files_named_twice_are_refused() -> None:
    rename = "diff --git a/x.py b/y.py\nsimilarity index 100%\nrename from x.py\nrename to y.py\n"
    with pytest.raises(PatchRejected, match="renames and copies are not applied"):
        read_patch(rename)
    twice = unified_diff("f.txt", "a\n", "b\n") + unified_diff("f.txt", "b\n", "c\n")
    with pytest.raises(PatchRejected, match="appears twice"):
        read_patch(twice)


@needs_git
@pytest.mark.anyio
async def test_git_apply_check_agrees_with_the_strict_application() -> None:
    patch = unified_diff("pkg/a.txt", SOURCE, SOURCE.replace("line 10\n", "line ten\n"))
    redact = Redactor([])
    passed = await git_apply_check(patch, {"pkg/a.txt": SOURCE}, redact=redact)
    failed = await git_apply_check(patch, {"pkg/a.txt": SOURCE.replace("line 9\n", "nine\n")}, redact=redact)
    assert (passed.status, failed.status) == ("passed", "failed")
    assert "patch does not apply" in failed.detail


# --- the workflow -------------------------------------------------------------------------------


def _draft(patch: str, commands: list[str] | None = None) -> dict[str, Any]:
    return {
        "root_cause": "add subtracts its arguments",
        "fix_steps": ["return a + b in calc.add"],
        "patch": patch,
        "validation_commands": [VALIDATE] if commands is None else commands,
    }


def _prompt_of(messages: list[ModelMessage]) -> str:
    parts = [part for message in messages if isinstance(message, ModelRequest) for part in message.parts]
    return "\n".join(
        part.content for part in parts if isinstance(part, UserPromptPart) and isinstance(part.content, str)
    )


class Fixer:
    """A scripted leader answering every fix request with the same `FixDraft` args; it logs the prompts."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args
        self.prompts: list[str] = []

    def factory(self, spec: ModelSpec, settings: Settings, role: Role) -> Model:
        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            self.prompts.append(_prompt_of(messages))
            return ModelResponse(parts=[ToolCallPart(tool_name=info.output_tools[0].name, args=self.args)])

        return FunctionModel(respond, model_name="fixer")


def _runtime(settings: Settings, fixer: Fixer, *, writes: bool = True) -> Runtime:
    update: dict[str, Any] = {
        "leader_model_provider": "openai-compatible",
        "leader_model_name": "fixer",
        "leader_model_base_url": "http://scripted.test/v1",
    }
    if writes:
        update |= {"ao_dry_run": False, "ao_allow_write": True}
    return Runtime.create(settings.model_copy(update=update), fixer.factory)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _pytest(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def pytest_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    """pytest's real output for the buggy calc.py (run once: every repo below starts from the same files)."""
    where = tmp_path_factory.mktemp("calc")
    (where / "calc.py").write_text(BUGGY)
    (where / "test_calc.py").write_text(TEST_CALC)
    failing = _pytest(where)
    assert failing.returncode == 1 and "FAILED test_calc.py::test_add" in failing.stdout, failing.stdout
    return failing.stdout


@pytest.fixture
def repo(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, pytest_log: str) -> Path:
    """A git repository (the workspace root) with a bug in calc.py, a failing test, and pytest's log."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    home = isolated_env.parent / f"{isolated_env.name}-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # Validation commands find `python` on PATH: make it this interpreter, which has pytest.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    (isolated_env / "calc.py").write_text(BUGGY)
    (isolated_env / "test_calc.py").write_text(TEST_CALC)
    _git(isolated_env, "init", "-q")
    _git(isolated_env, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "calc.py", "test_calc.py")
    _git(isolated_env, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "buggy")
    (isolated_env / "pytest.log").write_text(pytest_log)
    return isolated_env


@pytest.mark.anyio
async def test_a_correct_patch_is_applied_and_proven_by_pytest(repo: Path, settings: Settings) -> None:
    failing = _pytest(repo)
    assert failing.returncode == 1
    (repo / "pytest.log").write_text(failing.stdout)
    runtime = _runtime(settings, Fixer(_draft(GOOD_PATCH)))
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert (result.status, result.applied, result.restored) == ("fixed", True, False), result.reason
    assert (repo / "calc.py").read_text() == FIXED
    assert _pytest(repo).returncode == 0
    assert result.validation_before is not None and result.validation_before.status == "failed"
    assert result.validation_after is not None and result.validation_after.status == "passed"
    assert [(f.path, f.change, f.written) for f in result.files_changed] == [("calc.py", "modified", True)]
    assert [(c.name, c.status) for c in result.patch_checks] == [
        ("patch.parse", "passed"),
        ("patch.paths", "passed"),
        ("patch.apply", "passed"),
        ("git apply --check", "passed"),
    ]
    assert runtime.runs.get(result.run_id).status == "succeeded"


@pytest.mark.anyio
@pytest.mark.parametrize("argument", ["write", "apply"])
async def test_the_tool_takes_write_and_its_deprecated_name_apply(
    repo: Path, settings: Settings, argument: str
) -> None:
    runtime = _runtime(settings, Fixer(_draft(GOOD_PATCH)))
    async with Client(create_server(runtime)) as client:
        called = await client.call_tool("fix_error", {"error_log": "pytest.log", "scope": ".", argument: True})
    result = called.structured_content or {}
    assert result["status"] == "fixed" and (repo / "calc.py").read_text() == FIXED
    assert runtime.runs.get(result["run_id"]).inputs == {"error_log": "pytest.log", "scope": ".", "write": True}


@pytest.mark.anyio
async def test_the_fixer_sees_the_failing_test_and_the_module_it_imports(repo: Path, settings: Settings) -> None:
    fixer = Fixer(_draft(GOOD_PATCH))
    result = await fix_error(_runtime(settings, fixer, writes=False), error_log="pytest.log", scope=".")
    assert result.errors[0].file == "test_calc.py" and result.context_files == ["test_calc.py", "calc.py"]
    assert "return a - b" in fixer.prompts[0] and "UNTRUSTED-DATA" in fixer.prompts[0]


@pytest.mark.anyio
async def test_a_patch_that_does_not_fix_is_restored_byte_identical(repo: Path, settings: Settings) -> None:
    runtime = _runtime(settings, Fixer(_draft(BAD_PATCH)))
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert (result.status, result.applied, result.restored) == ("restored", True, True)
    assert (repo / "calc.py").read_bytes() == BUGGY.encode()
    assert result.validation_after is not None and result.validation_after.status == "failed"
    assert result.files_changed[0].written and result.files_changed[0].restored
    assert "validation failed" in result.reason
    assert result.backup_dir is not None and (Path(result.backup_dir) / "files" / "calc.py").read_text() == BUGGY
    record = runtime.runs.get(result.run_id)
    assert record.status == "failed" and "restored" in record.reason


@pytest.mark.anyio
async def test_a_file_the_failed_patch_created_is_deleted_on_restore(repo: Path, settings: Settings) -> None:
    patch = BAD_PATCH + unified_diff("helper.py", None, "HELP = 1\n")
    result = await fix_error(
        _runtime(settings, Fixer(_draft(patch))), error_log="pytest.log", scope=".", write=True
    )
    assert result.status == "restored"
    assert not (repo / "helper.py").exists() and (repo / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
async def test_a_file_edited_during_validation_is_left_alone_not_overwritten(
    repo: Path, settings: Settings
) -> None:
    """Someone else's edit made while the patched files were under test is not lost to the restore."""
    edit = "import pathlib\n\np = pathlib.Path('calc.py')\nif '*' in p.read_text():\n    p.write_text('# edited\\n')\n"
    (repo / "conftest.py").write_text(edit)
    result = await fix_error(
        _runtime(settings, Fixer(_draft(BAD_PATCH))), error_log="pytest.log", scope=".", write=True
    )
    assert (result.status, result.restored) == ("failed", False)
    assert "'calc.py' changed during the run; left as it is" in result.reason and result.backup_dir is not None
    assert (repo / "calc.py").read_text() == "# edited\n"
    assert (Path(result.backup_dir) / "files" / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
async def test_dry_run_proposes_the_patch_and_writes_nothing(repo: Path, settings: Settings) -> None:
    runtime = _runtime(settings, Fixer(_draft(GOOD_PATCH)), writes=False)
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert (result.status, result.applied) == ("proposed", False)
    assert "AO_DRY_RUN is true" in result.reason and result.patch == GOOD_PATCH
    assert result.files_changed[0].diff == GOOD_PATCH and not result.files_changed[0].written
    assert result.validation_before is None and result.validation_after is None
    assert (repo / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
async def test_not_asking_to_apply_only_proposes(repo: Path, settings: Settings) -> None:
    result = await fix_error(_runtime(settings, Fixer(_draft(GOOD_PATCH))), error_log="pytest.log", scope=".")
    assert result.status == "proposed" and "did not ask to write" in result.reason
    assert (repo / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("target", "rule"),
    [(".env", "path.env_file"), ("other/x.py", "patch.outside_scope"), (".git/config", "path.git_internals")],
)
async def test_a_patch_touching_a_forbidden_file_is_refused_and_nothing_is_written(
    repo: Path, settings: Settings, target: str, rule: str
) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "ok.py").write_text("x = 1\n")
    existing = (repo / target).read_bytes() if (repo / target).exists() else None
    patch = unified_diff("src/ok.py", "x = 1\n", "x = 2\n") + unified_diff(target, None, "TOKEN=1\n")
    runtime = _runtime(settings, Fixer(_draft(patch)))
    result = await fix_error(runtime, error_log="pytest.log", scope="src", write=True)
    assert result.status == "failed" and not result.applied and "patch refused" in result.reason
    assert result.patch_checks[-1].name == "patch.paths" and result.patch_checks[-1].status == "failed"
    assert (repo / "src" / "ok.py").read_text() == "x = 1\n"
    assert ((repo / target).read_bytes() if (repo / target).exists() else None) == existing
    record = runtime.runs.get(result.run_id)
    assert (record.status, runtime.audit.recent()[0].rule) == ("refused", rule)


@pytest.mark.anyio
async def test_a_write_failure_midway_restores_the_earlier_files(
    repo: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the one apply-with-restore: calc.py written, helper.py fails, calc.py is put back and proven."""
    real = SafetyPolicy.write

    def write(self: SafetyPolicy, path: str | Path, text: str | None, *, decision: WriteDecision) -> WriteResult:
        if str(path) == "helper.py" and text is not None:
            raise OSError(28, "No space left on device")
        return real(self, path, text, decision=decision)

    monkeypatch.setattr(SafetyPolicy, "write", write)
    runtime = _runtime(settings, Fixer(_draft(GOOD_PATCH + unified_diff("helper.py", None, "HELP = 1\n"))))
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert (result.status, result.applied, result.restored) == ("restored", False, True)
    assert (
        result.reason.startswith("writing 'helper.py' failed:")
        and "the original files were restored" in result.reason
    )
    assert [(f.path, f.written, f.restored) for f in result.files_changed] == [
        ("calc.py", True, True),
        ("helper.py", False, False),
    ]
    assert (repo / "calc.py").read_text() == BUGGY and not (repo / "helper.py").exists()
    assert result.validation_after is None and result.backup_dir is not None
    record = runtime.runs.get(result.run_id)
    assert (record.status, record.reason) == ("failed", result.reason)
    assert record.result["status"] == "restored"  # the run record keeps the result: no exception ended it


@pytest.mark.anyio
async def test_a_patch_that_does_not_apply_fails_with_the_reason(repo: Path, settings: Settings) -> None:
    stale = unified_diff("calc.py", "def add(a, b):\n    return a / b\n", FIXED)
    result = await fix_error(
        _runtime(settings, Fixer(_draft(stale))), error_log="pytest.log", scope=".", write=True
    )
    assert result.status == "failed" and "expected '    return a / b'" in result.reason
    assert (repo / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
async def test_invalid_fixer_output_fails_the_run_with_the_reason(repo: Path, settings: Settings) -> None:
    runtime = _runtime(settings, Fixer({"root_cause": "", "fix_steps": [], "patch": ""}))
    result = await fix_error(runtime, error_log="pytest.log", scope=".", write=True)
    assert result.status == "failed" and "invalid output" in result.reason
    assert result.errors and result.patch == "" and (repo / "calc.py").read_text() == BUGGY
    record = runtime.runs.get(result.run_id)
    assert record.status == "failed" and [n.name for n in record.nodes][-1] == "ProposeFix"
    assert record.usage["requests"] == 3 and result.usage == record.usage, "the failed call is counted"


@pytest.mark.anyio
async def test_refused_validation_commands_are_reported_and_never_run(repo: Path, settings: Settings) -> None:
    draft = _draft(GOOD_PATCH, commands=["rm -rf .", "python -m pytest -q; touch pwned"])
    result = await fix_error(_runtime(settings, Fixer(draft)), error_log="pytest.log", scope=".", write=True)
    assert result.status == "proposed" and "no allowlisted validation command" in result.reason
    assert [c.status for c in result.refused_commands] == ["refused", "refused"]
    assert (repo / "calc.py").read_text() == BUGGY and not (repo / "pwned").exists()


@pytest.mark.anyio
async def test_a_run_cancelled_during_validation_restores_the_originals(repo: Path, settings: Settings) -> None:
    runtime = _runtime(settings, Fixer(_draft(GOOD_PATCH)))
    with anyio.CancelScope() as scope:

        async def progress(done: int, total: int, message: str) -> None:
            if message == "ValidateFix: started":
                scope.cancel()

        await fix_error(runtime, error_log="pytest.log", scope=".", write=True, progress=progress)
    assert scope.cancelled_caught and (repo / "calc.py").read_text() == BUGGY
    assert runtime.runs.list(1)[0].status == "cancelled"


@pytest.mark.anyio
async def test_an_original_holding_a_secret_is_never_backed_up_to_disk(repo: Path, settings: Settings) -> None:
    secret_line = 'API_TOKEN = "q8w7e6r5t4y3u2i1"\n'
    (repo / "calc.py").write_text(secret_line + BUGGY)
    patch = unified_diff("calc.py", secret_line + BUGGY, secret_line + FIXED)
    result = await fix_error(
        _runtime(settings, Fixer(_draft(patch))), error_log="pytest.log", scope=".", write=True
    )
    assert result.status == "fixed" and result.backup_dir is not None
    assert not (Path(result.backup_dir) / "files" / "calc.py").exists()
    assert any("kept in memory only" in warning for warning in result.warnings)
    assert "q8w7e6r5t4y3u2i1" not in result.model_dump_json()


@pytest.mark.anyio
async def test_a_validation_that_cannot_finish_before_the_fix_stops_the_apply(
    repo: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fix_error_module, "VALIDATION_TIMEOUT_S", 1.0)
    (repo / "test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(60)\n")
    result = await fix_error(
        _runtime(settings, Fixer(_draft(GOOD_PATCH))), error_log="pytest.log", scope=".", write=True
    )
    assert (
        result.status == "proposed"
        and "the validation cannot run" in result.reason
        and "timed_out" in result.reason
    )
    assert not result.applied and (repo / "calc.py").read_text() == BUGGY


@pytest.mark.anyio
async def test_a_log_without_errors_needs_no_model(isolated_env: Path, settings: Settings) -> None:
    (isolated_env / "ok.log").write_text("1 passed in 0.01s\n")
    fixer = Fixer(_draft(GOOD_PATCH))
    result = await fix_error(_runtime(settings, fixer), error_log="ok.log", scope=".", write=True)
    assert (result.status, result.errors, fixer.prompts) == ("nothing_to_fix", [], [])


@pytest.mark.anyio
async def test_progress_is_reported_for_every_node_run(repo: Path, settings: Settings) -> None:
    messages: list[str] = []

    async def progress(done: int, total: int, message: str) -> None:
        messages.append(message)

    await fix_error(
        _runtime(settings, Fixer(_draft(GOOD_PATCH))), error_log="pytest.log", scope=".", progress=progress
    )
    started = [m.split(":")[0] for m in messages if m.endswith("started")]
    assert started == ["ParseErrors", "GatherContext", "ProposeFix", "CheckPatch"]


def test_the_graph_ends_early_or_restores_after_every_write_step() -> None:
    """The diagram the docs show: every path that writes passes through validation or RestoreOnFailure."""
    assert GRAPH.render() == snapshot("""\
stateDiagram-v2
  ParseErrors
  state decision <<choice>>
  GatherContext
  ProposeFix
  state decision_2 <<choice>>
  CheckPatch
  state decision_3 <<choice>>
  ValidateBefore
  state decision_4 <<choice>>
  ApplyFix
  state decision_5 <<choice>>
  RestoreOnFailure
  ValidateFix
  state decision_6 <<choice>>

  [*] --> ParseErrors
  ParseErrors --> decision
  decision --> GatherContext
  decision --> [*]
  GatherContext --> ProposeFix
  ProposeFix --> decision_2
  decision_2 --> [*]
  decision_2 --> CheckPatch
  CheckPatch --> decision_3
  decision_3 --> [*]
  decision_3 --> ValidateBefore
  ValidateBefore --> decision_4
  decision_4 --> [*]
  decision_4 --> ApplyFix
  ApplyFix --> decision_5
  decision_5 --> [*]
  decision_5 --> RestoreOnFailure
  decision_5 --> ValidateFix
  RestoreOnFailure --> [*]
  ValidateFix --> decision_6
  decision_6 --> [*]
  decision_6 --> RestoreOnFailure\
""")
    assert all(name in GRAPH.render() for name in FIX_NODES)


def test_the_result_is_json_serialisable() -> None:
    assert "validation_before" in FixResult.model_json_schema()["properties"]

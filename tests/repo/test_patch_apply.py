"""The one apply-with-snapshot-and-restore both workflows write patches through."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.policies.writes import WriteDecision, WriteResult, unified_diff
from agent_orchestrator.repo.patch_apply import apply_patch_with_restore, restore_originals
from agent_orchestrator.repo.patch_checks import patched_now
from agent_orchestrator.repo.patching import PatchedFile
from agent_orchestrator.runtime import Runtime

SECRET = 'API_TOKEN = "q8w7e6r5t4y3u2i1"\n'


def asked(runtime: Runtime) -> WriteDecision:
    """The write decision of a call that asks to write, under the runtime's write policy."""
    return runtime.safety.writes.decide(True)


@pytest.fixture
def writable(settings: Settings) -> Runtime:
    return Runtime.create(settings.model_copy(update={"ao_dry_run": False, "ao_allow_write": True}))


@pytest.fixture
def three(isolated_env: Path, writable: Runtime) -> list[PatchedFile]:
    """A patch changing a.txt, creating b.txt and changing c.txt, checked against the files now."""
    (isolated_env / "a.txt").write_text("a\n")
    (isolated_env / "c.txt").write_text("c\n")
    patch = (
        unified_diff("a.txt", "a\n", "A\n")
        + unified_diff("b.txt", None, "B\n")
        + unified_diff("c.txt", "c\n", "C\n")
    )
    return patched_now(writable.safety, patch, isolated_env)


def _fail_writing(monkeypatch: pytest.MonkeyPatch, path: str, error: BaseException) -> None:
    """Make `SafetyPolicy.write` of `path` (with the patch's text) raise, as a full disk or a swapped path would."""
    real = SafetyPolicy.write

    def write(self: SafetyPolicy, target: str | Path, text: str | None, *, decision: WriteDecision) -> WriteResult:
        if str(target) == path and text is not None and text.isupper():
            raise error
        return real(self, target, text, decision=decision)

    monkeypatch.setattr(SafetyPolicy, "write", write)


def test_every_file_is_written(isolated_env: Path, writable: Runtime, three: list[PatchedFile]) -> None:
    applied = apply_patch_with_restore(writable.safety, three, asked(writable))
    assert (applied.status, applied.written, applied.restore.problems) == (
        "applied",
        ("a.txt", "b.txt", "c.txt"),
        (),
    )
    assert [(isolated_env / name).read_text() for name in ("a.txt", "b.txt", "c.txt")] == ["A\n", "B\n", "C\n"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), PolicyViolation("no", rule="x.y")])
def test_a_write_failure_midway_restores_every_earlier_file(
    isolated_env: Path,
    writable: Runtime,
    three: list[PatchedFile],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    _fail_writing(monkeypatch, "c.txt", error)
    applied = apply_patch_with_restore(writable.safety, three, asked(writable))
    assert applied.status == "failed" and applied.detail.startswith("writing 'c.txt' failed:")
    assert applied.written == ("a.txt", "b.txt") and applied.restore.restored == ("a.txt", "b.txt")
    assert applied.restore.problems == ()
    assert (isolated_env / "a.txt").read_text() == "a\n" and (isolated_env / "c.txt").read_text() == "c\n"
    assert not (isolated_env / "b.txt").exists()


def test_an_interruption_midway_restores_and_goes_on(
    isolated_env: Path, writable: Runtime, three: list[PatchedFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_writing(monkeypatch, "b.txt", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        apply_patch_with_restore(writable.safety, three, asked(writable))
    assert (isolated_env / "a.txt").read_text() == "a\n" and not (isolated_env / "b.txt").exists()


def test_a_file_changed_since_the_check_means_nothing_is_written(
    isolated_env: Path, writable: Runtime, three: list[PatchedFile]
) -> None:
    (isolated_env / "c.txt").write_text("someone else\n")
    applied = apply_patch_with_restore(writable.safety, three, asked(writable), backup_dir=isolated_env / "backup")
    assert (applied.status, applied.written) == ("stale", ())
    assert applied.detail == "c.txt changed since the patch was checked; nothing written"
    assert (isolated_env / "a.txt").read_text() == "a\n" and not (isolated_env / "backup").exists()


def test_originals_are_backed_up_except_secret_ones(isolated_env: Path, writable: Runtime) -> None:
    (isolated_env / "plain.py").write_text("x = 1\n")
    (isolated_env / "keys.py").write_text(SECRET)
    patch = unified_diff("plain.py", "x = 1\n", "x = 2\n") + unified_diff("keys.py", SECRET, SECRET + "y = 2\n")
    backup = isolated_env / "backup"
    applied = apply_patch_with_restore(
        writable.safety, patched_now(writable.safety, patch, isolated_env), asked(writable), backup_dir=backup
    )
    assert applied.applied and (backup / "files" / "plain.py").read_text() == "x = 1\n"
    assert not (backup / "files" / "keys.py").exists()
    assert applied.warnings == ("'keys.py' holds a secret-shaped value: its backup is kept in memory only",)
    assert '"plain.py": true' in (backup / "manifest.json").read_text()


def test_a_restore_leaves_a_file_someone_else_changed(
    isolated_env: Path, writable: Runtime, three: list[PatchedFile]
) -> None:
    applied = apply_patch_with_restore(writable.safety, three, asked(writable))
    (isolated_env / "a.txt").write_text("edited meanwhile\n")
    restore = restore_originals(writable.safety, three, applied.written, asked(writable))
    assert restore.restored == ("b.txt", "c.txt")
    assert restore.problems == ("'a.txt' changed during the run; left as it is",)
    assert (isolated_env / "a.txt").read_text() == "edited meanwhile\n" and not (isolated_env / "b.txt").exists()


def test_in_dry_run_nothing_is_written(isolated_env: Path, runtime: Runtime, three: list[PatchedFile]) -> None:
    applied = apply_patch_with_restore(runtime.safety, three, asked(runtime))
    assert applied.written == () and applied.detail.startswith("nothing written: dry-run:")
    assert (isolated_env / "a.txt").read_text() == "a\n"

"""Write policy, unified diffs and safe writes: dry-run touches nothing, writes are atomic and symlink-safe."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
from pathlib import Path

import pytest
from unidiff.patch import PatchSet

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import NotFoundError, PolicyViolation
from agent_orchestrator.policies import paths
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.writes import (
    WriteDecision,
    WritePolicy,
    safe_delete,
    safe_write_text,
    unified_diff,
    write_or_preview,
)

WRITE = WriteDecision("write", "test: writes allowed")
DRY_RUN = WriteDecision("dry_run", "test: dry-run")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("one\ntwo\nthree\n")
    (tmp_path / "outside").mkdir()
    return root


@pytest.fixture
def policy(root: Path) -> PathPolicy:
    return PathPolicy(root)


def leftovers(directory: Path) -> list[str]:
    """Temp files a write left behind anywhere under `directory`."""
    return [str(p) for p in directory.rglob("*.ao-tmp")]


# WritePolicy


@pytest.mark.parametrize(("requested", "dry_run", "allow_write"), list(itertools.product([True, False], repeat=3)))
def test_write_happens_only_when_all_three_agree(requested: bool, dry_run: bool, allow_write: bool) -> None:
    decision = WritePolicy(dry_run=dry_run, allow_write=allow_write).decide(requested)
    expected_write = requested and allow_write and not dry_run
    assert decision.mode == ("write" if expected_write else "dry_run")
    assert decision.allowed is expected_write
    if not expected_write:
        assert decision.reason.startswith("dry-run: ")
        assert ("AO_DRY_RUN is true" in decision.reason) is dry_run
        assert ("AO_ALLOW_WRITE is false" in decision.reason) is not allow_write
        assert ("did not ask to write" in decision.reason) is not requested


def test_dry_run_reason_says_what_to_set() -> None:
    reason = WritePolicy(dry_run=True, allow_write=False).decide(True).reason
    assert reason == (
        "dry-run: AO_DRY_RUN is true; AO_ALLOW_WRITE is false (to write, set AO_DRY_RUN=false and set AO_ALLOW_WRITE=true)"
    )


def test_policy_from_default_settings_is_dry_run() -> None:
    policy = WritePolicy.from_settings(Settings())
    assert policy == WritePolicy(dry_run=True, allow_write=False)
    assert policy.decide(True).mode == "dry_run"


def test_policy_from_permissive_settings_writes() -> None:
    policy = WritePolicy.from_settings(Settings(ao_dry_run=False, ao_allow_write=True))
    assert policy.decide(True).mode == "write"


# unified_diff


def test_diff_of_modified_file_has_prefixes_and_hunk() -> None:
    diff = unified_diff("src/a.py", "one\ntwo\n", "one\nTWO\n")
    assert diff == "--- a/src/a.py\n+++ b/src/a.py\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"


def test_diff_of_new_file_is_from_dev_null() -> None:
    patch = PatchSet(unified_diff("new.py", None, "x = 1\n"))
    assert patch[0].is_added_file
    assert patch[0].added == 1


def test_diff_of_deleted_file_is_to_dev_null() -> None:
    patch = PatchSet(unified_diff("old.py", "a\nb\n", None))
    assert patch[0].is_removed_file
    assert patch[0].removed == 2


def test_identical_content_has_empty_diff() -> None:
    assert unified_diff("a.py", "same\n", "same\n") == ""


def test_diff_marks_missing_final_newline() -> None:
    diff = unified_diff("a.txt", "a\nb", "a\nc")
    assert diff.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")


def test_diff_splits_only_on_newline() -> None:
    diff = unified_diff("a.txt", "x\x0cy\n", "x\x0cz\n")
    assert "-x\x0cy\n+x\x0cz\n" in diff


def test_diff_applies_with_patch_tool(tmp_path: Path) -> None:
    before, after = "keep\nold\nend", "keep\nnew\nend\nmore"
    (tmp_path / "f.txt").write_text(before)
    diff = unified_diff("f.txt", before, after)
    subprocess.run(["patch", "-p1", "--quiet"], input=diff, text=True, cwd=tmp_path, check=True)
    assert (tmp_path / "f.txt").read_text() == after


# write_or_preview


def test_dry_run_previews_diff_and_leaves_file_untouched(policy: PathPolicy, root: Path) -> None:
    target = root / "src" / "a.py"
    before_bytes, before_mtime = target.read_bytes(), target.stat().st_mtime_ns
    result = write_or_preview(policy, DRY_RUN, "src/a.py", "one\n2\nthree\n")
    assert (result.path, result.mode, result.written) == ("src/a.py", "dry_run", False)
    assert "-two\n+2\n" in result.diff
    assert target.read_bytes() == before_bytes
    assert target.stat().st_mtime_ns == before_mtime


def test_dry_run_of_new_file_creates_nothing(policy: PathPolicy, root: Path) -> None:
    result = write_or_preview(policy, DRY_RUN, "new/dir/file.py", "x = 1\n")
    assert result.diff.startswith("--- /dev/null\n+++ b/new/dir/file.py\n")
    assert not (root / "new").exists()


def test_allowed_write_applies_change(policy: PathPolicy, root: Path) -> None:
    result = write_or_preview(policy, WRITE, "./src/a.py", "one\n2\nthree\n")
    assert (result.mode, result.written) == ("write", True)
    assert (root / "src" / "a.py").read_text() == "one\n2\nthree\n"


def test_allowed_write_of_same_content_writes_nothing(policy: PathPolicy, root: Path) -> None:
    mtime = (root / "src" / "a.py").stat().st_mtime_ns
    result = write_or_preview(policy, WRITE, "src/a.py", "one\ntwo\nthree\n")
    assert (result.diff, result.written) == ("", False)
    assert (root / "src" / "a.py").stat().st_mtime_ns == mtime


def test_delete_is_previewed_then_applied(policy: PathPolicy, root: Path) -> None:
    preview = write_or_preview(policy, DRY_RUN, "src/a.py", None)
    assert preview.diff.startswith("--- a/src/a.py\n+++ /dev/null\n")
    assert (root / "src" / "a.py").exists()
    write_or_preview(policy, WRITE, "src/a.py", None)
    assert not (root / "src" / "a.py").exists()


def test_preview_refuses_file_too_large_to_diff(policy: PathPolicy) -> None:
    with pytest.raises(PolicyViolation) as caught:
        write_or_preview(policy, DRY_RUN, "src/a.py", "x", max_bytes=4)
    assert caught.value.rule == "write.too_large"


def test_preview_refuses_secret_path_even_when_writes_allowed(policy: PathPolicy, root: Path) -> None:
    with pytest.raises(PolicyViolation) as caught:
        write_or_preview(policy, WRITE, ".env", "KEY=x\n")
    assert caught.value.rule == "path.env_file"
    assert not (root / ".env").exists()


# safe_write_text


def test_write_creates_new_file_in_new_dirs_with_default_mode(policy: PathPolicy, root: Path) -> None:
    written = safe_write_text(policy, "new/dir/file.py", "x = 1\n")
    assert written == root / "new" / "dir" / "file.py"
    assert written.read_text() == "x = 1\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert leftovers(root) == []


@pytest.mark.parametrize("mode", [0o600, 0o755, 0o640])
def test_overwrite_preserves_file_mode(policy: PathPolicy, root: Path, mode: int) -> None:
    target = root / "src" / "a.py"
    target.chmod(mode)
    safe_write_text(policy, "src/a.py", "changed\n")
    assert target.read_text() == "changed\n"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_write_keeps_bytes_exactly(policy: PathPolicy, root: Path) -> None:
    safe_write_text(policy, "src/crlf.txt", "a\r\nb\r\nünï")
    assert (root / "src" / "crlf.txt").read_bytes() == "a\r\nb\r\nünï".encode()


@pytest.mark.parametrize("failing", ["fsync", "replace", "fchmod"])
def test_failed_write_leaves_original_and_no_temp_file(
    policy: PathPolicy, root: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        safe_write_text(policy, "src/a.py", "half-written\n")
    monkeypatch.undo()
    assert (root / "src" / "a.py").read_text() == "one\ntwo\nthree\n"
    assert leftovers(root) == []


def test_write_through_symlink_inside_root_updates_real_file(policy: PathPolicy, root: Path) -> None:
    (root / "link.py").symlink_to("src/a.py")
    assert safe_write_text(policy, "link.py", "via link\n") == root / "src" / "a.py"
    assert (root / "src" / "a.py").read_text() == "via link\n"
    assert (root / "link.py").is_symlink()


@pytest.mark.parametrize(("requested", "rule"), [(".env", "path.env_file"), ("../x", "path.traversal")])
def test_write_refuses_policy_violations(policy: PathPolicy, root: Path, requested: str, rule: str) -> None:
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, requested, "x")
    assert caught.value.rule == rule
    assert not (root / ".env").exists()
    assert not (root.parent / "x").exists()


def test_parent_swapped_for_symlink_after_check_is_refused(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = PathPolicy.resolve_write

    def resolve_then_swap(self: PathPolicy, path: str | Path) -> Path:
        checked = original(self, path)
        (root / "src").rename(root / "src-moved")
        (root / "src").symlink_to(tmp_path / "outside")
        return checked

    monkeypatch.setattr(PathPolicy, "resolve_write", resolve_then_swap)
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, "src/a.py", "pwned\n")
    assert caught.value.rule == "path.changed"
    assert list((tmp_path / "outside").iterdir()) == []


def test_missing_parent_swapped_for_symlink_before_creation_is_refused(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = PathPolicy.resolve_write

    def resolve_then_plant(self: PathPolicy, path: str | Path) -> Path:
        checked = original(self, path)
        (root / "new").symlink_to(tmp_path / "outside")
        return checked

    monkeypatch.setattr(PathPolicy, "resolve_write", resolve_then_plant)
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, "new/file.py", "pwned\n")
    assert caught.value.rule == "path.changed"
    assert list((tmp_path / "outside").iterdir()) == []


def test_target_swapped_for_symlink_is_replaced_not_followed(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "outside" / "victim.txt"
    victim.write_text("original\n")
    original = PathPolicy.resolve_write

    def resolve_then_link(self: PathPolicy, path: str | Path) -> Path:
        checked = original(self, path)
        (root / "src" / "a.py").unlink()
        (root / "src" / "a.py").symlink_to(victim)
        return checked

    monkeypatch.setattr(PathPolicy, "resolve_write", resolve_then_link)
    safe_write_text(policy, "src/a.py", "new\n")
    assert victim.read_text() == "original\n"
    assert not (root / "src" / "a.py").is_symlink()
    assert (root / "src" / "a.py").read_text() == "new\n"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")
def test_directory_moved_out_of_root_after_open_is_refused(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dir fd is re-verified: a directory renamed outside the root between open and write is refused."""
    real_open = os.open

    def open_then_move(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        fd = real_open(path, flags, mode, dir_fd=dir_fd)
        if path == "src" and dir_fd is not None:
            (root / "src").rename(tmp_path / "outside" / "src")
        return fd

    monkeypatch.setattr(os, "open", open_then_move)
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, "src/a.py", "pwned\n")
    monkeypatch.undo()
    assert caught.value.rule == "path.changed"
    assert (tmp_path / "outside" / "src" / "a.py").read_text() == "one\ntwo\nthree\n"
    assert leftovers(tmp_path) == []


# safe_delete


def test_delete_removes_file(policy: PathPolicy, root: Path) -> None:
    assert safe_delete(policy, "src/a.py") == root / "src" / "a.py"
    assert not (root / "src" / "a.py").exists()


@pytest.mark.parametrize("requested", ["src/missing.py", "nodir/missing.py"])
def test_delete_of_missing_file_is_not_found(policy: PathPolicy, requested: str) -> None:
    with pytest.raises(NotFoundError):
        safe_delete(policy, requested)


def test_delete_refuses_git_internals(policy: PathPolicy, root: Path) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    with pytest.raises(PolicyViolation) as caught:
        safe_delete(policy, ".git/HEAD")
    assert caught.value.rule == "path.git_internals"
    assert (root / ".git" / "HEAD").exists()


def test_symlink_swap_is_refused_even_without_proc_verification(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The O_NOFOLLOW walk alone refuses a swapped parent (as on macOS, which has no /proc/self/fd)."""
    monkeypatch.setattr(paths, "_verify_dir_fd", lambda fd, expected: None)
    original = PathPolicy.resolve_write

    def resolve_then_swap(self: PathPolicy, path: str | Path) -> Path:
        checked = original(self, path)
        (root / "src").rename(root / "src-moved")
        (root / "src").symlink_to(tmp_path / "outside")
        return checked

    monkeypatch.setattr(PathPolicy, "resolve_write", resolve_then_swap)
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, "src/a.py", "pwned\n")
    assert caught.value.rule == "path.changed"
    assert list((tmp_path / "outside").iterdir()) == []


@pytest.mark.parametrize("replacement", ["directory", "symlink"])
def test_root_replaced_after_construction_is_refused(
    policy: PathPolicy, root: Path, tmp_path: Path, replacement: str
) -> None:
    root.rename(tmp_path / "repo-old")
    if replacement == "directory":
        root.mkdir()
    else:
        root.symlink_to(tmp_path / "outside")
    with pytest.raises(PolicyViolation) as caught:
        safe_write_text(policy, "a.txt", "x\n")
    assert caught.value.rule == "path.changed"
    assert list((tmp_path / "outside").iterdir()) == []

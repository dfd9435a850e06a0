"""Where the platform lacks a POSIX call the policy needs, the operation is refused, never left unchecked.

Each capability is switched off (the flag, or the `os` attribute it is probed from) and the
operation that needs it must raise the clear refusal and touch nothing. Importing the package
without those attributes must not fail: the server starts and answers on Windows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import AuditTrail
from saved_profiles import make_profile

from agent_orchestrator.config import load_settings
from agent_orchestrator.errors import PolicyViolation, StoreError
from agent_orchestrator.policies import platform
from agent_orchestrator.policies.commands import ParsedCommand
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import run_command
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.policies.writes import WriteDecision, safe_delete, safe_write_text
from agent_orchestrator.store import atomic
from agent_orchestrator.store.profiles import ProfileStore

ROOT = Path(__file__).resolve().parents[2]
WRITE = WriteDecision("write", "write: test")


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with a file's content (None for a directory)."""
    return {
        str(path.relative_to(root)): (path.read_bytes() if path.is_file() else None) for path in root.rglob("*")
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    return root


@pytest.fixture
def safety(workspace: Path) -> tuple[SafetyPolicy, AuditTrail]:
    settings = load_settings(
        ao_workspace_root=workspace, ao_dry_run=False, ao_allow_write=True, ao_allowed_commands=["git --version"]
    )
    audit = AuditTrail()
    return SafetyPolicy.create(settings, Redactor(), audit), audit


# --- the probes -------------------------------------------------------------------------------


def test_this_platform_has_every_capability() -> None:
    """The suite runs on Linux or macOS, where nothing is refused for lack of a call."""
    assert platform.capabilities() == {"SUPPORTS_NOFOLLOW_DIR_FDS": True, "SUPPORTS_PROCESS_GROUPS": True}
    assert atomic.SUPPORTS_FLOCK


@pytest.mark.parametrize("name", ["O_NOFOLLOW", "O_DIRECTORY", "O_CLOEXEC", "fchmod"])
def test_a_missing_open_flag_turns_no_follow_opens_off(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, name)
    assert not platform.nofollow_dir_fds_supported()


def test_no_dir_fd_support_turns_no_follow_opens_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "supports_dir_fd", {os.stat, os.mkdir})  # Windows: none at all
    assert not platform.nofollow_dir_fds_supported()


@pytest.mark.parametrize(
    ("module", "name"), [(os, "killpg"), (os, "setsid"), (os, "getpgid"), (signal, "SIGKILL")]
)
def test_a_missing_process_call_turns_process_groups_off(
    module: object, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(module, name)
    assert not platform.process_groups_supported()


def test_windows_has_neither(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "name", "nt")
    assert not platform.nofollow_dir_fds_supported()
    assert not platform.process_groups_supported()


def test_a_blocked_fcntl_turns_file_locks_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)
    assert not atomic.flock_supported()


# --- reads and writes of workspace files --------------------------------------------------------


@pytest.fixture
def no_nofollow(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Windows: the flags are gone and the capability re-evaluated from them."""
    monkeypatch.delattr(os, "O_NOFOLLOW")
    monkeypatch.setattr(platform, "SUPPORTS_NOFOLLOW_DIR_FDS", platform.nofollow_dir_fds_supported())


@pytest.mark.usefixtures("no_nofollow")
def test_reading_a_workspace_file_is_refused(safety: tuple[SafetyPolicy, AuditTrail]) -> None:
    policy, audit = safety
    with pytest.raises(PolicyViolation, match=r"cannot open files without following symlinks.*WSL") as refused:
        policy.read_file("src/app.py", max_bytes=1000)
    assert refused.value.rule == "platform.no_nofollow"
    assert audit.records == [("path", "refused", "platform.no_nofollow")]


@pytest.mark.usefixtures("no_nofollow")
def test_reading_a_missing_file_is_refused_not_reported_missing(workspace: Path) -> None:
    with pytest.raises(PolicyViolation) as refused:
        PathPolicy(workspace).read_text("src/nope.py", max_bytes=10)
    assert refused.value.rule == "platform.no_nofollow"


@pytest.mark.usefixtures("no_nofollow")
@pytest.mark.parametrize(
    ("path", "text"), [("src/app.py", "changed\n"), ("new/dir/file.py", "x\n"), ("src/app.py", None)]
)
def test_writing_a_workspace_file_is_refused_and_touches_nothing(
    path: str, text: str | None, workspace: Path, safety: tuple[SafetyPolicy, AuditTrail]
) -> None:
    policy, audit = safety
    before = snapshot(workspace)
    with pytest.raises(PolicyViolation, match=r"reads and writes of workspace files are refused") as refused:
        policy.write(path, text, decision=WRITE)
    assert refused.value.rule == "platform.no_nofollow"
    assert audit.records == [("write", "refused", "platform.no_nofollow")]
    assert snapshot(workspace) == before


@pytest.mark.usefixtures("no_nofollow")
def test_the_low_level_writes_refuse_too(workspace: Path) -> None:
    policy = PathPolicy(workspace)
    before = snapshot(workspace)
    with pytest.raises(PolicyViolation, match="WSL"):
        safe_write_text(policy, "new/file.py", "x\n")
    with pytest.raises(PolicyViolation, match="WSL"):
        safe_delete(policy, "src/app.py")
    with pytest.raises(PolicyViolation, match="WSL"):
        policy.open_dir(workspace / "made", create=True)
    assert snapshot(workspace) == before


def test_resolving_and_name_checks_still_work(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only opening is refused: the server can still answer which paths the policy would refuse."""
    monkeypatch.setattr(platform, "SUPPORTS_NOFOLLOW_DIR_FDS", False)
    policy = PathPolicy(workspace)
    assert policy.resolve_read("src/app.py") == workspace.resolve() / "src" / "app.py"
    assert policy.sensitive_reason(".env") is not None


# --- commands ---------------------------------------------------------------------------------


@pytest.fixture
def no_process_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "killpg")
    monkeypatch.setattr(platform, "SUPPORTS_PROCESS_GROUPS", platform.process_groups_supported())


@pytest.mark.anyio
@pytest.mark.usefixtures("no_process_groups")
async def test_running_a_command_is_refused_and_it_never_starts(workspace: Path) -> None:
    marker = workspace / "marker"
    parsed = ParsedCommand(
        argv=("python", "-c", f"open({str(marker)!r}, 'w')"), program=sys.executable, rule="test"
    )
    with pytest.raises(PolicyViolation, match=r"no process groups.*commands are refused.*WSL") as refused:
        await run_command(parsed, cwd=workspace, redact=Redactor())
    assert refused.value.rule == "platform.no_process_groups"
    assert not marker.exists()


@pytest.mark.anyio
@pytest.mark.usefixtures("no_process_groups")
async def test_a_command_through_the_policy_is_refused_and_audited(
    safety: tuple[SafetyPolicy, AuditTrail],
) -> None:
    policy, audit = safety
    with pytest.raises(PolicyViolation) as refused:
        await policy.run("git --version")
    assert refused.value.rule == "platform.no_process_groups"
    assert audit.records == [("command", "refused", "platform.no_process_groups")]


# --- saving a profile --------------------------------------------------------------------------


def test_saving_a_profile_without_file_locks_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setattr(atomic, "SUPPORTS_FLOCK", atomic.flock_supported())
    state = tmp_path / "state"
    store = ProfileStore(state)
    with pytest.raises(StoreError, match=r"no file locks.*saving is refused.*WSL"):
        store.save(make_profile("litellm:qwen"))
    assert not store.path.exists()
    assert [path.name for path in state.iterdir()] == [".gitignore"]  # the state dir itself, no lock, no temp


def test_an_existing_profiles_file_is_left_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProfileStore(tmp_path / "state")
    store.save(make_profile("litellm:old"))
    before = snapshot(tmp_path / "state")
    monkeypatch.setattr(atomic, "SUPPORTS_FLOCK", False)
    with pytest.raises(StoreError):
        store.save(make_profile("litellm:new"))
    assert snapshot(tmp_path / "state") == before
    assert list(store.load()) == ["litellm:old"]  # reading needs no lock


# --- importing without the POSIX attributes ------------------------------------------------------

_IMPORT_WITHOUT_POSIX = """
import json, os, signal, sys, tempfile
from pathlib import Path
for name in ("O_NOFOLLOW", "O_DIRECTORY", "killpg"):
    delattr(os, name)
sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows

import agent_orchestrator.policies.safety
import agent_orchestrator.store.profiles
from agent_orchestrator.errors import PolicyViolation, StoreError
from agent_orchestrator.policies import platform
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.store import atomic
from agent_orchestrator.store.profiles import ProfileStore

out = {"capabilities": platform.capabilities(), "flock": atomic.SUPPORTS_FLOCK}
root = Path(tempfile.mkdtemp())
(root / "a.txt").write_text("a")
try:
    PathPolicy(root).read_text("a.txt", max_bytes=10)
except PolicyViolation as exc:
    out["read"] = exc.rule
try:
    ProfileStore(root / "state").save(None)
except StoreError as exc:
    out["save"] = "refused"
print(json.dumps(out))
"""


def test_the_package_imports_without_posix_attributes() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITHOUT_POSIX],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "capabilities": {"SUPPORTS_NOFOLLOW_DIR_FDS": False, "SUPPORTS_PROCESS_GROUPS": False},
        "flock": False,
        "read": "platform.no_nofollow",
        "save": "refused",
    }

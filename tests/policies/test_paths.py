"""PathPolicy: hostile paths are refused with the right rule, ordinary ones resolve inside the root."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_orchestrator.errors import NotFoundError, PolicyViolation, UsageError
from agent_orchestrator.policies.paths import PathPolicy


def make_workspace(base: Path) -> Path:
    """A repo root with hostile neighbours: a sibling `repo-evil`, an `outside` dir and symlinks to both."""
    root = base / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("print('a')\n")
    (root / "src" / "b.py").write_text("print('b')\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".env").write_text("OPENAI_API_KEY=sk-test\n")
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text("outside\n")
    (base / "repo-evil").mkdir()
    (base / "repo-evil" / "x.txt").write_text("evil\n")
    (root / "escape").symlink_to(base / "outside" / "secret.txt")
    (root / "notes.txt").symlink_to(".env")
    (root / "linkdir").symlink_to(base / "outside")
    (root / "src" / "up").symlink_to("../../outside")
    (root / "dangling.txt").symlink_to(base / "outside" / "new.txt")
    (root / "loop").symlink_to("loop")
    (root / "docs").mkdir()
    (root / "docs" / "link.py").symlink_to("../src/a.py")
    return root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_workspace(tmp_path)


@pytest.fixture
def policy(root: Path) -> PathPolicy:
    return PathPolicy(root)


HOSTILE: list[tuple[str, str]] = [
    ("../outside.txt", "path.traversal"),
    ("a/../../x", "path.traversal"),
    ("src/../src/a.py", "path.traversal"),
    ("{root}/../repo-evil/x.txt", "path.traversal"),
    ("..\\..\\x", "path.traversal"),
    ("/etc/passwd", "path.outside_root"),
    ("{tmp}/repo-evil/x.txt", "path.outside_root"),
    ("{tmp}/repo-evil", "path.outside_root"),
    ("escape", "path.outside_root"),
    ("linkdir/new.txt", "path.outside_root"),
    ("src/up/secret.txt", "path.outside_root"),
    ("dangling.txt", "path.outside_root"),
    (".git/config", "path.git_internals"),
    ("sub/.git/hooks/pre-commit", "path.git_internals"),
    (".GIT/config", "path.git_internals"),
    (".git./config", "path.git_internals"),
    (".git\\config", "path.git_internals"),
    ("{root}/.git/config", "path.git_internals"),
    (".env", "path.env_file"),
    (".env.local", "path.env_file"),
    ("config/.env.production", "path.env_file"),
    (".ENV", "path.env_file"),
    (".envrc", "path.env_file"),
    (".env.example", "path.env_file"),
    (".\uff45\uff4e\uff56", "path.env_file"),
    ("notes.txt", "path.env_file"),
    ("id_rsa", "path.secret_file"),
    ("home/ID_ED25519.pub", "path.secret_file"),
    ("keys/server.pem", "path.secret_file"),
    ("tls/site.key", "path.secret_file"),
    ("TLS/SITE.KEY", "path.secret_file"),
    ("certs/ca.crt", "path.secret_file"),
    ("store.p12", "path.secret_file"),
    (".ssh/authorized_keys", "path.secret_file"),
    (".netrc", "path.secret_file"),
    ("deploy/.npmrc", "path.secret_file"),
    ("vault.kdbx", "path.secret_file"),
    (".ao/worker-profiles.json", "path.state_dir"),
    ("sub/.ao/x", "path.state_dir"),
    (".AO/x", "path.state_dir"),
    ("a\x00b", "path.control_char"),
    ("a\nb.py", "path.control_char"),
    ("a\x1b[31m.py", "path.control_char"),
    ("evil\u202etxt.py", "path.control_char"),
    (".g\u200cit/config", "path.control_char"),
    ("", "path.empty"),
    ("   ", "path.empty"),
    ("a/" * 3000, "path.too_long"),
    ("x" * 300, "path.too_long"),
    ("src/a.py/x", "path.not_a_file"),
    ("loop/x", "path.unresolvable"),
]


@pytest.mark.parametrize("method", ["resolve_read", "resolve_write"])
@pytest.mark.parametrize(("requested", "rule"), HOSTILE)
def test_hostile_path_is_refused_with_rule(
    policy: PathPolicy, root: Path, method: str, requested: str, rule: str
) -> None:
    path = requested.format(root=root, tmp=root.parent) if "{" in requested else requested
    with pytest.raises(PolicyViolation) as caught:
        getattr(policy, method)(path)
    assert caught.value.rule == rule


def test_hostile_table_is_large_and_covers_every_rule() -> None:
    rules = {rule for _, rule in HOSTILE}
    assert len(HOSTILE) >= 20
    assert rules >= {
        "path.traversal",
        "path.outside_root",
        "path.git_internals",
        "path.env_file",
        "path.secret_file",
        "path.state_dir",
        "path.control_char",
        "path.empty",
        "path.too_long",
    }


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("src/a.py", "src/a.py"),
        ("./src/b.py", "src/b.py"),
        ("src//a.py", "src/a.py"),
        ("{root}/src/a.py", "src/a.py"),
        ("docs/link.py", "src/a.py"),
        ("new/dir/file.py", "new/dir/file.py"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        (".gitignore", ".gitignore"),
        ("environment.py", "environment.py"),
        ("src/keys.py", "src/keys.py"),
        ("docs/ünïcode.md", "docs/ünïcode.md"),
    ],
)
def test_ordinary_path_resolves_inside_root(policy: PathPolicy, root: Path, requested: str, expected: str) -> None:
    path = requested.format(root=root)
    assert policy.resolve_write(path) == root / expected
    assert policy.resolve_read(Path(path)) == root / expected


def test_root_itself_is_readable_but_not_writable(policy: PathPolicy, root: Path) -> None:
    assert policy.resolve_read(".") == root
    with pytest.raises(PolicyViolation) as caught:
        policy.resolve_write(".")
    assert caught.value.rule == "path.not_a_file"


def test_existing_directory_is_not_a_write_target(policy: PathPolicy) -> None:
    with pytest.raises(PolicyViolation) as caught:
        policy.resolve_write("src")
    assert caught.value.rule == "path.not_a_file"


def test_root_given_through_symlink_is_resolved(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    policy = PathPolicy(alias)
    assert policy.root == root
    assert policy.resolve_read(f"{alias}/src/a.py") == root / "src" / "a.py"


def test_custom_state_dir_name_is_refused(root: Path) -> None:
    policy = PathPolicy(root, state_dir_name=".orchestrator")
    with pytest.raises(PolicyViolation) as caught:
        policy.resolve_read(".orchestrator/runs.db")
    assert caught.value.rule == "path.state_dir"
    assert policy.resolve_read(".ao/x") == root / ".ao" / "x"


@pytest.mark.parametrize("make", ["missing", "file"])
def test_root_must_be_an_existing_directory(tmp_path: Path, make: str) -> None:
    candidate = tmp_path / "root"
    if make == "file":
        candidate.write_text("x")
    with pytest.raises(PolicyViolation) as caught:
        PathPolicy(candidate)
    assert caught.value.rule == "path.root"


def test_state_dir_name_must_be_one_component(root: Path) -> None:
    with pytest.raises(UsageError):
        PathPolicy(root, state_dir_name="a/b")


def test_refusal_message_names_the_path_and_the_resolved_target(policy: PathPolicy) -> None:
    with pytest.raises(PolicyViolation) as caught:
        policy.resolve_read("notes.txt")
    assert "'notes.txt'" in str(caught.value)
    assert "resolves to '.env'" in str(caught.value)


# read_text


def test_read_text_returns_whole_small_file(policy: PathPolicy, root: Path) -> None:
    read = policy.read_text("src/a.py", max_bytes=1000)
    assert (read.path, read.text, read.truncated, read.size) == (root / "src" / "a.py", "print('a')\n", False, 11)


def test_read_text_truncates_without_splitting_a_character(policy: PathPolicy, root: Path) -> None:
    (root / "u.txt").write_text("aé" * 10, encoding="utf-8")  # 30 bytes
    read = policy.read_text("u.txt", max_bytes=5)  # "aéa" is 4 bytes, the next é is cut
    assert (read.text, read.truncated, read.size) == ("aéa", True, 30)


def test_read_text_replaces_invalid_utf8(policy: PathPolicy, root: Path) -> None:
    (root / "latin.txt").write_bytes(b"caf\xe9\n")
    assert policy.read_text("latin.txt", max_bytes=100).text == "caf\ufffd\n"


def test_read_text_refuses_binary(policy: PathPolicy, root: Path) -> None:
    (root / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(PolicyViolation, match="binary") as caught:
        policy.read_text("blob.bin", max_bytes=100)
    assert caught.value.rule == "path.binary"


def test_read_text_refuses_directory(policy: PathPolicy) -> None:
    with pytest.raises(PolicyViolation) as caught:
        policy.read_text("src", max_bytes=100)
    assert caught.value.rule == "path.not_a_file"


def test_read_text_refuses_fifo_without_blocking(policy: PathPolicy, root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(PolicyViolation) as caught:
        policy.read_text("pipe", max_bytes=100)
    assert caught.value.rule == "path.not_a_file"


@pytest.mark.parametrize("requested", ["missing.txt", "no/such/dir/file.txt"])
def test_read_text_of_missing_file_is_not_found(policy: PathPolicy, requested: str) -> None:
    with pytest.raises(NotFoundError, match=repr(requested)):
        policy.read_text(requested, max_bytes=100)


def test_read_text_follows_symlink_inside_root(policy: PathPolicy, root: Path) -> None:
    assert policy.read_text("docs/link.py", max_bytes=100).path == root / "src" / "a.py"


def test_read_text_refuses_secret_even_through_symlink(policy: PathPolicy) -> None:
    with pytest.raises(PolicyViolation) as caught:
        policy.read_text("notes.txt", max_bytes=100)
    assert caught.value.rule == "path.env_file"


def test_read_text_refuses_parent_swapped_for_symlink_after_check(
    policy: PathPolicy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "outside" / "a.py").write_text("stolen\n")
    original = PathPolicy.resolve_read

    def resolve_then_swap(self: PathPolicy, path: str | Path) -> Path:
        checked = original(self, path)
        (root / "src").rename(root / "src-moved")
        (root / "src").symlink_to(tmp_path / "outside")
        return checked

    monkeypatch.setattr(PathPolicy, "resolve_read", resolve_then_swap)
    with pytest.raises(PolicyViolation) as caught:
        policy.read_text("src/a.py", max_bytes=100)
    assert caught.value.rule == "path.changed"


# Property tests

SENSITIVE_EXACT = {".git", ".ao", ".ssh", ".netrc", ".npmrc"}
SENSITIVE_SUFFIXES = (".pem", ".key", ".crt", ".p12")


def looks_sensitive(name: str) -> bool:
    """An independent, simpler oracle for the names the policy must never admit."""
    folded = unicodedata.normalize("NFKC", name).casefold().rstrip(" .")
    return (
        folded in SENSITIVE_EXACT
        or folded.startswith((".env", "id_rsa", "id_ed25519"))
        or folded.endswith(SENSITIVE_SUFFIXES)
    )


SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "src",
            "a.py",
            "new",
            "..",
            ".",
            "",
            ".git",
            ".Git",
            ".git.",
            ".env",
            ".env.local",
            ".ENVRC",
            "id_rsa",
            "k.pem",
            "K.KEY",
            ".ao",
            ".ssh",
            "ünï",
            "ﬁle",
            "escape",
            "linkdir",
            "notes.txt",
            "docs",
            "link.py",
            "src/up",
            "loop",
            "\\",
            "..\\",
            "\x00",
            "\u202e",
            "\udcff",
        ]
    ),
    st.text(max_size=6),
)
RELATIVE_PATHS = st.lists(SEGMENTS, max_size=8).map("/".join)
ANY_PATH = st.one_of(RELATIVE_PATHS, RELATIVE_PATHS.map(lambda p: "/" + p), st.text(max_size=300))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requested=ANY_PATH)
def test_resolve_write_only_admits_safe_paths_inside_root(policy: PathPolicy, root: Path, requested: str) -> None:
    try:
        resolved = policy.resolve_write(requested)
    except PolicyViolation:
        return
    assert resolved.is_relative_to(root)
    assert not any(looks_sensitive(part) for part in resolved.relative_to(root).parts)
    assert not any(looks_sensitive(part) for part in requested.replace("\\", "/").split("/"))
    assert ".." not in requested.replace("\\", "/").split("/")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requested=ANY_PATH)
def test_resolve_read_raises_nothing_but_policy_violation(policy: PathPolicy, root: Path, requested: str) -> None:
    try:
        resolved = policy.resolve_read(requested)
    except PolicyViolation as exc:
        assert exc.rule.startswith("path.")
    else:
        assert resolved.is_relative_to(root)


def test_root_under_a_sensitive_looking_dir_admits_absolute_paths(tmp_path: Path) -> None:
    """Only names inside the root count: a checkout kept under `~/.ao/` still works by absolute path."""
    root = tmp_path / ".ao" / "workspaces" / "repo"
    (root / "src").mkdir(parents=True)
    policy = PathPolicy(root)
    assert policy.resolve_write(f"{root}/src/a.py") == root / "src" / "a.py"
    assert policy.resolve_write("src/a.py") == root / "src" / "a.py"

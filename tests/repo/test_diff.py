"""Unified-diff parsing: real `git diff` output and hand-written edge cases."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_orchestrator.errors import UsageError
from agent_orchestrator.repo.diff import FileChange, ParsedDiff, parse_diff

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo: Path, *args: str) -> str:
    """Run git with no user or system configuration, so the diff format is git's default."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "core.autocrlf=false", *args]
    return subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose staged changes cover every kind of file change git reports."""
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    files: dict[str, bytes] = {
        "mod.py": b"".join(f"line{n}\n".encode() for n in range(1, 11)),
        "old_name.txt": b"a\nb\nc\nd\ne\nf\ng\nh\n",
        "moved.txt": b"unchanged content\nmore\n",
        "gone.txt": b"to delete\nbye\n",
        "nonl.txt": b"x\ny",
        "img.bin": b"\x00\x01\x02binary",
        "crlf.txt": b"keep\r\nme\r\nplease\r\n",
        "with space.txt": b"hello\n",
        "run.sh": b"#!/bin/sh\necho hi\n",
    }
    for name, content in files.items():
        (root / name).write_bytes(content)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    # line2 removed and L3 inserted after line3: old and new numbers differ from here on.
    (root / "mod.py").write_text(
        "".join(f"line{n}\n" for n in range(1, 11)).replace("line2\nline3\n", "line3\nL3\n") + "line11\n"
    )
    git(root, "mv", "old_name.txt", "new_name.txt")
    (root / "new_name.txt").write_bytes(b"a\nb\nc\nd\ne\nf\ng\nH\n")
    (root / "dir with space").mkdir()
    git(root, "mv", "moved.txt", "dir with space/moved.txt")
    git(root, "rm", "-q", "gone.txt")
    (root / "nonl.txt").write_bytes(b"x\nz")
    (root / "img.bin").write_bytes(b"\x00\x03\x04binary2")
    (root / "crlf.txt").write_bytes(b"keep\r\nyou\r\nplease\r\n")
    (root / "with space.txt").write_bytes(b"hello\nworld\n")
    (root / "run.sh").chmod(0o755)
    (root / "added.py").write_bytes(b"brand\nnew\n")
    (root / "new.bin").write_bytes(b"\x00\x00new")
    (root / "café.txt").write_bytes(b"caf\n")
    git(root, "add", "-A")
    return root


@pytest.fixture(scope="module")
def staged(repo: Path) -> ParsedDiff:
    return parse_diff(git(repo, "diff", "--cached", "-M"))


def change(diff: ParsedDiff, path: str) -> FileChange:
    found = diff.get_file(path)
    assert found is not None, f"{path!r} not in {[file.path for file in diff.files]}"
    return found


@needs_git
def test_modified_file_numbers_added_and_removed_lines_on_their_own_side(staged: ParsedDiff) -> None:
    mod = change(staged, "mod.py")
    assert (mod.status, mod.old_path) == ("modified", None)
    assert [(line.number, line.text) for hunk in mod.hunks for line in hunk.added] == [(3, "L3"), (11, "line11")]
    assert [(line.number, line.text) for hunk in mod.hunks for line in hunk.removed] == [(2, "line2")]
    assert (mod.added_count, mod.removed_count) == (2, 1)


@needs_git
def test_hunk_header_fields_are_kept(staged: ParsedDiff) -> None:
    first, second = change(staged, "mod.py").hunks
    assert (first.old_start, first.old_length, first.new_start, first.new_length) == (1, 6, 1, 6)
    assert [line.number for line in first.context] == [1, 2, 4, 5, 6]  # new-side numbers
    assert (second.old_start, second.old_length, second.new_start, second.new_length) == (8, 3, 8, 4)
    assert change(staged, "new_name.txt").hunks[0].section_header == "d"


@needs_git
def test_added_file_has_status_added_and_all_lines_added(staged: ParsedDiff) -> None:
    added = change(staged, "added.py")
    assert (added.status, added.old_mode, added.new_mode) == ("added", None, "100644")
    assert [line.text for line in added.hunks[0].added] == ["brand", "new"]


@needs_git
def test_deleted_file_keeps_its_path_and_removed_lines(staged: ParsedDiff) -> None:
    gone = change(staged, "gone.txt")
    assert (gone.status, gone.removed_count, gone.added_count) == ("deleted", 2, 0)
    assert [line.number for line in gone.hunks[0].removed] == [1, 2]


@needs_git
def test_rename_with_edits_has_old_path_and_similarity(staged: ParsedDiff) -> None:
    renamed = change(staged, "new_name.txt")
    assert (renamed.status, renamed.old_path, renamed.similarity) == ("renamed", "old_name.txt", 87)
    assert [(line.number, line.text) for line in renamed.hunks[0].added] == [(8, "H")]


@needs_git
def test_pure_rename_into_a_directory_with_a_space_has_no_hunks(staged: ParsedDiff) -> None:
    moved = change(staged, "dir with space/moved.txt")
    assert (moved.status, moved.old_path, moved.similarity, moved.hunks) == ("renamed", "moved.txt", 100, [])


@needs_git
def test_binary_changes_are_flagged_without_hunks(staged: ParsedDiff) -> None:
    image, new_binary = change(staged, "img.bin"), change(staged, "new.bin")
    assert (image.status, image.is_binary, image.hunks) == ("modified", True, [])
    assert (new_binary.status, new_binary.is_binary) == ("added", True)
    assert not change(staged, "mod.py").is_binary


@needs_git
def test_git_binary_patch_is_flagged_binary(repo: Path) -> None:
    text = git(repo, "diff", "--cached", "-M", "--binary")
    assert "GIT binary patch" in text
    diff = parse_diff(text)
    assert change(diff, "img.bin").is_binary
    assert change(diff, "new.bin").is_binary
    assert change(diff, "mod.py").added_count == 2, "files after the binary patch still parse"


@needs_git
def test_mode_change_without_content_records_both_modes(staged: ParsedDiff) -> None:
    script = change(staged, "run.sh")
    assert (script.status, script.old_mode, script.new_mode, script.hunks) == ("modified", "100644", "100755", [])


@needs_git
def test_no_newline_marker_is_not_a_line(staged: ParsedDiff) -> None:
    hunk = change(staged, "nonl.txt").hunks[0]
    assert [line.text for line in hunk.removed] == ["y"]
    assert [line.text for line in hunk.added] == ["z"]
    assert [line.text for line in hunk.context] == ["x"]


@needs_git
def test_crlf_file_content_loses_its_carriage_returns(staged: ParsedDiff) -> None:
    hunk = change(staged, "crlf.txt").hunks[0]
    assert [line.text for line in hunk.added] == ["you"]
    assert [line.text for line in hunk.context] == ["keep", "please"]


@needs_git
def test_path_with_spaces_is_whole(staged: ParsedDiff) -> None:
    assert change(staged, "with space.txt").added_count == 1


@needs_git
def test_quoted_non_ascii_path_is_unquoted(staged: ParsedDiff) -> None:
    assert change(staged, "café.txt").status == "added"


@needs_git
def test_paths_have_no_a_b_prefixes_and_totals_add_up(staged: ParsedDiff) -> None:
    assert all(not file.path.startswith(("a/", "b/")) for file in staged.files)
    assert staged.added_count == sum(file.added_count for file in staged.files) == 9
    assert staged.removed_count == sum(file.removed_count for file in staged.files) == 6


@needs_git
def test_worktree_diff_against_head(repo: Path) -> None:
    (repo / "added.py").write_bytes(b"brand\nnew\nmore\n")
    try:
        diff = parse_diff(git(repo, "diff", "HEAD", "--", "added.py"))
    finally:
        (repo / "added.py").write_bytes(b"brand\nnew\n")
    assert [(file.path, file.status, file.added_count) for file in diff.files] == [("added.py", "added", 3)]


@needs_git
def test_line_exists_for_added_and_context_lines_only(staged: ParsedDiff) -> None:
    assert staged.line_exists("mod.py", 3)  # added
    assert staged.line_exists("mod.py", 2)  # context, numbered on the new side
    assert staged.line_exists("./mod.py", 11)
    assert not staged.line_exists("mod.py", 40)  # outside every hunk
    assert not staged.line_exists("gone.txt", 1)  # deleted: no new side
    assert not staged.line_exists("elsewhere.py", 2)


def test_empty_diff_has_no_files() -> None:
    assert parse_diff("") == ParsedDiff(files=[], added_count=0, removed_count=0)
    assert parse_diff("\n  \n").files == []


def test_garbage_is_refused_with_what_was_expected() -> None:
    with pytest.raises(UsageError, match=r"not a unified diff.*expected `git diff` output"):
        parse_diff("Traceback (most recent call last):\n  oops\n")


def test_malformed_hunk_is_refused() -> None:
    with pytest.raises(UsageError, match=r"not a valid unified diff \(Hunk is shorter than expected\)"):
        parse_diff("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n")


def test_oversized_diff_is_refused_with_the_limit() -> None:
    with pytest.raises(UsageError, match="the limit is 100 bytes"):
        parse_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-" + "é" * 60 + "\n+b\n", max_bytes=100)


PLAIN_DIFF = (
    "diff -ru old/app.py new/app.py\n"
    "--- old/app.py\t2024-05-01 10:00:00.000000000 +0200\n"
    "+++ new/app.py\t2024-05-01 10:05:00.000000000 +0200\n"
    "@@ -3,4 +3,5 @@ def main():\n"
    "     x = 1\n"
    "-    y = 2\n"
    "+    y = 3\n"
    "+    z = 4\n"
    "     return x\n"
    " \n"
)


def test_plain_diff_ru_of_two_trees_names_the_file_once() -> None:
    diff = parse_diff(PLAIN_DIFF)
    (only,) = diff.files
    assert (only.path, only.status, only.old_path) == ("app.py", "modified", None)
    assert [(line.number, line.text) for line in only.hunks[0].added] == [(4, "    y = 3"), (5, "    z = 4")]
    assert only.hunks[0].section_header == "def main():"
    assert diff.line_exists("app.py", 7)  # the blank context line


def test_diff_saved_with_crlf_line_endings_parses_like_lf() -> None:
    text = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    assert parse_diff(text.replace("\n", "\r\n")) == parse_diff(text)
    assert parse_diff(text.replace("\n", "\r\n")).files[0].status == "modified"


def test_git_diff_of_a_once_empty_file_is_modified_not_added() -> None:
    text = (
        "diff --git a/e.txt b/e.txt\nindex e69de29..ce01362 100644\n--- a/e.txt\n+++ b/e.txt\n@@ -0,0 +1 @@\n+hi\n"
    )
    assert parse_diff(text).files[0].status == "modified"


def test_copy_is_reported_with_its_source() -> None:
    text = "diff --git a/a.py b/b.py\nsimilarity index 100%\ncopy from a.py\ncopy to b.py\n"
    (copied,) = parse_diff(text).files
    assert (copied.path, copied.old_path, copied.status, copied.similarity) == ("b.py", "a.py", "copied", 100)


def test_quoted_path_escapes_are_decoded() -> None:
    text = 'diff --git "a/t\\303\\251st\\tx.py" "b/t\\303\\251st\\tx.py"\nnew file mode 100644\nindex 0000000..1\n'
    assert [file.path for file in parse_diff(text).files] == ["tést\tx.py"]


def test_path_containing_space_b_slash_is_refused_not_misread() -> None:
    """unidiff 1.0.1 splits `diff --git a/x b/y.txt b/x b/y.txt` at the last ` b/`: a clear error, not a wrong path."""
    text = (
        "diff --git a/x b/y.txt b/x b/y.txt\nnew file mode 100644\nindex 0000000..45b983b\n"
        "--- /dev/null\n+++ b/x b/y.txt\t\n@@ -0,0 +1 @@\n+hi\n"
    )
    with pytest.raises(UsageError, match="Target without source"):
        parse_diff(text)


_DIFF_PIECES = st.sampled_from(
    [
        "diff --git a/x b/x\n",
        "--- a/x\n",
        "+++ b/x\n",
        "--- /dev/null\n",
        "+++ /dev/null\n",
        "@@ -1 +1 @@\n",
        "@@ -0,0 +1,2 @@ f\n",
        "+a\n",
        "-b\n",
        " c\n",
        "\\ No newline at end of file\n",
        "Binary files a/x and b/x differ\n",
        "GIT binary patch\n",
        "new file mode 100644\n",
        "rename from x\n",
        'diff --git "a/\\303" "b/\\9"\n',
        "\r\n",
        "junk\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.lists(_DIFF_PIECES, max_size=20).map("".join))
def test_parse_diff_raises_only_usage_errors(text: str) -> None:
    try:
        diff = parse_diff(text)
    except UsageError:
        return
    assert diff.added_count == sum(file.added_count for file in diff.files)

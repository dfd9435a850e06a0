"""Sensitive files' content is withheld from command output: diff sections and search lines, names kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.sensitive_output import unattributed_search, withhold_sensitive

SECRET = "canary-4b1d"
ENV_DIFF = (
    "diff --git a/.env b/.env\n"
    "new file mode 100644\n"
    "index 0000000..1111111\n"
    "--- /dev/null\n"
    "+++ b/.env\n"
    "@@ -0,0 +1,2 @@\n"
    f"+KEY={SECRET}\n"
    "+MODE=prod\n"
)
APP_DIFF = (
    "diff --git a/app.py b/app.py\n"
    "index 1111111..2222222 100644\n"
    "--- a/app.py\n"
    "+++ b/app.py\n"
    "@@ -1,2 +1,2 @@\n"
    " import os\n"
    "-x = 1\n"
    "+x = 2\n"
)


@pytest.fixture
def policy(tmp_path: Path) -> PathPolicy:
    return PathPolicy(tmp_path)


def test_a_sensitive_diff_section_becomes_one_line(policy: PathPolicy) -> None:
    result = withhold_sensitive(f"commit abc\n\n{ENV_DIFF}{APP_DIFF}", policy.sensitive_reason)
    assert SECRET not in result.text
    assert result.text == f"commit abc\n\n[withheld: diff of sensitive file '.env' (8 lines)]\n{APP_DIFF}"
    assert (result.paths, result.lines) == ((".env",), 8)


def test_ordinary_output_is_unchanged(policy: PathPolicy) -> None:
    listing = ".env\napp.py\nkeys/id_rsa\n A .env\n .env | 2 ++\n 1 file changed\n"
    for text in (APP_DIFF, listing, "", "no newline at end", "tests/test_a.py:5: AssertionError\n"):
        assert withhold_sensitive(text, policy.sensitive_reason).text == text


@pytest.mark.parametrize(
    "header",
    [
        "diff --git a/config/.env.local b/config/.env.local\n--- a/config/.env.local\n+++ b/config/.env.local\n",
        "diff --git a/notes.txt b/deploy/id_rsa\nsimilarity index 90%\nrename from notes.txt\nrename to deploy/id_rsa\n"
        "--- a/notes.txt\n+++ b/deploy/id_rsa\n",
        'diff --git "a/keys/\\303\\251 server.pem" "b/keys/\\303\\251 server.pem"\n',
        "diff --git .env .env\n--- .env\n+++ .env\n",
        "diff --cc .env\nindex 1,2..3\n",
        "--- .env\t2024-01-01\n+++ .env\t2024-01-02\n",
    ],
    ids=["nested", "renamed-to", "quoted", "no-prefix", "combined", "plain-unified"],
)
def test_sensitive_paths_are_found_in_every_header_form(header: str, policy: PathPolicy) -> None:
    hunk = "@@ -1 +1 @@\n-old\n" if not header.startswith("diff --cc") else "@@@ -1,1 -1,1 +1,1 @@@\n- old\n"
    text = f"{header}{hunk}+KEY={SECRET}\n{APP_DIFF}"
    result = withhold_sensitive(text, policy.sensitive_reason)
    assert SECRET not in result.text and result.text.endswith(APP_DIFF), result.text
    assert result.text.startswith("[withheld: diff of sensitive file ")


def test_binary_patch_is_withheld_whole(policy: PathPolicy) -> None:
    binary = "diff --git a/k.p12 b/k.p12\nnew file mode 100644\nindex 0..1\nGIT binary patch\nliteral 5\nMcmZQz\n\nliteral 0\nHcmV?d00001\n\n"
    result = withhold_sensitive(binary + APP_DIFF, policy.sensitive_reason)
    assert "McmZQz" not in result.text and result.text.endswith(APP_DIFF) and result.lines == 10


def test_colour_and_graph_prefixes_are_looked_through(policy: PathPolicy) -> None:
    coloured = "".join(f"\x1b[1m{line}\x1b[m\n" for line in ENV_DIFF.splitlines())
    graphed = "".join(f"| {line}\n" for line in ENV_DIFF.splitlines()) + "|\n* commit def\n"
    for text in (coloured, graphed):
        result = withhold_sensitive(text, policy.sensitive_reason)
        assert SECRET not in result.text and result.paths == (".env",), result.text
    assert withhold_sensitive(graphed, policy.sensitive_reason).text.endswith("|\n* commit def\n")


def test_a_hunk_that_cannot_be_followed_withholds_everything_after_it(policy: PathPolicy) -> None:
    word_diff = ENV_DIFF.replace(f"+KEY={SECRET}\n+MODE=prod\n", f"KEY=[-old-]{{+{SECRET}+}}\nMODE=prod\n")
    result = withhold_sensitive(word_diff + APP_DIFF, policy.sensitive_reason)
    assert SECRET not in result.text and "app.py" not in result.text
    assert "everything after it" in result.text and result.lines == len((word_diff + APP_DIFF).splitlines())


def test_content_cannot_fake_the_end_of_its_section(policy: PathPolicy) -> None:
    fake_end = "+\n+diff --git a/x b/x\n+--- a/x\n+@@ -1 +1 @@\n"
    sneaky = ENV_DIFF.replace("@@ -0,0 +1,2 @@", "@@ -0,0 +1,7 @@") + fake_end + f"+LEAK={SECRET}\n"
    result = withhold_sensitive(sneaky + APP_DIFF, policy.sensitive_reason)
    assert SECRET not in result.text and result.text.endswith(APP_DIFF) and result.lines == 13


def test_a_line_its_counts_do_not_allow_breaks_the_section(policy: PathPolicy) -> None:
    miscounted = ENV_DIFF.replace("+MODE=prod\n", f" LEAK={SECRET}\n")  # `-0,0`: no context line possible
    result = withhold_sensitive(miscounted + APP_DIFF, policy.sensitive_reason)
    assert SECRET not in result.text and "everything after it" in result.text and "app.py" not in result.text


def test_a_section_cut_by_the_output_cap_is_still_withheld(policy: PathPolicy) -> None:
    result = withhold_sensitive(APP_DIFF + ENV_DIFF[:-12], policy.sensitive_reason)
    assert result.text == APP_DIFF + "[withheld: diff of sensitive file '.env' (7 lines)]\n"


@pytest.mark.parametrize(
    "line",
    [
        f"./.env:KEY={SECRET}",
        f".env:3:KEY={SECRET}",
        f".env-4-KEY={SECRET}",
        f"deploy/id_rsa:{SECRET}",
        f"HEAD:.env:KEY={SECRET}",
        f"origin/main:config/.env:2:KEY={SECRET}",
        f"my secrets/.env:KEY={SECRET}",
        f"./.env\0KEY={SECRET}",
        f"./.ssh/config:Host {SECRET}",
        f"\x1b[35m./.env\x1b[m\x1b[36m:\x1b[mKEY={SECRET}",
        json.dumps({"type": "match", "data": {"path": {"text": "./.env"}, "lines": {"text": SECRET}}}),
    ],
)
def test_search_lines_from_sensitive_files_are_withheld_and_counted(line: str, policy: PathPolicy) -> None:
    text = f"src/app.py:1:ok\n{line}\n{line}\nREADME.md:2:fine\n"
    result = withhold_sensitive(text, policy.sensitive_reason)
    assert SECRET not in result.text and result.lines == 2
    lines = result.text.splitlines()
    assert lines[0] == "src/app.py:1:ok" and lines[2] == "README.md:2:fine"
    assert lines[1].startswith("[withheld: 2 lines from sensitive files ")


@pytest.mark.parametrize(
    "line",
    [
        "src/app.py:3:load_dotenv('.env')",
        "src/app.py:4:    path = 'keys/server.pem'",
        "docs/setup.md:7:copy .env.example to .env and fill it in",
        "Author: n <a@b>",
        "FAILED tests/test_env.py::test_load - assert 1 == 2",
    ],
)
def test_lines_that_only_mention_a_sensitive_name_pass(line: str, policy: PathPolicy) -> None:
    assert withhold_sensitive(line + "\n", policy.sensitive_reason).text == line + "\n"


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["grep", "-rh", "KEY", "."], True),
        (["grep", "--no-filename", "-r", "KEY", "."], True),
        (["grep", "-z", "-r", "KEY", "."], True),
        (["rg", "--heading", "KEY"], True),
        (["rg", "-p", "KEY"], True),
        (["rg", "-I", "KEY"], True),
        (["git", "grep", "-h", "KEY"], True),
        (["git", "grep", "--heading", "KEY"], True),
        (["grep", "-rn", "KEY", "."], False),
        (["grep", "-e", "-h", "-r", "."], False),
        (["grep", "-eh", "-r", "."], False),
        (["grep", "--null", "-r", "KEY", "."], False),
        (["grep", "-r", "--", "-h", "."], False),
        (["rg", "--no-heading", "KEY"], False),
        (["git", "log", "-h"], False),
        (["pytest", "-h"], False),
    ],
)
def test_searches_that_drop_file_names_are_named(argv: list[str], refused: bool) -> None:
    assert (unattributed_search(argv) is not None) is refused

"""The review workflow: deterministic analysis first, a scripted reviewer second, only cited findings kept."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import SecretStr
from scripted_models import Request, Scripted

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.repo.diff import ParsedDiff, parse_diff
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.review.analysis import (
    analyse_diff,
    file_kind,
    withhold_sensitive,
)
from agent_orchestrator.workflows.review.graph import GRAPH, REVIEW_NODES, review
from agent_orchestrator.workflows.review.parts import (
    ReviewLimits,
    added_change,
    render_file,
    render_hunk,
    split_diff,
)
from agent_orchestrator.workflows.review.result import RenamedFile, SecretHit

pytestmark = pytest.mark.anyio

# Built at run time so no scanner mistakes this test for a leak; the redactor's `sk-` shape matches it.
SECRET = "sk-" + "live" + "0123456789abcdefghijKLMN"
APP_MAIN = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
APP_FEATURE = APP_MAIN.replace("a + b", "a + b + 0") + "\n\ndef mul(a, b):\n    return a * b\n"
OLD_MODULE = "".join(f"VALUE_{i} = {i}\n" for i in range(12))


def review_answer(risks: list[dict[str, Any]] | None = None, summary: str = "Adds mul.") -> dict[str, Any]:
    return {
        "impact_summary": summary,
        "risks": risks or [],
        "missing_tests": ["a test for mul"],
        "follow_ups": ["document mul"],
    }


def as_reviewer(spec: ModelSpec, role: Role) -> str:
    """Only the leader reviews, under the name the runtime configures."""
    assert role == "leader" and spec.model == "reviewer"
    return "reviewer"


@pytest.fixture
def reviewer() -> Scripted:
    """The scripted leader: answers every part with `review_answer()` unless a test sets `answer`."""
    return Scripted(lambda request: review_answer())


@pytest.fixture
def review_runtime(settings: Settings, reviewer: Scripted) -> Runtime:
    leader = {
        "leader_model_provider": "openai-compatible",
        "leader_model_name": "reviewer",
        "leader_model_base_url": "http://scripted.test/v1",
    }
    return Runtime.create(settings.model_copy(update=leader), reviewer.factory(as_reviewer))


def git(cwd: Path, *args: str) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd / ".home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(isolated_env: Path) -> Path:
    """main: an app, a module to rename, a binary logo; feature: edits, a rename, a new logo, a secret."""
    root = isolated_env
    git(root, "init", "-q", "-b", "main")
    (root / "src").mkdir()
    (root / "docs").mkdir()
    (root / "src/app.py").write_text(APP_MAIN)
    (root / "src/old_name.py").write_text(OLD_MODULE)
    (root / "docs/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x01")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "src/app.py").write_text(APP_FEATURE)
    git(root, "mv", "src/old_name.py", "src/new_name.py")
    (root / "docs/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x02\x03")
    (root / "src/settings.py").write_text(f'"""Settings."""\nAPI_KEY = "{SECRET}"\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second")
    return root


async def test_findings_citing_lines_outside_the_diff_are_dropped_and_counted(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    reviewer.answer = lambda request: review_answer(
        [
            {"file": "src/app.py", "line": 2, "severity": "medium", "message": "changes add's result"},
            {"file": "b/src/app.py", "line": 10, "severity": "low", "message": "mul has no docstring"},
            {"file": "src/ghost.py", "line": 1, "severity": "high", "message": "invented file"},
            {"file": "src/app.py", "line": 500, "severity": "high", "message": "invented line"},
        ]
    )
    result = await review(review_runtime, diff_range="main...HEAD")
    assert [(f.file, f.line, f.source) for f in result.risks if f.source == "reviewer"] == [
        ("src/app.py", 2, "reviewer"),
        ("src/app.py", 10, "reviewer"),
    ]
    assert result.dropped_findings == 2
    assert result.drop_reasons == {
        "file not in the diff": 1,
        "line not shown in the diff (cite an added or context line)": 1,
    }
    assert "invented" not in result.model_dump_json()


async def test_a_reviewed_range_is_a_succeeded_run_with_every_node_recorded(
    repo: Path, review_runtime: Runtime
) -> None:
    seen: list[str] = []

    async def progress(done: int, total: int, message: str) -> None:
        seen.append(message)

    result = await review(review_runtime, diff_range="main...HEAD", progress=progress)
    record = review_runtime.runs.get(result.run_id)
    assert result.status == "reviewed" and result.parts_reviewed == 1 and result.usage["requests"] == 1
    assert record.status == "succeeded" and [n.name for n in record.nodes] == list(REVIEW_NODES)
    assert all(any(m.startswith(f"{name}: done") for m in seen) for name in REVIEW_NODES)
    assert result.missing_tests[-1] == "a test for mul" and result.follow_ups == ["document mul"]


async def test_the_diff_reaches_the_reviewer_fenced_as_untrusted_data(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    await review(review_runtime, diff_range="main...HEAD")
    prompt = reviewer.prompts[0]
    assert "<<<UNTRUSTED-DATA" in prompt and "<<<END-UNTRUSTED-DATA" in prompt
    assert prompt.index("<<<UNTRUSTED-DATA") < prompt.index("file: src/app.py (modified") < prompt.index("<<<END")
    assert "     2 +     return a + b + 0" in prompt


async def test_a_secret_in_an_added_line_is_reported_without_the_secret(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    """git's output reaches the workflow redacted; the placeholder in an added line is the evidence."""
    result = await review(review_runtime, diff_range="main...HEAD")
    assert result.analysis.secrets == [
        SecretHit(file="src/settings.py", line=2, kind="secret-named assignment (redacted when read)")
    ]
    flagged = [f for f in result.risks if f.source == "analysis"]
    assert [(f.file, f.line, f.severity) for f in flagged] == [("src/settings.py", 2, "high")]
    record = review_runtime.runs.get(result.run_id)
    for text in (result.model_dump_json(), record.model_dump_json(), *reviewer.prompts):
        assert SECRET not in text
    assert "[REDACTED]" in reviewer.prompts[0]


async def test_a_secret_in_a_diff_file_is_named_by_kind_and_never_echoed(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    (isolated_env / "change.diff").write_text(
        f"--- a/cfg.py\n+++ b/cfg.py\n@@ -1 +1,2 @@\n x = 1\n+client = make('{SECRET}')\n"
    )
    result = await review(review_runtime, diff_file="change.diff")
    assert result.analysis.secrets == [SecretHit(file="cfg.py", line=2, kind="API key (sk-...)")]
    record = review_runtime.runs.get(result.run_id)
    for text in (result.model_dump_json(), record.model_dump_json(), *reviewer.prompts):
        assert SECRET not in text


async def test_a_configured_secret_in_a_reviewed_file_is_detected(
    isolated_env: Path, settings: Settings, reviewer: Scripted
) -> None:
    canary = "canary-0f1e2d3c4b5a69788796"  # no common key shape: only the configured value gives it away
    update = {
        "leader_model_provider": "openai-compatible",
        "leader_model_name": "reviewer",
        "leader_model_base_url": "http://scripted.test/v1",
        "leader_model_api_key": SecretStr(canary),
    }
    runtime = Runtime.create(settings.model_copy(update=update), reviewer.factory(as_reviewer))
    (isolated_env / "notes.txt").write_text(f"hello\nconnect with {canary}\n")
    result = await review(runtime, files=["notes.txt"])
    assert result.analysis.secrets == [SecretHit(file="notes.txt", line=2, kind="configured secret value")]
    assert canary not in result.model_dump_json() and canary not in reviewer.prompts[0]


async def test_a_private_key_added_in_a_range_is_withheld_and_reported(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    """A key file is sensitive by name: withheld from the reviewer, named, and a high risk."""
    begin, end = "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"
    (repo / "key.pem").write_text(f"{begin}\nMIIEowIBAAKCAQEA\nq83vEjg3Pk2y\n{end}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "key")
    result = await review(review_runtime, diff_range="main...HEAD")
    assert [w.path for w in result.withheld_files] == ["key.pem"]
    assert [(f.file, f.severity) for f in result.risks if f.file == "key.pem"] == [("key.pem", "high")]
    assert "MIIEowIBAAKCAQEA" not in result.model_dump_json()
    assert all("MIIEowIBAAKCAQEA" not in prompt for prompt in reviewer.prompts)


async def test_source_changed_without_tests_is_reported(repo: Path, review_runtime: Runtime) -> None:
    result = await review(review_runtime, diff_range="main...HEAD")
    assert not result.analysis.tests_changed
    assert result.analysis.untested_source_files == ["src/app.py", "src/settings.py"]
    assert "src/app.py: source changed but no test file changed" in result.missing_tests


async def test_a_changed_test_file_satisfies_the_tests_check(repo: Path, review_runtime: Runtime) -> None:
    (repo / "tests").mkdir()
    (repo / "tests/test_app.py").write_text(
        "from src.app import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tests")
    result = await review(review_runtime, diff_range="main...HEAD")
    assert result.analysis.tests_changed and result.analysis.untested_source_files == []


async def test_binary_and_renamed_files_are_reported(repo: Path, review_runtime: Runtime) -> None:
    result = await review(review_runtime, diff_range="main...HEAD")
    assert result.analysis.binary_files == ["docs/logo.png"]
    assert result.analysis.renamed_files == [
        RenamedFile(old_path="src/old_name.py", path="src/new_name.py", similarity=100)
    ]
    renamed = next(f for f in result.analysis.files if f.path == "src/new_name.py")
    assert (
        renamed.status == "renamed"
        and renamed.added == 0
        and "src/new_name.py" not in (result.analysis.untested_source_files)
    )


async def test_a_large_diff_is_split_by_file_and_reviewed_in_parallel(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    names = [f"mod_{i}.py" for i in range(4)]
    for name in names:
        (isolated_env / name).write_text(f"X = 1\nNAME = {name!r}\n")
    reviewer.latency_s = 0.05
    reviewer.answer = lambda request: review_answer(
        [{"file": _only_file(request.prompt), "line": 1, "severity": "low", "message": "constant"}],
        summary="One module's NAME constant.",
    )
    limits = ReviewLimits(part_chars=100, concurrency=4)
    result = await review(review_runtime, files=names, limits=limits)
    assert result.analysis.is_large and result.parts_reviewed == 4 and len(reviewer.prompts) == 4
    assert sorted(_only_file(prompt) for prompt in reviewer.prompts) == names
    assert reviewer.max_active >= 2, "parts should be reviewed concurrently"
    assert sorted(f.file for f in result.risks) == names and result.dropped_findings == 0
    assert result.impact_summary.splitlines()[0] == "Part 1: One module's NAME constant."
    assert result.diff_artifact is not None
    stored = review_runtime.runs.get_artifact(result.run_id, result.diff_artifact.artifact_id)
    assert all(f"file: {name} (added" in stored.content for name in names)
    assert "file: mod_0.py" not in result.model_dump_json()


def _only_file(prompt: str) -> str:
    files = [line.split()[1] for line in prompt.splitlines() if line.startswith("file: ")]
    assert len(files) == 1, files
    return files[0]


async def test_the_concurrency_cap_bounds_parallel_reviews(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    names = [f"mod_{i}.py" for i in range(5)]
    for name in names:
        (isolated_env / name).write_text("X = 1\n")
    reviewer.latency_s = 0.03
    await review(review_runtime, files=names, limits=ReviewLimits(part_chars=60, concurrency=2))
    assert len(reviewer.prompts) == 5 and reviewer.max_active == 2


async def test_invalid_reviewer_output_keeps_the_analysis_and_the_run_is_partial(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    reviewer.answer = lambda request: {"impact_summary": "", "risks": "everything is fine, approve"}
    result = await review(review_runtime, diff_range="main...HEAD")
    assert result.status == "partial" and result.failure is not None
    assert "invalid output" in result.failure.cause and result.failure.step == "ReviewParts"
    assert any(error.startswith("risks: ") for error in result.failure.validation_errors)
    assert [(r.file, r.source) for r in result.risks] == [("src/settings.py", "analysis")], "the secret stays"
    assert result.analysis.file_count == 4 and result.parts_reviewed == 0
    record = review_runtime.runs.get(result.run_id)
    assert record.status == "partial" and "invalid output" in record.reason and "risks: " in record.reason
    assert [(n.name, n.status) for n in record.nodes][-1] == ("ReviewParts", "failed")
    assert record.result["analysis"]["secrets"] and len(reviewer.prompts) == 3, "one call and two retries"
    assert record.usage["requests"] == 3 and record.usage["input_tokens"] > 0, "the failed call is counted"
    assert any("reviewer failed on part 1 of 1" in w for w in record.result["warnings"])


async def test_one_failing_part_stops_the_others(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    names = [f"mod_{i}.py" for i in range(3)]
    for name in names:
        (isolated_env / name).write_text("X = 1\n")

    def answer(request: Request) -> dict[str, Any]:
        return {"risks": 3} if _only_file(request.prompt) == "mod_0.py" else review_answer()

    reviewer.answer = answer
    reviewer.latency_s = 0.01
    started = time.perf_counter()
    with anyio.fail_after(10):
        result = await review(review_runtime, files=names, limits=ReviewLimits(part_chars=60, concurrency=1))
    assert result.status == "partial" and result.failure and "invalid output" in result.failure.cause
    assert time.perf_counter() - started < 5
    assert {_only_file(prompt) for prompt in reviewer.prompts} == {"mod_0.py"}, "queued parts never ran"


async def test_a_diff_file_outside_the_workspace_is_refused(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "change.diff"
    outside.write_text("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(PolicyViolation):
        await review(review_runtime, diff_file=str(outside))
    [run] = review_runtime.runs.list()
    assert run.status == "refused" and reviewer.prompts == []


async def test_a_diff_file_in_the_workspace_is_reviewed(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    (isolated_env / "change.diff").write_text("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 2\n b = 3\n")
    reviewer.answer = lambda request: review_answer(
        [{"file": "x.py", "line": 1, "severity": "low", "message": "ok"}]
    )
    result = await review(review_runtime, diff_file="change.diff")
    assert result.source == "diff file change.diff" and [(f.file, f.line) for f in result.risks] == [("x.py", 1)]


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"diff_range": "main...HEAD", "files": ["a.py"]},
        {"diff_range": "main...HEAD", "diff_file": "x.diff"},
        {"files": []},
    ],
    ids=["none", "range-and-files", "range-and-diff-file", "empty-file-list"],
)
async def test_exactly_one_input_kind_is_required(review_runtime: Runtime, inputs: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="exactly one of"):
        await review(review_runtime, **inputs)
    assert review_runtime.runs.list() == []


async def test_an_option_like_range_is_a_usage_error(review_runtime: Runtime) -> None:
    with pytest.raises(UsageError, match="not a git revision range"):
        await review(review_runtime, diff_range="--output=/tmp/x")


async def test_a_revision_path_range_is_a_usage_error(review_runtime: Runtime, reviewer: Scripted) -> None:
    with pytest.raises(UsageError, match="revision-path syntax"):
        await review(review_runtime, diff_range="HEAD:.env..HEAD:notes.txt")
    assert reviewer.prompts == [] and review_runtime.runs.list() == []


def test_sensitive_files_are_split_off_by_new_or_old_name(runtime: Runtime) -> None:
    diff = parse_diff(
        "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
        "diff --git a/.env b/notes.txt\nsimilarity index 90%\nrename from .env\nrename to notes.txt\n"
        "--- a/.env\n+++ b/notes.txt\n@@ -1 +1 @@\n-A=1\n+A=2\n"
        "--- a/keys/server.KEY\n+++ b/keys/server.KEY\n@@ -1 +1 @@\n-x\n+y\n"
    )
    visible, withheld = withhold_sensitive(diff, runtime.safety.paths.sensitive_reason)
    assert [change.path for change in visible.files] == ["app.py"] and visible.added_count == 1
    assert [(w.path, w.old_path, w.added, w.removed) for w in withheld] == [
        ("notes.txt", ".env", 1, 1),
        ("keys/server.KEY", None, 1, 1),
    ]
    analysis = analyse_diff(visible, Redactor(), ReviewLimits(), withheld=withheld)
    assert analysis.file_count == 3 and [f.path for f in analysis.files] == ["app.py"]
    assert analysis.size_chars == len(render_file(visible.files[0]))
    assert "(not shown): 2." in analysis.prompt_facts() and "notes.txt" not in analysis.prompt_facts()
    assert withhold_sensitive(visible, runtime.safety.paths.sensitive_reason) == (visible, [])


def test_files_git_output_already_withheld_are_named_without_counts(runtime: Runtime) -> None:
    diff = parse_diff("--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")
    visible, withheld = withhold_sensitive(diff, runtime.safety.paths.sensitive_reason, (".env", ".env"))
    assert visible is diff
    assert [(w.path, w.status, w.added) for w in withheld] == [(".env", None, None)]
    assert "environment file" in withheld[0].reason


async def test_an_empty_diff_needs_no_model_call(repo: Path, review_runtime: Runtime, reviewer: Scripted) -> None:
    result = await review(review_runtime, diff_range="HEAD...HEAD")
    assert result.status == "nothing_to_review" and "diff is empty" in result.impact_summary
    assert reviewer.prompts == [] and result.risks == [] and result.usage["requests"] == 0
    assert review_runtime.runs.get(result.run_id).status == "succeeded"


async def test_a_diff_of_only_binary_changes_and_renames_needs_no_model_call(
    repo: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    git(repo, "checkout", "-q", "-b", "moves", "main")
    git(repo, "mv", "src/old_name.py", "src/moved.py")
    (repo / "docs/logo.png").write_bytes(b"\x89PNG\x00\x07")
    git(repo, "commit", "-q", "-am", "moves")
    result = await review(review_runtime, diff_range="main...HEAD")
    assert result.status == "nothing_to_review" and reviewer.prompts == []
    assert result.analysis.binary_files == ["docs/logo.png"] and len(result.analysis.renamed_files) == 1


async def test_files_are_reviewed_whole_with_their_own_line_numbers(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    (isolated_env / "app.ts").write_text("export function f(x: number): number {\n  return x;\n}\n")
    reviewer.answer = lambda request: review_answer(
        [
            {"file": "app.ts", "line": 3, "severity": "low", "message": "closing brace"},
            {"file": "app.ts", "line": 4, "severity": "low", "message": "past the end"},
        ]
    )
    result = await review(review_runtime, files=["./app.ts"])
    [summary] = result.analysis.files
    assert (summary.path, summary.status, summary.kind, summary.added) == ("app.ts", "added", "source", 3)
    assert [(f.file, f.line) for f in result.risks] == [("app.ts", 3)] and result.dropped_findings == 1


async def test_a_file_outside_the_workspace_is_refused(
    isolated_env: Path, review_runtime: Runtime, reviewer: Scripted
) -> None:
    with pytest.raises(PolicyViolation):
        await review(review_runtime, files=["../../etc/passwd"])
    assert reviewer.prompts == []


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("src/app.py", "source"),
        ("tests/test_app.py", "test"),
        ("src/app_test.py", "test"),
        ("pkg/test_x.py", "test"),
        ("conftest.py", "test"),
        ("web/button.test.ts", "test"),
        ("web/button.spec.tsx", "test"),
        ("web/__tests__/button.ts", "test"),
        ("web/button.ts", "source"),
        ("web/types.d.ts", "other"),
        ("README.md", "other"),
    ],
)
def test_file_kinds_follow_python_and_typescript_conventions(path: str, kind: str) -> None:
    assert file_kind(path) == kind


def test_rendered_hunks_keep_removed_lines_before_their_replacements() -> None:
    diff = parse_diff("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a = 1\n-b = 2\n+b = 3\n c = 4\n")
    assert render_hunk(diff.files[0].hunks[0]).splitlines() == [
        "@@ -1,3 +1,3 @@",
        "     1   a = 1",
        "       - b = 2",
        "     2 + b = 3",
        "     3   c = 4",
    ]


def test_a_file_too_large_for_one_part_is_split_by_hunk() -> None:
    body = "".join(f"@@ -{i * 10 + 1},1 +{i * 10 + 1},1 @@\n-old {i}\n+new {i}\n" for i in range(3))
    diff = parse_diff("--- a/big.py\n+++ b/big.py\n" + body)
    parts, warnings = split_diff(diff, ReviewLimits(part_chars=90))
    assert len(parts) == 3 and all(part.files == ("big.py",) for part in parts) and warnings == []
    assert all(part.text.startswith("file: big.py (modified") for part in parts)


def test_a_hunk_too_large_for_one_part_is_split_by_lines_without_losing_any() -> None:
    change = added_change("big.py", [f"value_{i} = {i}" for i in range(1, 61)])
    diff = ParsedDiff(files=[change], added_count=60, removed_count=0)
    parts, warnings = split_diff(diff, ReviewLimits(part_chars=300))
    shown = [int(row.split()[0]) for part in parts for row in part.text.splitlines() if row.strip()[:1].isdigit()]
    assert len(parts) > 1 and warnings == [] and shown == list(range(1, 61))
    assert all(part.text.startswith("file: big.py (added") and len(part.text) <= 300 for part in parts)


def test_analysis_flags_a_large_diff() -> None:
    diff = parse_diff("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert not analyse_diff(diff, Redactor(), ReviewLimits()).is_large
    assert analyse_diff(diff, Redactor(), ReviewLimits(part_chars=10)).is_large


def test_the_graph_is_drawn_with_every_node() -> None:
    diagram = GRAPH.render()
    assert diagram.startswith("stateDiagram-v2")
    assert all(name in diagram for name in REVIEW_NODES)

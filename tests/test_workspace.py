"""The workspace is never `/` or the home directory by accident; tools that need none still work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastmcp import Client
from scripted import SEED, scripted_factory

from agent_orchestrator.cli import main
from agent_orchestrator.config import load_settings, state_dir_problem
from agent_orchestrator.config.sources import default_user_state_dir
from agent_orchestrator.errors import ConfigError, UsageError
from agent_orchestrator.queries.workers import list_models, looks_like_placeholder
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

KEY = "sk-proj-realcanary0123456789abcdefghij"


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The server started by a host in `/`, with no AO_WORKSPACE_ROOT; state goes to the user state dir."""
    monkeypatch.delenv("AO_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir("/")
    return tmp_path / "xdg-state" / "agent-orchestrator"


def test_the_filesystem_root_is_never_the_default_workspace(at_root: Path) -> None:
    settings = load_settings()
    assert settings.workspace_root is None
    assert settings.ao_state_dir == at_root  # not `/.ao`
    runtime = Runtime.create(settings, scripted_factory(SEED))
    with pytest.raises(UsageError, match="AO_WORKSPACE_ROOT") as raised:
        runtime.safety.read_file("etc/hostname", max_bytes=100)
    assert "ao mcp config" in str(raised.value) and "--workspace" in str(raised.value)
    advice = " ".join(settings.report().advice)
    assert "AO_WORKSPACE_ROOT" in advice


def test_the_home_directory_is_never_the_default_workspace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    settings = load_settings()
    assert settings.workspace_root is None
    assert "home directory" in settings.no_workspace_message()


def test_a_project_directory_is_the_default_workspace(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.workspace_root == isolated_env.resolve()
    assert Runtime.create(settings, scripted_factory(SEED)).safety.root == isolated_env.resolve()


@pytest.mark.anyio
async def test_tools_needing_a_workspace_refuse_and_the_others_work(at_root: Path) -> None:
    runtime = Runtime.create(load_settings(), scripted_factory(SEED))
    async with Client(create_server(runtime)) as client:
        validate = await client.call_tool("validate", {"commands": ["git status"]}, raise_on_error=False)
        review = await client.call_tool("review", {"files": ["etc/hostname"]}, raise_on_error=False)
        models = await client.call_tool("list_models", {}, raise_on_error=False)
        workers = await client.call_tool("list_workers", {}, raise_on_error=False)
    for refused in (validate, review):
        text = str(refused.content[0])
        assert refused.is_error and "AO_WORKSPACE_ROOT" in text, text
        assert "--workspace" in text, text
    assert not models.is_error and not workers.is_error
    assert models.structured_content is not None and "providers" in models.structured_content
    assert not Path("/.ao").exists() or Path("/.ao").stat().st_mtime < at_root.parent.parent.stat().st_mtime


@pytest.mark.parametrize("where", ["/", "home", "above-home"])
def test_an_explicit_root_or_home_workspace_is_refused(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "users" / "you"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    value = {"/": "/", "home": str(home), "above-home": str(home.parent)}[where]
    monkeypatch.setenv("AO_WORKSPACE_ROOT", value)
    with pytest.raises(ConfigError, match="AO_WORKSPACE_ROOT") as raised:
        load_settings()
    assert "repository's directory" in str(raised.value)


def test_an_explicit_workspace_holds_the_default_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.delenv("AO_STATE_DIR")
    monkeypatch.setenv("AO_WORKSPACE_ROOT", str(repo))
    monkeypatch.chdir("/")
    settings = load_settings()
    assert settings.workspace_root == repo.resolve() and settings.ao_state_dir == repo.resolve() / ".ao"


def test_state_dir_rules_hold_without_a_workspace(tmp_path: Path) -> None:
    assert state_dir_problem(tmp_path / "state", None) is None
    assert state_dir_problem(Path("/etc/ao"), None) is not None
    assert state_dir_problem(Path("/.ao"), None) is not None
    assert state_dir_problem(tmp_path / ".git" / "ao", None) is not None
    assert state_dir_problem(tmp_path / "src", tmp_path) is not None


def test_default_user_state_dir(tmp_path: Path) -> None:
    assert default_user_state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "agent-orchestrator"
    assert default_user_state_dir({}).parts[-3:] == (".local", "state", "agent-orchestrator")


def test_a_key_is_configured_only_when_bound_to_the_roles_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_MODEL_PROVIDER", "openai")
    monkeypatch.setenv("WORKER_MODEL_NAME", "gpt-4o-mini")
    monkeypatch.setenv("LEADER_MODEL_PROVIDER", "openai-compatible")
    monkeypatch.setenv("LEADER_MODEL_NAME", "m")
    monkeypatch.setenv("LEADER_MODEL_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the vendor key: bound to OpenAI's own API only
    listing = list_models(Runtime.create(load_settings(), scripted_factory(SEED)))
    assert listing.worker is not None and listing.worker.key_configured
    assert listing.worker.key_variable == "OPENAI_API_KEY"
    assert listing.leader is not None and not listing.leader.key_configured
    assert KEY not in listing.model_dump_json()


@pytest.mark.parametrize("placeholder", ["<your worker API key, if the provider needs one>", "your-api-key"])
def test_a_placeholder_key_is_not_configured(placeholder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_MODEL_PROVIDER", "openai")
    monkeypatch.setenv("WORKER_MODEL_NAME", "gpt-4o-mini")
    monkeypatch.setenv("WORKER_MODEL_API_KEY", placeholder)
    listing = list_models(Runtime.create(load_settings(), scripted_factory(SEED)))
    assert listing.worker is not None and not listing.worker.key_configured
    assert any("WORKER_MODEL_API_KEY looks like a placeholder" in problem for problem in listing.problems)


def test_placeholder_shapes() -> None:
    assert looks_like_placeholder("<key>") and looks_like_placeholder("your-key") and looks_like_placeholder(" ")
    assert not looks_like_placeholder(KEY)


@pytest.fixture
def roots(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A workspace, an allowed root holding repository `b`, and a directory outside both."""
    paths = {name: isolated_env / name for name in ("workspace", "allowed", "outside")}
    for path in paths.values():
        path.mkdir()
    (paths["allowed"] / "b").mkdir()
    (paths["allowed"] / "b" / "app.py").write_text("x = 1\n")
    (paths["allowed"] / "escape").symlink_to(paths["outside"])
    monkeypatch.setenv("AO_WORKSPACE_ROOT", str(paths["workspace"]))
    monkeypatch.setenv("AO_ALLOWED_ROOTS", f" {paths['allowed']} ,")
    return {name: path.resolve() for name, path in paths.items()}


def test_allowed_roots_are_read_comma_separated_and_resolved(roots: dict[str, Path]) -> None:
    settings = load_settings()
    assert settings.ao_allowed_roots == [roots["allowed"]]
    assert settings.allowed_roots == (roots["workspace"], roots["allowed"])


@pytest.mark.parametrize("where", ["/", "home", "above-home", "missing", "relative"])
def test_an_unsafe_or_missing_allowed_root_is_refused(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "users" / "you"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    value = {"/": "/", "home": str(home), "above-home": str(home.parent)}.get(where)
    value = value or {"missing": str(tmp_path / "missing"), "relative": "users"}[where]
    monkeypatch.setenv("AO_ALLOWED_ROOTS", f"{tmp_path},{value}")
    with pytest.raises(ConfigError, match="AO_ALLOWED_ROOTS"):
        load_settings()


def test_a_repository_resolves_inside_an_allowed_root_only(roots: dict[str, Path]) -> None:
    settings = load_settings()
    assert settings.repository_root(str(roots["allowed"] / "b")) == roots["allowed"] / "b"
    assert settings.repository_root(str(roots["workspace"])) == roots["workspace"]
    for refused in (roots["outside"], roots["allowed"] / "escape", roots["allowed"] / ".." / "outside", Path("/")):
        with pytest.raises(UsageError, match="not inside AO_ALLOWED_ROOTS"):
            settings.repository_root(str(refused))
    with pytest.raises(UsageError, match="not an absolute path"):
        settings.repository_root("allowed/b")
    with pytest.raises(UsageError, match="not a directory"):
        settings.repository_root(str(roots["allowed"] / "b" / "app.py"))


def test_a_runtime_for_a_repository_shares_state_and_audit(roots: dict[str, Path]) -> None:
    runtime = Runtime.create(load_settings(), scripted_factory(SEED))
    other = runtime.for_repository(str(roots["allowed"] / "b"))
    assert other.safety.root == roots["allowed"] / "b" and runtime.safety.root == roots["workspace"]
    assert other.audit is runtime.audit and other.runs is runtime.runs and other.profiles is runtime.profiles
    assert other.model_factory is runtime.model_factory and other.settings is runtime.settings
    assert runtime.for_repository(None) is runtime
    assert other.safety.read_file("app.py", max_bytes=100).text == "x = 1\n"


@pytest.mark.anyio
async def test_tools_take_a_repository_and_refuse_one_outside(roots: dict[str, Path]) -> None:
    runtime = Runtime.create(load_settings(), scripted_factory(SEED))
    async with Client(create_server(runtime)) as client:
        review = await client.call_tool(
            "review", {"files": ["app.py"], "repository": str(roots["allowed"] / "b")}, raise_on_error=False
        )
        refused = await client.call_tool(
            "validate", {"commands": ["git status"], "repository": str(roots["outside"])}, raise_on_error=False
        )
    # The path policy let app.py through: the review reached its (scripted, unprepared) reviewer model.
    assert "Review part 1 of 1" in str(review.content[0]), review
    assert refused.is_error and "AO_ALLOWED_ROOTS" in str(refused.content[0])


def test_a_workspace_less_server_works_in_an_allowed_repository(
    at_root: Path, roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AO_WORKSPACE_ROOT")
    settings = load_settings()
    assert settings.workspace_root is None and settings.allowed_roots == (roots["allowed"],)
    assert "AO_ALLOWED_ROOTS" in settings.no_workspace_message()
    runtime = Runtime.create(settings, scripted_factory(SEED))
    assert runtime.for_repository(str(roots["allowed"] / "b")).safety.root == roots["allowed"] / "b"


def test_ao_takes_repository_relative_to_its_directory(
    roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(roots["allowed"])
    monkeypatch.setenv("AO_ALLOWED_COMMANDS", "ls")
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--command", "ls", "--repository", "b", "--json"])
    assert exit_info.value.code == 0, capsys.readouterr()
    assert "app.py" in json.loads(capsys.readouterr().out)["results"][0]["stdout_tail"]
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--command", "ls", "--repository", str(roots["outside"])])
    message = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--repository" in message and "AO_ALLOWED_ROOTS" in message, message

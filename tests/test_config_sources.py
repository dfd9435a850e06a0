"""Where settings come from: the environment, then the user config file; origins shown, secrets never."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from processes import run_ao as run

from agent_orchestrator.config import load_settings
from agent_orchestrator.config.sources import default_user_config_path, user_config_path
from agent_orchestrator.errors import ConfigError, UsageError
from agent_orchestrator.store.user_config import move_keys

KEY = "sk-user-canary-0123456789abcdefXYZ"


@pytest.fixture
def user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home-config" / "agent-orchestrator" / "env"
    path.parent.mkdir(parents=True)
    monkeypatch.setenv("AO_CONFIG_FILE", str(path))
    return path


def test_default_location_follows_xdg_config_home(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert default_user_config_path(environ) == tmp_path / "agent-orchestrator" / "env"
    assert user_config_path(environ) == tmp_path / "agent-orchestrator" / "env"


def test_empty_config_file_variable_disables_the_file() -> None:
    assert user_config_path({"AO_CONFIG_FILE": ""}) is None
    assert user_config_path({"AO_ENV_FILE": ""}) is None


def test_user_file_is_read_and_the_environment_wins(user_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file.write_text("WORKER_MODEL_PROVIDER=ollama\nWORKER_MODEL_NAME=qwen3:8b\nLOG_LEVEL=INFO\n")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    settings = load_settings()
    assert settings.worker_model_provider == "ollama" and settings.log_level == "ERROR"
    origins = {source.name: (source.origin, source.where) for source in settings.report().settings}
    assert origins["WORKER_MODEL_NAME"] == ("user config", f"{user_file}:2")
    assert origins["LOG_LEVEL"] == ("environment", None)
    assert origins["AO_DRY_RUN"] == ("default", None)


def test_a_user_file_others_can_write_is_refused(user_file: Path) -> None:
    user_file.write_text("LOG_LEVEL=INFO\n")
    user_file.chmod(0o666)
    with pytest.raises(ConfigError, match=r"writable by other users.*chmod 600"):
        load_settings()


def test_report_never_carries_a_secret_value(user_file: Path) -> None:
    user_file.write_text(f"WORKER_MODEL_API_KEY={KEY}\n")
    report = load_settings().report()
    key = next(source for source in report.settings if source.name == "WORKER_MODEL_API_KEY")
    assert key.is_set and key.value is None and key.origin == "user config"
    assert KEY not in report.model_dump_json()


def test_config_show_lists_origins_and_ignored_workspace_settings(
    user_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    user_file.write_text(f"LEADER_MODEL_API_KEY={KEY}\n")
    (tmp_path / ".env").write_text("APP_DB=postgres://x\nAO_ALLOW_WRITE=true\n")
    code, out, err = run(capsys, "config", "show", "--json")
    document = json.loads(out)
    assert code == 0 and KEY not in out + err
    assert [(item["name"], item["where"]) for item in document["ignored"]] == [
        ("AO_ALLOW_WRITE", f"{tmp_path / '.env'}:2")
    ]
    assert "ao config move-keys" in document["advice"][0]
    assert "ignored AO_ALLOW_WRITE" in caplog.text
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "LEADER_MODEL_API_KEY" in out and "(secret, set)" in out and KEY not in out


def test_move_keys_moves_only_keys_by_default(user_file: Path, tmp_path: Path) -> None:
    source = tmp_path / ".env"
    source.write_text(f"APP_DB=x\nOPENAI_API_KEY={KEY}\n\nLEADER_MODEL_BASE_URL=http://elsewhere/v1\n")
    source.chmod(0o640)
    report = move_keys(source, user_file)
    assert report.moved == ["OPENAI_API_KEY"] and report.left == ["LEADER_MODEL_BASE_URL"]
    assert user_file.read_text().splitlines()[-1] == f"OPENAI_API_KEY={KEY}"
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o600
    text = source.read_text()
    assert KEY not in text and "APP_DB=x" in text and "LEADER_MODEL_BASE_URL=http://elsewhere/v1" in text
    assert f"# OPENAI_API_KEY moved to {user_file}" in text
    assert stat.S_IMODE(source.stat().st_mode) == 0o640
    assert load_settings().openai_api_key is not None


def test_move_keys_all_moves_every_setting_and_keeps_conflicts(user_file: Path, tmp_path: Path) -> None:
    user_file.write_text("LOG_LEVEL=ERROR\nGROQ_API_KEY=gsk_same\n")
    source = tmp_path / ".env"
    source.write_text("LOG_LEVEL=DEBUG\nGROQ_API_KEY=gsk_same\nWORKER_MODEL_NAME=m\n")
    report = move_keys(source, user_file, everything=True)
    assert (report.moved, report.already_there, report.conflicts) == (
        ["WORKER_MODEL_NAME"],
        ["GROQ_API_KEY"],
        ["LOG_LEVEL"],
    )
    assert source.read_text().splitlines()[0] == "LOG_LEVEL=DEBUG"
    assert "LOG_LEVEL=ERROR" in user_file.read_text()


def test_move_keys_from_the_cli_prints_names_not_values(
    user_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(f"WORKER_MODEL_API_KEY={KEY}\n")
    code, out, err = run(capsys, "config", "move-keys")
    assert code == 0 and "WORKER_MODEL_API_KEY" in out and KEY not in out + err
    code, out, _ = run(capsys, "config", "move-keys", "--json")
    assert code == 0 and json.loads(out)["moved"] == []


def test_move_keys_refuses_a_missing_source(user_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--from"):
        move_keys(tmp_path / "nope.env", user_file)


def test_move_keys_needs_an_enabled_user_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=x\n")
    with pytest.raises(UsageError, match="AO_CONFIG_FILE"):
        move_keys(tmp_path / ".env", None)


def test_show_config_over_mcp(user_file: Path) -> None:
    import anyio
    from fastmcp import Client

    from agent_orchestrator.runtime import Runtime
    from agent_orchestrator.server.app import create_server

    user_file.write_text("LOG_LEVEL=INFO\n")

    async def call() -> dict[str, object]:
        async with Client(create_server(Runtime.create(load_settings()))) as client:
            result = await client.call_tool("show_config", {})
        return result.structured_content or {}

    data = anyio.run(call)
    assert data["user_config_file"] == str(user_file) and data["user_config_exists"] is True
    assert os.fspath(user_file) in json.dumps(data)


def test_a_renamed_setting_still_set_is_named_with_its_new_name(
    user_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not [a for a in load_settings().report().advice if "no longer read" in a]
    user_file.write_text("AO_WORKER_CALL_TIMEOUT=30\n")
    user_file.chmod(0o600)
    advice = load_settings().report().advice
    assert "AO_WORKER_CALL_TIMEOUT is no longer read: use AO_MODEL_CALL_TIMEOUT" in " ".join(advice)
    user_file.write_text("")
    monkeypatch.setenv("AO_WORKER_CALL_TIMEOUT", "30")
    assert any(a.startswith("AO_WORKER_CALL_TIMEOUT is no longer read") for a in load_settings().report().advice)

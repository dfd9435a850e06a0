"""Run one `ao` command: build the server, make one in-process MCP call, print, pick the exit code."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from agent_orchestrator.cli import render
from agent_orchestrator.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from agent_orchestrator.domain.status import exit_code
from agent_orchestrator.errors import AOError, UsageError

if TYPE_CHECKING:
    from fastmcp import FastMCP

    from agent_orchestrator.config import Settings
    from agent_orchestrator.server.app import ModelFactory


@dataclass(frozen=True)
class ToolOutcome:
    """A tool's structured result, or the error message it returned."""

    data: dict[str, Any] | None
    error: str | None


def configure_logging(settings: Settings) -> None:
    """Logs go to stderr at LOG_LEVEL, redacted; stdout is for results (in `mcp serve`, the protocol only)."""
    from agent_orchestrator.server.logs import configure_logging as configure

    configure(settings)


MODEL_FACTORY: ModelFactory | None = None
"""The model factory of every server `ao` builds; None (the default) means the real providers.

The seam for running `ao` on other models than the configured providers (scripted ones in tests,
an embedder's own): set it before `main()`, e.g. `commands.MODEL_FACTORY = my_factory`, or in a
test `monkeypatch.setattr(commands, "MODEL_FACTORY", factory)`. A `ModelFactory` is called with
`(spec, settings, role)` and returns a pydantic-ai `Model`.
"""


def build_server(
    settings: Settings, model_factory: ModelFactory | None = None, *, may_execute: bool = False
) -> FastMCP:
    """The MCP server over the settings this command already loaded, its models from `model_factory`
    (default: `MODEL_FACTORY`, then the real providers); `may_execute`: it may run background runs itself
    (`ao mcp serve`), else a background `ao executor` is started for them."""
    from agent_orchestrator.server.app import create_server_for

    return create_server_for(settings, model_factory or MODEL_FACTORY, may_execute=may_execute)


async def call_tool(
    settings: Settings, name: str, arguments: dict[str, Any], *, show_progress: bool
) -> ToolOutcome:
    """Call one tool on a fresh in-process server through the in-memory MCP transport."""
    from fastmcp import Client

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        render.progress_line(progress, total, message)

    async with Client(build_server(settings)) as client:
        result = await client.call_tool(
            name, arguments, raise_on_error=False, progress_handler=on_progress if show_progress else None
        )
    if show_progress:
        render.clear_progress()
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content).strip()
        return ToolOutcome(None, text or f"{name} failed")
    return ToolOutcome(result.structured_content or {}, None)


def execute(args: argparse.Namespace) -> int:
    """Run one parsed `ao` command and return its exit code (errors are printed, never raised)."""
    from agent_orchestrator.cli import signals

    try:
        signals.install()  # SIGTERM takes Ctrl-C's path: open runs end `interrupted`, with the reason
        from agent_orchestrator.config import load_settings

        settings = load_settings()
        configure_logging(settings)
        warn_ignored_settings(settings)
        if args.command == "config" and args.config_command == "move-keys":
            return _move_keys(args)
        if args.command == "mcp" and args.mcp_command == "serve":
            return _serve(settings, args)
        if args.command == "mcp" and args.mcp_command == "config":
            from agent_orchestrator.cli.host_config import WHERE, host_config

            if args.json:  # one document: where it goes and the entry itself
                document = {"host": args.host_app, "where": WHERE[args.host_app]}
                entry = json.loads(host_config(args.host_app, args.workspace, args.allowed_root))
                print(json.dumps(document | {"config": entry}, indent=2))
                return EXIT_OK
            entry_text = host_config(args.host_app, args.workspace, args.allowed_root)
            print(WHERE[args.host_app], file=sys.stderr)
            print(entry_text)
            return EXIT_OK
        if args.command == "mcp":
            return anyio.run(_list_tools, settings, bool(args.json))
        if args.command == "executor":
            from agent_orchestrator.server.executor import serve_executor

            return anyio.run(serve_executor, settings, args.idle, MODEL_FACTORY)
        if args.command == "runs" and args.runs_command == "prune":
            from agent_orchestrator.server.maintenance import prune_runs

            report = anyio.run(lambda: prune_runs(settings, vacuum=args.vacuum))
            print(json.dumps(report, indent=2) if args.json else render.pruned(report))
            return EXIT_OK
        if args.command == "runs" and args.runs_command == "watch":
            return anyio.run(_watch, settings, args.run_id, args.interval, bool(args.json))
        tool, arguments, show = _tool_call(args)
        outcome = anyio.run(lambda: call_tool(settings, tool, arguments, show_progress=show))
    except AOError as exc:
        return _fail(str(exc), exc.exit_code, getattr(args, "json", False))
    except KeyboardInterrupt:
        return signals.interrupted()
    finally:
        signals.uninstall()
    return _report(args, tool, outcome)


def warn_ignored_settings(settings: Settings) -> None:
    """One stderr line when a workspace `.env` tried to set our settings: they were ignored, say how to move."""
    ignored = settings.ignored_workspace_settings()
    if ignored:
        names = ", ".join(sorted({item.name.upper() for item in ignored}))
        files = ", ".join(sorted({str(item.path) for item in ignored}))
        logging.getLogger("agent_orchestrator.config").warning(
            "ignored %s in %s: settings never come from a file inside a workspace; "
            "`ao config show` lists them, `ao config move-keys` moves them to your user config file",
            names,
            files,
        )


def _move_keys(args: argparse.Namespace) -> int:
    """Local only: edits the user's own configuration (see `cli/config_move.py`)."""
    from pathlib import Path

    from agent_orchestrator.config.sources import user_config_path
    from agent_orchestrator.store.user_config import move_keys

    report = move_keys(Path(args.source), user_config_path(), everything=args.all).model_dump()
    print(json.dumps(report, indent=2) if args.json else render.moved_keys(report))
    return EXIT_FAILED if report["conflicts"] else EXIT_OK


def _tool_call(args: argparse.Namespace) -> tuple[str, dict[str, Any], bool]:
    """Map parsed arguments to (tool name, tool arguments, show progress); `--repository` made absolute."""
    tool, arguments, show = _tool_arguments(args)
    repository: str | None = getattr(args, "repository", None)
    if repository is not None:
        arguments["repository"] = os.path.abspath(os.path.expanduser(repository)) if repository else repository
    if getattr(args, "detach", False):
        return "start_run", {"tool": tool, "arguments": arguments}, False
    return tool, arguments, show


def _tool_arguments(args: argparse.Namespace) -> tuple[str, dict[str, Any], bool]:
    """Map parsed arguments to (tool name, tool arguments, show progress)."""
    if args.command == "worker" and args.worker_command == "interview":
        if (args.provider is None) != (args.model is None):
            raise UsageError("give both --provider and --model, or neither to interview the configured worker")
        arguments: dict[str, Any] = {"save": args.save}
        if args.provider is not None:
            arguments |= {"provider": args.provider, "model": args.model}
        if args.base_url:
            arguments["base_url"] = args.base_url
        if args.seed is not None:
            arguments["seed"] = args.seed
        return "interview_worker", arguments, sys.stderr.isatty()
    if args.command == "leader":
        if (args.provider is None) != (args.model is None):
            raise UsageError("give both --provider and --model, or neither to interview the configured leader")
        arguments = _present(
            {"provider": args.provider, "model": args.model, "base_url": args.base_url, "seed": args.seed}
        )
        return "interview_leader", {**arguments, "save": args.save}, sys.stderr.isatty()
    if args.command == "worker" and args.worker_command == "list":
        return "list_workers", {}, False
    if args.command == "worker" and args.worker_command == "profile":
        return "get_worker_profile", {"worker_id": args.worker_id}, False
    if args.command == "runs" and args.runs_command == "list":
        return "list_runs", {"limit": args.limit}, False
    if args.command == "runs" and args.runs_command == "cancel":
        return "cancel_run", {"run_id": args.run_id}, False
    if args.command == "runs" and args.runs_command == "resume":
        return "resume_run", {"run_id": args.run_id}, False
    if args.command == "runs":
        return "get_run", {"run_id": args.run_id}, False
    if args.command == "plan":
        arguments = {"goal": args.goal, "context_files": args.context_files, "second_opinion": args.second_opinion}
        return "plan", _present(arguments), sys.stderr.isatty()
    if args.command == "run":
        arguments = {
            "goal": args.goal,
            "scope": args.scope,
            "context_files": args.context_files,
            "worker_profile": args.worker_profile,
            "write": args.write,
        }
        return "run_leader_worker", _present(arguments), sys.stderr.isatty()
    if args.command == "review":
        arguments = {
            "diff_range": args.diff_range,
            "diff_file": args.diff_file,
            "files": args.files,
            "second_opinion": args.second_opinion,
        }
        return "review", _present(arguments), sys.stderr.isatty()
    if args.command == "fix":
        arguments = {"error_log": args.error_log, "scope": args.scope, "write": args.write}
        return "fix_error", arguments, sys.stderr.isatty()
    if args.command == "workflows":
        return "list_workflows", {}, False
    if args.command == "usage":
        return "get_usage", _present({"since": args.since, "until": args.until, "by": args.by}), False
    if args.command == "config":
        return "show_config", {}, False
    if args.command == "validate":
        return "validate", {"commands": args.commands, "cwd": args.cwd, "timeout_s": args.timeout}, False
    return "list_models", {}, False


def _present(arguments: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments the user gave: the tool's defaults apply to the rest."""
    return {key: value for key, value in arguments.items() if value is not None}


def _report(args: argparse.Namespace, tool: str, outcome: ToolOutcome) -> int:
    from agent_orchestrator.server.edge import INVALID_REQUEST

    if outcome.error is not None:
        code = EXIT_USAGE if outcome.error.startswith(INVALID_REQUEST) else EXIT_FAILED
        return _fail(outcome.error.removeprefix(INVALID_REQUEST), code, args.json)
    data = outcome.data or {}
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(render.render(tool, data))
    return exit_code(data.get("status"))


# Tool arguments and tools as `ao` spells them: errors over MCP name arguments (`diff_range`), `ao` its flags.
CLI_WORDS: dict[str, str] = {
    "diff_range": "--diff",
    "diff_file": "--diff-file",
    "files": "--file",
    "base_url": "--base-url",
    "provider": "--provider",
    "model": "--model",
    "seed": "--seed",
    "save": "--save",
    "goal": "--goal",
    "scope": "--scope",
    "context_files": "--context-file",
    "worker_profile": "--worker-profile",
    "write": "--write",
    "error_log": "--error",
    "commands": "--command",
    "cwd": "--cwd",
    "timeout_s": "--timeout",
    "repository": "--repository",
    "second_opinion": "--second-opinion",
    "get_run": "ao runs show",
    "list_runs": "ao runs list",
    "list_workers": "ao worker list",
    "get_worker_profile": "ao worker profile",
    "interview_worker": "ao worker interview",
    "list_models": "ao models list",
    "show_config": "ao config show",
    "since": "--since",
    "until": "--until",
    "by": "--by",
    "get_usage": "ao usage",
    "interview_leader": "ao leader interview",
}
# A name in backticks is translated, backticks included (`files` -> --file); a bare name only when it has an
# underscore (`diff_range: Input should be ...`), so plain English words such as "files" or "write" stay.
_QUOTED = re.compile(r"`(" + "|".join(map(re.escape, CLI_WORDS)) + r")`")
_QUOTED_LEAD = re.compile(r"`(" + "|".join(map(re.escape, CLI_WORDS)) + r")(?= )")
_BARE = re.compile(r"\b(" + "|".join(re.escape(word) for word in CLI_WORDS if "_" in word) + r")\b")


def in_cli_words(message: str) -> str:
    """An error message with the tool arguments and tools it names spelled as `ao` flags and commands."""
    message = _QUOTED.sub(lambda match: CLI_WORDS[match[1]], message)
    message = _QUOTED_LEAD.sub(
        lambda match: "`" + CLI_WORDS[match[1]], message
    )  # `get_run ID` -> `ao runs show ID`
    return _BARE.sub(lambda match: CLI_WORDS[match[1]], message)


def _fail(message: str, code: int, as_json: bool) -> int:
    message = in_cli_words(message)
    if as_json:
        print(json.dumps({"status": "error", "error": message}))
    else:
        print(f"ao: error: {message}", file=sys.stderr)
    return code


async def _watch(settings: Settings, run_id: str, interval: float, as_json: bool) -> int:
    """`ao runs watch`: a live progress line (on a terminal) until the run ends, then the run as `runs show`."""
    from fastmcp import Client

    shown = sys.stderr.isatty() and not as_json
    async with Client(build_server(settings)) as client:
        while True:
            result = await client.call_tool("get_run", {"run_id": run_id}, raise_on_error=False)
            if result.is_error:
                text = " ".join(getattr(block, "text", "") for block in result.content).strip()
                return _fail(text or "get_run failed", EXIT_FAILED, as_json)
            data: dict[str, Any] = result.structured_content or {}
            if data["status"] not in ("queued", "running"):
                break
            if shown:
                progress: dict[str, Any] = data.get("progress") or {}
                message = f"{data['status']}: {render.progress_text(progress) or 'waiting for an executor'}"
                render.progress_line(progress.get("done", 0), progress.get("total"), message)
            await anyio.sleep(interval)
    if shown:
        render.clear_progress()
    print(json.dumps(data, indent=2) if as_json else render.run_record(data))
    return exit_code(data.get("status"))


async def _list_tools(settings: Settings, as_json: bool) -> int:
    from fastmcp import Client

    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
    listed = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    print(json.dumps({"tools": listed}, indent=2) if as_json else render.tools_table(listed))
    return EXIT_OK


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.transport == "stdio":
        build_server(settings, may_execute=True).run(transport="stdio", show_banner=False)
        return EXIT_OK
    from agent_orchestrator.cli.signals import wrap_uvicorn
    from agent_orchestrator.server.http import plan_http, serve_http

    # Checked before the server is built: no token on a non-loopback address refuses to start (exit 2).
    # Every request then needs the bearer token (when set), a listed Origin (when it sends one) and a
    # Host naming the bind address or loopback (DNS-rebinding protection).
    serving = plan_http(settings, args.host, args.port, list(args.allow_origin))
    wrap_uvicorn()
    serve_http(build_server(settings, may_execute=True), serving)
    return EXIT_OK

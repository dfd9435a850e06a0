"""`ao`: every command is one in-process MCP tool call through `fastmcp.Client(server)`.

This module only parses arguments; the agent stack is imported when a command runs, so
`ao --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from agent_orchestrator.cli.exit_codes import EXIT_OK, EXIT_USAGE


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _seconds(text: str) -> float:
    """A deadline in seconds: a number above 0 and at most an hour (argparse turns the error into exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0 and at most 3600")
    return value


def _add_detach(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detach",
        action="store_true",
        help="run in the background (durable: resumable after a crash); prints the run id at once",
    )


def _add_second_opinion(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--second-opinion",
        metavar="PROVIDER:MODEL",
        help=f"a second model asked too (vetted like the leader); {what}",
    )


def _add_repository(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repository",
        metavar="DIR",
        help="the repository to work in: inside AO_ALLOWED_ROOTS or the workspace (default: the workspace)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ao",
        description="agent-orchestrator: interview worker models, then route engineering work to them.",
        epilog="Exit codes: 0 success, 1 the workflow failed or refused, 2 bad usage.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    worker = commands.add_parser("worker", help="interview and inspect worker models")
    worker_commands = worker.add_subparsers(dest="worker_command", metavar="SUBCOMMAND", required=True)
    interview = worker_commands.add_parser("interview", help="interview a worker model and print its profile")
    interview.add_argument(
        "--provider",
        help="litellm, openai-compatible, ollama, local, ... (default: the configured worker, else local)",
    )
    interview.add_argument("--model", help="model name at that provider")
    interview.add_argument("--base-url", help="endpoint base URL (overrides WORKER_MODEL_BASE_URL)")
    interview.add_argument("--save", action="store_true", help="persist the profile to the state dir")
    interview.add_argument("--seed", type=int, help="variant seed, to reproduce an interview")
    _add_detach(interview)
    _add_json(interview)
    listing = worker_commands.add_parser("list", help="list saved worker profiles")
    _add_json(listing)
    profile = worker_commands.add_parser("profile", help="show one saved profile")
    profile.add_argument("worker_id", help="provider:model, e.g. litellm:qwen3-coder")
    _add_json(profile)

    leader = commands.add_parser("leader", help="vet the leader model before it leads")
    leader_commands = leader.add_subparsers(dest="leader_command", metavar="SUBCOMMAND", required=True)
    leader_interview = leader_commands.add_parser(
        "interview", help="interview the leader (planning, review, verdicts, fixing) and print its profile"
    )
    leader_interview.add_argument("--provider", help="default: the configured leader, else local")
    leader_interview.add_argument("--model", help="model name at that provider")
    leader_interview.add_argument("--base-url", help="endpoint base URL (overrides LEADER_MODEL_BASE_URL)")
    leader_interview.add_argument("--save", action="store_true", help="save the profile (workflows then use it)")
    leader_interview.add_argument("--seed", type=int, help="variant seed, to reproduce an interview")
    _add_detach(leader_interview)
    _add_json(leader_interview)

    validate = commands.add_parser("validate", help="run allowlisted validation commands (no shell)")
    validate.add_argument(
        "--command",
        action="append",
        required=True,
        dest="commands",
        metavar="COMMAND",
        help="a command such as 'pytest -q' (repeatable; run in order)",
    )
    validate.add_argument("--cwd", help="working directory inside the workspace")
    validate.add_argument(
        "--timeout", type=_seconds, default=300.0, help="seconds per command, 0 < S <= 3600 (default 300)"
    )
    _add_repository(validate)
    _add_json(validate)

    plan = commands.add_parser("plan", help="plan a goal with the leader")
    plan.add_argument("--goal", required=True)
    plan.add_argument(
        "--context-file",
        dest="context_files",
        action="append",
        metavar="FILE",
        help="a workspace file the leader should read (repeatable)",
    )
    _add_second_opinion(plan, "risks both drafts name are marked confirmed, the others single-source")
    _add_detach(plan)
    _add_repository(plan)
    _add_json(plan)

    run = commands.add_parser("run", help="run a workflow")
    run.add_argument("workflow", choices=("leader-worker-basic",), metavar="WORKFLOW", help="leader-worker-basic")
    run.add_argument("--goal", required=True)
    run.add_argument("--scope", help="directory inside the workspace to work in")
    run.add_argument("--context-file", dest="context_files", action="append", metavar="FILE")
    run.add_argument(
        "--worker-profile",
        metavar="PROVIDER:MODEL",
        help="use this saved worker profile as given instead of re-interviewing",
    )
    run.add_argument(
        "--write",
        action="store_true",
        help="apply accepted patches (only when AO_ALLOW_WRITE=true and AO_DRY_RUN=false)",
    )
    _add_detach(run)
    _add_repository(run)
    _add_json(run)

    review = commands.add_parser("review", help="review a change: git range, diff file or whole files")
    source = review.add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", dest="diff_range", metavar="RANGE", help="a git range, e.g. main...HEAD")
    source.add_argument("--diff-file", metavar="FILE", help="a unified diff file in the workspace")
    source.add_argument("--file", dest="files", action="append", metavar="FILE", help="a whole file (repeatable)")
    _add_second_opinion(review, "findings both models cite on the same line are marked confirmed")
    _add_detach(review)
    _add_repository(review)
    _add_json(review)

    fix = commands.add_parser("fix", help="fix the errors in a tool's log")
    fix.add_argument("--error", dest="error_log", required=True, metavar="LOG", help="error log file")
    fix.add_argument("--scope", required=True, metavar="DIR", help="directory the fix may touch")
    fix.add_argument(
        "--write",
        "--apply",
        dest="write",
        action="store_true",
        help="apply and validate (only when AO_ALLOW_WRITE=true and AO_DRY_RUN=false); --apply is the old name",
    )
    _add_detach(fix)
    _add_repository(fix)
    _add_json(fix)

    workflows = commands.add_parser("workflows", help="the workflows and their graphs")
    _add_json(workflows)

    runs = commands.add_parser("runs", help="recorded workflow runs")
    runs_commands = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND", required=True)
    runs_list = runs_commands.add_parser("list", help="list recent runs")
    runs_list.add_argument("--limit", type=int, default=50)
    _add_json(runs_list)
    runs_show = runs_commands.add_parser("show", help="show one run")
    runs_show.add_argument("run_id")
    _add_json(runs_show)
    runs_watch = runs_commands.add_parser("watch", help="follow a run's progress until it ends")
    runs_watch.add_argument("run_id")
    runs_watch.add_argument(
        "--interval", type=_seconds, default=0.5, help="seconds between polls, 0 < S <= 3600 (default 0.5)"
    )
    _add_json(runs_watch)
    runs_cancel = runs_commands.add_parser("cancel", help="cancel a background run (resume continues it)")
    runs_cancel.add_argument("run_id")
    _add_json(runs_cancel)
    runs_resume = runs_commands.add_parser(
        "resume", help="resume a cancelled or interrupted background run; retry a failed one"
    )
    runs_resume.add_argument("run_id")
    _add_json(runs_resume)
    runs_prune = runs_commands.add_parser(
        "prune", help="delete records past their retention now (AO_RUN_RETENTION_DAYS, AO_ENGINE_RETENTION_DAYS)"
    )
    runs_prune.add_argument("--vacuum", action="store_true", help="also compact the SQLite files")
    _add_json(runs_prune)

    executor = commands.add_parser(
        "executor", help="run this state dir's background runs (started for you by --detach)"
    )
    executor.add_argument(
        "--idle",
        type=float,
        metavar="SECONDS",
        help="exit after this long without work (default: run until stopped)",
    )

    usage = commands.add_parser(
        "usage", help="spend by model, role or workflow over a period (runs and interviews)"
    )
    usage.add_argument(
        "--since", default="7d", metavar="PERIOD", help="7d, 30d, today, month or YYYY-MM-DD (UTC; default 7d)"
    )
    usage.add_argument("--until", metavar="DATE", help="YYYY-MM-DD, included (default: now)")
    usage.add_argument(
        "--by", choices=("model", "role", "workflow"), default="model", help="group by (default model)"
    )
    _add_json(usage)

    models = commands.add_parser("models", help="configured models and providers")
    models_commands = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    _add_json(models_commands.add_parser("list", help="list configured models and providers"))

    config = commands.add_parser("config", help="where settings come from; move keys out of a repository")
    config_commands = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    _add_json(config_commands.add_parser("show", help="every setting and its origin (secrets never shown)"))
    move = config_commands.add_parser(
        "move-keys", help="move the keys a .env sets into the user config file, removing them there"
    )
    move.add_argument("--from", dest="source", default=".env", metavar="FILE", help="the file (default .env)")
    move.add_argument("--all", action="store_true", help="move every setting it sets, not only keys")
    _add_json(move)

    mcp = commands.add_parser("mcp", help="run or inspect the MCP server")
    mcp_commands = mcp.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND", required=True)
    serve = mcp_commands.add_parser("serve", help="serve MCP over stdio (default) or streamable HTTP")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP bind address (default 127.0.0.1); a non-loopback address needs AO_HTTP_TOKEN",
    )
    serve.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser Origin to accept over HTTP, e.g. http://localhost:3000 (repeatable); others get 403",
    )
    _add_json(mcp_commands.add_parser("list-tools", help="list the server's tools"))
    config = mcp_commands.add_parser("config", help="print the MCP server entry for an MCP host")
    config.add_argument(
        "host_app",
        choices=("claude-desktop", "vscode", "cursor"),
        metavar="HOST",
        help="claude-desktop, vscode or cursor",
    )
    config.add_argument(
        "--workspace",
        metavar="DIR",
        help="the repository the server works on (default: VS Code/Cursor their open folder, "
        "Claude Desktop the git repository this runs in)",
    )
    config.add_argument(
        "--allowed-root",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory whose repositories tool calls may name as `repository` (repeatable): AO_ALLOWED_ROOTS",
    )
    _add_json(config)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `ao` console script."""
    # fastmcp reads FASTMCP_* settings from a `.env` in the working directory when it is imported; a
    # file inside a workspace never configures anything, so point it at nothing (an explicit choice
    # in the real environment still wins).
    os.environ.setdefault("FASTMCP_ENV_FILE", os.devnull)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from agent_orchestrator import __version__

        print(f"ao {__version__}")
        sys.exit(EXIT_OK)
    if args.command is None:
        parser.print_help()
        sys.exit(EXIT_USAGE)
    from agent_orchestrator.cli.commands import execute

    try:
        code = execute(args)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(_reader_went_away())
    sys.exit(code)


def _reader_went_away() -> int:
    """The reader of stdout closed it (`ao ... | head`): stop quietly, as git does (128 + SIGPIPE).

    stdout is pointed at /dev/null first, so the interpreter's final flush cannot fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13

"""SIGTERM ends an `ao` command (and `ao mcp serve`) the way Ctrl-C does, with the reason recorded.

`timeout`, service managers and MCP hosts stop a process with SIGTERM, whose default action ends
Python at once: no cancellation, no `finally`, and every open run would stay `running`. While a
command runs, SIGTERM instead notes "terminated by SIGTERM" and takes SIGINT's path: inside
`anyio.run` asyncio's runner cancels the main task (every task group unwinds, each run ends
`interrupted` with that reason and keeps its finished nodes), elsewhere KeyboardInterrupt is
raised. uvicorn takes both signals over while it serves HTTP (a graceful shutdown that cancels
requests still running after its timeout, then it raises the signal again): its handler is
wrapped to note the reason too. `interrupted()` finishes whatever is still open before exiting.

Cancellation cannot reach everything: the stdio transport reads stdin in a worker thread that
only returns at the next line or EOF, and the loop waits for it. So SIGTERM also starts a
watchdog: if the process is still there `EXIT_GRACE_S` later, it finishes the runs still open
and exits with 143 (128 + SIGTERM), as the default action would have, but with the records right.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from agent_orchestrator.server.lifecycle import finish_open_runs, note_stop, stop_reason

TERMINATED = "terminated by SIGTERM"
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_GRACE_S = 5.0
Handler = Any  # what signal.signal returns: a callable, SIG_DFL, SIG_IGN or None


@dataclass
class _Installed:
    previous: Handler = None
    active: bool = False
    uvicorn_wrapped: bool = False
    watchdog: threading.Thread | None = None


_STATE = _Installed()


def _terminating() -> None:
    note_stop(TERMINATED)
    if _STATE.watchdog is None:
        _STATE.watchdog = threading.Thread(target=_exit_after_grace, name="ao-sigterm-watchdog", daemon=True)
        _STATE.watchdog.start()


def _exit_after_grace() -> None:
    time.sleep(EXIT_GRACE_S)
    finish_open_runs(TERMINATED)
    with contextlib.suppress(Exception):
        print(f"{TERMINATED} (the process did not stop within {EXIT_GRACE_S:g} s)", file=sys.stderr, flush=True)
    os._exit(EXIT_TERMINATED)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _terminating()
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):  # asyncio's runner while a loop runs, else default_int_handler
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored or default (a background job): SIGTERM must still stop the command
        signal.default_int_handler(signal.SIGINT, frame)


def install() -> None:
    """Route SIGTERM into SIGINT's path until `uninstall`.

    A no-op outside the main thread (only it can set handlers) and when SIGTERM is ignored: a parent
    that ignores it for us meant it.
    """
    if threading.current_thread() is not threading.main_thread() or _STATE.active:
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        return
    _STATE.previous = signal.signal(signal.SIGTERM, _on_sigterm)
    _STATE.active = True


def uninstall() -> None:
    """Put the previous SIGTERM handler back."""
    if _STATE.active and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _STATE.previous if _STATE.previous is not None else signal.SIG_DFL)
        _STATE.active = False
        note_stop(None)


def interrupted() -> int:
    """After KeyboardInterrupt: finish every run still open with the reason, say why, pick the exit code."""
    reason = stop_reason()
    finish_open_runs(reason or "interrupted by SIGINT (Ctrl-C)")
    print(reason or "interrupted", file=sys.stderr)
    return EXIT_TERMINATED if reason == TERMINATED else EXIT_INTERRUPTED


def wrap_uvicorn() -> None:
    """Note SIGTERM when uvicorn's handler gets it, so the requests it cancels end with the reason.

    Called before serving HTTP only: importing uvicorn is a cost every other command skips.
    """
    if _STATE.uvicorn_wrapped:
        return
    try:
        from uvicorn.server import Server
    except ImportError:  # no HTTP transport installed: nothing takes SIGTERM over
        return
    handle_exit = Server.handle_exit

    def noting_handle_exit(self: Server, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and _STATE.active:
            _terminating()
        handle_exit(self, sig, frame)

    setattr(Server, "handle_exit", noting_handle_exit)  # noqa: B010 - a method replaced on purpose
    _STATE.uvicorn_wrapped = True

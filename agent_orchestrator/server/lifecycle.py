"""What the process around a server needs to stop cleanly: say why it stops, finish the runs still open.

The CLI's signal handling (`cli/signals.py`) uses these; they live with the run recorder, and the
CLI reaches them through the server, its one way into the package.
"""

from __future__ import annotations

from agent_orchestrator.workflows.recorder import finish_open_runs, note_stop, stop_reason

__all__ = ["finish_open_runs", "note_stop", "stop_reason"]

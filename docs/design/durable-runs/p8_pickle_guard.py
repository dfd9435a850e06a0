"""8. The pickle trap: a custom serializer does not stop DBOS from unpickling a row marked "py_pickle".

A workflow runs with our JSON serializer. Then a row is tampered with as a writer to a shared
database could: its output is replaced by a pickle (harmless payload: it creates a marker file) and
its `serialization` column set to "py_pickle". Merely listing workflows (DBOSClient, no launch)
unpickles it. With lab.refuse_pickle() the same read refuses it.

Run: venv/bin/python p8_pickle_guard.py
"""

from __future__ import annotations

import base64
import pickle
import sqlite3
import tempfile
from pathlib import Path

import anyio

import lab
from dbos import DBOS, DBOSClient, SetWorkflowID

MARKER = Path(tempfile.gettempdir()) / "dbos-lab-UNPICKLED"


class Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(MARKER), "w"))  # any callable would run here


@DBOS.workflow()
async def innocent() -> str:
    return "ok"


async def run_once(state: Path) -> None:
    lab.launch(lab.config(state_dir=state))
    with SetWorkflowID("wf-target"):
        await (await DBOS.start_workflow_async(innocent)).get_result()
    DBOS.destroy()


def tamper(db_path: Path) -> None:
    evil = base64.b64encode(pickle.dumps(Payload())).decode()
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE workflow_status SET serialization='py_pickle', output=? WHERE workflow_uuid='wf-target'", (evil,))
        db.execute("UPDATE workflow_output SET output=? WHERE workflow_uuid='wf-target'", (evil,))


def read(state: Path) -> str:
    client = DBOSClient(system_database_url=lab.sqlite_url(state), serializer=lab.RedactingJSONSerializer())
    try:
        statuses = client.list_workflows(workflow_ids=["wf-target"])
        return f"output read as {type(statuses[0].output).__name__}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.destroy()


def main() -> None:
    MARKER.unlink(missing_ok=True)
    state = Path(tempfile.mkdtemp(prefix="ao-p8-"))
    anyio.run(run_once, state)
    tamper(state / "dbos.sqlite3")
    lab.quiet_dbos("CRITICAL")
    print(f"JSON serializer configured, tampered row listed: {read(state)}; marker file created: {MARKER.exists()}")
    MARKER.unlink(missing_ok=True)
    lab.refuse_pickle()
    print(f"with refuse_pickle(): {read(state)}; marker file created: {MARKER.exists()}")


if __name__ == "__main__":
    main()

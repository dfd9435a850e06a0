"""Durable runs: workflows executed on DBOS, resumable after a crash, in the background, cancellable.

`control` is what the server uses (start, cancel, resume, who executes); `jobs` says what a run
executes; `engine` is the one DBOS workflow and its step journal; `executor` the process that runs
the queue; `database` where the engine keeps its state; `serializer` how (redacted JSON, never
pickle). Nothing here imports `dbos` until a durable run needs it.
"""

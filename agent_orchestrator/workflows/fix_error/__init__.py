"""The fix-error workflow: parse a log, propose a checked patch, apply and validate it when allowed.

`graph` holds the graph and `fix_error()`; `result` what it returns; `context` gathers the scoped
files; `checks` checks the proposed patch; `apply` writes it with a snapshot and restores on failure.
Nothing is imported here, so importing `result` stays light.
"""

from __future__ import annotations

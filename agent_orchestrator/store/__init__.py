"""State under the state dir: run records, the audit log, worker profiles, the user config file's edits.

`atomic` (crash-safe replace, locks, the private state dir), `sqlite`, `runs`, `audit`, `profiles`,
`process` (which process runs a run), `user_config` (`ao config move-keys`). Stores take a redaction
function; they depend on no policy.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above

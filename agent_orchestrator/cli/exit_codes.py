"""`ao`'s exit codes: 0 success, 1 the workflow failed or refused, 2 bad usage."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

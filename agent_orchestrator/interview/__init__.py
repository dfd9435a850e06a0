"""The worker interview: seeded cases with deterministic graders, the calls to the worker, scoring,
the profile's routing rule and the TypeScript check.

`case` (what a case is), `cases/` (one module of templates per dimension), `suite` (collects them),
`calls` (deadline, retries, circuit breaker), `runner` (pydantic-evals dataset), `scoring` (status and
routing policy), `routing` (which step may go to which worker), `freshness`, `typescript`, `answers`.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above

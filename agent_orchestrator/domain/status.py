"""The one status vocabulary of runs and results, and the one table mapping each status to `ao`'s exit code.

Every `status` a run record or a tool result can carry is spelled here, so a workflow, the run
store and the CLI cannot drift apart: the CLI's exit code is `EXIT_CODES[status]`, and a test
checks that every status any result model can carry is in the table. A new status extends its
vocabulary and the table together.
"""

from __future__ import annotations

from typing import Any, Final, Literal, get_args

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1

# A workflow run's record (the run store, `get_run`, `ao runs`); a node ends with one of these too.
# queued: accepted for background execution and not started yet (it exits 0, like running).
RunStatus = Literal["queued", "running", "succeeded", "partial", "failed", "refused", "cancelled", "interrupted"]
ShownRunStatus = RunStatus | Literal["corrupt"]  # a listed row that cannot be read
# A plan whose structure fails its checks raises (there is no failed plan result); one whose text fails
# the leader checks (placeholders, the goal restated, echoed injections) is returned `needs_attention`.
PlanStatus = Literal["succeeded", "needs_attention"]
# needs_attention: the leader's plan failed the same leader checks, so no step was handed to a worker.
LeaderWorkerStatus = Literal["succeeded", "partial", "failed", "needs_attention"]
# The worker interview: a judged profile's status, or an endpoint that could not be judged.
WorkerStatus = Literal["active", "limited", "blocked"]
InterviewStatus = WorkerStatus | Literal["unavailable"]
# The leader a workflow would use (`ao models list`): its interview status, or why it has none that counts.
LeaderVettingStatus = Literal["not_interviewed", "stale"]
# partial: the reviewer failed; needs_attention: the reviewer's text failed the leader checks.
ReviewStatus = Literal["reviewed", "nothing_to_review", "partial", "needs_attention"]
FixStatus = Literal["fixed", "proposed", "failed", "nothing_to_fix", "restored"]
ValidationStatus = Literal["passed", "failed"]
CommandStatus = Literal["passed", "failed", "refused", "timed_out", "error"]
PatchCheckStatus = Literal["passed", "failed", "skipped"]

Status = (
    ShownRunStatus
    | PlanStatus
    | LeaderWorkerStatus
    | InterviewStatus
    | LeaderVettingStatus
    | ReviewStatus
    | FixStatus
    | ValidationStatus
    | CommandStatus
    | PatchCheckStatus
)

EXIT_CODES: dict[Status, int] = {
    "queued": EXIT_OK,
    "running": EXIT_OK,
    "succeeded": EXIT_OK,
    "partial": EXIT_FAILED,
    "failed": EXIT_FAILED,
    "refused": EXIT_FAILED,
    "cancelled": EXIT_FAILED,
    "interrupted": EXIT_FAILED,
    "corrupt": EXIT_FAILED,
    "active": EXIT_OK,
    "limited": EXIT_OK,
    "blocked": EXIT_FAILED,
    "unavailable": EXIT_FAILED,
    "not_interviewed": EXIT_OK,
    "stale": EXIT_OK,
    "reviewed": EXIT_OK,
    "nothing_to_review": EXIT_OK,
    "needs_attention": EXIT_FAILED,
    "fixed": EXIT_OK,
    "proposed": EXIT_OK,
    "nothing_to_fix": EXIT_OK,
    "restored": EXIT_FAILED,
    "passed": EXIT_OK,
    "timed_out": EXIT_FAILED,
    "error": EXIT_FAILED,
    "skipped": EXIT_OK,
}


def values_of(vocabulary: Any) -> tuple[str, ...]:
    """Every string a status type admits, in order (a Literal, or a union of Literals, flattened)."""
    found: dict[str, None] = {}
    for arg in get_args(vocabulary):
        found.update(dict.fromkeys((arg,) if isinstance(arg, str) else values_of(arg)))
    return tuple(found)


STATUSES: tuple[str, ...] = values_of(Status)


_BY_NAME: dict[str, int] = {str(status): code for status, code in EXIT_CODES.items()}


def exit_code(status: str | None) -> int:
    """`ao`'s exit code for a result's status: the table's; no status is success; an unknown one fails.

    A status missing from the table is a bug (a test guards it), so it fails loudly rather than pass.
    """
    return EXIT_OK if status is None else _BY_NAME.get(status, EXIT_FAILED)

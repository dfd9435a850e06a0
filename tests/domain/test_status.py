"""One status vocabulary and one exit-code table: every status a result can carry has an exit code."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from fastmcp import Client

from agent_orchestrator.cli.exit_codes import EXIT_FAILED, EXIT_OK
from agent_orchestrator.domain.status import EXIT_CODES, STATUSES, exit_code, values_of
from agent_orchestrator.repo.diff import FileStatus
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

# A file's change kind in a diff (added, deleted, renamed, ...) is what happened to it, not an outcome.
CHANGE_KINDS = frozenset(get_args(FileStatus))


def statuses_in(schema: Any) -> set[str]:
    """Every value a `status` property anywhere in a JSON schema admits (its enum, const, anyOf branches)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict) and "status" in value:
                found |= admitted(value["status"])
            found |= statuses_in(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= statuses_in(item)
    return found


def admitted(schema: Any) -> set[str]:
    values: set[str] = set()
    if isinstance(schema, dict):
        values |= {v for v in schema.get("enum", []) if isinstance(v, str)}
        if isinstance(schema.get("const"), str):
            values.add(schema["const"])
        for branch in schema.get("anyOf", []):
            values |= admitted(branch)
    return set() if values and values <= CHANGE_KINDS else values


def test_the_table_covers_exactly_the_vocabulary() -> None:
    assert set(EXIT_CODES) == set(STATUSES)
    assert set(EXIT_CODES.values()) == {EXIT_OK, EXIT_FAILED}


@pytest.mark.anyio
async def test_every_status_a_tool_result_can_carry_has_an_exit_code(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        tools = await client.list_tools()
    carried = {status for tool in tools for status in statuses_in(tool.output_schema)}
    assert {"succeeded", "partial", "blocked", "unavailable", "restored", "reviewed", "passed"} <= carried
    assert carried - set(EXIT_CODES) == set(), "a result status without an exit code: add it to EXIT_CODES"


def test_failures_and_refusals_exit_1_and_the_rest_0() -> None:
    failing = {status for status, code in EXIT_CODES.items() if code == EXIT_FAILED}
    assert {"failed", "refused", "partial", "blocked", "unavailable", "restored", "interrupted"} <= failing
    assert {"succeeded", "active", "limited", "proposed", "fixed", "nothing_to_fix", "reviewed"}.isdisjoint(
        failing
    )


def test_no_status_is_success_and_an_unknown_one_fails() -> None:
    assert exit_code(None) == EXIT_OK and exit_code("succeeded") == EXIT_OK
    assert exit_code("restored") == EXIT_FAILED and exit_code("no-such-status") == EXIT_FAILED


def test_unions_of_vocabularies_are_flattened() -> None:
    from agent_orchestrator.domain.status import InterviewStatus

    assert values_of(InterviewStatus) == ("active", "limited", "blocked", "unavailable")

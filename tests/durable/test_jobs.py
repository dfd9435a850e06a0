"""Each background job takes exactly its tool's arguments, checked the same way before it is queued."""

from __future__ import annotations

import pytest
from fastmcp import Client

from agent_orchestrator.durable.jobs import JOBS, job_for
from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio


async def test_every_job_takes_exactly_its_tools_arguments(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    for name, job in JOBS.items():
        assert set(job.arguments.model_fields) == set(tools[name].input_schema["properties"]), name


def test_bad_arguments_are_refused_by_name_before_anything_is_queued() -> None:
    with pytest.raises(UsageError, match="invalid arguments for plan: goal: Field required"):
        job_for("plan").validate({})
    with pytest.raises(UsageError, match=r"shell: Extra inputs are not permitted"):
        job_for("review").validate({"diff_range": "a..b", "shell": "rm -rf /"})
    with pytest.raises(UsageError, match="cannot run in the background; these can: "):
        job_for("validate")


def test_an_interview_without_a_seed_gets_one_when_it_is_submitted_so_a_replay_asks_the_same_cases() -> None:
    checked = job_for("interview_worker").validate({})
    assert isinstance(getattr(checked, "seed", None), int)

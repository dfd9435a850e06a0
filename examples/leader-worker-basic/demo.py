"""leader-worker-basic with interview-gated routing: a throwaway workspace, scripted models, no key, no network.

Three workers have profiles, each judged by the interview's own scoring rules from graded answers:
`coder` passed everything (active; its TypeScript was not type-checked here, so no codegen or
patches), `notes` was overconfident and failed TypeScript (limited: low-risk work only, always
reviewed), `broken` could not produce JSON (blocked). The profiles are saved to the run's state
dir, and two runs go through the MCP tools in-process:

1. every saved profile: `coder` explains greet.py (active beats limited), the leader writes the
   patch (no worker qualifies for patch generation), `broken` is left out with a warning;
2. pinned to `notes` (`--worker-profile`): it summarises greet.py under the leader's review, which
   asks for one revision; the code review is medium risk, so the leader does it.

Then the second run's record. Every model is a pydantic-ai `FunctionModel`. Run it from the
repository root:  .venv/bin/python examples/leader-worker-basic/demo.py
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

GREET = 'def greet(name):\n    return f"hello {name}"\n'
PATCH = (
    "--- a/greet.py\n+++ b/greet.py\n@@ -1,2 +1,3 @@\n def greet(name):\n"
    '+    """Return a greeting for `name`."""\n     return f"hello {name}"\n'
)
WORKERS_URL = "http://workers.invalid/v1"
SEED = 7


def step(step_id: str, title: str, task_type: str, depends_on: list[str], done_when: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "title": title,
        "done_when": done_when,
        "task_type": task_type,
        "depends_on": depends_on,
    }


def plan(summary: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "steps": list(steps),
        "risks": [{"description": "a change of behaviour", "severity": "low", "mitigation": "docstring only"}],
        "validation": {"checks": ["patch applies"], "commands": ["python -m pytest -q"]},
    }


DOCUMENT = plan(
    "Explain greet.py, then document greet().",
    step("s1", "Explain greet.py", "code_explanation", [], "a two-line explanation"),
    step("s2", "Add a docstring to greet()", "patch_generation", ["s1"], "a patch adding a docstring"),
)
CHANGELOG = plan(
    "Summarise greet.py for the changelog, then review it.",
    step("s1", "Summarise greet.py for the changelog", "summarization", [], "one sentence a user understands"),
    step("s2", "Review greet.py", "code_review", ["s1"], "risks, if any"),
)


# --- the scripted models: who answers what --------------------------------------------------------


def prompt_of(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def leader(prompt: str, fields: set[str]) -> dict[str, Any]:
    """Plans, reviews workers' outputs (one revision for `notes`' first draft), and does unrouted steps."""
    if "steps" in fields:
        return CHANGELOG if "changelog" in prompt else DOCUMENT
    if "verdict" in fields:
        if "Worker: openai-compatible:notes" in prompt and "Round 1 of" in prompt:
            return {"verdict": "revise", "feedback": "Say what greet() returns, in one sentence."}
        return {"verdict": "accept", "feedback": "does what the step asks"}
    if "Task type: patch_generation" in prompt:
        return {"summary": "adds a docstring to greet()", "content": "", "patch": PATCH}
    return {"summary": "no risks: greet() only formats a string", "content": "No findings."}


def worker(name: str, prompt: str) -> dict[str, Any]:
    if name == "coder":
        return {"summary": "greet() formats a greeting", "content": "greet(name) returns 'hello <name>'."}
    if name == "notes":
        if "Fix it as this feedback says" in prompt:
            return {"summary": "greet(name) returns the string 'hello <name>'.", "content": ""}
        return {"summary": "A greeting helper.", "content": ""}
    raise AssertionError(f"worker {name!r} must never be called")


def scripted(spec: Any, settings: Any, role: str) -> Model:
    """The model factory: the leader, or the worker named by the profile's model."""
    name = "leader" if role == "leader" else spec.model

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        tool = info.output_tools[0]
        fields = set(tool.parameters_json_schema.get("properties", {}))
        prompt = prompt_of(messages)
        args = leader(prompt, fields) if name == "leader" else worker(name, prompt)
        return ModelResponse(parts=[ToolCallPart(tool_name=tool.name, args=args)])

    return FunctionModel(answer, model_name=name)


# --- the workers' profiles, judged by the interview's scoring -------------------------------------


def judged(name: str, failing: dict[str, tuple[float, str]]) -> Any:
    """The profile the interview's scoring makes of graded answers: every case of the suite scores 1.0,
    except those of the `failing` dimensions (score, the failed check's detail)."""
    from agent_orchestrator.domain.profile import CaseResult, CheckResult
    from agent_orchestrator.interview.runner import SuiteRun
    from agent_orchestrator.interview.scoring import InterviewMeta, build_result
    from agent_orchestrator.interview.suite import build_suite
    from agent_orchestrator.providers import ModelSpec

    cases: list[CaseResult] = []
    for case in build_suite(SEED):
        score, detail = failing.get(case.dimension, (1.0, ""))
        passed = score >= case.pass_score
        check = CheckResult(name="graded", passed=passed, detail=detail or "as expected")
        cases.append(
            CaseResult(case_id=case.case_id, dimension=case.dimension, score=score, passed=passed, checks=[check])
        )
    meta = InterviewMeta(
        seed=SEED,
        ttl=timedelta(days=7),
        typescript_note="checked by the Python parser only (no Node.js in this demo)",
        typescript_verified=False,
    )
    spec = ModelSpec("openai-compatible", name, WORKERS_URL)
    profile = build_result(spec, SuiteRun(cases=cases, duration_ms=1, breaker_tripped=False), meta).profile
    assert profile is not None
    return profile


def workers() -> list[Any]:
    return [
        judged("coder", {}),
        judged(
            "notes",
            {
                "confidence_calibration": (0.25, "confidence 0.99 on an undetermined question"),
                "typescript_codegen": (0.4, "explicit `any`"),
            },
        ),
        judged("broken", {"structured_json": (0.0, "not JSON: prose before the object")}),
    ]


# --- two runs through the MCP tools ---------------------------------------------------------------


def shown(run: dict[str, Any], routing: str) -> dict[str, Any]:
    assignments = {a["step_id"]: a for a in run["plan"]["assignments"]}
    return {
        "routing": routing,
        "run_id": run["run_id"],
        "status": run["status"],
        "steps": [
            {
                "id": s["step_id"],
                "task_type": s["task_type"],
                "by": s["assignee"],
                "why": assignments[s["step_id"]]["reason"],
                "verdict": s["verdict"],
                "rounds": s["rounds"],
                "leader_reviewed": s["leader_reviewed"],
                "feedback": s["feedback"],
                "checks": [c["name"] for c in s["validation"]],
            }
            for s in run["steps"]
        ],
        "patch": run["patches"][0]["patch"] if run["patches"] else None,
        "warnings": run["warnings"],
    }


async def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="ao-example-"))
    (workspace / "greet.py").write_text(GREET)
    os.chdir(workspace)
    os.environ.update(
        {
            "AO_ENV_FILE": "",
            "AO_STATE_DIR": str(workspace / ".ao"),
            "LEADER_MODEL_PROVIDER": "openai-compatible",
            "LEADER_MODEL_NAME": "leader",
            "LEADER_MODEL_BASE_URL": "http://leader.invalid/v1",
        }
    )
    from fastmcp import Client

    from agent_orchestrator.runtime import Runtime
    from agent_orchestrator.server.app import create_server

    runtime = Runtime.create(model_factory=scripted)
    for profile in workers():
        runtime.profiles.save(profile)

    async with Client(create_server(runtime)) as client:
        listed = (await client.call_tool("list_workers", {})).structured_content or {}
        first = await client.call_tool("run_leader_worker", {"goal": "Document greet.py"})
        second = await client.call_tool(
            "run_leader_worker",
            {"goal": "Summarise greet.py for the changelog", "worker_profile": "openai-compatible:notes"},
        )
        runs = [first.structured_content or {}, second.structured_content or {}]
        record = (await client.call_tool("get_run", {"run_id": runs[1]["run_id"]})).structured_content or {}

    print(
        json.dumps(
            {
                "workers": [
                    {"id": w["worker_id"], "status": w["status"], "may_take": w["supported_task_types"]}
                    for w in listed["workers"]
                ],
                "runs": [
                    shown(runs[0], "every saved profile"),
                    shown(runs[1], "--worker-profile openai-compatible:notes"),
                ],
                "record": {
                    "run_id": record["run_id"],
                    "workflow": record["workflow"],
                    "status": record["status"],
                    "nodes": [f"{n['name']}: {n['status']}" for n in record["nodes"]],
                    "artifacts": [a["name"] for a in record["artifacts"]],
                    "usage": record["usage"],
                },
            },
            indent=2,
        )
    )
    assert (workspace / "greet.py").read_text() == GREET, "dry-run must leave the tree untouched"


if __name__ == "__main__":
    anyio.run(main)

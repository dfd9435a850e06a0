"""5b. The simpler route: every call_agent is one DBOS step; parallel plan steps are child workflows.

A leader-worker-shaped workflow: plan (1 leader call) -> 3 plan steps as child workflows on a queue,
each asking a worker and having the leader review (step "b" is sent back once) -> a summary call.
Models are FunctionModels that take 0.3 s and log "start KEY" / "end KEY" to a ledger file (the
counting server of the real test). The process is killed with SIGKILL after 5 model calls ended;
a new process launches, DBOS recovers the parent and the children, and the run completes.

What the step records: a `CallOutcome` (pydantic) with the validated output as JSON, the call
records (usage) and the failure, if any. The step never raises for a model failure, so a replay
sees the same typed outcome and the workflow raises the same error itself.

Run: venv/bin/python p5b_call_agent_steps.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RunUsage

import lab
from dbos import DBOS, SetWorkflowID

T = TypeVar("T", bound=BaseModel)
LEDGER = Path(os.environ.get("LEDGER", "/dev/null"))
STEPS_QUEUE = "ao-steps"
RUNS_QUEUE = "ao-runs"


# --- domain models (stand-ins for agents/models.py) ------------------------------------------
class PlanStep(BaseModel):
    id: str
    task: str


class Plan(BaseModel):
    steps: list[PlanStep]


class StepResult(BaseModel):
    summary: str


class Review(BaseModel):
    verdict: Literal["accept", "revise", "reject"]
    feedback: str = ""


class Summary(BaseModel):
    text: str


class CallRecord(BaseModel):
    prompt_key: str
    role: str
    model_id: str
    latency_ms: int
    requests: int
    input_tokens: int
    output_tokens: int
    error: str | None = None


class CallOutcome(BaseModel):
    """What one call_agent step records: JSON output or the failure, plus the call records."""

    output: Any = None
    error_kind: str | None = None
    error: str | None = None
    calls: list[CallRecord] = []


class ModelCallFailed(Exception):
    pass


# --- the scripted models -------------------------------------------------------------------------
def _prompt_key(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content.splitlines()[0].removeprefix("KEY: ")
    return "?"


def _log(text: str) -> None:
    with LEDGER.open("a") as f:
        f.write(f"{text} {os.getpid()} {time.time():.3f}\n")


async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    key = _prompt_key(messages)
    _log(f"start {key}")
    await anyio.sleep(0.3)
    name = info.output_tools[0].name
    if key == "plan":
        args: dict[str, Any] = {"steps": [{"id": s, "task": f"do {s}"} for s in ("a", "b", "c")]}
    elif "-ask-" in key:
        args = {"summary": f"done {key}"}
    elif "-review-" in key:
        args = {"verdict": "revise" if key == "b-review-1" else "accept", "feedback": "more detail"}
    else:
        args = {"text": f"summary of {key}"}
    _log(f"end {key}")
    return ModelResponse(parts=[ToolCallPart(name, args)])


# --- the executor's services: live objects live in the process, never in workflow inputs --------
LIMITERS: dict[str, anyio.CapacityLimiter] = {}


def limiter(role: str) -> anyio.CapacityLimiter:
    if role not in LIMITERS:
        LIMITERS[role] = anyio.CapacityLimiter(2)
    return LIMITERS[role]


def build_agent(role: str, output_type: type[T]) -> Agent[None, T]:
    return Agent(FunctionModel(scripted, model_name=f"scripted-{role}"), output_type=output_type, name=role)


# --- call_agent as a step -------------------------------------------------------------------------
async def _call_agent_step(role: str, prompt: str, output_type: type[BaseModel]) -> CallOutcome:
    """The step body: live arguments (not serialized; only the return value is recorded)."""
    agent = build_agent(role, output_type)
    spent = RunUsage()
    begun = time.perf_counter()
    async with limiter(role):
        try:
            result = await agent.run(prompt, usage=spent)
            error = None
        except Exception as exc:  # a failure is an outcome, recorded like a success
            result, error = None, exc
    record = CallRecord(prompt_key=prompt.splitlines()[0].removeprefix("KEY: "), role=role, model_id=f"scripted-{role}", latency_ms=int((time.perf_counter() - begun) * 1000),
                        requests=spent.requests, input_tokens=spent.input_tokens, output_tokens=spent.output_tokens,
                        error=None if error is None else f"{type(error).__name__}: {error}")
    if error is not None:
        return CallOutcome(error_kind=type(error).__name__, error=str(error), calls=[record])
    return CallOutcome(output=result.output.model_dump(mode="json"), calls=[record])


async def call_agent(run_usage: list[CallRecord], role: str, prompt: str, output_type: type[T]) -> T:
    """Workflow-side: one recorded step per call; usage re-applied from the record on every replay."""
    outcome = await DBOS.run_step_async({"name": f"call_agent:{role}"}, _call_agent_step, role, prompt, output_type)
    _log(f"recorded {outcome.calls[0].prompt_key}")
    run_usage.extend(outcome.calls)
    if outcome.error is not None:
        raise ModelCallFailed(f"{role} failed: {outcome.error}")
    return output_type.model_validate(outcome.output)


# --- workflows --------------------------------------------------------------------------------------
class BranchResult(BaseModel):
    step_id: str
    verdict: str
    rounds: int
    summary: str
    calls: list[CallRecord]


@DBOS.workflow(name="ao.step_branch")
async def step_branch(run_id: str, step: dict[str, Any]) -> BranchResult:
    job = PlanStep.model_validate(step)
    usage: list[CallRecord] = []
    for round_number in range(1, 4):
        out = await call_agent(usage, "worker", f"KEY: {job.id}-ask-{round_number}\n{job.task}", StepResult)
        review = await call_agent(usage, "leader", f"KEY: {job.id}-review-{round_number}\n{out.summary}", Review)
        if review.verdict != "revise":
            return BranchResult(step_id=job.id, verdict=review.verdict, rounds=round_number, summary=out.summary, calls=usage)
    return BranchResult(step_id=job.id, verdict="failed", rounds=3, summary="", calls=usage)


@DBOS.workflow(name="ao.leader_worker")
async def leader_worker(run_id: str, goal: str) -> dict[str, Any]:
    usage: list[CallRecord] = []
    plan = await call_agent(usage, "leader", f"KEY: plan\n{goal}", Plan)
    handles = []
    for step in plan.steps:  # every child is started before any is awaited: fixed step ids
        with SetWorkflowID(f"{run_id}/step-{step.id}"):
            handles.append(await DBOS.enqueue_workflow_async(STEPS_QUEUE, step_branch, run_id, step.model_dump()))
    branches = [await h.get_result(polling_interval_sec=0.05) for h in handles]  # awaited in plan order
    for branch in branches:
        usage.extend(branch.calls)
    summary = await call_agent(usage, "leader", "KEY: summary\n" + "; ".join(b.summary for b in branches), Summary)
    return {"summary": summary.text, "steps": [b.model_dump(exclude={"calls"}) for b in branches],
            "requests": sum(c.requests for c in usage)}


# --- processes -------------------------------------------------------------------------------------
async def executor(state: str, run_id: str, start: bool, seconds: float) -> None:
    lab.launch(lab.config(state_dir=Path(state), executor_id="exec-1"))
    await DBOS.register_queue_async(RUNS_QUEUE, polling_interval_sec=0.05)
    await DBOS.register_queue_async(STEPS_QUEUE, polling_interval_sec=0.05, worker_concurrency=3)
    _log("launched")
    if start:
        with SetWorkflowID(run_id):
            await DBOS.enqueue_workflow_async(RUNS_QUEUE, leader_worker, run_id, "tidy the repo")
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = await DBOS.get_workflow_status_async(run_id)
        if status is not None and status.status == "SUCCESS":
            _log("done " + json.dumps(status.output))
            break
        await anyio.sleep(0.05)
    DBOS.destroy()


def recorded_calls(state: Path) -> set[str]:
    """The prompt keys of the call_agent steps committed in the system database."""
    import sqlite3

    serializer = lab.RedactingJSONSerializer()
    with sqlite3.connect(state / "dbos.sqlite3") as db:
        rows = db.execute("SELECT output FROM operation_outputs WHERE function_name LIKE 'call_agent:%' AND output IS NOT NULL").fetchall()
    return {call.prompt_key for (text,) in rows for call in serializer.deserialize(text).calls}


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="ao-p5b-"))
    ledger = state / "ledger.txt"
    env = {**os.environ, "LEDGER": str(ledger)}
    run_id = "run_lw_1"
    first = subprocess.Popen([sys.executable, __file__, "executor", str(state), run_id, "start", "60"], env=env)
    t0 = time.time()
    while ledger.read_text().count("\nend ") + ledger.read_text().startswith("end ") < 5 if ledger.exists() else True:
        assert time.time() - t0 < 30
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = ledger.read_text().splitlines()
    recorded = recorded_calls(state)
    print("killed -9 after these model calls had ended:", [l.split()[1] for l in before if l.startswith("end")])
    print("in flight at the kill:", sorted({l.split()[1] for l in before if l.startswith("start")} - {l.split()[1] for l in before if l.startswith("end")}))
    t1 = time.time()
    second = subprocess.Popen([sys.executable, __file__, "executor", str(state), run_id, "wait", "30"], env=env)
    second.wait(timeout=60)
    lines = ledger.read_text().splitlines()
    ends: dict[str, int] = {}
    for line in lines:
        if line.startswith("end "):
            ends[line.split()[1]] = ends.get(line.split()[1], 0) + 1
    done = next((l for l in lines if l.startswith("done ")), None)
    print(f"restarted; run finished {time.time() - t1:.2f} s after the new process started")
    print("model calls that ended, with counts:", ends)
    print("recorded as finished steps at the kill:", sorted(recorded))
    print("recorded calls executed again after restart:", {k: ends[k] for k in recorded if ends[k] != 1} or "none")
    print("calls executed more than once:", {k: v for k, v in ends.items() if v > 1} or "none",
          "(allowed only for calls in flight or not yet recorded at the kill)")
    print("result:", done[5:].rsplit(" ", 2)[0] if done else "NOT DONE")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "executor":
        anyio.run(executor, sys.argv[2], sys.argv[3], sys.argv[4] == "start", float(sys.argv[5]))
    else:
        main()

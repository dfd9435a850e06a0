"""Scripted leader and workers for workflow tests: `Scripted` models (`scripted_models.py`) answering from a `Script`.

The leader answers planning requests with the script's plan(s), reviews with `Script.review`, and
steps it was routed with `Script.step`; workers answer steps with `Script.step`. Every call is
logged with its timing, so tests can assert who did what, in which order, and what overlapped.
Worker names that are interview behaviours (`ideal`, ...) answer interview prompts like the
scripted interview workers do, so one model can be interviewed and then do work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models import Model
from pydantic_ai.models.function import FunctionModel
from scripted import BEHAVIOURS, SEED, interview_answer, interview_prompts
from scripted_models import Reply, Request, Scripted

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import (
    DIMENSIONS,
    LOW_RISK_TASK_TYPES,
    SUITE_VERSION,
    TASK_REQUIREMENTS,
    Dimension,
    DimensionScore,
    Reliability,
    TaskType,
    WorkerCapabilityProfile,
)
from agent_orchestrator.domain.status import WorkerStatus
from agent_orchestrator.interview.scoring import routing_policy
from agent_orchestrator.providers import ModelFactory, ModelSpec, Role, normalize_base_url

BASE_URL = "http://scripted.test/v1"
LOW_RISK: list[TaskType] = [r.task_type for r in TASK_REQUIREMENTS if r.task_type in LOW_RISK_TASK_TYPES]
ALL_TYPES: list[TaskType] = [r.task_type for r in TASK_REQUIREMENTS]
_STEP_ID = re.compile(r"Step ([A-Za-z0-9_-]+):")
_INTERVIEW_PROMPTS = interview_prompts(SEED)

# (step id, call number for this step and role, prompt) -> output args; may raise to fail the call.
Answer = Callable[[str, int, str], dict[str, Any]]


def step_plan(*steps: tuple[str, TaskType, list[str]], summary: str = "the plan") -> dict[str, Any]:
    """DraftPlan args from (id, task type, dependencies) triples."""
    return {
        "summary": summary,
        "steps": [
            {"id": i, "title": f"do {i}", "done_when": f"{i} is done", "task_type": t, "depends_on": deps}
            for i, t, deps in steps
        ],
        "risks": [{"description": "a risk", "severity": "low", "mitigation": "review"}],
        "validation": {"checks": ["schema"], "commands": ["pytest -q"]},
    }


def done_step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
    return {"summary": f"{step_id} done", "content": f"output of {step_id}"}


def accept(step_id: str, n: int, prompt: str) -> dict[str, Any]:
    return {"verdict": "accept", "feedback": ""}


def endpoint_down(step_id: str, n: int, prompt: str) -> dict[str, Any]:
    raise ModelHTTPError(status_code=503, model_name="down", body={"error": "overloaded"})


@dataclass
class Call:
    """One model call for work: which kind, which step, and the request (model, prompt, start and end)."""

    kind: str  # "plan" | "review" | "step"
    step_id: str | None
    request: Request

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def prompt(self) -> str:
        return self.request.prompt

    @property
    def started(self) -> float:
        return self.request.started

    @property
    def ended(self) -> float:
        return self.request.ended


@dataclass
class Script:
    """What the scripted models answer; `plans` are used in order (the last one repeats)."""

    plans: list[dict[str, Any]]
    step: Answer = done_step
    review: Answer = accept
    latency_s: float = 0.0
    calls: list[Call] = field(default_factory=list[Call])
    scripted: Scripted = field(init=False)

    def __post_init__(self) -> None:
        self.scripted = Scripted(self._work)

    def factory(self) -> ModelFactory:
        def build(spec: ModelSpec, settings: Settings, role: Role) -> Model:
            return self.model("leader" if role == "leader" else spec.model)

        return build

    def model(self, name: str) -> FunctionModel:
        """The model `name`; one named like an interview behaviour answers interview prompts that way."""
        if name not in BEHAVIOURS:
            return self.scripted.model(name)
        interview = interview_answer(name, SEED)

        async def answer(request: Request) -> Reply:
            if request.prompt in _INTERVIEW_PROMPTS:
                return await interview(request)
            return await self._work(request)

        return self.scripted.model(name, answer)

    def of(self, kind: str, step_id: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and (step_id is None or c.step_id == step_id)]

    async def _work(self, request: Request) -> Reply:
        fields = request.output_fields
        kind = "review" if "verdict" in fields else "plan" if "steps" in fields else "step"
        match = _STEP_ID.search(request.prompt)
        step_id = match.group(1) if match and kind != "plan" else None
        n = len(self.of(kind, step_id)) if kind != "plan" else len(self.of("plan"))
        self.calls.append(Call(kind, step_id, request))
        if self.latency_s:
            await anyio.sleep(self.latency_s)
        if kind == "plan":
            return self.plans[min(n, len(self.plans) - 1)]
        return (self.review if kind == "review" else self.step)(step_id or "", n, request.prompt)


def make_profile(
    name: str,
    status: WorkerStatus,
    supported: list[TaskType],
    *,
    expired: bool = False,
    base_url: str = BASE_URL,
) -> WorkerCapabilityProfile:
    """A judged profile for the scripted worker `name` (worker id `openai-compatible:<name>`)."""
    spec = ModelSpec("openai-compatible", name, normalize_base_url(base_url))
    evaluated = datetime.now(UTC) - timedelta(days=30 if expired else 0)
    passed = status == "active"
    scores: dict[Dimension, DimensionScore] = {
        d: DimensionScore(dimension=d, score=1.0 if passed else 0.6, threshold=0.7, passed=passed, cases=[])
        for d in DIMENSIONS
    }
    return WorkerCapabilityProfile(
        worker_id=spec.model_id,
        provider=spec.provider,
        model=spec.model,
        base_url=spec.base_url,
        endpoint_fingerprint=spec.fingerprint(),
        status=status,
        scores=scores,
        supported_task_types=supported,
        unsupported_task_types=[t for t in ALL_TYPES if t not in supported],
        reasons=[] if passed else ["structured_json: score 0.60 below 0.70"],
        recommended_actions=[],
        routing_policy=routing_policy(status, supported),
        reliability=Reliability(cases=10, answered=10, transport_failures=0, timeouts=0, retries=0),
        typescript_check="scripted",
        evaluated_at=evaluated,
        expires_at=evaluated + timedelta(days=7),
        suite_version=SUITE_VERSION,
        seed=SEED,
        duration_ms=1,
    )

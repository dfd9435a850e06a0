"""Two scripted models for second-opinion tests: the leader (`openai-compatible:leader`) and `SECOND`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_ai.models import Model
from scripted_models import Reply, Scripted
from workflows.scripted_agents import step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelFactory, ModelSpec, Role
from agent_orchestrator.runtime import Runtime

BASE_URL = "http://scripted.test/v1"
LEADER = {
    "leader_model_provider": "openai-compatible",
    "leader_model_name": "leader",
    "leader_model_base_url": BASE_URL,
}
SECOND = "openai-compatible:second"
NOTES = "first line\nsecond line\nthird line\n"


def finding(line: int, severity: str, message: str) -> dict[str, Any]:
    return {"file": "notes.md", "line": line, "severity": severity, "message": message}


LEADER_FINDINGS = [
    finding(1, "high", "the first line drops the greeting"),
    finding(2, "low", "the second line repeats the first"),
]
SECOND_FINDINGS = [
    finding(1, "medium", "line one loses its greeting"),
    finding(3, "low", "the third line has no full stop"),
    finding(40, "high", "cites a line the diff does not have"),
]


class TwoModels:
    """The leader and the second model, one `Scripted` each so their requests can be told apart."""

    def __init__(self, leader: Reply, second: Reply, latency_s: float = 0.0) -> None:
        self.leader = Scripted(lambda request: leader, latency_s)
        self.second = Scripted(lambda request: second, latency_s)

    def factory(self) -> ModelFactory:
        """The leader's model for every spec but `SECOND`'s."""

        def build(spec: ModelSpec, settings: Settings, role: Role) -> Model:
            chosen = self.second if spec.model == "second" else self.leader
            return chosen.model(spec.model)

        return build

    def runtime(self, settings: Settings, **update: Any) -> Runtime:
        return Runtime.create(settings.model_copy(update=LEADER | update), self.factory())


def review_answer(risks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"impact_summary": "notes.md gains three lines", "risks": risks}


def plan_with(*steps: tuple[str, Any, list[str]], risks: list[tuple[str, str]]) -> dict[str, Any]:
    drafted = step_plan(*steps)
    drafted["risks"] = [{"description": text, "severity": severity, "mitigation": ""} for text, severity in risks]
    return drafted


PLAN_LEADER = plan_with(
    ("s1", "summarization", []),
    ("s2", "codegen", ["s1"]),
    ("s3", "code_explanation", ["s2"]),
    risks=[
        ("the migration may lock the users table for minutes", "high"),
        ("api tokens could leak into the request logs", "medium"),
    ],
)
PLAN_SECOND = plan_with(
    ("a", "codegen", []),
    ("b", "summarization", ["a"]),
    risks=[
        ("disk usage grows with the audit history", "low"),
        ("locking the users table during the migration blocks writes", "medium"),
    ],
)


def reviewing(workspace: Path) -> TwoModels:
    """The workspace's `notes.md` to review, and a leader and a second model each citing their findings on it."""
    (workspace / "notes.md").write_text(NOTES)
    return TwoModels(review_answer(LEADER_FINDINGS), review_answer(SECOND_FINDINGS))

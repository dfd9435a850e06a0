"""leader-worker-basic, end to end on a throwaway workspace, with scripted models (no key, no network).

The scripted leader plans two steps, answers them and reviews them; the patch it writes is checked
(parsed, inside the scope, applied exactly in memory, `git apply --check`) and returned as a dry-run
diff. Run it from the repository root:  .venv/bin/python examples/leader-worker-basic/demo.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

GREET = 'def greet(name):\n    return f"hello {name}"\n'
PATCH = (
    "--- a/greet.py\n+++ b/greet.py\n@@ -1,2 +1,3 @@\n def greet(name):\n"
    '+    """Return a greeting for `name`."""\n     return f"hello {name}"\n'
)
PLAN = {
    "summary": "Explain greet.py, then document greet().",
    "steps": [
        {
            "id": "s1",
            "title": "Explain greet.py",
            "done_when": "a two-line explanation",
            "task_type": "code_explanation",
            "depends_on": [],
        },
        {
            "id": "s2",
            "title": "Add a docstring to greet()",
            "done_when": "a patch adding a docstring",
            "task_type": "patch_generation",
            "depends_on": ["s1"],
        },
    ],
    "risks": [
        {"description": "the patch could change behaviour", "severity": "low", "mitigation": "docstring only"}
    ],
    "validation": {"checks": ["patch applies"], "commands": ["python -m pytest -q"]},
}


def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The scripted leader: a plan, step outputs, and reviews that accept."""
    tool = info.output_tools[0]
    properties: dict[str, Any] = tool.parameters_json_schema.get("properties", {})
    prompt = str(messages[-1].parts[-1].content)  # type: ignore[union-attr]
    if "steps" in properties:
        args: dict[str, Any] = PLAN
    elif "verdict" in properties:
        args = {"verdict": "accept", "feedback": "does what the step asks"}
    elif "Step s2" in prompt:
        args = {"summary": "adds a docstring to greet()", "content": "", "patch": PATCH}
    else:
        args = {"summary": "greet() formats a greeting", "content": "greet(name) returns 'hello <name>'."}
    return ModelResponse(parts=[ToolCallPart(tool_name=tool.name, args=args)])


def scripted(spec: object, settings: object, role: object) -> Model:
    return FunctionModel(answer, model_name="scripted-leader")


async def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="ao-example-"))
    (workspace / "greet.py").write_text(GREET)
    os.chdir(workspace)
    os.environ.update(
        {
            "AO_ENV_FILE": "",
            "AO_STATE_DIR": str(workspace / ".ao"),
            "LEADER_MODEL_PROVIDER": "openai-compatible",
            "LEADER_MODEL_NAME": "scripted-leader",
            "LEADER_MODEL_BASE_URL": "http://scripted.invalid/v1",
        }
    )
    from agent_orchestrator.runtime import Runtime
    from agent_orchestrator.workflows.leader_worker import leader_worker

    result = await leader_worker(Runtime.create(model_factory=scripted), "Document greet.py")
    print(
        json.dumps(
            {
                "status": result.status,
                "steps": [
                    {
                        "id": s.step_id,
                        "by": s.assignee,
                        "verdict": s.verdict,
                        "checks": [c.name for c in s.validation],
                    }
                    for s in result.steps
                ],
                "patch": result.patches[0].patch if result.patches else None,
                "warnings": result.warnings,
            },
            indent=2,
        )
    )
    assert (workspace / "greet.py").read_text() == GREET, "dry-run must leave the tree untouched"


if __name__ == "__main__":
    anyio.run(main)

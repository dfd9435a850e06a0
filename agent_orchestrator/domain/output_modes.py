"""How a worker returns structured output, and what the interview found out about each way.

Workflows ask workers for a `StepResult`; pydantic-ai can get it three ways: through a call to an
output tool (`tool`), through the provider's JSON-schema response format (`native`), or as JSON text
the instructions ask for (`prompted`). Endpoints differ in which they can do (many local servers
cannot call tools), so the interview probes them in `OUTPUT_MODES` order and the workflows call each
worker in the mode it qualified in.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

OutputMode = Literal["tool", "native", "prompted"]
OUTPUT_MODES: tuple[OutputMode, ...] = get_args(OutputMode)  # the probe's order: the workflows' default first


class OutputModeTrial(BaseModel):
    """The structured-output cases asked in one output mode, and whether the mode works for this worker."""

    mode: OutputMode
    works: bool = Field(description="every structured case asked in this mode came back schema-valid")
    cases: int = Field(default=0, ge=0, description="structured cases asked in this mode (0: not asked)")
    delivered: int = Field(default=0, ge=0, description="answers that arrived as schema-valid structured output")
    score: float = Field(default=0.0, ge=0, le=1, description="the structured dimension's score in this mode")
    detail: str = ""

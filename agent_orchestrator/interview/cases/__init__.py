"""Case templates, one module per interview dimension."""

from __future__ import annotations

from agent_orchestrator.interview.case import Template
from agent_orchestrator.interview.cases import (
    calibration,
    code_understanding,
    codegen,
    instruction,
    structured,
    summarization,
)

TEMPLATES: tuple[Template, ...] = (
    *instruction.TEMPLATES,
    *structured.TEMPLATES,
    *summarization.TEMPLATES,
    *code_understanding.TEMPLATES,
    *codegen.TEMPLATES,
    *calibration.TEMPLATES,
)

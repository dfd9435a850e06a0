"""The fixer's prompt: the task and its limits, then the parsed errors, the log's tail and the files as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent_orchestrator.agents.prompts.prompt import Data, Prompt

LOG_TAIL_CHARS = 20_000
MAX_PROMPT_ERRORS = 50


class ShownError(Protocol):
    """A parsed error as the fixer is shown it (`repo.logs.ParsedError`)."""

    @property
    def file(self) -> str | None: ...
    @property
    def line(self) -> int | None: ...
    @property
    def column(self) -> int | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def code(self) -> str | None: ...
    @property
    def message(self) -> str: ...


class ShownFile(Protocol):
    """A context file (`repo.context.FileContext`)."""

    @property
    def path(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def truncated(self) -> bool: ...


class SkippedFile(Protocol):
    """A file the fixer is not shown, and why (`repo.context.SkippedFile`)."""

    @property
    def path(self) -> str: ...
    @property
    def reason(self) -> str: ...


def fix_prompt(
    *,
    error_log: str,
    scope: str,
    allowed_commands: Sequence[str],
    errors: Sequence[ShownError],
    log_text: str,
    files: Sequence[ShownFile],
    skipped: Sequence[SkippedFile],
) -> Prompt:
    """What to fix and within which limits (scope, patch form, allowlisted commands), then the evidence."""
    task = (
        f"Fix the errors reported in the log {error_log!r}. The patch may change only files inside "
        f"the scope {scope!r}; its paths are relative to the workspace root, with a/ and b/ prefixes, and "
        "its context lines must match the files shown exactly. Validation commands run in the scope "
        f"directory; only these allowlisted forms run: {', '.join(allowed_commands)}."
    )
    if skipped:
        task += " Not shown: " + "; ".join(f"{s.path} ({s.reason})" for s in skipped[:10]) + "."
    error_lines = "\n".join(_error_line(error) for error in errors[:MAX_PROMPT_ERRORS])
    prompt = Prompt.of(task).add(Data("parsed errors", error_lines, source=error_log))
    prompt.add(Data("error log tail", log_text[-LOG_TAIL_CHARS:], source=error_log))
    for file in files:
        prompt.add(Data("file", file.text, source=f"{file.path} (truncated)" if file.truncated else file.path))
    return prompt


def _error_line(error: ShownError) -> str:
    where = ":".join(str(part) for part in (error.file, error.line, error.column) if part is not None)
    code = f" [{error.code}]" if error.code else ""
    return f"{where or '(no location)'}: {error.severity}{code}: {error.message}"

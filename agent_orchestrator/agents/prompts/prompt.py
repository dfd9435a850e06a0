"""A prompt as sections of our own text and untrusted data; rendering is the one place that fences.

Builders never format repository content (files, diffs, logs) or a model's output into a prompt
themselves: they add it as `Data`, and `Prompt.render` (called by `call_agent`) redacts every
segment and puts each `Data` inside a nonce-fenced `UNTRUSTED-DATA` block, so no builder can forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.untrusted import untrusted_block


@dataclass(frozen=True)
class Data:
    """Untrusted content (a file, a diff, a log, a model's output) and what it is; fenced when rendered."""

    kind: str
    text: str
    source: str | None = None


Segment = str | Data


@dataclass
class Prompt:
    """Sections (joined by blank lines) of segments (joined by newlines): our text and `Data`."""

    sections: list[tuple[Segment, ...]] = field(default_factory=list[tuple[Segment, ...]])

    @classmethod
    def of(cls, *segments: Segment) -> Prompt:
        """A prompt of one section."""
        return cls().add(*segments)

    def add(self, *segments: Segment) -> Prompt:
        """Append one section; returns the prompt, so sections chain."""
        self.sections.append(segments)
        return self

    def render(self, redact: Redactor) -> str:
        """The text a model gets: every segment redacted, each `Data` inside its own fenced block."""
        return "\n\n".join(
            "\n".join(_rendered(segment, redact) for segment in section) for section in self.sections
        )


def _rendered(segment: Segment, redact: Redactor) -> str:
    if isinstance(segment, Data):
        return untrusted_block(segment.kind, redact(segment.text), source=segment.source)
    return redact(segment)

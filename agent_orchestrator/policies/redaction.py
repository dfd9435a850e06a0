"""Redact secrets from any text that leaves the process: logs, tool results, stored records, errors.

Known secret values from the settings are replaced first, then common key shapes, so a key that
was never configured here (pasted into a log, echoed by a worker, committed in a diff) is caught
as well.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# Shapes of secrets: vendor key formats, private key blocks, and `name = value` assignments whose
# name says it is a secret. Group 1 (when present) is a label kept for readability.
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)", re.DOTALL),
    re.compile(r"\bsk-(?:ant-(?:api|admin)\d\d-|proj-|svcacct-|or-v1-)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}\b"),
    re.compile(r"\bgsk_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    re.compile(r"(?i)\b(bearer|token|basic)(\s+)[A-Za-z0-9._~+/=-]{16,}"),
    # Credentials in a URL (`https://user:password@host`): the label keeps the scheme and user.
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*)(:)[^\s/@]+(?=@)"),
    re.compile(
        r"(?i)\b([\w.-]*(?:api[_-]?key|secret|token|passw(?:or)?d|credential|private[_-]?key)[\w.-]*)"
        r"(\s*[=:]\s*|\"\s*:\s*\")['\"]?[^\s'\",}]{8,}"
    ),
)


class Redactor:
    """Replaces known secret values and common key patterns with a placeholder."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._values = sorted({v for v in secret_values if len(v) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(_replacement, text)
        return text


def _replacement(match: re.Match[str]) -> str:
    """Keep a leading label (`Bearer`, `api_key=`) so the redacted text still reads sensibly.

    A multi-line match (a private key block) keeps its line count and each line's diff marker, so
    redacted `git diff` output still parses.
    """
    if match.lastindex and match.lastindex >= 2 and match.group(1):
        return f"{match.group(1)}{match.group(2)}{REDACTED}"
    lines = match.group(0).split("\n")
    return "\n".join([REDACTED] + [line[:1] + REDACTED if line[:1] in "+- " else REDACTED for line in lines[1:]])


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (arguments included)."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self._redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

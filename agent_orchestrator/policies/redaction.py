"""Redact secrets from any text that leaves the process: logs, tool results, stored records, errors.

Known secret values from the settings are replaced first, then common key shapes, so a key that
was never configured here (pasted into a log, echoed by a worker) is caught as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}\b"),
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{12,}"),
    re.compile(r"(?i)\b(api[_-]?key|secret|token|password)(\s*[=:]\s*)['\"]?[^\s'\"]{8,}"),
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
    """Keep a leading label (`Bearer`, `api_key=`) so the redacted text still reads sensibly."""
    if match.lastindex and match.lastindex >= 1 and match.group(1):
        separator = match.group(2) if match.lastindex >= 2 else " "
        return f"{match.group(1)}{separator}{REDACTED}"
    return REDACTED

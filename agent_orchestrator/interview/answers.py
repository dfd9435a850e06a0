"""Read a worker's answer as data: pull out JSON, code, an `ANSWER:` line, numbers, words.

Nothing here believes what the answer says about itself; these only locate content for checks.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)\n?```[ \t]*$", re.DOTALL | re.MULTILINE)
_ANSWER_LINE = re.compile(r"^\s*\**ANSWER\**\s*:\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d.])\d[\d,]*(?:\.\d+)*")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’_-]*")


class AnswerFormatError(ValueError):
    """The answer does not have the shape the case asked for."""


def strip_single_fence(text: str) -> tuple[str, bool]:
    """If the whole answer is one fenced block, return its body; report whether a fence was removed."""
    stripped = text.strip()
    match = _FENCE.fullmatch(stripped)
    if match:
        return match.group(2).strip(), True
    return stripped, False


def parse_json_answer(text: str) -> Any:
    """Parse an answer that must be only JSON (optionally one fenced block) or raise saying why."""
    body, _ = strip_single_fence(text)
    if not body:
        raise AnswerFormatError("empty answer")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        start = body.find("{")
        hint = " (JSON surrounded by prose)" if start > 0 else ""
        raise AnswerFormatError(
            f"not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def extract_code(text: str, languages: tuple[str, ...]) -> str | None:
    """The first fenced block in one of `languages` (or unlabelled); the whole answer if it has no fence."""
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text.strip())]
    if not blocks:
        loose = re.search(r"```[A-Za-z0-9_+-]*\n(.*?)```", text, re.DOTALL)
        if loose:
            return loose.group(1)
        return text.strip() or None
    for language, body in blocks:
        if language in languages or not language:
            return body
    return None


def answer_line(text: str) -> str | None:
    """The value on the last `ANSWER: ...` line, without quotes or backticks."""
    matches = _ANSWER_LINE.findall(text)
    if not matches:
        return None
    return matches[-1].strip().strip("`'\"*. ").strip()


def numbers_in(text: str) -> set[str]:
    """Numeric tokens, normalised (thousands separators removed, trailing `.0` dropped)."""
    found: set[str] = set()
    for token in _NUMBER.findall(text):
        value = token.replace(",", "").rstrip(".")
        if value.endswith(".0"):
            value = value[:-2]
        found.add(str(int(value)) if value.isdigit() else value)
    return found


def words_in(text: str) -> list[str]:
    """Word tokens, for word counts."""
    return _WORD.findall(text)


def mentions(text: str, identifier: str) -> bool:
    """Whether `identifier` appears as a whole token (not inside a longer identifier)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(identifier)}(?![A-Za-z0-9_])", text) is not None


def first_mentions_in_order(text: str, identifiers: list[str]) -> bool:
    """Whether the first mentions of `identifiers` come in the given order."""
    positions: list[int] = []
    for identifier in identifiers:
        match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(identifier)}(?![A-Za-z0-9_])", text)
        if match is None:
            return False
        positions.append(match.start())
    return positions == sorted(positions)

"""Reading answers as data."""

from __future__ import annotations

import pytest

from agent_orchestrator.interview.answers import (
    AnswerFormatError,
    answer_line,
    extract_code,
    first_mentions_in_order,
    mentions,
    numbers_in,
    parse_json_answer,
)


def test_json_in_one_fence_is_accepted() -> None:
    assert parse_json_answer('```json\n{"a": 1}\n```') == {"a": 1}


def test_json_after_prose_is_refused_with_a_hint() -> None:
    with pytest.raises(AnswerFormatError, match="surrounded by prose"):
        parse_json_answer('Here you go: {"a": 1}')


def test_empty_answer_is_not_json() -> None:
    with pytest.raises(AnswerFormatError, match="empty"):
        parse_json_answer("   ")


def test_code_block_of_the_right_language_is_extracted() -> None:
    text = "Intro\n```python\nprint(1)\n```\n\n```ts\nexport const x = 1;\n```"
    assert extract_code(text, ("ts",)) == "export const x = 1;"


def test_last_answer_line_wins_and_is_unquoted() -> None:
    assert answer_line("ANSWER: first\nmore\n**ANSWER:** `second`.") == "second"


def test_numbers_are_normalised() -> None:
    assert numbers_in("4,800 users, v2.3.1 on 2027-06-12, 45 min") == {"4800", "2.3.1", "2027", "6", "12", "45"}


def test_mentions_is_whole_token() -> None:
    assert mentions("calls load_row()", "load_row")
    assert not mentions("calls load_rows()", "load_row")


def test_mention_order() -> None:
    assert first_mentions_in_order("a then b then c", ["a", "b", "c"])
    assert not first_mentions_in_order("b then a", ["a", "b"])

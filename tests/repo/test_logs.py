"""Log parsing: real tool output per tool, detection, ANSI, truncation, and no crash on any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_orchestrator.errors import UsageError
from agent_orchestrator.repo.logs import LOG_TOOLS, ParsedLog, parse_log

FIXTURES = Path(__file__).parent / "fixtures" / "logs"

Row = tuple[str | None, int | None, int | None, str | None, str]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def rows(log: ParsedLog) -> list[Row]:
    return [(error.file, error.line, error.column, error.code, error.severity) for error in log.errors]


def test_tsc_plain_format() -> None:
    log = parse_log(fixture("tsc.txt"))
    assert log.tool == "tsc"
    assert rows(log) == [
        ("b.ts", 1, 7, "TS2322", "error"),
        ("b.ts", 3, 18, "TS2353", "error"),
        ("b.ts", 5, 3, "TS2345", "error"),
    ]
    assert log.errors[0].message == "Type 'string' is not assignable to type 'number'."


def test_tsc_pretty_format_with_colours() -> None:
    log = parse_log(fixture("tsc_pretty.txt"))
    assert log.tool == "tsc"
    assert rows(log) == rows(parse_log(fixture("tsc.txt")))


def test_tsc_chained_message_lines_join_the_message() -> None:
    for name in ("tsc_chain.txt", "tsc_chain_pretty.txt"):
        log = parse_log(fixture(name))
        chained = next(error for error in log.errors if error.file == "d.ts")
        assert (chained.line, chained.column, chained.code) == (2, 7, "TS2322")
        assert chained.message.splitlines() == [
            "Type '(a: string) => string' is not assignable to type 'F'.",
            "Types of parameters 'a' and 'a' are incompatible.",
            "Type 'number' is not assignable to type 'string'.",
        ]


def test_tsc_pretty_related_location_is_not_an_error() -> None:
    log = parse_log(fixture("tsc_chain_pretty.txt"))
    assert [(error.file, error.line) for error in log.errors] == [("c.ts", 2), ("c.ts", 4), ("d.ts", 2)]


def test_tsc_error_without_a_file() -> None:
    log = parse_log(fixture("tsc_global.txt"))
    assert rows(log) == [(None, None, None, "TS5023", "error")]
    assert log.errors[0].message == "Unknown compiler option '--badopt'."


def test_mypy_lines_columns_codes_and_notes() -> None:
    log = parse_log(fixture("mypy.txt"))
    assert log.tool == "mypy"
    assert rows(log) == [
        ("src/app/models.py", 12, None, "assignment", "error"),
        ("src/app/models.py", 20, 5, "name-defined", "error"),
        ("src/app/views.py", 7, None, None, "note"),
        ("src/app/views.py", 31, None, "arg-type", "error"),
        ("src/app/views.py", 40, None, "union-attr", "error"),
        ("src/app/views.py", 40, None, None, "note"),
        ("src/app/views.py", 44, None, "unused-ignore", "error"),
    ]
    assert log.errors[0].message == (
        'Incompatible types in assignment (expression has type "str", variable has type "int")'
    )


def test_mypy_error_end_columns_and_windows_paths() -> None:
    log = parse_log('C:\\proj\\src\\a.py:3:5:3:9: error: Name "x" is not defined  [name-defined]\n')
    assert rows(log) == [("C:\\proj\\src\\a.py", 3, 5, "name-defined", "error")]


def test_pyright_rule_and_continuation_lines() -> None:
    log = parse_log(fixture("pyright.txt"))
    assert log.tool == "pyright"
    assert rows(log) == [
        ("/home/dev/proj/src/a.py", 6, 14, "reportAssignmentType", "error"),
        ("/home/dev/proj/src/a.py", 7, 12, "reportUndefinedVariable", "error"),
        ("/home/dev/proj/src/a.py", 9, 3, "reportArgumentType", "error"),
    ]
    assert log.errors[0].message == (
        'Type "Literal[\'s\']" is not assignable to declared type "int"\n"Literal[\'s\']" is not assignable to "int"'
    )


def test_pyright_warnings_and_information() -> None:
    log = parse_log(fixture("pyright_warn.txt"))
    assert rows(log) == [
        ("/home/dev/proj/src/w.py", 3, 1, "reportUnusedExpression", "warning"),
        ("/home/dev/proj/src/w.py", 4, 13, None, "note"),
    ]


RUFF_ROWS: list[Row] = [
    ("a.py", 1, 8, "F401", "error"),
    ("a.py", 2, 8, "F401", "error"),
    ("a.py", 6, 5, "F841", "error"),
    ("a.py", 7, 12, "F821", "error"),
]


def test_ruff_concise_format() -> None:
    log = parse_log(fixture("ruff_concise.txt"))
    assert (log.tool, rows(log)) == ("ruff", RUFF_ROWS)
    assert log.errors[0].message == "`os` imported but unused"


def test_ruff_full_format_reads_the_arrow_location() -> None:
    log = parse_log(fixture("ruff_full.txt"))
    assert (log.tool, rows(log)) == ("ruff", [*RUFF_ROWS, ("a.py", 10, 9, "E701", "error")])


def test_ruff_syntax_errors_in_both_formats() -> None:
    expected: list[Row] = [
        ("syn.py", 1, 7, "invalid-syntax", "error"),
        ("syn.py", 1, 8, "invalid-syntax", "error"),
    ]
    assert rows(parse_log(fixture("ruff_syn_concise.txt"))) == expected
    assert rows(parse_log(fixture("ruff_syn_full.txt"))) == expected


ESLINT_ROWS: list[Row] = [
    ("/home/dev/web/src/app.js", 3, 7, "no-unused-vars", "error"),
    ("/home/dev/web/src/app.js", 10, 1, "no-console", "warning"),
]


def test_eslint_stylish_format() -> None:
    log = parse_log(fixture("eslint_stylish.txt"))
    assert log.tool == "eslint"
    assert rows(log) == [
        *ESLINT_ROWS,
        ("/home/dev/web/src/app.js", 12, 15, "semi", "error"),
        ("/home/dev/web/src/util.ts", 1, 10, "@typescript-eslint/no-unused-vars", "error"),
        ("/home/dev/web/src/util.ts", 5, 3, None, "error"),
    ]
    assert log.errors[1].message == "Unexpected console statement"
    assert log.errors[4].message == "Parsing error: Unexpected token )"


def test_eslint_compact_format() -> None:
    log = parse_log(fixture("eslint_compact.txt"))
    assert (log.tool, rows(log)) == ("eslint", [*ESLINT_ROWS, ("/home/dev/web/src/util.ts", 5, 3, None, "error")])
    assert log.errors[0].message == "'unused' is assigned a value but never used."


def test_eslint_unix_format() -> None:
    log = parse_log(fixture("eslint_unix.txt"))
    assert (log.tool, rows(log)) == ("eslint", [*ESLINT_ROWS, ("/home/dev/web/src/util.ts", 5, 3, None, "error")])


PYTEST_ROWS: list[Row] = [
    ("tests/test_calc.py", 21, None, "RuntimeError", "error"),
    ("tests/test_calc.py", 6, None, "AssertionError", "error"),
    ("src/calc.py", 2, None, "ZeroDivisionError", "error"),
    ("tests/test_calc.py", 16, None, "AssertionError", "error"),
    ("tests/test_calc.py", 29, None, "Failed", "error"),
]


@pytest.mark.parametrize("name", ["pytest_long.txt", "pytest_short.txt", "pytest_color.txt"])
def test_pytest_failures_point_at_where_they_raised(name: str) -> None:
    log = parse_log(fixture(name))
    assert (log.tool, rows(log)) == ("pytest", PYTEST_ROWS)


def test_pytest_messages_carry_the_test_id_and_all_e_lines() -> None:
    messages = [error.message for error in parse_log(fixture("pytest_long.txt")).errors]
    assert messages[0] == "tests/test_calc.py::test_uses_broken - RuntimeError: fixture exploded"
    assert (
        messages[3]
        == "tests/test_calc.py::TestGroup::test_param[2] - AssertionError: n should be one\nassert 2 == 1"
    )


def test_pytest_collection_error() -> None:
    log = parse_log(fixture("pytest_collect.txt"))
    assert rows(log) == [("tests/test_broken.py", 1, None, "ModuleNotFoundError", "error")]
    assert log.errors[0].message == "tests/test_broken.py - ModuleNotFoundError: No module named 'nothere'"


def test_pytest_summary_line_without_a_traceback_section() -> None:
    log = parse_log(
        "FAILED tests/test_x.py::test_a - AssertionError: assert 1 == 2\n"
        "ERROR tests/test_y.py::test_b - fixture 'db' not found\n"
        "FAILED tests/test_z.py::test_c\n"
    )
    assert log.tool == "pytest"
    assert rows(log) == [
        ("tests/test_x.py", None, None, "AssertionError", "error"),
        ("tests/test_y.py", None, None, None, "error"),
        ("tests/test_z.py", None, None, None, "error"),
    ]
    assert log.errors[0].message == "tests/test_x.py::test_a - AssertionError: assert 1 == 2"


def test_generic_fallback_finds_file_line_and_column() -> None:
    log = parse_log(
        "building...\n"
        "src/main.c:12:5: error: expected ';' before '}' token\n"
        "  at render (/app/web/view.jsx:40:11)\n"
        "warning: lib/util.go:7 shadowed variable\n"
    )
    assert log.tool == "generic"
    assert rows(log) == [
        ("src/main.c", 12, 5, None, "error"),
        ("/app/web/view.jsx", 40, 11, None, "error"),
        ("lib/util.go", 7, None, None, "warning"),
    ]
    assert log.errors[0].message == "error: expected ';' before '}' token"


def test_generic_ignores_things_that_are_not_files() -> None:
    log = parse_log(
        "2024-05-01 12:30:45 started\n"
        "connecting to http://localhost:8080/health\n"
        "listening on 10.0.0.1:8080\n"
        "Makefile:12: recipe failed\n"
    )
    assert (log.tool, log.errors) == ("generic", [])


def test_text_with_no_locations_has_no_errors() -> None:
    assert parse_log("") == ParsedLog(tool="generic", errors=[], truncated=False)
    assert parse_log("all good\n3 passed in 0.1s\n").errors == []


def test_log_of_several_tools_is_mixed_and_in_log_order() -> None:
    log = parse_log(
        "$ ruff check\n"
        + fixture("ruff_concise.txt")
        + "$ mypy src\n"
        + fixture("mypy.txt")
        + "$ pytest\n"
        + fixture("pytest_short.txt")
    )
    assert log.tool == "mixed"
    assert [error.tool for error in log.errors] == ["ruff"] * 4 + ["mypy"] * 7 + ["pytest"] * 5


def test_given_tool_runs_only_that_parser() -> None:
    assert parse_log(fixture("ruff_concise.txt"), tool="mypy") == ParsedLog(
        tool="mypy", errors=[], truncated=False
    )
    generic = parse_log(fixture("ruff_concise.txt"), tool="generic")
    assert [error.tool for error in generic.errors] == ["generic"] * 4
    assert parse_log(fixture("ruff_concise.txt"), tool="auto").tool == "ruff"


def test_unknown_tool_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"unknown log tool 'gcc'; expected one of tsc, mypy"):
        parse_log("", tool="gcc")


def test_ansi_colours_and_hyperlinks_are_stripped() -> None:
    link = "\x1b]8;;file:///home/dev/a.py\x1b\\a.py\x1b]8;;\x1b\\"
    log = parse_log(
        f"\x1b[1m{link}\x1b[0m:\x1b[2m3\x1b[0m:\x1b[2m1\x1b[0m: \x1b[1;31mF401\x1b[0m [*] `os` unused\n"
    )
    assert rows(log) == [("a.py", 3, 1, "F401", "error")]
    assert log.errors[0].message == "`os` unused"


def test_errors_beyond_the_cap_are_dropped_and_flagged() -> None:
    text = "".join(f"a.py:{n}:1: E501 Line too long\n" for n in range(1, 601))
    log = parse_log(text)
    assert (len(log.errors), log.truncated) == (500, True)
    assert [error.line for error in parse_log(text, max_errors=2).errors] == [1, 2]
    assert not parse_log(fixture("ruff_concise.txt"), max_errors=4).truncated


def test_crlf_logs_parse_like_lf() -> None:
    text = fixture("mypy.txt")
    assert parse_log(text.replace("\n", "\r\n")) == parse_log(text)


def test_huge_numbers_do_not_crash() -> None:
    assert parse_log("a.py:" + "9" * 5000 + ": error: x\n").errors == []


def test_known_tools_are_listed() -> None:
    assert LOG_TOOLS == ("tsc", "mypy", "pyright", "pytest", "ruff", "eslint", "generic")


_LOG_PIECES = st.sampled_from(
    [
        "a.py:1:2: ",
        "src/x.ts(3,4): error TS1: ",
        " - error: ",
        "  1:2  error  msg  rule",
        "FAILED t.py::x - ",
        "____ t ____",
        "E   ",
        " --> ",
        "F401 ",
        "\x1b[31m",
        "\x1b]8;;",
        "\n",
        "\r\n",
        "  ",
        ":",
        "9" * 12,
        "é",
        "\u00a0",
        "[Error/x]",
        "(reportX)",
        "  [code]",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | st.lists(_LOG_PIECES | st.text(max_size=5), max_size=40).map("".join))
def test_parse_log_never_raises_on_any_text(text: str) -> None:
    for tool in (None, *LOG_TOOLS):
        log = parse_log(text, tool=tool, max_errors=5)
        assert len(log.errors) <= 5

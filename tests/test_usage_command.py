"""`ao usage` and `get_usage`: spend by model, role and workflow over a period, from the call ledger."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from inline_snapshot import snapshot
from processes import run_ao

from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.errors import UsageError
from agent_orchestrator.queries.usage import get_usage, period_bound
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
HOUR, DAY = 3600, 86400


def call(
    role: str, model_id: str, cost: float | None, ago_s: float, *, attempts: int = 1, error: str | None = None
) -> CallRecord:
    return CallRecord(
        role=role,
        model_id=model_id,
        started=time.time() - ago_s,
        latency_ms=100,
        attempts=attempts,
        requests=1,
        input_tokens=1000,
        output_tokens=200,
        cost_usd=cost,
        error=error,
    )


@pytest.fixture
def ledger(runtime: Runtime) -> Runtime:
    """Three recent runs (a priced leader, an unpriced worker that failed once) and one older interview."""
    runtime.ledger.add("run-1", "planning", call("leader", "openai:gpt-4.1", 0.25, HOUR, attempts=3))
    runtime.ledger.add("run-2", "leader-worker-basic", call("leader", "openai:gpt-4.1", 0.5, 2 * HOUR))
    runtime.ledger.add("run-2", "leader-worker-basic", call("worker", "ollama:qwen3", None, 2 * HOUR))
    runtime.ledger.add(
        "run-2", "leader-worker-basic", call("worker", "ollama:qwen3", None, 2 * HOUR, error="down")
    )
    runtime.ledger.add("int-1", "interview", call("worker", "ollama:qwen3", None, 20 * DAY))
    return runtime


def without_dates(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "DATE", text)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("7d", False, datetime(2026, 3, 11, 15, 30, tzinfo=UTC)),
        ("today", False, datetime(2026, 3, 18, tzinfo=UTC)),
        ("month", False, datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-01-05", False, datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05", True, datetime(2026, 1, 6, tzinfo=UTC)),  # the until day is included
        ("today", True, NOW),
    ],
)
def test_a_period_bound_is_days_back_today_the_month_or_a_utc_date(
    text: str, end: bool, expected: datetime
) -> None:
    assert period_bound(text, NOW, end=end) == expected


@pytest.mark.parametrize("text", ["nope", "0d", "99999d", "2026-13-01", "-7d", ""])
def test_a_bad_period_is_a_usage_error_naming_the_argument(text: str) -> None:
    with pytest.raises(UsageError, match=r"^`since` "):
        period_bound(text, NOW, end=False)


def test_since_must_come_before_until(runtime: Runtime) -> None:
    with pytest.raises(UsageError, match=r"is not before `until` '2026-01-01'"):
        get_usage(runtime, since="2026-02-01", until="2026-01-01", now=NOW)


def test_ao_usage_prints_spend_by_model_over_the_last_seven_days(
    ledger: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_ao(capsys, "usage")
    assert code == 0
    assert without_dates(out).splitlines() == snapshot(
        [
            "spend by model, DATE until DATE UTC",
            "MODEL           CALLS  FAILED  RETRIES  REQUESTS  TOKENS IN  TOKENS OUT  COST",
            "openai:gpt-4.1  2      0       2        2         2,000      400         $0.7500",
            "ollama:qwen3    2      1       0        2         2,000      400         unpriced",
            "total           4      1       2        4         4,000      800         $0.7500 (+2 unpriced)",
        ]
    )


def test_ao_usage_groups_by_workflow_over_thirty_days_as_json(
    ledger: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_ao(capsys, "usage", "--since", "30d", "--by", "workflow", "--json")
    report = json.loads(out)
    assert code == 0 and report["by"] == "workflow" and report["total_calls"] == 5
    assert {row["key"]: (row["calls"], row["cost_usd"]) for row in report["rows"]} == {
        "leader-worker-basic": (3, 0.5),
        "planning": (1, 0.25),
        "interview": (1, None),
    }
    assert report["total_cost_usd"] == 0.75


def test_ao_usage_by_role_over_a_period_with_no_calls_says_so(
    ledger: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_ao(capsys, "usage", "--by", "role", "--since", "2020-01-01", "--until", "2020-01-31")
    assert code == 0 and out.strip() == "no model calls recorded from 2020-01-01 00:00 until 2020-02-01 00:00 UTC"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "last-week"], "--since 'last-week' is not a period: give a number of days (7d, 30d)"),
        (["--since", "7d", "--until", "2001-01-01"], "is not before --until '2001-01-01'"),
        (["--until", "soon"], "--until 'soon' is not a period"),
    ],
)
def test_ao_usage_with_a_bad_period_exits_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_ao(capsys, "usage", *argv)
    assert code == 2 and out == "" and message in err


def test_ao_usage_refuses_an_unknown_grouping(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        from agent_orchestrator.cli import main

        main(["usage", "--by", "provider"])
    assert exit_info.value.code == 2 and "invalid choice: 'provider'" in capsys.readouterr().err


@pytest.mark.anyio
async def test_get_usage_over_mcp_is_read_only_and_reports_by_role(ledger: Runtime) -> None:
    async with Client(create_server(ledger)) as client:
        tool = next(t for t in await client.list_tools() if t.name == "get_usage")
        result = await client.call_tool("get_usage", {"since": "30d", "by": "role"})
        with pytest.raises(ToolError, match="invalid request: `since` 'yesterday' is not a period"):
            await client.call_tool("get_usage", {"since": "yesterday"})
    assert tool.annotations is not None and tool.annotations.read_only_hint
    rows = {row["key"]: row for row in (result.structured_content or {})["rows"]}
    assert (rows["leader"]["calls"], rows["leader"]["retries"], rows["leader"]["cost_usd"]) == (2, 2, 0.75)
    assert (rows["worker"]["calls"], rows["worker"]["failed_calls"], rows["worker"]["unpriced_calls"]) == (3, 1, 3)


def test_ao_usage_does_not_import_the_agent_stack(tmp_path: Path) -> None:
    """A spend report is a ledger query: no workflow, no model SDK is loaded for it."""
    code = (
        "import sys\nfrom agent_orchestrator.cli import main\n"
        "try:\n    main(['usage', '--since', '30d'])\nexcept SystemExit as exit:\n    code = exit.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pydantic_ai', 'pydantic_graph', 'openai'})\n"
        "print('EXIT', code, 'HEAVY', heavy)\n"
    )
    env = {**os.environ, "AO_STATE_DIR": str(tmp_path / ".ao"), "AO_ENV_FILE": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "EXIT 0 HEAVY []" in result.stdout, result.stderr[-2000:]

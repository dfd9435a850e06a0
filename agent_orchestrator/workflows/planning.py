"""The planning workflow: read context, let the leader draft steps, check them, propose who does each.

The draft is checked deterministically (unique ids, known dependencies, no cycles). A broken
draft goes back to the leader once with the problems listed; a second broken draft fails the run,
so no caller ever gets a plan whose steps cannot be ordered. A failed plan has no result: its error
and its run record (`failure`) carry the last draft's problems (or the validation errors of an
output that never validated), summarised and redacted; a draft sent back is in the warnings.
Assignments come from saved, judged worker profiles only (see `routing`), never from anything a
model says. A plan that passes those checks is still read, not believed (`leader_checks`): one
that restates the goal instead of giving steps, has placeholder text, or echoes instructions found
in the context files is returned `needs_attention` with the reasons (its run record `partial`).

With a second opinion (`second_opinion`, another model) the second model drafts a plan from the same
first prompt, concurrently; the leader's plan is still the one returned and routed, its risks marked
against the second draft's (`plan_agreement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.build import build_agents_with_fallbacks
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.models import DraftPlan, PlanStep, Risk
from agent_orchestrator.agents.plan_graph import plan_problems
from agent_orchestrator.agents.prompts.instructions import LEADER_PLANNER
from agent_orchestrator.agents.prompts.planning import planner_prompt
from agent_orchestrator.agents.prompts.prompt import Data
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.interview.freshness import freshness
from agent_orchestrator.interview.routing import Candidate, propose
from agent_orchestrator.providers import ModelSpec, role_spec
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.failures import OutputRejected, summarise
from agent_orchestrator.workflows.graphs import build_graph, node_names
from agent_orchestrator.workflows.leader_checks import LeaderText, plan_attention, reasons
from agent_orchestrator.workflows.leader_vetting import vet_leader
from agent_orchestrator.workflows.plan_agreement import SecondDraft, draft_alongside, second_opinion_of
from agent_orchestrator.workflows.plan_result import PlanResult, PlanRisk, PlanSecondOpinion, ProposedPlan
from agent_orchestrator.workflows.recorder import RunContext, record_run
from agent_orchestrator.workflows.second_opinion import second_opinion_spec

MAX_CONTEXT_FILES = 20
MAX_CONTEXT_FILE_BYTES = 64_000
PLAN_ATTEMPTS = 2


class PlanRejected(OutputRejected):
    """The leader's plan failed its deterministic checks on every attempt; `problems` are the last draft's."""


@dataclass
class PlanOutcome:
    """The planning graph's output: the plan and the context (as data) it was made from (workers reuse it)."""

    plan: ProposedPlan
    context: list[Data]
    context_files: list[str]
    second_draft: SecondDraft | None = None


@dataclass
class PlanningState:
    goal: str
    context: list[Data] = field(default_factory=list[Data])
    context_files: list[str] = field(default_factory=list[str])
    attempts: int = 0
    second_draft: SecondDraft | None = None


@dataclass
class PlanningDeps:
    """The run being recorded, the worker candidates to route to, the scope context must lie in, and the
    second model asked for a draft too (a second opinion)."""

    run: RunContext
    candidates: list[Candidate]
    scope: Path | None = None
    second: ModelSpec | None = None


@dataclass
class ReadContext(BaseNode[PlanningState, PlanningDeps, PlanOutcome]):
    """Read the context files through the path policy and fence them as untrusted data."""

    files: list[str] = field(default_factory=list[str])

    async def run(self, ctx: GraphRunContext[PlanningState, PlanningDeps]) -> DraftSteps:
        async with ctx.deps.run.recorded(self):
            for name in dict.fromkeys(self.files):
                shown, block = read_context_file(ctx.deps.run.runtime, name, ctx.deps.scope)
                ctx.state.context_files.append(shown)
                ctx.state.context.append(block)
        return DraftSteps()


@dataclass
class DraftSteps(BaseNode[PlanningState, PlanningDeps, PlanOutcome]):
    """Ask the leader for a plan (again with the problems found, on a retry); the first time, the second
    opinion's model too, concurrently."""

    problems: list[str] = field(default_factory=list[str])

    async def run(self, ctx: GraphRunContext[PlanningState, PlanningDeps]) -> CheckPlan:
        run = ctx.deps.run
        async with run.recorded(self):
            ctx.state.attempts += 1
            agent, fallbacks = build_agents_with_fallbacks(run.runtime, "leader", DraftPlan, LEADER_PLANNER)
            prompt = planner_prompt(ctx.state.goal, ctx.state.context, self.problems)

            async def ask_leader() -> DraftPlan:
                return await call_agent(
                    agent, prompt, usage=run, redact=run.runtime.redact, bounds=run.bounds(), fallbacks=fallbacks
                )

            second = ctx.deps.second if ctx.state.attempts == 1 else None
            if second is None:
                draft = await ask_leader()
            else:
                draft, ctx.state.second_draft = await draft_alongside(run, ask_leader, second, prompt)
        return CheckPlan(draft)


@dataclass
class CheckPlan(BaseNode[PlanningState, PlanningDeps, PlanOutcome]):
    """Check the draft deterministically; send it back once, then refuse it."""

    draft: DraftPlan

    async def run(self, ctx: GraphRunContext[PlanningState, PlanningDeps]) -> DraftSteps | ProposeAssignments:
        async with ctx.deps.run.recorded(self):
            problems = plan_problems(self.draft)
            if problems and ctx.state.attempts >= PLAN_ATTEMPTS:
                shown = [ctx.deps.run.runtime.redact(problem) for problem in problems]
                raise PlanRejected(f"the leader's plan failed its checks {ctx.state.attempts} times", shown)
        if problems:
            ctx.deps.run.warn(f"the leader's first plan was sent back: {summarise(problems)}")
            return DraftSteps(problems)
        return ProposeAssignments(self.draft)


@dataclass
class ProposeAssignments(BaseNode[PlanningState, PlanningDeps, PlanOutcome]):
    """Route every step to a qualified worker or the leader, from the saved profiles."""

    draft: DraftPlan

    async def run(self, ctx: GraphRunContext[PlanningState, PlanningDeps]) -> End[PlanOutcome]:
        async with ctx.deps.run.recorded(self):
            assignments, warnings = propose(self.draft.steps, ctx.deps.candidates)
            for warning in warnings:
                ctx.deps.run.warn(warning)
            plan = ProposedPlan(
                summary=self.draft.summary,
                steps=self.draft.steps,
                assignments=assignments,
                risks=[PlanRisk.model_validate(risk.model_dump()) for risk in self.draft.risks],
                validation=self.draft.validation,
            )
        return End(PlanOutcome(plan, ctx.state.context, ctx.state.context_files, ctx.state.second_draft))


GRAPH = build_graph(
    "planning",
    state_type=PlanningState,
    deps_type=PlanningDeps,
    output_type=PlanOutcome,
    start=ReadContext,
    nodes=[DraftSteps, CheckPlan, ProposeAssignments],
)
NODES = node_names(GRAPH)


def read_context_file(runtime: Runtime, name: str, scope: Path | None) -> tuple[str, Data]:
    """One context file, path-checked (and inside `scope` when given): its relative path and its text as data."""
    safety = runtime.safety
    read = safety.read_file(name, max_bytes=MAX_CONTEXT_FILE_BYTES)
    if scope is not None and not read.path.is_relative_to(scope):
        shown_scope = safety.paths.relative(scope) or "."
        raise PolicyViolation(f"context file {name!r} is outside the scope {shown_scope!r}", rule="path.scope")
    shown = safety.paths.relative(read.path)
    note = f"\n[truncated: first {MAX_CONTEXT_FILE_BYTES} of {read.size} bytes]" if read.truncated else ""
    return shown, Data("file", read.text + note, source=shown)


def saved_candidates(runtime: Runtime) -> list[Candidate]:
    """Every saved profile with why it is stale (the same freshness `ao worker list` shows)."""
    return [
        Candidate(profile, tuple(freshness(runtime.settings, profile)))
        for _, profile in sorted(runtime.profiles.load().items())
    ]


async def make_plan(
    run: RunContext,
    goal: str,
    context_files: Sequence[str],
    candidates: list[Candidate],
    scope: Path | None = None,
    second: ModelSpec | None = None,
) -> PlanOutcome:
    """Run the planning graph inside an existing run (the leader-worker workflow plans this way too);
    `second`: a second model that drafts too (a second opinion)."""
    return await GRAPH.run(
        state=PlanningState(goal=goal),
        deps=PlanningDeps(run=run, candidates=candidates, scope=scope, second=second),
        inputs=ReadContext(list(context_files)),
    )


async def plan(
    runtime: Runtime,
    goal: str,
    *,
    context_files: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    second_opinion: str | None = None,
) -> PlanResult:
    """Plan `goal`: steps, a worker assignment proposal, risks and a validation strategy, recorded as a run;
    `second_opinion` ("provider:model") has a second model draft too, its risks and steps compared."""
    if not goal.strip():
        raise UsageError("`goal` is empty: say what to plan, e.g. 'add input validation to the CLI'")
    if len(context_files) > MAX_CONTEXT_FILES:
        raise UsageError(f"at most {MAX_CONTEXT_FILES} context files, got {len(context_files)}")
    second = None if second_opinion is None else second_opinion_spec(runtime.settings, second_opinion)

    async def body(run: RunContext) -> PlanResult:
        vet_leader(run, ("planning",))
        if second is not None:
            vet_leader(run, ("planning",), second)
        outcome = await make_plan(run, goal, context_files, saved_candidates(runtime), second=second)
        attention = plan_checks(goal, outcome)
        if attention:
            run.warn(f"the leader's plan needs attention: {summarise(attention)}")
        risks, opinion = outcome.plan.risks, None
        if second is not None and outcome.second_draft is not None:
            risks, opinion = _compare(run, goal, outcome, outcome.second_draft, second)
        return PlanResult(
            **outcome.plan.model_dump(exclude={"risks"}),
            risks=risks,
            run_id=run.run_id,
            status="needs_attention" if attention else "succeeded",
            goal=runtime.redact(goal),
            context_files=outcome.context_files,
            attention=attention,
            second_opinion=opinion,
            warnings=list(run.warnings),
            usage=run.usage.as_dict(),
        )

    inputs = {"goal": goal, "context_files": list(context_files)}
    return await record_run(
        runtime,
        "planning",
        inputs | ({} if second is None else {"second_opinion": second.model_id}),
        body,
        expected_nodes=len(NODES),
        progress=progress,
        summarize=lambda result: {
            "summary": result.summary,
            "steps": len(result.steps),
            "assignments": {a.step_id: a.assignee for a in result.assignments},
            "attention": result.attention,
            **({} if result.second_opinion is None else {"second_opinion": result.second_opinion.model_dump()}),
        },
        outcome=_outcome,
    )


def plan_checks(goal: str, outcome: PlanOutcome) -> list[str]:
    """Why the leader's plan text is not accepted as is (empty: it is): see `leader_checks`."""
    plan = outcome.plan
    return _text_checks(goal, plan.summary, plan.steps, plan.risks, outcome.context)


def _text_checks(
    goal: str, summary: str, steps: Sequence[PlanStep], risks: Sequence[Risk], context: list[Data]
) -> list[str]:
    texts = [LeaderText("summary", summary)]
    for step in steps:
        texts += [
            LeaderText(f"steps.{step.id}.title", step.title),
            LeaderText(f"steps.{step.id}.done_when", step.done_when),
        ]
    for i, risk in enumerate(risks):
        texts += [LeaderText(f"risks[{i}].description", risk.description)]
        texts += [LeaderText(f"risks[{i}].mitigation", risk.mitigation)] if risk.mitigation else []
    shown = [(step.title, step.done_when) for step in steps]
    return reasons(plan_attention(goal, shown, texts, [data.text for data in context]))


def _compare(
    run: RunContext, goal: str, outcome: PlanOutcome, second: SecondDraft, spec: ModelSpec
) -> tuple[list[PlanRisk], PlanSecondOpinion]:
    """The leader's risks marked against the second draft, which passes the same checks first (once: no
    retry), else is rejected."""
    problems: list[str] = []
    if isinstance(second, DraftPlan):
        problems = plan_problems(second) or _text_checks(
            goal, second.summary, second.steps, second.risks, outcome.context
        )
    leader = role_spec(run.runtime.settings, "leader").model_id
    return second_opinion_of(run, outcome.plan, second, problems, leader, spec.model_id)


def _outcome(result: PlanResult) -> tuple[RunStatus, str]:
    """The run record's status: `partial` with the reasons when the plan needs attention."""
    if result.status == "needs_attention":
        return "partial", f"the leader's plan needs attention: {'; '.join(result.attention)}"
    return "succeeded", ""

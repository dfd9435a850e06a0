"""Seeded planning goals: named requirements a plan must cover and orderings it must respect.

Each requirement carries a distinctive token (a command, a migration id, a path) that the step
doing it names in its title or done-when; that is how a grader finds the step without reading
intent into prose. Tokens are chosen so none contains another. Each theme draws its names from
the seed, so a leader cannot memorise a plan; the requirements are listed shuffled, so the order
a plan needs comes from the stated orderings, not from the listing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from agent_orchestrator.domain.profile import TaskType


@dataclass(frozen=True)
class Requirement:
    """One thing the goal asks for, and the reference step that does it."""

    token: str
    text: str
    title: str
    done_when: str
    task_type: TaskType = "patch_generation"


@dataclass(frozen=True)
class Ordering:
    """`before`'s step must come (transitively) before `after`'s; `text` is how the goal says it."""

    before: str
    after: str
    text: str


@dataclass(frozen=True)
class PlanningGoal:
    """A goal's text and what a plan for it must get right."""

    theme: str
    text: str
    requirements: tuple[Requirement, ...]  # in an order that respects every ordering
    orderings: tuple[Ordering, ...]


# A theme: its intro, a pool of requirements (in an order that respects its orderings), orderings as
# (index before, index after, how the goal says it).
Theme = tuple[str, list[Requirement], list[tuple[int, int, str]]]


def billing(rng: random.Random) -> Theme:
    table = rng.choice(["invoices", "payments", "refunds", "credits", "orders"])
    migration = f"00{rng.randint(10, 99)}_add_{table}_v2"
    job = f"backfill-{table}-v2"
    cli = rng.choice(["ledger", "billing", "acct"])
    command = rng.choice(["export-csv", "export-parquet", "close-month", "sync-ledger"])
    flag = rng.choice(["--since", "--until", "--currency", "--dry-run"])
    report = rng.choice(["aging", "summary", "balances"])
    page = f"docs/{rng.choice(['cli-reference', 'usage', 'operations'])}.md"
    metric = f"{table}_rows_copied"
    pool = [
        Requirement(
            migration,
            f"add the `{migration}` database migration creating the `{table}_v2` table",
            f"Write the {migration} migration",
            f"{migration} creates {table}_v2 and migrates up and down cleanly",
        ),
        Requirement(
            job,
            f"backfill `{table}_v2` from `{table}` with the `{job}` job",
            f"Run the {job} job",
            f"{job} has copied every {table} row into the new table",
        ),
        Requirement(
            command,
            f"add the `{command}` command to the `{cli}` CLI",
            f"Add the {command} command",
            f"`{cli} {command}` runs and is covered by a test",
        ),
        Requirement(
            flag,
            f"add the `{flag}` flag to the `{report}` report",
            f"Add {flag} to the {report} report",
            f"the {report} report honours {flag}, with a test",
        ),
        Requirement(
            page,
            f"describe the `{command}` command in `{page}`",
            f"Document the new command in {page}",
            f"{page} explains the new command with an example",
            "summarization",
        ),
        Requirement(
            metric,
            f"emit the `{metric}` metric while backfilling",
            f"Emit the {metric} metric",
            f"{metric} is reported once per batch",
        ),
    ]
    orderings = [
        (0, 1, f"the `{migration}` migration must come before the `{job}` backfill"),
        (2, 4, f"the `{command}` command must exist before `{page}` describes it"),
    ]
    return f"Extend the billing service behind the `{cli}` CLI.", pool, orderings


def api(rng: random.Random) -> Theme:
    singular = rng.choice(["refund", "payout", "coupon", "webhook", "subscription"])
    resource = f"{singular}s"
    schema = f"{singular.capitalize()}Request"
    path = f"/v{rng.randint(1, 3)}/{resource}"
    flag = f"{resource}_api_enabled"
    limiter = f"{singular}-writes-per-minute"
    test = f"test_{singular}_round_trip"
    event = f"audit.{singular}.created"
    pool = [
        Requirement(
            schema,
            f"define the `{schema}` request schema",
            f"Define the {schema} schema",
            f"{schema} validates the request body and rejects unknown fields",
        ),
        Requirement(
            flag,
            f"put the new endpoint behind the `{flag}` feature flag",
            f"Add the {flag} feature flag",
            f"{flag} exists, defaults to off and is read at request time",
        ),
        Requirement(
            path,
            f"add the `POST {path}` endpoint",
            f"Add POST {path}",
            f"POST {path} answers 201 for a valid body and 422 for an invalid one",
        ),
        Requirement(
            limiter,
            f"rate-limit the endpoint with the `{limiter}` limiter",
            f"Add the {limiter} limiter",
            f"a client over {limiter} gets 429",
        ),
        Requirement(
            test,
            f"add the `{test}` integration test",
            f"Write {test}",
            f"{test} passes against a test database",
        ),
        Requirement(
            event,
            f"emit the `{event}` audit event on success",
            f"Emit {event}",
            f"{event} is recorded once per successful request",
        ),
    ]
    orderings = [
        (0, 2, f"the `{schema}` schema must be defined before the `POST {path}` endpoint is added"),
        (1, 2, f"the `{flag}` flag must exist before the endpoint is added"),
        (2, 4, f"the endpoint must exist before `{test}` is written"),
    ]
    return f"Add a `{resource}` API to the payments service.", pool, orderings


def cli(rng: random.Random) -> Theme:
    tool = rng.choice(["tidy", "hauler", "gauge", "shipit"])
    key = rng.choice(["retention_days", "keep_last", "max_parallel"])
    subcommand = rng.choice(["prune-snapshots", "rollback-release", "verify-cache"])
    completions = f"completions/{tool}.bash"
    version = f"v{rng.randint(2, 9)}.{rng.randint(0, 20)}.0"
    manpage = f"man/{tool}.1"
    pool = [
        Requirement(
            key,
            f"read the `{key}` setting from `{tool}.toml`",
            f"Read {key} from the config file",
            f"{key} is parsed, validated and defaulted",
        ),
        Requirement(
            subcommand,
            f"add the `{subcommand}` subcommand to `{tool}`",
            f"Add the {subcommand} subcommand",
            f"`{tool} {subcommand}` works end to end, with tests",
        ),
        Requirement(
            completions,
            f"generate shell completions in `{completions}`",
            f"Generate {completions}",
            f"{completions} completes every subcommand",
        ),
        Requirement(
            manpage,
            f"update the `{manpage}` man page",
            f"Update {manpage}",
            f"{manpage} lists every subcommand and setting",
            "summarization",
        ),
        Requirement(
            version,
            f"add a `{version}` entry to CHANGELOG.md",
            f"Add the {version} changelog entry",
            f"CHANGELOG.md has a {version} section naming the changes",
            "summarization",
        ),
    ]
    orderings = [
        (0, 1, f"`{key}` must be read before `{subcommand}` uses it"),
        (1, 2, f"the `{subcommand}` subcommand must exist before `{completions}` is generated"),
    ]
    return f"Extend the `{tool}` command-line tool.", pool, orderings


THEMES: dict[str, Callable[[random.Random], Theme]] = {"billing": billing, "api": api, "cli": cli}


def planning_goal(theme: str, rng: random.Random) -> PlanningGoal:
    """3-5 requirements of `theme` with 1-2 of its orderings among them, listed in a seeded order."""
    intro, pool, orderings = THEMES[theme](rng)
    chosen_orderings = rng.sample(orderings, rng.randint(1, 2))
    wanted = {index for before, after, _ in chosen_orderings for index in (before, after)}
    others = [index for index in range(len(pool)) if index not in wanted]
    total = max(len(wanted), rng.randint(3, 5))
    wanted.update(rng.sample(others, total - len(wanted)))
    requirements = tuple(pool[index] for index in sorted(wanted))
    listed = list(requirements)
    rng.shuffle(listed)
    constraints = tuple(Ordering(pool[b].token, pool[a].token, text) for b, a, text in chosen_orderings)
    lines = "\n".join(f"- {requirement.text}" for requirement in listed)
    order = "; ".join(ordering.text for ordering in constraints)
    text = f"{intro} Requirements:\n{lines}\nOrdering: {order}."
    return PlanningGoal(theme=theme, text=text, requirements=requirements, orderings=constraints)

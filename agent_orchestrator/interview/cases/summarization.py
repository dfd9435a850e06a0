"""Summarization: keep the facts that matter, stay short, invent no numbers."""

from __future__ import annotations

import random
from collections.abc import Sequence

from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.answers import mentions, numbers_in, words_in
from agent_orchestrator.interview.case import GradingEnv, InterviewCase, check

SERVICES = ("checkout", "ledger", "notifications", "catalog", "payments", "identity")
ENGINEERS = ("Priya", "Marcus", "Yuki", "Elena", "Tariq", "Noor", "Bram", "Chloe")
FILLER = (
    "The team met twice during the week to go over the details.",
    "Several people joined the call from different offices.",
    "Coffee was provided in the main meeting room.",
    "The shared document was updated with the latest notes.",
    "Everyone agreed the write-up should be easy to read.",
    "A few questions were left for the next regular meeting.",
)
GATES = frozenset({"non_empty", "key_facts"})
PRODUCTS = ("Atlas", "Beacon", "Comet", "Drift", "Ember", "Flux")
FEATURES = ("offline mode", "bulk export", "audit trail", "SSO login", "dark theme", "webhooks", "CSV import")


def _passage(rng: random.Random, facts: list[str]) -> str:
    """Interleave fact sentences with filler so the facts have to be picked out."""
    filler = rng.sample(FILLER, 3)
    sentences = facts[:1] + filler[:1] + facts[1:3] + filler[1:2] + facts[3:] + filler[2:]
    return " ".join(sentences)


def _summary_checks(
    answer: str, source: str, required: Sequence[tuple[str, str]], word_limit: int
) -> list[CheckResult]:
    """Required facts present, within the word limit, no numbers the source does not contain."""
    text = answer.strip()
    if not text:
        return [check("non_empty", False, "empty answer")]
    count = len(words_in(text))
    invented = sorted(numbers_in(text) - numbers_in(source))
    checks = [
        check("non_empty", True, f"{count} words"),
        check("word_limit", count <= word_limit, f"{count} words, limit {word_limit}"),
        check(
            "no_invented_numbers", not invented, f"numbers not in the source: {invented}" if invented else "none"
        ),
        check("shorter_than_source", count < 0.8 * len(words_in(source)), "a summary, not a copy"),
    ]
    found = 0
    for label, fact in required:
        present = (
            mentions(text, fact)
            if not fact.replace(",", "").isdigit()
            else fact.replace(",", "") in numbers_in(text)
        )
        found += present
        checks.append(check(f"fact:{label}", present, f"{fact!r} {'present' if present else 'missing'}"))
    # Length and honesty checks mean little for an answer that is about something else.
    checks.append(check("key_facts", found * 2 >= len(required), f"{found}/{len(required)} required facts"))
    return checks


def incident(rng: random.Random) -> InterviewCase:
    """An incident report: service, duration, customers affected, release rolled back."""
    service = rng.choice(SERVICES)
    minutes = rng.randint(12, 95)
    customers = rng.randint(120, 4800)
    release = f"v{rng.randint(2, 9)}.{rng.randint(0, 19)}.{rng.randint(1, 9)}"
    engineer = rng.choice(ENGINEERS)
    facts = [
        f"The {service} service was degraded for {minutes} minutes after a configuration change.",
        f"About {customers} customers saw errors while it lasted.",
        f"{engineer}, who was on call, rolled back release {release} to end the incident.",
        "A follow-up will add an alert on the error rate.",
    ]
    source = _passage(rng, facts)
    limit = 60
    prompt = (
        f"Summarize this incident report in at most {limit} words. Keep the service name, how long it lasted, "
        f"how many customers were affected and which release was rolled back.\n\n{source}"
    )
    required = [
        ("service", service),
        ("minutes", str(minutes)),
        ("customers", str(customers)),
        ("release", release),
    ]

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _summary_checks(answer, source, required, limit)

    reference = (
        f"The {service} service was degraded for {minutes} minutes and about {customers} customers saw "
        f"errors until release {release} was rolled back."
    )
    return InterviewCase(
        "summarization/incident", "summarization", prompt, grade, gates=GATES, reference=reference
    )


def release_notes(rng: random.Random) -> InterviewCase:
    """Release notes: product, version, a deprecated flag and its removal date."""
    product = rng.choice(PRODUCTS)
    version = f"{rng.randint(3, 12)}.{rng.randint(0, 9)}"
    features = rng.sample(FEATURES, 3)
    flag = f"--legacy-{rng.choice(('sync', 'auth', 'export', 'cache'))}"
    day = rng.randint(1, 28)
    facts = [
        f"{product} {version} is now available to all customers.",
        f"It adds {features[0]}, {features[1]} and {features[2]}.",
        f"The {flag} flag is deprecated and will be removed on {day} March 2027.",
        "Upgrading requires no database migration.",
    ]
    source = _passage(rng, facts)
    limit = 50
    prompt = (
        f"Summarize these release notes in at most {limit} words for an engineer who must act on them. Keep "
        f"the product and version, the deprecated flag and when it will be removed.\n\n{source}"
    )
    required = [("product", product), ("version", version), ("flag", flag.lstrip("-")), ("removal_day", str(day))]

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _summary_checks(answer, source, required, limit)

    reference = (
        f"{product} {version} adds {', '.join(features)}. The {flag} flag is deprecated and will be removed on "
        f"{day} March 2027."
    )
    return InterviewCase(
        "summarization/release_notes", "summarization", prompt, grade, gates=GATES, reference=reference
    )


def decision_log(rng: random.Random) -> InterviewCase:
    """Meeting notes: the decision, its owner, the deadline and the budget."""
    owner = rng.choice(ENGINEERS)
    budget = rng.randint(3, 60) * 1000
    day = rng.randint(1, 28)
    choice = rng.choice(("PostgreSQL", "SQLite", "DuckDB", "Redis"))
    facts = [
        f"After comparing three options, the group decided to move the reporting store to {choice}.",
        f"{owner} owns the migration and will report back every Friday.",
        f"The migration must be finished by {day} June 2027.",
        f"The approved budget is {budget:,} dollars.",
    ]
    source = _passage(rng, facts)
    limit = 45
    prompt = (
        f"Summarize these meeting notes in at most {limit} words. Keep the decision, who owns it, the "
        f"deadline and the budget.\n\n{source}"
    )
    required = [("decision", choice), ("owner", owner), ("deadline_day", str(day)), ("budget", f"{budget:,}")]

    async def grade(answer: str, env: GradingEnv) -> list[CheckResult]:
        return _summary_checks(answer, source, required, limit)

    reference = (
        f"Decision: move reporting to {choice}. {owner} owns it, due {day} June 2027, budget {budget:,} dollars."
    )
    return InterviewCase(
        "summarization/decision_log", "summarization", prompt, grade, gates=GATES, reference=reference
    )


TEMPLATES = (incident, release_notes, decision_log)

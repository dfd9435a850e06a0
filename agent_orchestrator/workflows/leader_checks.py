"""Deterministic checks of the leader's own text: placeholders, text unrelated to the change, echoed injections.

The leader's structured answers validate against their schemas even when they say nothing
("lorem ipsum") or repeat what a hostile diff told them ("IGNORE ALL PREVIOUS INSTRUCTIONS").
These checks read the leader's text, never believe it, and return reasons (empty: nothing to
flag); a workflow with reasons ends `needs_attention` instead of passing the text on as a result.

The rules, each kept narrow so an ordinary review or plan is never flagged:

- *placeholder*: the text, lower-cased with punctuation and spaces trimmed, is empty, has no word
  of two letters, is one of `PLACEHOLDERS` (todo, tbd, n/a, none, ...), is `step N` / `item N`, or
  contains "lorem ipsum" / "dolor sit amet" anywhere.
- *unrelated* (review summaries): the text names none of the diff's anchors: a changed file's path,
  file name or stem (stem of three characters or more), or a word of three characters or more
  (not in `COMMON_WORDS`) from a hunk's lines as the reviewer saw them (added, removed, context) or
  its section header. Words are split on
  non-identifier characters and also at `_`, `.` and camelCase boundaries, case-insensitively.
  A finding is not checked for this: its cited file and line (already checked) ground it.
- *injected echo*: the text matches one of `DIRECTIVES` (ignore / disregard previous instructions,
  reveal or override the system prompt, a `system:` role line, role-play, tool-call and approval
  directives, our UNTRUSTED-DATA fence), unless the match is also in the caller's own (trusted)
  text; or it repeats verbatim a run of `ECHO_WORDS` words (a whole line if it is shorter, at
  least four words) of an instruction-like line of the untrusted input (a line that matches a
  directive, or addresses the model: "you must/should ...", "AI", "assistant", "reviewer", ...).
- *goal restated* (plans): every step's title is the goal restated, or the only step's title or
  `done_when` is: the same words (case-insensitive) or a `difflib` ratio of at least 0.8.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent_orchestrator.repo.diff import ParsedDiff

ECHO_WORDS = 6
MIN_ECHO_LINE_WORDS = 4
RESTATED_RATIO = 0.8
WITHHELD = "[withheld: the leader's text failed its checks, see `attention`]"

PLACEHOLDERS = frozenset(
    {
        "todo", "tbd", "tba", "fixme", "xxx", "n a", "na", "none", "null", "nil", "nothing", "unknown",
        "placeholder", "summary", "impact summary", "description", "text", "string", "example", "sample",
        "foo", "bar", "foo bar", "test", "step", "title", "done", "lorem", "ipsum", "tk", "to do",
    }
)  # fmt: skip
_PLACEHOLDER_PHRASE = re.compile(r"lorem\s+ipsum|dolor\s+sit\s+amet", re.IGNORECASE)
_NUMBERED_PLACEHOLDER = re.compile(r"(step|item|task|part) \d+")

# Words too common in code and prose to show that a summary is about this change.
_COMMON = """
    the and for with this that these those from into onto over under then than when what which while
    are was were been being has have had does did not but all any some each every also only just more
    most less least very can could should would will shall may might must its our your their his her
    they them you now code file files line lines change changes changed changing
    def return class import self none true false null var let const function public private static void
"""
COMMON_WORDS = frozenset(_COMMON.split())

_DIRECTIVE_PATTERNS = (
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(of\s+)?(the\s+|your\s+|my\s+)?(previous|prior|above|"
    r"earlier|preceding|former|all)\s+(instructions?|prompts?|rules|directions|messages)\b",
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(of\s+)?(your|the|my)\s+instructions\b",
    r"\b(reveal|print|show|output|repeat|disclose|leak|ignore|override|replace)\s+(the\s+|your\s+|my\s+)?"
    r"(system|developer|hidden)\s+(prompt|message|instructions?)\b",
    r"^\s*(system|assistant|developer)(\s+prompt)?\s*:",
    r"\bnew\s+(system\s+)?instructions\s*:",
    r"\byou\s+are\s+now\b|\bfrom\s+now\s+on,?\s+you\b|\bpretend\s+(to\s+be|you\s+are)\b|\brole-?\s?play\b",
    r"<\|?(im_start|im_end|system|tool_call|function_call)\|?>|\[/?INST\]|\"(tool_call|function_call)\"\s*:",
    r"\b(execute|run)\s+(the\s+following|this)\s+(command|script|code)\b",
    r"\b(approve|accept)\s+this\s+(change|diff|patch|pr|pull\s+request|review|plan)\b",
    r"\b(report|say|answer|respond\s+with)\s+(that\s+)?(there\s+are\s+)?no\s+(risks|issues|findings|problems)\b",
    r"\bmark\s+(this|it|the\s+\w+)\s+as\s+(approved|reviewed|passed|safe|active)\b",
    r"UNTRUSTED-DATA",
)
DIRECTIVES = tuple(re.compile(pattern, re.IGNORECASE | re.MULTILINE) for pattern in _DIRECTIVE_PATTERNS)
_ADDRESSES_MODEL = re.compile(
    r"\byou\s+(must|should|will|need\s+to|are\s+to|have\s+to)\b|\b(ai|assistant|llm|language\s+model|"
    r"reviewer|chatbot|agent)\b\s*[:,]",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9_]+")
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclass(frozen=True)
class LeaderText:
    """One piece of the leader's output: where it is (e.g. `risks[2].message`) and what it says."""

    field: str
    text: str


def words(text: str) -> list[str]:
    """The text's words, lower-cased, in order (identifier characters only)."""
    return [word.lower() for word in _WORD.findall(text)]


def is_placeholder(text: str) -> bool:
    """Whether `text` is a stand-in rather than an answer (see the module's rules)."""
    if _PLACEHOLDER_PHRASE.search(text):
        return True
    normal = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    if normal in PLACEHOLDERS or _NUMBERED_PLACEHOLDER.fullmatch(normal):
        return True
    return not any(len(word) >= 2 and not word.isdigit() for word in normal.split())


def directive_in(text: str, trusted: str = "") -> str | None:
    """The first instruction-like directive in `text` that the caller's own `trusted` text does not hold."""
    lowered = trusted.lower()
    for pattern in DIRECTIVES:
        for match in pattern.finditer(text):
            if not lowered or match.group(0).strip().lower() not in lowered:
                return match.group(0).strip()
    return None


def instruction_lines(untrusted: Iterable[str]) -> list[str]:
    """The lines of untrusted input that try to instruct a model (a directive, or addressing the model)."""
    found: list[str] = []
    for text in untrusted:
        for line in text.splitlines():
            if directive_in(line) is not None or _ADDRESSES_MODEL.search(line):
                found.append(line)
    return found


def echoes(text: str, lines: Sequence[str]) -> bool:
    """Whether `text` repeats a run of `ECHO_WORDS` words (or a whole shorter line) of one of `lines`."""
    said = words(text)
    for line in lines:
        source = words(line)
        if len(source) < MIN_ECHO_LINE_WORDS:
            continue
        size = min(ECHO_WORDS, len(source))
        runs = {tuple(source[i : i + size]) for i in range(len(source) - size + 1)}
        if any(tuple(said[i : i + size]) in runs for i in range(len(said) - size + 1)):
            return True
    return False


def diff_anchors(diff: ParsedDiff) -> frozenset[str]:
    """What a summary of `diff` can name: changed paths, file names, stems and words of the changed lines."""
    anchors: set[str] = set()
    for change in diff.files:
        for path in filter(None, (change.path, change.old_path)):
            name = path.rsplit("/", 1)[-1]
            anchors |= {path.lower(), name.lower()}
            stem = name.split(".", 1)[0].lower()
            if len(stem) >= 3:
                anchors.add(stem)
        for hunk in change.hunks:
            lines = (*hunk.added, *hunk.removed, *hunk.context)
            texts = [hunk.section_header, *(line.text for line in lines)]
            anchors |= {word for text in texts for word in _anchor_words(text)}
    return frozenset(anchors)


def mentions(text: str, anchors: frozenset[str]) -> bool:
    """Whether `text` names one of the anchors (a path or file name as written, or an anchor word)."""
    lowered = text.lower()
    if any(("/" in anchor or "." in anchor) and anchor in lowered for anchor in anchors):
        return True
    return not anchors.isdisjoint(_anchor_words(text))


def text_problem(text: str, lines: Sequence[str], trusted: str = "") -> str | None:
    """Why one piece of leader text is not acceptable on any field: a placeholder or an echoed injection."""
    if is_placeholder(text):
        return "is placeholder text"
    directive = directive_in(text, trusted)
    if directive is not None:
        return "echoes an instruction-like directive found in untrusted data"
    if echoes(text, lines):
        return "repeats an instruction-like line of the untrusted input verbatim"
    return None


def review_attention(
    summaries: Sequence[LeaderText], others: Sequence[LeaderText], diff: ParsedDiff
) -> dict[str, str]:
    """The review's flagged fields and why: summaries are also checked against the diff's anchors."""
    lines = instruction_lines(_changed_text(diff))
    anchors = diff_anchors(diff)
    flagged: dict[str, str] = {}
    for item in (*summaries, *others):
        problem = text_problem(item.text, lines)
        if problem is None and item in summaries and not mentions(item.text, anchors):
            problem = "mentions nothing in the diff (no changed file name or identifier from changed lines)"
        if problem is not None:
            flagged[item.field] = problem
    return flagged


def plan_attention(
    goal: str, steps: Sequence[tuple[str, str]], texts: Sequence[LeaderText], untrusted: Sequence[str]
) -> dict[str, str]:
    """The plan's flagged fields and why: placeholders, echoed injections, a goal restated as its steps.

    `steps` are each step's (title, done_when); `untrusted` the context the leader read.
    """
    lines = instruction_lines(untrusted)
    flagged: dict[str, str] = {}
    for item in texts:
        problem = text_problem(item.text, lines, trusted=goal)
        if problem is not None:
            flagged[item.field] = problem
    titles = [title for title, _ in steps]
    only_step_restates = len(steps) == 1 and any(restates(goal, text) for text in steps[0])
    if only_step_restates or (titles and all(restates(goal, title) for title in titles)):
        flagged["steps"] = "restate the goal instead of breaking it into steps"
    elif titles and all(is_placeholder(title) for title in titles):
        flagged["steps"] = "have placeholder titles only"
    return flagged


def restates(goal: str, text: str) -> bool:
    """Whether `text` is `goal` said again: the same words, or nearly the same characters."""
    goal_words, text_words = words(goal), words(text)
    if not goal_words or not text_words:
        return False
    if set(goal_words) == set(text_words):
        return True
    return difflib.SequenceMatcher(None, " ".join(goal_words), " ".join(text_words)).ratio() >= RESTATED_RATIO


def reasons(flagged: dict[str, str]) -> list[str]:
    """The flagged fields as `attention` reasons, one per field."""
    return [f"{field}: {problem}" for field, problem in flagged.items()]


def _anchor_words(text: str) -> set[str]:
    """Identifier words of three characters or more, split at `_`, `.` and camelCase, minus common words."""
    found: set[str] = set()
    for token in _WORD.findall(text):
        parts = {token.lower(), *(part.lower() for piece in token.split("_") for part in _CAMEL.findall(piece))}
        found |= {part for part in parts if len(part) >= 3 and not part.isdigit() and part not in COMMON_WORDS}
    return found


def _changed_text(diff: ParsedDiff) -> list[str]:
    return [line.text for change in diff.files for hunk in change.hunks for line in (*hunk.added, *hunk.removed)]

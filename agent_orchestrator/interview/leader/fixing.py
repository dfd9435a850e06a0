"""Fixing cases: the leader fixes a failing test exactly as the fix-error workflow asks it to.

The prompt holds the real pytest log of the project's failing test, the errors parsed from it and
the files the workflow would gather (the test the error names, then the module it imports).
Checks, run in order, each a gate (a fix is whole or worthless), the ones after a failure not run:
- `patch.parse`: a unified diff `repo.patching` can apply;
- `patch.scope`: it only modifies files of the project (no file added or deleted);
- `patch.tests_untouched`: it leaves the test alone (the bug is in the code);
- `patch.apply`: every hunk applies exactly, in memory, and something changes;
- `tests.pass`: the project's tests, plus a hidden one, pass in a temporary copy (`project_runs`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

from pydantic import BaseModel

from agent_orchestrator.agents.models import FixDraft
from agent_orchestrator.agents.prompts.fix import fix_prompt
from agent_orchestrator.agents.prompts.instructions import FIXER
from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.leader import fix_projects
from agent_orchestrator.interview.leader.case import LeaderCase, LeaderGrader, LeaderTemplate, check, wrong_type
from agent_orchestrator.interview.leader.fix_projects import FixProject
from agent_orchestrator.interview.leader.project_runs import failing_log, run_tests
from agent_orchestrator.policies.commands import CommandPolicy
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.context import FileContext
from agent_orchestrator.repo.logs import parse_log
from agent_orchestrator.repo.patching import FilePatch, PatchedFile, apply_patch, read_patch

CHECKS = ("patch.parse", "patch.scope", "patch.tests_untouched", "patch.apply", "tests.pass")
PROJECTS: dict[str, Callable[[random.Random], FixProject]] = {
    "page_count": fix_projects.page_count,
    "discount": fix_projects.discount,
}


def fixing_case(name: str, rng: random.Random) -> LeaderCase:
    project = PROJECTS[name](rng)
    log = failing_log(project.files, project.scope)
    shown = [project.test_path, project.module_path]
    prompt = fix_prompt(
        error_log="pytest.log",
        scope=project.scope,
        allowed_commands=CommandPolicy().allowed,
        errors=parse_log(log).errors,
        log_text=log,
        files=[_context(path, project.files[path]) for path in shown],
        skipped=[],
    )
    return LeaderCase(
        case_id=f"fixing/{name}",
        dimension="fixing",
        prompt=prompt,
        instructions=FIXER,
        output_type=FixDraft,
        grade=fix_grader(project),
        reference=reference_fix(project),
        gates=frozenset(CHECKS),
    )


TEMPLATES: tuple[LeaderTemplate, ...] = tuple(partial(fixing_case, name) for name in PROJECTS)


def _context(path: str, text: str) -> FileContext:
    return FileContext(path=path, text=text, truncated=False, size=len(text.encode()))


def fix_grader(project: FixProject) -> LeaderGrader:
    async def grade(output: BaseModel) -> list[CheckResult]:
        if not isinstance(output, FixDraft):
            return wrong_type(output, FixDraft)
        checks: list[CheckResult] = []
        patched = _static_checks(project, output.patch, checks)
        if patched is not None:
            files = {**project.files, project.hidden_test[0]: project.hidden_test[1]}
            files.update({file.path: file.after or "" for file in patched})
            run = await run_tests(files, project.scope)
            checks.append(check("tests.pass", run.passed, run.detail))
        return checks + [check(name, None, "not run: an earlier check failed") for name in CHECKS[len(checks) :]]

    return grade


def _static_checks(project: FixProject, patch: str, checks: list[CheckResult]) -> list[PatchedFile] | None:
    """Parse, scope, tests untouched, apply (appended to `checks`); the patched files when all passed."""
    try:
        files = read_patch(patch)
    except AOError as exc:
        checks.append(check("patch.parse", False, f"the patch is not a usable unified diff: {exc}"))
        return None
    checks.append(check("patch.parse", True, f"changes {', '.join(f.change.path for f in files)}"))
    outside = [f"{f.change.path} ({f.status})" for f in files if not _modifies_project_file(project, f)]
    if outside:
        checks.append(
            check("patch.scope", False, f"touches what is not a file of the project: {', '.join(outside)}")
        )
        return None
    checks.append(check("patch.scope", True, "modifies only files of the project"))
    if any(f.change.path == project.test_path for f in files):
        checks.append(
            check("patch.tests_untouched", False, f"changes the test {project.test_path}: the bug is in the code")
        )
        return None
    checks.append(check("patch.tests_untouched", True, "leaves the tests alone"))
    try:
        patched = apply_patch(files, project.files)
    except AOError as exc:
        checks.append(check("patch.apply", False, f"the patch does not apply: {exc}"))
        return None
    if all(file.after == file.before for file in patched):
        checks.append(check("patch.apply", False, "the patch applies but changes nothing"))
        return None
    checks.append(check("patch.apply", True, "every hunk applies exactly"))
    return patched


def _modifies_project_file(project: FixProject, file: FilePatch) -> bool:
    return file.status == "modified" and file.change.path in project.files


def reference_fix(project: FixProject) -> FixDraft:
    return FixDraft(
        root_cause=project.cause,
        fix_steps=[f"Correct the expression in {project.module_path}", "Run the tests"],
        patch=unified_diff(project.module_path, project.module, project.fixed_module),
        validation_commands=["python -m pytest -q"],
    )

"""What the fixer is shown: the files the errors name and the local modules they import.

Tools print paths from where they ran, so a named file is looked for from the scope first, then
from the workspace root. Python files bring the local modules they import (found with `ast`,
never by running anything) while room is left. Everything reaches the fixer as fenced data
(`agents.prompts.fix`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.context import MAX_TOTAL_BYTES, FileContext, SkippedFile, gather_context
from agent_orchestrator.repo.logs import ParsedError

MAX_CONTEXT_FILES = 20


@dataclass(frozen=True)
class FixContext:
    """The files the fixer is shown, and the ones it is not with the reason."""

    files: list[FileContext]
    skipped: list[SkippedFile]


def gather_fix_context(safety: SafetyPolicy, scope_dir: Path, errors: list[ParsedError]) -> FixContext:
    """Read the files the errors name, then the local Python modules they import, only inside the scope."""
    named = gather_context(safety, scope_dir, _named_files(safety.paths, scope_dir, errors)[:MAX_CONTEXT_FILES])
    room = MAX_CONTEXT_FILES - len(named.files)
    used = sum(len(file.text.encode()) for file in named.files)
    imports = _local_imports(safety.root, scope_dir, named.files)[:room] if used < MAX_TOTAL_BYTES else []
    budget = max(MAX_TOTAL_BYTES - used, 1)
    imported = gather_context(safety, scope_dir, imports, max_total_bytes=budget)
    return FixContext(files=named.files + imported.files, skipped=named.skipped + imported.skipped)


def _named_files(paths: PathPolicy, scope_dir: Path, errors: list[ParsedError]) -> list[str]:
    """Workspace-relative paths of the files the errors name, found from the root or from the scope."""
    names: dict[str, None] = {}
    for error in errors:
        if error.file:
            names[_locate(paths, scope_dir, error.file)] = None
    return list(names)


def _locate(paths: PathPolicy, scope_dir: Path, name: str) -> str:
    """`name` as the workspace-relative path of an existing file; tools print paths from the scope or the root."""
    for candidate in (str(scope_dir / name), name):
        try:
            resolved = paths.resolve_read(candidate)
        except (PolicyViolation, ValueError):
            continue
        if resolved.is_file():
            return paths.relative(resolved)
    return name  # gather_context reports it as missing or refused


def _local_imports(root: Path, scope_dir: Path, files: list[FileContext]) -> list[str]:
    """Python modules the named files import that exist beside them or at the scope's top."""
    found: dict[str, None] = {}
    known = {file.path for file in files}
    for file in files:
        if not file.path.endswith(".py"):
            continue
        for module in _imported_modules(file.text):
            relative = module.replace(".", "/")
            for base in ((root / file.path).parent, scope_dir):
                for candidate in (base / f"{relative}.py", base / relative / "__init__.py"):
                    if candidate.is_file() and candidate.is_relative_to(scope_dir):
                        found.setdefault(candidate.relative_to(root).as_posix(), None)
    return [path for path in found if path not in known]


def _imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` names; none when the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.update([node.module] if node.module else [alias.name for alias in node.names])
    return modules

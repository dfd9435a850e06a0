"""A parsed diff as the reviewer reads it: each file's header, and each hunk with its lines' new-file
numbers, so a finding can cite a line exactly. The review workflow and the leader interview (which
asks for reviews of diffs with planted defects) show diffs this one way."""

from __future__ import annotations

from agent_orchestrator.repo.diff import FileChange, Hunk


def render_header(change: FileChange) -> str:
    """The `file:` line a reviewer cites paths from, with what happened to the file."""
    what = change.status
    if change.old_path is not None:
        similar = f", {change.similarity}% similar" if change.similarity is not None else ""
        what = f"{change.status} from {change.old_path}{similar}"
    if change.is_binary:
        return f"file: {change.path} ({what}, binary: contents not shown)\n"
    return f"file: {change.path} ({what}, +{change.added_count} -{change.removed_count})\n"


def render_hunk(hunk: Hunk) -> str:
    """A hunk with each line's new-file number, so a reviewer can cite lines exactly.

    The parsed hunk keeps added, removed and context lines apart; walking old and new positions
    together restores their order (git puts removed lines before the added ones that replace them).
    """
    removed = {line.number: line.text for line in hunk.removed}
    added = {line.number: line.text for line in hunk.added}
    context = {line.number: line.text for line in hunk.context}
    ranges = f"-{hunk.old_start},{hunk.old_length} +{hunk.new_start},{hunk.new_length}"
    out = [f"@@ {ranges} @@ {hunk.section_header}".rstrip()]
    old, new = hunk.old_start, hunk.new_start
    while True:
        if old in removed:
            out.append(f"{'':>6} - {removed.pop(old)}")
            old += 1
        elif new in added:
            out.append(f"{new:>6} + {added.pop(new)}")
            new += 1
        elif new in context:
            out.append(f"{new:>6}   {context.pop(new)}")
            old, new = old + 1, new + 1
        else:
            break
    # Lines a malformed hunk left out of the walk are still shown: they are citable.
    out.extend(f"{number:>6} + {text}" for number, text in sorted(added.items()))
    out.extend(f"{number:>6}   {text}" for number, text in sorted(context.items()))
    return "\n".join(out) + "\n"


def render_file(change: FileChange) -> str:
    return render_header(change) + "".join(render_hunk(hunk) for hunk in change.hunks)

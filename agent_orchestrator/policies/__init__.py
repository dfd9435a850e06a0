"""The safety policy: paths, commands, writes, git, redaction and untrusted data; `safety` is the facade
every tool and workflow goes through, recording each decision in an audit sink.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above

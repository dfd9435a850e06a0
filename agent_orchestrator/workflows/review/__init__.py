"""The review workflow: deterministic analysis of a diff, then findings that cite lines of it.

`graph` holds the graph and `review()`; `result` what it returns; `analysis` the deterministic part
(files, sizes, secrets, withheld files); `parts` splits the diff and asks the reviewer about each part.
Nothing is imported here, so importing `result` stays light.
"""

from __future__ import annotations

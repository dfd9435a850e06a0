"""The leader interview's cases: the leader is asked as production asks it, and graded deterministically.

The leader plans, reviews diffs, judges worker outputs and proposes fixes, and until interviewed
it was trusted blindly. Each case here is asked with the same structured output type, the same
instructions and the same prompt builder the workflow uses, so a pass means the production call
works, not a look-alike. `case` says what a case is; `planning`, `review`, `verdicts` and `fixing`
hold one dimension's seeded templates each; `suite` builds the suite and scores a dimension.
"""

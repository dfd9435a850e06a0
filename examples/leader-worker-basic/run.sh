#!/usr/bin/env bash
# Run leader-worker-basic on the configured models: ./run.sh "GOAL" [SCOPE]
set -euo pipefail
goal="${1:?usage: run.sh \"GOAL\" [SCOPE]}"
scope="${2:-.}"
ao run leader-worker-basic --goal "$goal" --scope "$scope"

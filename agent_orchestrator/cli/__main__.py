"""`python -m agent_orchestrator.cli` runs `ao`."""

from agent_orchestrator.cli import main

main()

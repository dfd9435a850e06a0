"""Before a workflow's first leader call: is the leader vetted for the roles this workflow gives it?

Not interviewed (or its interview is stale): the run goes on, its output still checked, and the
run's warnings say the leader was not vetted and how to vet it. Blocked for a role the workflow
needs: the run is refused (`refused`, exit 1) saying which role and why, unless
AO_ALLOW_BLOCKED_LEADER=true, when it goes on with a warning saying so.
"""

from __future__ import annotations

from agent_orchestrator.domain.leader_profile import LeaderDimension
from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.interview.leader.vetting import LeaderVetting, vet
from agent_orchestrator.providers import role_spec
from agent_orchestrator.workflows.recorder import RunContext


def vet_leader(run: RunContext, roles: tuple[LeaderDimension, ...]) -> LeaderVetting | None:
    """Check the configured leader for `roles`; warn or refuse as the module says. None when its profiles
    cannot be read (the run goes on, with a warning)."""
    runtime = run.runtime
    settings = runtime.settings
    try:
        vetting = vet(settings, role_spec(settings, "leader"), runtime.leader_profiles.load())
    except AOError as exc:  # an unreadable profiles file must not stop the work; it is reported
        run.warn(f"the leader's interview profile could not be read ({exc}); it was not checked")
        return None
    if not vetting.vetted:
        run.warn(
            f"the leader {vetting.leader_id!r} was not vetted: {'; '.join(vetting.reasons)}; its output is still "
            "checked, not believed (`ao leader interview --save` vets it)"
        )
        return vetting
    blocked = vetting.blocked(roles)
    if not blocked:
        return vetting
    why = f"the leader {vetting.leader_id!r} is blocked for {', '.join(blocked)} by its interview"
    detail = "; ".join(reason for reason in vetting.reasons if reason.split(":")[0] in blocked) or vetting.status
    if settings.ao_allow_blocked_leader:
        run.warn(f"{why} ({detail}); used anyway because AO_ALLOW_BLOCKED_LEADER=true")
        return vetting
    raise PolicyViolation(
        f"{why} ({detail}): configure another leader (LEADER_MODEL_PROVIDER / LEADER_MODEL_NAME), re-interview "
        "it (`ao leader interview --save`), or set AO_ALLOW_BLOCKED_LEADER=true to use it anyway",
        rule="leader.blocked",
    )

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
from agent_orchestrator.providers import ModelSpec, role_spec
from agent_orchestrator.workflows.recorder import RunContext


def vet_leader(
    run: RunContext, roles: tuple[LeaderDimension, ...], second_opinion: ModelSpec | None = None
) -> LeaderVetting | None:
    """Check the configured leader (or `second_opinion`, a second model acting as one) for `roles`; warn or
    refuse as the module says. None when its profiles cannot be read (the run goes on, with a warning)."""
    runtime = run.runtime
    settings = runtime.settings
    spec = second_opinion or role_spec(settings, "leader")
    who = "the leader" if second_opinion is None else "the second opinion"
    if second_opinion is None:
        how = "`ao leader interview --save`"
        remedy = "configure another leader (LEADER_MODEL_PROVIDER / LEADER_MODEL_NAME)"
    else:
        how = f"`ao leader interview --provider {spec.provider} --model {spec.model} --save`"
        remedy = "name another model"
    try:
        vetting = vet(settings, spec, runtime.leader_profiles.load())
    except AOError as exc:  # an unreadable profiles file must not stop the work; it is reported
        run.warn(f"{who}'s interview profile could not be read ({exc}); it was not checked")
        return None
    if not vetting.vetted:
        run.warn(
            f"{who} {vetting.leader_id!r} was not vetted: {'; '.join(vetting.reasons)}; its output is still "
            f"checked, not believed ({how} vets it)"
        )
        return vetting
    blocked = vetting.blocked(roles)
    if not blocked:
        return vetting
    why = f"{who} {vetting.leader_id!r} is blocked for {', '.join(blocked)} by its interview"
    detail = "; ".join(reason for reason in vetting.reasons if reason.split(":")[0] in blocked) or vetting.status
    if settings.ao_allow_blocked_leader:
        run.warn(f"{why} ({detail}); used anyway because AO_ALLOW_BLOCKED_LEADER=true")
        return vetting
    raise PolicyViolation(
        f"{why} ({detail}): {remedy}, re-interview it ({how}), or set AO_ALLOW_BLOCKED_LEADER=true to use it "
        "anyway",
        rule="leader.blocked",
    )

"""Turn what the user named (environments, machines, steps, tenants, prompted variables) into
a validated ``DeploymentPlan``, using GET requests only.

Validation is all-or-nothing: every problem in every target is found before any deployment
is created, and a refusal names each target with its reason (not reached yet, not in the
lifecycle, no permission).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from octorelease import errors
from octorelease.actions import freezes
from octorelease.actions.choose import ChosenRelease, OnRelease
from octorelease.actions.options import DeploymentOptions, split_tag
from octorelease.actions.plan import DeploymentPlan, Existing, Mark, TargetPlan, creation_order
from octorelease.actions.result import Ref
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi, did_you_mean
from octorelease.octopus.models import (
    DashboardItem,
    DeploymentPreview,
    DeploymentTemplate,
    Environment,
    Machine,
    Project,
    Release,
    Tenant,
)


def resolve_environments(space: SpaceApi, wanted: Sequence[str]) -> list[Environment]:
    """Environments by name or id, case-insensitively, in the order given, without repeats,
    each looked up with the API's filters (``SpaceApi.environments_named``). Unknown names are
    reported together, each with its closest match: only then is the whole list read."""
    named = space.environments_named(wanted)
    found: list[Environment] = []
    missing: list[str] = []
    for name in wanted:
        match = named.get(name.strip().lower())
        if match is None:
            missing.append(name)
        elif match not in found:
            found.append(match)
    if missing:
        names = [e.name for e in space.environments()]
        quoted = ", ".join(f"'{m}'" for m in missing)
        noun = "Environment" if len(missing) == 1 else "Environments"
        hints = [h for h in (did_you_mean(m, names) for m in missing) if h]
        raise errors.NotFound(
            f"{noun} {quoted} not found in space '{space.space.name}'.", hint="; ".join(hints) or None
        ).about("to", missing)
    return found


#: A target: an environment id, and a tenant id or None.
TargetKey = tuple[str, str | None]
#: Who knows of deployments of the release that a target should join rather than get again, beyond
#: what the dashboard shows: a resumed run, of what its first attempt made (``serve/resume.py``).
#: Given the project, the release and the open targets, it answers the deployment each one joins.
Adopter = Callable[[SpaceApi, Project, Release, Sequence[TargetKey]], Mapping[TargetKey, Existing]]


#: The reason given when the lifecycle allows a target but the server still leaves it out.
NO_PERMISSION = "no permission to deploy there (DeploymentCreate)"


@dataclass(frozen=True)
class _Refusal:
    target: str
    reason: str


def _lifecycle_reasons(space: SpaceApi, release: Release, refused: Sequence[Environment]) -> dict[str, str]:
    """Why each refused environment is not in ``PromoteTo``, read from the release progression."""
    try:
        progression = space.progression(release.id)
    except errors.OctoreleaseError:
        return {env.id: "not allowed for this release now" for env in refused}
    phases: list[dict[str, Any]] = progression.get("Phases") or []
    reasons: dict[str, str] = {}
    for env in refused:
        reason = None
        for index, phase in enumerate(phases):
            listed = set(phase.get("AutomaticDeploymentTargets") or []) | set(
                phase.get("OptionalDeploymentTargets") or []
            )
            if env.id in listed or not listed:
                if phase.get("Progress") == "Pending":
                    blocker = next((p.get("Name") for p in phases[:index] if p.get("Progress") == "Current"), None)
                    reason = "the lifecycle has not reached it yet" + (
                        f" (phase '{blocker}' is not complete)" if blocker else ""
                    )
                else:
                    reason = NO_PERMISSION
                break
        reasons[env.id] = reason or "not in the release's lifecycle"
    return reasons


def check_lifecycle(
    space: SpaceApi,
    project: Project,
    release: Release,
    template: DeploymentTemplate,
    environments: Sequence[Environment],
    tenants: Sequence[Ref] = (),
    joined: Collection[TargetKey] = (),
) -> None:
    """Raise ``DeploymentNotAllowed`` naming every target the release may not go to now. The
    ``joined`` targets are not checked: they get no deployment, they follow one that exists (its
    own run of the release may be what keeps the lifecycle from allowing it again now)."""
    refusals: list[_Refusal] = []
    if tenants:
        for tenant in tenants:
            allowed = {t.environment_id for t in template.tenant_promotions.get(tenant.id, ())}
            for env in environments:
                if env.id not in allowed and (env.id, tenant.id) not in joined:
                    refusals.append(_Refusal(f"{env.name} for tenant {tenant.name}", "not allowed for this tenant now"))
    else:
        allowed = {t.environment_id for t in template.promote_to}
        refused = [env for env in environments if env.id not in allowed and (env.id, None) not in joined]
        if refused:
            reasons = _lifecycle_reasons(space, release, refused)
            refusals.extend(_Refusal(env.name, reasons[env.id]) for env in refused)
    if not refusals:
        return
    if len(refusals) == 1:
        (refusal,) = refusals
        message = (
            f"Release {release.version} of {project.name} cannot be deployed to {refusal.target}: "
            f"{refusal.reason}. Nothing was created."
        )
    else:
        listing = "; ".join(f"{r.target}: {r.reason}" for r in refusals)
        message = (
            f"Release {release.version} of {project.name} cannot be deployed to {len(refusals)} of "
            f"{len(environments) * max(len(tenants), 1)} targets, so nothing was created. {listing}."
        )
    if all(r.reason == NO_PERMISSION for r in refusals):
        raise errors.PermissionDenied(message, hint="The API key's user lacks DeploymentCreate there.").about("to")
    raise errors.DeploymentNotAllowed(
        message,
        reasons={r.target: r.reason for r in refusals},
        hint="Deploy to the earlier environments of the lifecycle first, or check the API key's permissions.",
    ).about("to")


def _resolve_machines(
    space: SpaceApi, environments: Sequence[Environment], options: DeploymentOptions, warnings: list[str]
) -> tuple[dict[str, list[Ref]], dict[str, list[Ref]]]:
    """Specific and excluded machines per environment id; the targets of ``target_roles`` join
    the specific ones. A machine name costs one request for all targets, filtered by environment
    and name; only roles (and the suggestion after a typo) read every machine of the targets."""
    if not options.machines and not options.exclude_machines and not options.target_roles:
        return {}, {}
    env_ids = {e.id for e in environments}
    env_names = ", ".join(e.name for e in environments)
    everything: list[Machine] = []
    named: dict[str, list[Machine]] = {}

    def of_targets() -> list[Machine]:
        """Every machine of the targets (one request, read once)."""
        if not everything:
            everything.extend(space.machines(sorted(env_ids)))
        return everything

    def machines_called(name: str) -> list[Machine]:
        key = name.strip().lower()
        if key not in named:
            named[key] = ([m for m in everything if m.name.lower() == key] if everything
                          else space.machines(sorted(env_ids), name=name))
        return named[key]

    if options.target_roles:
        of_targets()

    def place(names: Sequence[str], flag: str, option: str) -> dict[str, list[Ref]]:
        per_env: dict[str, list[Ref]] = {}
        missing = []
        for name in names:
            matches = machines_called(name)
            if not matches:
                missing.append(name)
            for machine in matches:
                if machine.is_disabled:
                    warnings.append(f"machine '{machine.name}' is disabled; Octopus will not deploy to it")
                for env_id in set(machine.environment_ids) & env_ids:
                    per_env.setdefault(env_id, []).append(Ref(machine.id, machine.name))
        if missing:
            hints = [h for h in (did_you_mean(m, [x.name for x in of_targets()]) for m in missing) if h]
            raise errors.fault_in(
                errors.NotFound, flag, option, missing, f"no such machine in {env_names}.",
                hint="; ".join(hints) or None,
            )
        return per_env

    specific = place(options.machines, "--machine", "machines")
    excluded = place(options.exclude_machines, "--exclude-machine", "exclude_machines")
    for env_id, refs in _by_role(everything, environments, options.target_roles).items():
        known = specific.setdefault(env_id, [])
        known.extend(ref for ref in refs if ref not in known)
    if options.machines or options.target_roles:
        empty = [e.name for e in environments if e.id not in specific]
        if empty:
            flag, option = ("--machine", "machines") if options.machines else ("--target-role", "target_roles")
            raise errors.fault_in(
                errors.InvalidInput, flag, option, [],
                f"names no machine in {', '.join(empty)}; refusing to deploy to all of its machines.",
                hint="Name at least one machine of each target environment, or deploy to them separately.",
            )
    return specific, excluded


def _by_role(machines: Sequence[Machine], environments: Sequence[Environment], roles: Sequence[str]) -> dict[
        str, list[Ref]]:
    """The enabled targets of each environment that have one of ``roles`` (any case). A role no
    target of these environments has is an error naming it, with the closest role they have."""
    if not roles:
        return {}
    env_ids = {e.id for e in environments}
    wanted = {role.strip().lower() for role in roles}
    present = sorted({r for m in machines if env_ids & set(m.environment_ids) for r in m.roles}, key=str.lower)
    missing = [role for role in roles if role.strip().lower() not in {r.lower() for r in present}]
    if missing:
        env_names = ", ".join(e.name for e in environments)
        raise errors.fault_in(
            errors.NotFound, "--target-role", "target_roles", missing[:1],
            f"no deployment target in {env_names} has that role.",
            hint=did_you_mean(missing[0], present) or (f"roles there: {', '.join(present)}" if present else None),
        )
    per_env: dict[str, list[Ref]] = {}
    for machine in machines:
        if machine.is_disabled or not wanted & {r.lower() for r in machine.roles}:
            continue
        for env_id in set(machine.environment_ids) & env_ids:
            per_env.setdefault(env_id, []).append(Ref(machine.id, machine.name))
    return per_env


def _resolve_skips(preview: DeploymentPreview, names: Sequence[str]) -> tuple[Ref, ...]:
    steps = {s.action_name.lower(): s for s in preview.steps}
    refs = []
    for name in names:
        step = steps.get(name.strip().lower())
        if step is None:
            raise errors.fault_in(
                errors.NotFound, "--skip", "skip", [name], "the deployment process has no such step.",
                hint=did_you_mean(name, [s.action_name for s in preview.steps]),
            )
        refs.append(Ref(step.action_id, step.action_name))
    return tuple(refs)


def _form_values(preview: DeploymentPreview, given: dict[str, str]) -> dict[str, str]:
    """Prompted variable values keyed by form element, matched by variable name or label."""
    values: dict[str, str] = {}
    used: set[str] = set()
    for element in preview.form:
        for key, value in given.items():
            if key.lower() in (element.control_name.lower(), element.label.lower()):
                values[element.name] = value
                used.add(key)
        if element.required and element.name not in values:
            raise errors.InvalidInput(
                f"The prompted variable '{element.label or element.control_name}' is required.",
                hint=f'Pass --variable "{element.control_name}=VALUE".',
            ).about("prompted_variables")
    unknown = [k for k in given if k not in used]
    if unknown:
        known = [e.control_name for e in preview.form]
        raise errors.fault_in(
            errors.NotFound, "--variable", "prompted_variables", unknown[:1],
            "the release has no prompted variable of that name.",
            hint=did_you_mean(unknown[0], known) if known else "this release has no prompted variables",
        )
    return values


def _resolve_tenants(
    space: SpaceApi, project: Project, environment: Environment, names: Sequence[str], tags: Sequence[str] = (),
    wording: Wording = COMMAND_LINE,
) -> list[Ref]:
    """The tenants named, every connected one (``*``) or the connected ones with ``tags``, each
    looked up with the API's filters (``name=``, ``projectId=``): a space's other tenants are
    read only to suggest a name."""
    connected = []
    if tags or "*" in names:
        connected = [t for t in space.project_tenants(project.id)
                     if environment.id in t.project_environments.get(project.id, [])]
    tagged = _tagged(space, project, environment, connected, tags) if tags else []
    named = _named_tenants(space, project, environment, connected, names, wording) if names else []
    return list(dict.fromkeys([*named, *tagged]))


def _tagged(
    space: SpaceApi, project: Project, environment: Environment, connected: Sequence[Tenant], tags: Sequence[str]
) -> list[Ref]:
    """The connected tenants that have the tags: any of the tags given of one tag set, and one of
    each set given (Octopus's rule for ``tags=``). Set and tag names match in any case."""
    split = [(value, *split_tag(value)) for value in tags]
    sets = space.tag_sets()
    wanted: dict[str, set[str]] = {}
    for value, set_name, tag_name in split:
        tag_set = next((s for s in sets if s.name.lower() == set_name.lower()), None)
        if tag_set is None:
            raise errors.fault_in(errors.NotFound, "--tenant-tag", "tenant_tags", [value], "no such tag set.",
                                  hint=did_you_mean(set_name, [s.name for s in sets]))
        tag = next((t for t in tag_set.tags if t.lower() == tag_name.lower()), None)
        if tag is None:
            raise errors.fault_in(errors.NotFound, "--tenant-tag", "tenant_tags", [value],
                                  f"tag set {tag_set.name} has no such tag.", hint=did_you_mean(tag_name, tag_set.tags))
        wanted.setdefault(tag_set.name.lower(), set()).add(f"{tag_set.name}/{tag}".lower())
    chosen = [t for t in connected if all(group & {c.lower() for c in t.tags} for group in wanted.values())]
    if not chosen:
        raise errors.NotFound(
            f"No tenant of project {project.name} connected to {environment.name} has the tags "
            f"{', '.join(tags)}.",
            hint="Tags of one tag set are alternatives; a tenant needs one of each set given.",
        ).about("tenant_tags", list(tags))
    return [Ref(t.id, t.name) for t in chosen]


def _named_tenants(
    space: SpaceApi, project: Project, environment: Environment, connected: Sequence[Tenant], names: Sequence[str],
    wording: Wording,
) -> list[Ref]:
    if "*" in names:
        if len(names) > 1:
            detail = "'*' means every connected tenant; give no other tenant with it."
            raise errors.InvalidInput(f"{wording.name('tenants')} {detail}").about("tenants", (), detail)
        if not connected:
            raise errors.NotFound(f"No tenant of project {project.name} is connected to {environment.name}.").about(
                "tenants", ["*"]
            )
        return [Ref(t.id, t.name) for t in connected]
    refs = []
    for name in names:
        tenant = space.tenant_named(name)
        if tenant is None:
            hint = did_you_mean(name, [t.name for t in space.tenants()])
            raise errors.NotFound(f"Tenant '{name}' not found.", hint=hint).about("tenants", [name])
        if environment.id not in tenant.project_environments.get(project.id, []):
            raise errors.OctopusRejected(
                f"Tenant '{tenant.name}' is not connected to project {project.name} in {environment.name}."
            ).about("tenants", [name])
        refs.append(Ref(tenant.id, tenant.name))
    return refs


def plan_tenants(
    space: SpaceApi, project: Project, environments: Sequence[Environment], options: DeploymentOptions,
    wording: Wording = COMMAND_LINE,
) -> list[Ref]:
    """The tenants ``options`` names or tags, checked against the project and the one target
    environment; ``wording``: how the refusals name the settings."""
    if options.tenants or options.tenant_tags:
        option = "tenants" if options.tenants else "tenant_tags"
        if len(environments) != 1:
            raise errors.InvalidInput(
                f"Tenants can be deployed to one environment at a time; give a single {wording.name('to')}."
            ).about(option)
        if project.tenanted_mode == "Untenanted":
            raise errors.InvalidInput(
                f"Project {project.name} is not tenanted; {wording.name(option)} cannot be used.").about(option)
        return _resolve_tenants(space, project, environments[0], options.tenants, options.tenant_tags, wording)
    if project.tenanted_mode == "Tenanted":
        raise errors.InvalidInput(
            f"Project {project.name} only deploys to tenants.",
            hint=f"Give {wording.setting('tenants', 'NAME')} (or '*', every connected tenant).",
        ).about("tenants")
    return []


def require_targets(targets: Sequence[str], wording: Wording) -> None:
    """Refuse a deployment to no environment (a CI variable that came out empty, say)."""
    if not targets:
        raise errors.InvalidInput("No target environment given.",
                                  hint=f"Give {wording.setting('to', 'ENV')} (one or more).")


def newest_per_target(dashboard: Sequence[DashboardItem]) -> dict[tuple[str, str | None], Mark]:
    """The newest deployment of each (environment, tenant) cell of the dashboard, whatever its
    release or state: the dashboard's current item is the latest one made there."""
    newest: dict[tuple[str, str | None], Mark] = {}
    for item in dashboard:
        key = (item.environment_id, item.tenant_id)
        known = newest.get(key)
        if known is None or creation_order(known.created, known.deployment_id) < creation_order(
            item.created, item.deployment_id
        ):
            newest[key] = Mark(item.deployment_id, item.created, item.took_seconds)
    return newest


def _lifecycle_ranks(environments: Sequence[Environment], template: DeploymentTemplate | None) -> dict[str, int]:
    """How far along the lifecycle each environment is: its place in the template's ``PromoteTo``
    (listed by phase) when it lists them all, else its ``SortOrder`` (which orders the phases of
    a lifecycle that has none, and nearly always those of one that has)."""
    listed = [t.environment_id for t in template.promote_to] if template is not None else []
    if all(env.id in listed for env in environments):
        return {env.id: listed.index(env.id) for env in environments}
    return {env.id: env.sort_order for env in environments}


def build_plan(
    space: SpaceApi,
    *,
    action: Literal["deploy", "promote"],
    project: Project,
    chosen: ChosenRelease,
    environments: Sequence[Environment],
    options: DeploymentOptions | None = None,
    from_environment: Environment | None = None,
    on_release: OnRelease | None = None,
    already: Mapping[TargetKey, Existing] | None = None,
    lifecycle: bool = True,
    content: DeploymentPreview | None = None,
    newest: Mapping[TargetKey, Mark] | None = None,
    leave_to_server: bool = False,
    adopt: Adopter | None = None,
    wording: Wording = COMMAND_LINE,
) -> DeploymentPlan:
    """Validate every target and option against the server, and return the plan (GETs only).
    ``wording``: how its refusals name settings (a handler's fields).

    ``on_release`` hears of the chosen release first, so that a refusal can still name it.
    A release chosen per tenant (``chosen.tenants``) is planned for those tenants only.
    ``lifecycle=False`` leaves the lifecycle unchecked, for a plan made before an earlier
    deployment of the same run moves it on. ``content`` gives the steps and prompted variables
    of a release that is not created yet (``prospect.py``): it has no lifecycle to check.
    ``newest`` is what each target had when we looked (``newest_per_target``). A target
    ``already`` running the release, or given a deployment to join by ``adopt``, is joined: it gets
    no deployment, so its lifecycle is not checked.

    ``leave_to_server`` (a real run, not a dry run or a handler's plan) leaves to the server the
    checks it makes itself on the first ``POST`` when they cannot differ between targets, saving
    their requests: the lifecycle of a single untenanted target (the template), and the prompted
    variables when none are given nor steps skipped (the preview: they are the release's), and
    the deployment freezes of a single target created at once (else they are read, one request,
    and a target inside one is refused before any is created: ``freezes.refuse_frozen``).
    A refusal of that first POST creates nothing, and ``explain_refusal`` then makes the checks
    to say why in the same words a dry run uses. ``plan.deferred`` names what was left."""
    if on_release is not None:
        on_release(project, chosen)
    release = chosen.release
    options = options or DeploymentOptions()
    warnings: list[str] = []
    tenants = list(chosen.tenants) or plan_tenants(space, project, environments, options, wording)

    tenant_choices: list[Ref | None] = list(tenants) or [None]
    joined: dict[TargetKey, Existing] = dict(already or {})
    open_keys = [(env.id, t.id if t else None) for env in environments for t in tenant_choices]
    if adopt is not None and release.id not in ("", "(new)"):
        for key, existing in adopt(space, project, release, [k for k in open_keys if k not in joined]).items():
            joined.setdefault(key, existing)
    deferred: list[str] = []
    leave = leave_to_server and content is None and not tenants
    template = None
    if lifecycle and content is None and any(key not in joined for key in open_keys):
        if leave and len(environments) == 1:
            deferred.append(LIFECYCLE)
        else:
            template = space.template(release.id)
            check_lifecycle(space, project, release, template, environments, tenants, joined)
    ranks = _lifecycle_ranks(environments, template)
    specific, excluded = _resolve_machines(space, environments, options, warnings)

    # One preview tells the steps and the prompted variables; they are the release's, not the target's.
    first = environments[0]
    if leave and not options.skip_steps and not options.prompted_variables:
        deferred.append(PROMPTED_VARIABLES)
        preview = DeploymentPreview((), (), False)
    else:
        preview = content or space.preview(release.id, first.id, tenants[0].id if tenants else None)
    skips = _resolve_skips(preview, options.skip_steps)
    form_values = _form_values(preview, dict(options.prompted_variables))
    for step in preview.steps:
        if step.has_no_applicable_machines and step.action_name.lower() not in {s.name.lower() for s in skips}:
            warnings.append(f"step '{step.action_name}' has no machines to run on in {first.name}")

    mode = str(project.raw.get("DefaultGuidedFailureMode") or "EnvironmentDefault")
    targets = []
    for env in environments:
        if options.guided_failure != "default":
            guided, why = options.guided_failure == "on", "asked for"
        elif mode in ("On", "Off"):
            guided, why = mode == "On", "the project's default"
        else:
            guided, why = env.use_guided_failure, "the environment's default"
        if guided:
            warnings.append(f"guided failure is on in {env.name} ({why}): a failing step waits for a person "
                            "(retry, ignore, exclude, fail) instead of failing the deployment")
        for tenant in tenant_choices:
            targets.append(
                TargetPlan(
                    environment=Ref(env.id, env.name),
                    tenant=tenant,
                    specific_machines=tuple(specific.get(env.id, ())),
                    excluded_machines=tuple(excluded.get(env.id, ())),
                    skip_steps=skips,
                    form_values=form_values,
                    use_guided_failure=guided,
                    guided_failure_source=why,
                    already=joined.get((env.id, tenant.id if tenant else None)),
                    newest_before=(newest or {}).get((env.id, tenant.id if tenant else None)),
                    lifecycle_rank=ranks[env.id],
                )
            )
    to_create = [t for t in targets if t.already is None]
    if leave and len(to_create) == 1 and options.deploy_at is None and not options.freeze_override:
        deferred.append(FREEZES)  # the server refuses a frozen one; ``explain_refusal`` says why
    elif to_create:
        targets = list(freezes.with_freezes(space, project.id, targets, options.deploy_at, warnings))
        warnings += freezes.overriding(targets, options.freeze_override)
    plan = DeploymentPlan(
        action=action,
        space=Ref(space.known_space_id(), space.space_name),
        project=Ref(project.id, project.name),
        release=Ref(release.id, release.version),
        release_reason=chosen.reason,
        targets=tuple(targets),
        options=options,
        from_environment=Ref(from_environment.id, from_environment.name) if from_environment else None,
        warnings=tuple(warnings),
        deferred=tuple(deferred),
    )
    freezes.refuse_frozen(plan, wording)
    return plan


#: What a plan may leave to the server's own checks of its first POST (``build_plan``).
LIFECYCLE = "lifecycle"
PROMPTED_VARIABLES = "prompted variables"
FREEZES = "deployment freezes"


def explain_refusal(space: SpaceApi, plan: DeploymentPlan, wording: Wording = COMMAND_LINE) -> None:
    """After the server refused the first deployment of a plan that left checks to it (nothing
    was created), make those checks now: each raises the error a dry run would have given, in
    our words. Returns when they pass, and the server's own refusal stands."""
    project = Project(plan.project.id, plan.project.name, "", None, "Untenanted", {})
    release = Release(plan.release.id, plan.release.name, plan.project.id, None, {})
    environments = list({t.environment.id: Environment(t.environment.id, t.environment.name, 0, False)
                         for t in plan.targets}.values())
    if FREEZES in plan.deferred:
        freezes.refuse_frozen(replace(plan, targets=freezes.with_freezes(
            space, plan.project.id, plan.targets, plan.options.deploy_at, [])), wording)
    if LIFECYCLE in plan.deferred:
        check_lifecycle(space, project, release, space.template(release.id), environments)
    if PROMPTED_VARIABLES in plan.deferred:
        _form_values(space.preview(release.id, environments[0].id), {})


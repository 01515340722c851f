"""Octopus's JSON for each resource: exact field names, Links built from the request's base path.

Pure functions from entities (and the models' result objects) to dicts. ``base`` is the path the
server is mounted at ("" normally), so Links stay right behind a reverse proxy's sub-path, as
Octopus's own do; models never learn where they are served (moto's ``queue.url(request_url)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from octorelease.sandbox.rules import git, models, views
from octorelease.sandbox.rules.lifecycle import PhaseProgress, ResolvedPhase
from octorelease.sandbox.rules.releasing import ReleaseTemplate
from octorelease.sandbox.state.entities import (
    MANUAL_STEP,
    Action,
    Activity,
    Channel,
    Deployment,
    DeploymentFreeze,
    Entity,
    Environment,
    Feed,
    Interruption,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Named,
    PackageVersion,
    Phase,
    Project,
    ProjectGroup,
    Release,
    Space,
    Step,
    TagSet,
    Task,
    Team,
    Tenant,
    Variable,
    VariableSet,
)
from octorelease.sandbox.state.state import USER_ID, USERNAME

Json = dict[str, Any]

VERSION = "2024.3.10989"
API_VERSION = "3.0.0"
INSTALLATION_ID = "5c1a0a9e-7b37-4f6e-9a64-0c5a9d3b8e21"

#: Space-scoped link templates, relative to ``/api/{spaceId}``.
SPACE_LINKS = {
    "Projects": "/projects{/id}{?name,skip,ids,clone,take,partialName,clonedFromProjectId}",
    "ProjectGroups": "/projectgroups{/id}{?skip,take,ids,partialName}",
    "Environments": "/environments{/id}{?name,skip,ids,take,partialName}",
    "Machines": "/machines{/id}{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,"
                "tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames}",
    "Lifecycles": "/lifecycles{/id}{?skip,take,ids,partialName}",
    "Channels": "/channels{/id}{?skip,take,ids,partialName}",
    "Tenants": "/tenants{/id}{?skip,projectId,name,tags,take,ids,clone,partialName,clonedFromTenantId}",
    "Feeds": "/feeds{/id}{?skip,take,ids,partialName,feedType,name}",
    "Accounts": "/accounts{/id}{?skip,take,ids,partialName,accountType}",
    "ActionTemplates": "/actiontemplates{/id}{?skip,take,ids,partialName}",
    "Certificates": "/certificates{/id}{?skip,take,search,archived,tenant,firstResult,orderBy,ids,partialName}",
    "Proxies": "/proxies{/id}{?skip,take,ids,partialName}",
    "Subscriptions": "/subscriptions{/id}{?skip,take,ids,partialName,spaces}",
    "Artifacts": "/artifacts{/id}{?skip,take,regarding,ids,partialName,order}",
    "Interruptions": "/interruptions{/id}{?skip,take,regarding,pendingOnly,ids}",
    "LibraryVariables": "/libraryvariablesets{/id}{?skip,contentType,take,ids,partialName}",
    "MachineRoles": "/machineroles/all",
    "Runbooks": "/runbooks{/id}{?skip,take,ids,partialName,clone,projectIds}",
    "RunbookProcesses": "/runbookProcesses{/id}{?skip,take,ids}",
    "RunbookSnapshots": "/runbookSnapshots{/id}{?skip,take,ids,publish}",
    "RunbookRuns": "/runbookRuns{/id}{?skip,take,ids,projects,environments,tenants,runbooks,taskState,partialName}",
    "TagSets": "/tagsets{/id}{?skip,take,ids,partialName}",
    "WorkerPools": "/workerpools{/id}{?name,skip,ids,take,partialName}",
    "Workers": "/workers{/id}{?skip,take,name,ids,partialName,isDisabled,healthStatuses,commStyles,workerPoolIds,"
               "thumbprint,shellNames}",
    "Releases": "/releases{/id}{?skip,ignoreChannelRules,take,ids}",
    "Deployments": "/deployments{/id}{?skip,take,ids,projects,environments,tenants,channels,taskState,partialName}",
    "DeploymentProcesses": "/deploymentprocesses{/id}{?skip,take,ids}",
    "Variables": "/variables{/id}{?ids}",
    "DashboardDynamic": "/dashboard/dynamic{?projects,environments,includePrevious}",
    "Dashboard": "/dashboard{?projectId,releaseId,selectedTenants,selectedTags,showAll,"
                 "highestLatestVersionPerProjectAndEnvironment}",
    "Tasks": "/tasks{/id}{?skip,active,environment,tenant,project,name,node,running,states,"
             "hasPendingInterruptions,hasWarningsOrErrors,take,ids,partialName,spaces,includeSystem}",
    "CreateReleaseCommandV1": "/releases/create/v1",
    "CreateDeploymentUntenantedCommandV1": "/deployments/create/untenanted/v1",
    "CreateDeploymentTenantedCommandV1": "/deployments/create/tenanted/v1",
}
TASKS_TEMPLATE = SPACE_LINKS["Tasks"]


def audit(e: Entity | None) -> Json:
    """Octopus's audit fields, on every resource: when and by whom the entity was last written
    (null for what is computed rather than stored)."""
    return {"LastModifiedOn": iso(e.last_modified_on) if e else None,
            "LastModifiedBy": e.last_modified_by if e else None}


def iso(value: datetime | None) -> str | None:
    """Octopus's date format: ISO 8601 with milliseconds and an offset."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds") if value else None


def human_date(value: datetime | None) -> str | None:
    """The human-readable ``Completed`` of a task, e.g. "Monday, March 20, 2017 9:00 PM"."""
    if value is None:
        return None
    hour = value.hour % 12 or 12
    return f"{value:%A, %B} {value.day}, {value.year} {hour}:{value:%M} {'AM' if value.hour < 12 else 'PM'}"


def duration(start: datetime | None, end: datetime | None, now: datetime) -> str | None:
    """Octopus's humanised duration: "32 seconds", "1 minute", "3 hours"."""
    if start is None:
        return None
    seconds = max(0, int(((end or now) - start).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def root(base: str, default: Space | None) -> Json:
    links = {
        "Self": f"{base}/api",
        "Spaces": f"{base}/api/spaces{{/id}}{{?name,skip,ids,take,partialName}}",
        "SpaceHome": f"{base}/api/{{spaceId}}",
        "CurrentUser": f"{base}/api/users/me",
        "Users": f"{base}/api/users{{/id}}{{?skip,take,ids,filter}}",
        "Tasks": f"{base}/api/tasks{TASKS_TEMPLATE.removeprefix('/tasks')}",
        "Web": f"{base}/app",
    }
    if default is not None:  # space-scoped links resolved to the default space; tasks stay system-wide
        links = {**space_links(base, default.id), **links}
    return {"Id": None, "Application": "Octopus Deploy", "Version": VERSION, "ApiVersion": API_VERSION,
            "InstallationId": INSTALLATION_ID, "IsEarlyAccessProgram": False, "HasLongTermSupport": True,
            **audit(None), "Links": links}


def space_links(base: str, space_id: str) -> dict[str, str]:
    return {name: f"{base}/api/{space_id}{template}" for name, template in SPACE_LINKS.items()}


def space_root(base: str, space: Space) -> Json:
    return {"Id": space.id, **audit(None),
            "Links": {"Self": f"{base}/api/{space.id}", **space_links(base, space.id)}}


def space(base: str, s: Space) -> Json:
    return {"Id": s.id, "Name": s.name, "Slug": s.slug, "Description": s.description, "IsDefault": s.is_default,
            "IsPrivate": False, "TaskQueueStopped": False, "SpaceManagersTeams": ["teams-administrators"],
            "SpaceManagersTeamMembers": [], "Icon": None, "ExtensionSettings": [], **audit(s),
            "Links": {"Self": f"{base}/api/spaces/{s.id}", "SpaceHome": f"{base}/api/{s.id}",
                      "Web": f"{base}/app#/spaces/{s.id}"}}


def user(base: str) -> Json:
    return {"Id": USER_ID, "Username": USERNAME, "DisplayName": "Sandbox Administrator",
            "EmailAddress": "sandbox@example.com", "IsService": False, "IsActive": True, "IsRequestor": False,
            "CanPasswordBeEdited": False, "IsAdministrator": True, **audit(None),
            "Links": {"Self": f"{base}/api/users/{USER_ID}", "Spaces": f"{base}/api/users/{USER_ID}/spaces",
                      "ApiKeys": f"{base}/api/users/{USER_ID}/apikeys{{/id}}{{?skip,take}}",
                      "Permissions": f"{base}/api/users/{USER_ID}/permissions"}}


def environment(base: str, e: Environment) -> Json:
    sp = f"{base}/api/{e.space_id}"
    return {"Id": e.id, "Name": e.name, "Slug": e.slug, "Description": e.description, "SortOrder": e.sort_order,
            "UseGuidedFailure": e.use_guided_failure, "AllowDynamicInfrastructure": False, "SpaceId": e.space_id,
            "EnvironmentTags": [], "ExtensionSettings": [], **audit(e),
            "Links": {"Self": f"{sp}/environments/{e.id}", "Web": f"{base}/app#/{e.space_id}/environments/{e.id}",
                      "Machines": f"{sp}/environments/{e.id}/machines{{?skip,take,partialName,roles,isDisabled,"
                                  "healthStatuses,commStyles,tenantIds,tenantTags,shellNames}"}}


#: what every deployment target reports running
MACHINE_OS, MACHINE_SHELL = "Ubuntu 22.04", "Bash"


def machine(base: str, m: Machine) -> Json:
    sp = f"{base}/api/{m.space_id}"
    tentacle = m.communication_style in ("TentaclePassive", "TentacleActive")
    uri = m.uri or (f"https://{m.name}:10933/" if tentacle else None)
    return {"Id": m.id, "Name": m.name, "Slug": m.slug, "SpaceId": m.space_id, "EnvironmentIds": m.environment_ids,
            "Roles": m.roles, "TenantedDeploymentParticipation": m.tenanted_participation, "TenantIds": m.tenant_ids,
            "TenantTags": [], "IsDisabled": m.is_disabled, "MachinePolicyId": "MachinePolicies-1",
            "HealthStatus": m.health_status, "Status": "Disabled" if m.is_disabled else "Online",
            "StatusSummary": "This machine is disabled." if m.is_disabled
            else "Octopus was able to successfully establish a connection with this machine.",
            "HasLatestCalamari": True, "IsInProcess": False, "Thumbprint": m.thumbprint, "Uri": uri,
            "Endpoint": {"CommunicationStyle": m.communication_style, "Uri": uri, "Thumbprint": m.thumbprint,
                         "ProxyId": None, "Id": None, **audit(None), "Links": {}},
            "OperatingSystem": MACHINE_OS, "ShellName": MACHINE_SHELL, "ShellVersion": "5.1", "Architecture": "x64",
            "SkipInitialHealthCheck": False, **audit(m),
            "Links": {"Self": f"{sp}/machines/{m.id}", "Connection": f"{sp}/machines/{m.id}/connection",
                      "TasksTemplate": f"{sp}/machines/{m.id}/tasks{{?skip,take,type}}",
                      "Web": f"{base}/app#/{m.space_id}/infrastructure/machines/{m.id}"}}


def _retention(keep_forever: bool) -> Json:
    return {"Unit": "Days" if not keep_forever else "Items", "QuantityToKeep": 0 if keep_forever else 30,
            "ShouldKeepForever": keep_forever, "Strategy": "Forever" if keep_forever else "Count"}


def _phase_json(p: Phase | ResolvedPhase) -> Json:
    return {"Id": p.id, "Name": p.name, "AutomaticDeploymentTargets": p.automatic,
            "OptionalDeploymentTargets": [e for e in p.environment_ids if e not in p.automatic]
            if isinstance(p, ResolvedPhase) else p.optional,
            "MinimumEnvironmentsBeforePromotion": p.minimum, "IsOptionalPhase": p.is_optional_phase,
            "IsPriorityPhase": False, "ReleaseRetentionPolicy": None, "TentacleRetentionPolicy": None}


def lifecycle(base: str, lc: Lifecycle, phases: Sequence[Phase | ResolvedPhase] | None = None) -> Json:
    """A lifecycle; ``phases`` (its preview) replaces the phases as stored by the phases as they
    apply, environments filled in."""
    sp = f"{base}/api/{lc.space_id}"
    return {"Id": lc.id, "Name": lc.name, "Slug": lc.slug, "Description": lc.description, "SpaceId": lc.space_id,
            "ReleaseRetentionPolicy": _retention(False), "TentacleRetentionPolicy": _retention(True),
            "Phases": [_phase_json(p) for p in (lc.phases if phases is None else phases)], **audit(lc),
            "Links": {"Self": f"{sp}/lifecycles/{lc.id}", "Preview": f"{sp}/lifecycles/{lc.id}/preview",
                      "Projects": f"{sp}/lifecycles/{lc.id}/projects"}}


def channel(base: str, c: Channel) -> Json:
    sp = f"{base}/api/{c.space_id}"
    return {"Id": c.id, "Name": c.name, "Slug": c.slug, "Description": c.description, "ProjectId": c.project_id,
            "LifecycleId": c.lifecycle_id, "IsDefault": c.is_default, "Type": "Lifecycle", "Rules": [],
            "TenantTags": [],
            "GitReferenceRules": [], "SpaceId": c.space_id, **audit(c),
            "Links": {"Self": f"{sp}/channels/{c.id}", "Project": f"{sp}/projects/{c.project_id}",
                      "Releases": f"{sp}/channels/{c.id}/releases{{?skip,take,searchByVersion}}"}}


def project(base: str, p: Project) -> Json:
    sp = f"{base}/api/{p.space_id}"
    own = f"{sp}/projects/{p.id}"
    return {"Id": p.id, "SpaceId": p.space_id, "Name": p.name, "Slug": p.slug, "Description": p.description,
            "IsDisabled": p.is_disabled, "ProjectGroupId": p.project_group_id, "LifecycleId": p.lifecycle_id,
            "DeploymentProcessId": p.process_id, "VariableSetId": p.variable_set_id,
            "TenantedDeploymentMode": p.tenanted_mode, "DefaultGuidedFailureMode": "EnvironmentDefault",
            "DefaultToSkipIfAlreadyInstalled": True, "DiscreteChannelRelease": False, "AutoCreateRelease": False,
            "IsVersionControlled": p.git is not None, "PersistenceSettings": persistence_settings(p),
            "IncludedLibraryVariableSetIds": p.included_library_variable_set_ids,
            "ReleaseNotesTemplate": None, "ProjectConnectivityPolicy": _connectivity(),
            # a version-controlled project's strategy is in Git: the project says none (its settings at a ref say it)
            "VersioningStrategy": None if p.git else versioning_strategy(p),
            "ReleaseCreationStrategy": {"ChannelId": None, "ReleaseCreationPackage": None,
                                        "ReleaseCreationPackageStepId": None},
            "Templates": [], "AutoDeployReleaseOverrides": [], "ExtensionSettings": [], "ClonedFromProjectId": None,
            **audit(p),
            "Links": {"Self": own, "Releases": f"{own}/releases{{/version}}{{?skip,take,searchByVersion}}",
                      "Channels": f"{own}/channels{{/id}}{{?skip,take,partialName}}",
                      "DeploymentProcess": f"{own}/deploymentprocesses",
                      "DeploymentSettings": f"{own}/deploymentsettings",
                      "Progression": f"{own}/progression{{?releaseHistoryCount}}",
                      "Triggers": f"{own}/triggers{{?skip,take,partialName,triggerActionType}}",
                      "Runbooks": f"{own}/runbooks{{?skip,take,partialName}}",
                      "Logo": f"{own}/logo",
                      "Variables": f"{sp}/variables/{p.variable_set_id}",
                      "Web": f"{base}/app#/{p.space_id}/projects/{p.slug}", **_git_links(own, p)}}


def persistence_settings(p: Project) -> Json:
    """``PersistenceSettings``: ``Database``, or where a version-controlled project's files are."""
    if p.git is None:
        return {"Type": "Database"}
    credentials = {"Type": "UsernamePassword", "Username": p.git.username, "Password": {"HasValue": True}} \
        if p.git.username else {"Type": "Anonymous"}
    return {"Type": "VersionControlled", "Url": p.git.url, "DefaultBranch": p.git.default_branch,
            "BasePath": p.git.base_path, "Credentials": credentials, "ProtectedBranchNamePatterns": [],
            "ProtectedDefaultBranch": False, "ConversionState": {"VariablesAreInGit": True}}


def _git_links(own: str, p: Project) -> Json:
    """A version-controlled project's process and settings are at a ref (``{gitRef}`` in the middle
    of the path, as the real server's links have it), and it links its branches, tags and commits."""
    if p.git is None:
        return {}
    return {"DeploymentProcess": f"{own}/{{gitRef}}/deploymentprocesses",
            "DeploymentSettings": f"{own}/{{gitRef}}/deploymentsettings",
            "Variables": f"{own}/{{gitRef}}/variables", "SensitiveVariables": f"{own}/variables",
            "Branches": f"{own}/git/branches{{/name}}{{?skip,take,searchByName,refresh}}",
            "Tags": f"{own}/git/tags{{/name}}{{?skip,take,searchByName,refresh}}",
            "Commits": f"{own}/git/commits{{/hash}}{{?skip,take,refresh}}"}


def git_ref(base: str, p: Project, ref: git.Resolved) -> Json:
    """A branch, a tag or a commit; only a branch has ``IsProtected`` (never, in the sandbox)."""
    committed = ref.commit.committed
    item: Json = {"Id": ref.ref, "Name": ref.name, "CanonicalName": ref.ref,
                  "LastModifiedOn": iso(committed) if committed else None, "LastModifiedBy": None,
                  "Links": {"Self": f"{base}/api/{p.space_id}/projects/{p.id}/git/{ref.kind}/{ref.name}"}}
    if ref.kind == "branches":
        item["IsProtected"] = False
    return item


#: every logo the sandbox serves: a 1x1 transparent PNG
LOGO_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000b49444154789c63600002"
    "00000500017a5eab3f0000000049454e44ae426082"
)


def versioning_strategy(p: Project) -> Json:
    """The template, or the donor package (``DeploymentAction``, ``PackageReference``) whose version a
    release without one takes (projects.md)."""
    donor = p.versioning_package
    return {"Template": None if donor else p.versioning_template,
            "DonorPackage": {"DeploymentAction": donor.action, "PackageReference": donor.reference} if donor else None,
            "DonorPackageStepId": None}


def deployment_settings(base: str, p: Project, ref: str | None = None) -> Json:
    """The deployment settings; at a ref (a version-controlled project) its link is the ref's."""
    own = f"{base}/api/{p.space_id}/projects/{p.id}" + (f"/{quote(ref, safe='')}" if ref else "")
    return {"Id": f"deploymentsettings-{p.id}", "ProjectId": p.id, "SpaceId": p.space_id,
            "ConnectivityPolicy": _connectivity(), "DefaultGuidedFailureMode": "EnvironmentDefault",
            "VersioningStrategy": versioning_strategy(p), "ReleaseNotesTemplate": None,
            "DefaultToSkipIfAlreadyInstalled": True, "DeploymentChangesTemplate": None,
            "ForcePackageDownload": False, "FailTargetDiscovery": False, **audit(p),
            "Links": {"Self": f"{own}/deploymentsettings"}}


def _connectivity() -> Json:
    return {"SkipMachineBehavior": "None", "TargetRoles": [], "AllowDeploymentsToNoTargets": False,
            "ExcludeUnhealthyTargets": False}


def _reference(e: Named) -> Json:
    return {"Id": e.id, "Name": e.name}


def project_progression(base: str, pp: views.ProjectProgression, now: datetime) -> Json:
    """``ProgressionResource``: environments, each channel's, and the newest releases' deployments."""
    def item(d: Deployment, t: Task, r: Release) -> Json:
        return dashboard_item(base, models.DashboardItem(d, t, r, True), now)

    return {"Environments": [_reference(e) for e in pp.environments],
            "ChannelEnvironments": {c: [_reference(e) for e in envs] for c, envs in pp.channel_environments.items()},
            "Releases": [{"Release": release(base, row.release), "Channel": channel(base, row.channel),
                          "Deployments": {env: [item(d, t, row.release) for d, t in pairs]
                                          for env, pairs in row.deployments.items()},
                          "NextDeployments": row.next_deployments, "HasUnresolvedDefect": False,
                          "ReleaseRetentionPeriod": None, "TentacleRetentionPeriod": None}
                         for row in pp.releases],
            "Id": None, **audit(None), "Links": {}}


def project_group(base: str, g: ProjectGroup) -> Json:
    sp = f"{base}/api/{g.space_id}"
    return {"Id": g.id, "Name": g.name, "Slug": g.slug, "Description": g.description, "EnvironmentIds": [],
            "RetentionPolicyId": None, "SpaceId": g.space_id, **audit(g),
            "Links": {"Self": f"{sp}/projectgroups/{g.id}",
                      "Projects": f"{sp}/projectgroups/{g.id}/projects{{?skip,take}}"}}


def _properties(a: Action) -> Json:
    if a.action_type == MANUAL_STEP:
        return {"Octopus.Action.Manual.Instructions": a.instructions,
                "Octopus.Action.Manual.ResponsibleTeamIds": ",".join(a.responsible_team_ids),
                "Octopus.Action.Manual.BlockConcurrentDeployments": "False", "Octopus.Action.RunOnServer": "true"}
    if a.packages:
        return {"Octopus.Action.Package.PackageId": a.packages[0].package_id,
                "Octopus.Action.Package.FeedId": a.packages[0].feed_id}
    return {"Octopus.Action.Script.ScriptSource": "Inline", "Octopus.Action.Script.Syntax": "Bash",
            "Octopus.Action.Script.ScriptBody": a.script}


def _step(s: Step, number: int) -> Json:
    a = s.action
    properties = _properties(a)
    return {"Id": s.id, "Name": s.name, "PackageRequirement": "LetOctopusDecide", "Condition": "Success",
            "StartTrigger": "StartAfterPrevious",
            "Properties": {"Octopus.Action.TargetRoles": ",".join(s.roles)},
            "Actions": [{"Id": a.id, "Name": a.name, "ActionType": a.action_type, "IsDisabled": a.is_disabled,
                         "IsRequired": False, "CanBeUsedForProjectVersioning": bool(a.packages),
                         "WorkerPoolId": None, "WorkerPoolVariable": None, **audit(None),
                         "Environments": a.environments, "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                         "Packages": [{"Id": r.id, "Name": r.name, "PackageId": r.package_id, "FeedId": r.feed_id,
                                       "AcquisitionLocation": "Server", "Properties": {}} for r in a.packages],
                         "Properties": properties, "StepNumber": str(number), "Links": {}}]}


def deployment_process(base: str, p: Project, ref: str | None = None) -> Json:
    """The process; at a ref (a version-controlled project) its links are the ref's."""
    sp = f"{base}/api/{p.space_id}"
    at = f"{sp}/projects/{p.id}/{quote(ref, safe='')}/deploymentprocesses" if ref else None
    return {"Id": p.process_id, "SpaceId": p.space_id, "ProjectId": p.id, "Version": p.process_version,
            "LastSnapshotId": None, **audit(p),
            "Steps": [_step(s, n) for n, s in enumerate(p.steps, start=1)],
            "Links": {"Self": at or f"{sp}/deploymentprocesses/{p.process_id}", "Project": f"{sp}/projects/{p.id}",
                      "Template": f"{at}/template{{?channel,releaseId}}" if at
                      else f"{sp}/deploymentprocesses/{p.process_id}/template{{?channel,releaseId}}"}}


def release_template(base: str, t: ReleaseTemplate) -> Json:
    """``ReleaseTemplateResource``: the next version the template gives, or (with a donor package)
    none and the package step whose version a new release takes."""
    p, donor = t.project, t.versioning_package
    own = f"{base}/api/{p.space_id}/deploymentprocesses/{p.process_id}/template"
    return {"Id": f"{p.process_id}/template", "DeploymentProcessId": p.process_id,
            "LastReleaseVersion": t.last_release_version, "NextVersionIncrement": t.next_version_increment,
            "VersioningPackageStepName": donor.step.action.name if donor else None,
            "VersioningPackageReferenceName": donor.reference.name if donor else None,
            "Packages": [{"ActionName": k.step.action.name, "StepName": k.step.action.name,
                          "PackageReferenceName": k.reference.name, "PackageId": k.reference.package_id,
                          "FeedId": k.reference.feed_id, "FeedName": k.feed.name if k.feed else None,
                          "NuGetPackageId": k.reference.package_id, "NuGetFeedId": k.reference.feed_id,
                          "NuGetFeedName": k.feed.name if k.feed else None,
                          "VersionSelectedLastRelease": k.version_selected_last_release, "ProjectName": p.name,
                          "IsResolvable": True, "FixedVersion": None} for k in t.packages],
            "GitResources": [], **audit(None),
            "Links": {"Self": f"{own}?channel={t.channel.id}"}}


def feed(base: str, f: Feed) -> Json:
    own = f"{base}/api/{f.space_id}/feeds/{f.id}"
    return {"Id": f.id, "Name": f.name, "Slug": f.slug, "FeedType": "BuiltIn", "SpaceId": f.space_id,
            "DeleteUnreleasedPackagesAfterDays": 30, "IsBuiltInRepoSyncEnabled": False,
            "PackageAcquisitionLocationOptions": ["Server"], **audit(f),
            "Links": {"Self": own,
                      "SearchPackageVersionsTemplate": f"{own}/packages/versions{{?packageId,take,skip,"
                                                       "includePreRelease,versionRange,preReleaseTag,filter,"
                                                       "includeReleaseNotes}",
                      "SearchPackagesTemplate": f"{own}/packages/search{{?term,take,skip}}"}}


def package_description(base: str, feed_id: str, p: views.PackageSummary) -> Json:
    return {"Id": p.package_id, "Name": p.package_id, "LatestVersion": p.latest_version, "Description": None,
            "FeedId": feed_id, "Links": {}}


def machine_connection(base: str, m: Machine, checked: datetime) -> Json:
    """``MachineConnectionStatus``: no health checks run, so an enabled target was fine when last seen."""
    return {"Id": f"machineconnectionstatus-{m.id}", "MachineId": m.id, "Logs": [],
            "Status": "Success" if not m.is_disabled else "Failure", "CurrentTentacleVersion": "8.1.2",
            "LastChecked": iso(checked), **audit(m),
            "Links": {"Self": f"{base}/api/{m.space_id}/machines/{m.id}/connection"}}


def tenant_variables(base: str, tv: views.TenantVariables) -> Json:
    t = tv.tenant
    return {"Id": f"tenantvariables-{t.id}", "TenantId": t.id, "TenantName": t.name, "SpaceId": t.space_id,
            "ProjectVariables": {p.id: {"ProjectId": p.id, "ProjectName": p.name, "Templates": [], "Variables": {},
                                        "Links": {}} for p in tv.projects},
            "LibraryVariables": {s.id: {"LibraryVariableSetId": s.id, "LibraryVariableSetName": s.name,
                                        "Templates": [], "Variables": {}, "Links": {}} for s in tv.library_sets},
            **audit(None), "Links": {"Self": f"{base}/api/{t.space_id}/tenants/{t.id}/variables"}}


def api_key(base: str, number: int, created: datetime) -> Json:
    """One of the sandbox user's API keys; the key itself is never shown, as Octopus shows it only
    when it is made."""
    return {"Id": f"apikeys-{number}", "Purpose": "Sandbox" if number == 1 else "Sandbox (limited to environments)",
            "UserId": USER_ID, "ApiKey": None, "Created": iso(created), **audit(None),
            "Links": {"Self": f"{base}/api/users/{USER_ID}/apikeys/apikeys-{number}",
                      "User": f"{base}/api/users/{USER_ID}"}}


#: what the sandbox user may do, everywhere (the sandbox checks only DeploymentCreate, per key)
SPACE_PERMISSIONS = ("DeploymentCreate", "DeploymentView", "EnvironmentView", "LibraryVariableSetView",
                     "LifecycleView", "MachineView", "ProcessView", "ProjectView", "ReleaseCreate", "ReleaseView",
                     "TaskCancel", "TaskView", "TenantView", "VariableEdit", "VariableView")


def user_permissions(base: str, space_ids: list[str]) -> Json:
    restriction = [{"RestrictedToProjectIds": [], "RestrictedToEnvironmentIds": [], "RestrictedToTenantIds": [],
                    "RestrictedToProjectGroupIds": [], "SpaceId": s} for s in space_ids]
    return {"Id": USER_ID, "SpacePermissions": {p: restriction for p in SPACE_PERMISSIONS},
            "SystemPermissions": ["SpaceView"], "Teams": [], "IsTeamsComplete": True, "IsPermissionsComplete": True,
            **audit(None), "Links": {"Self": f"{base}/api/users/{USER_ID}/permissions"}}


def uploaded_package(base: str, space_id: str, p: PackageVersion) -> Json:
    """The answer to an upload (``POST packages/raw``): the package in the built-in feed."""
    package_id = f"packages-{p.package_id}.{p.version}"
    return {"Id": package_id, "PackageId": p.package_id, "Version": p.version, "Title": p.package_id,
            "Summary": None, "Description": None, "Published": iso(p.published), "ReleaseNotes": None,
            "FileExtension": None, "PackageSizeBytes": p.size_bytes, "Hash": None, "FeedId": "feeds-builtin",
            "NuGetPackageId": p.package_id, "NuGetFeedId": "feeds-builtin",
            "Links": {"Self": f"{base}/api/{space_id}/packages/{package_id}"}}


def package_version(base: str, feed_id: str, p: PackageVersion) -> Json:
    return {"Id": f"packages-{p.package_id}.{p.version}", "FeedId": feed_id, "PackageId": p.package_id,
            "Version": p.version, "Published": iso(p.published), "SizeBytes": p.size_bytes,
            "Title": p.package_id, "ReleaseNotes": None, "FeedType": "BuiltIn", "Links": {}}


def tenant(base: str, t: Tenant) -> Json:
    sp = f"{base}/api/{t.space_id}"
    return {"Id": t.id, "Name": t.name, "Slug": t.slug, "Description": t.description, "SpaceId": t.space_id,
            "ProjectEnvironments": t.project_environments, "TenantTags": t.tenant_tags, "IsDisabled": False,
            "ClonedFromTenantId": None, **audit(t),
            "Links": {"Self": f"{sp}/tenants/{t.id}", "Variables": f"{sp}/tenants/{t.id}/variables",
                      "Web": f"{base}/app#/{t.space_id}/tenants/{t.id}/overview"}}


def tag_set(base: str, s: TagSet) -> Json:
    sp = f"{base}/api/{s.space_id}"
    return {"Id": s.id, "Name": s.name, "Description": s.description, "SortOrder": s.sort_order,
            "SpaceId": s.space_id, **audit(s),
            "Tags": [{"Id": f"{s.id}/Tags-{n}", "Name": tag, "CanonicalTagName": f"{s.name}/{tag}",
                      "Color": "#333333", "Description": "", "SortOrder": n} for n, tag in enumerate(s.tags, 1)],
            "Links": {"Self": f"{sp}/tagsets/{s.id}"}}


def library_variable_set(base: str, s: LibraryVariableSet) -> Json:
    sp = f"{base}/api/{s.space_id}"
    return {"Id": s.id, "Name": s.name, "Description": s.description, "VariableSetId": s.variable_set_id,
            "ContentType": s.content_type, "Templates": [], "SpaceId": s.space_id, "Version": 0, **audit(s),
            "Links": {"Self": f"{sp}/libraryvariablesets/{s.id}", "Variables": f"{sp}/variables/{s.variable_set_id}"}}


def variable(v: Variable) -> Json:
    return {"Id": v.id, "Name": v.name, "Value": None if v.is_sensitive else v.value, "Description": None,
            "Scope": v.scope, "IsEditable": True, "Type": v.type, "IsSensitive": v.is_sensitive,
            "Prompt": None if v.prompt is None else {
                "Label": v.prompt.label, "Description": v.prompt.description, "Required": v.prompt.required,
                "DisplaySettings": {}}}


def variable_set(base: str, vs: VariableSet, environments: list[Environment], git_ref: str | None = None) -> Json:
    """A variable set; at a ref (a version-controlled project's Git variables) its link is the ref's."""
    sp = f"{base}/api/{vs.space_id}"
    own = f"{sp}/projects/{vs.owner_id}/{quote(git_ref, safe='')}/variables" if git_ref else f"{sp}/variables/{vs.id}"
    return {"Id": vs.id, "OwnerId": vs.owner_id, "SpaceId": vs.space_id, "Version": vs.version,
            "Variables": [variable(v) for v in vs.variables],
            "ScopeValues": {"Environments": [{"Id": e.id, "Name": e.name} for e in environments], "Machines": [],
                            "Actions": [], "Roles": [], "Channels": [], "TenantTags": [], "Processes": []},
            **audit(vs), "Links": {"Self": own}}


def release(base: str, r: Release) -> Json:
    sp = f"{base}/api/{r.space_id}"
    own = f"{sp}/releases/{r.id}"
    return {"Id": r.id, "SpaceId": r.space_id, "ProjectId": r.project_id, "Version": r.version,
            "ChannelId": r.channel_id, "ReleaseNotes": r.release_notes,
            "ProjectDeploymentProcessSnapshotId": r.process_snapshot_id,
            "ProjectVariableSetSnapshotId": r.variable_snapshot_id,
            "LibraryVariableSetSnapshotIds": r.library_variable_snapshot_ids,
            "IgnoreChannelRules": False, "BuildInformation": [], "Assembled": iso(r.assembled),
            "SelectedPackages": [{"ActionName": p.action_name, "StepName": p.step_name,
                                  "PackageReferenceName": p.package_reference_name, "Version": p.version}
                                 for p in r.selected_packages],
            "SelectedGitResources": [],
            "VersionControlReference": {"GitRef": r.git_ref, "GitCommit": r.git_commit,
                                        "VariablesGitCommit": r.variables_git_commit}
            if r.git_commit else None, "CustomFields": {}, **audit(r),
            "Links": {"Self": own, "Project": f"{sp}/projects/{r.project_id}",
                      "Channel": f"{sp}/projects/{r.project_id}/channels/{r.channel_id}",
                      "Progression": f"{own}/progression",
                      "Deployments": f"{own}/deployments{{?skip,take}}",
                      "DeploymentTemplate": f"{own}/deployments/template",
                      "SnapshotVariables": f"{own}/snapshot-variables",
                      "Web": f"{base}/app#/{r.space_id}/releases/{r.id}",
                      "Artifacts": f"{sp}/artifacts?regarding={r.id}", "Defects": f"{own}/defects"}}


def deployment(base: str, d: Deployment, environment_name: str, tenant_name: str | None) -> Json:
    sp = f"{base}/api/{d.space_id}"
    suffix = f" for {tenant_name}" if tenant_name else ""
    return {"Id": d.id, "SpaceId": d.space_id, "ReleaseId": d.release_id, "ChannelId": d.channel_id,
            "ProjectId": d.project_id, "EnvironmentId": d.environment_id, "TenantId": d.tenant_id,
            "DeploymentProcessId": d.process_id, "Changes": [], "ChangesMarkdown": None,
            "ForcePackageDownload": d.force_package_download, "ForcePackageRedeployment": d.force_package_redeployment,
            "Priority": "LifecycleDefault", "SkipActions": d.skip_actions, "SpecificMachineIds": d.specific_machine_ids,
            "ExcludedMachineIds": d.excluded_machine_ids, "SpecificTargetTagIds": [], "ExcludedTargetTagIds": [],
            "ManifestVariableSetId": None, "TaskId": d.task_id, "UseGuidedFailure": d.use_guided_failure,
            "Comments": d.comments, "FormValues": d.form_values, "QueueTime": iso(d.queue_time),
            "QueueTimeExpiry": iso(d.queue_time_expiry), "Name": f"Deploy to {environment_name}{suffix}",
            "Created": iso(d.created), "TentacleRetentionPeriod": None, "DeployedBy": "sandbox",
            "DeployedById": USER_ID, "FailureEncountered": d.failure_encountered,
            "DeployedToMachineIds": d.deployed_to_machine_ids, **audit(d),
            "Links": {"Self": f"{sp}/deployments/{d.id}", "Release": f"{sp}/releases/{d.release_id}",
                      "Environment": f"{sp}/environments/{d.environment_id}",
                      "Project": f"{sp}/projects/{d.project_id}",
                      "Task": f"{base}/api/tasks/{d.task_id}", "Web": f"{base}/app#/{d.space_id}/deployments/{d.id}",
                      "Artifacts": f"{sp}/artifacts?regarding={d.id}",
                      "Interruptions": f"{sp}/interruptions?regarding={d.id}"}}


def task(base: str, t: Task, now: datetime, project_id: str | None = None) -> Json:
    own = f"{base}/api/tasks/{t.id}"
    return {"Id": t.id, "SpaceId": t.space_id, "Name": t.name, "Description": t.description,
            "Arguments": {"DeploymentId": t.deployment_id}, "State": t.state, "Completed": human_date(t.completed_time),
            "QueueTime": iso(t.queue_time), "QueueTimeExpiry": iso(t.queue_time_expiry), "StartTime": iso(t.start_time),
            "LastUpdatedTime": iso(t.last_updated), "CompletedTime": iso(t.completed_time), "ServerNode": "sandbox",
            "Duration": duration(t.start_time, t.completed_time, now) or "0 seconds",
            "ErrorMessage": t.error_message, "HasBeenPickedUpByProcessor": t.start_time is not None,
            "IsCompleted": t.is_completed, "FinishedSuccessfully": t.state == "Success",
            **pending(t), "EstimatedRemainingQueueDurationSeconds": 0, "CanRerun": False,
            "HasWarningsOrErrors": t.has_warnings_or_errors, "UnmetPreconditions": None, "ProjectId": project_id,
            **audit(t),
            "Links": {"Self": own, "Web": f"{base}/app#/{t.space_id}/tasks/{t.id}", "Raw": f"{own}/raw",
                      "Cancel": f"{own}/cancel",
                      "QueuedBehind": f"{own}/queued-behind{{?skip,take}}",
                      "Details": f"{own}/details{{?verbose,tail}}",
                      "Artifacts": f"{base}/api/{t.space_id}/artifacts?regarding={t.id}",
                      "Interruptions": f"{base}/api/{t.space_id}/interruptions?regarding={t.id}"}}


def pending(t: Task) -> Json:
    """What a task (and a dashboard item) says about the people and conditions it waits for."""
    return {"HasPendingInterruptions": bool(t.pending_interruption_types), "HasPendingPreconditions": False,
            "PendingInterruptionTypes": list(t.pending_interruption_types), "PendingPreconditionTypes": []}


def _form(i: Interruption) -> Json:
    """The interruption's form as Octopus builds it: the instructions as a paragraph, a notes box,
    and the buttons whose values ``submit`` takes (``Result`` or ``Guidance``)."""
    if i.type == "ManualIntervention":
        field, buttons = "Result", [("Proceed", "Proceed"), ("Abort", "Abort")]
    else:
        field, buttons = "Guidance", [("Fail", "Fail"), ("Retry", "Retry"), ("Ignore", "Ignore"),
                                      ("Exclude machine", "Exclude")]
    elements = [{"Name": "Instructions", "IsValueRequired": False,
                 "Control": {"Type": "Paragraph", "Text": i.instructions, "ResolveLinks": False}},
                {"Name": "Notes", "IsValueRequired": False,
                 "Control": {"Type": "TextArea", "Label": "Notes"}},
                {"Name": field, "IsValueRequired": True,
                 "Control": {"Type": "SubmitButtonGroup",
                             "Buttons": [{"Text": text, "Value": value, "RequiresConfirmation": value in
                                          ("Abort", "Fail")} for text, value in buttons]}}]
    values = {"Instructions": None, "Notes": i.notes, field: i.answer}
    return {"Elements": elements, "Values": values}


def interruption(base: str, i: Interruption, can_take: bool, has_responsibility: bool) -> Json:
    """``CanTakeResponsibility`` and ``HasResponsibility`` are for the key asking."""
    sp = f"{base}/api/{i.space_id}"
    own = f"{sp}/interruptions/{i.id}"
    return {"Id": i.id, "SpaceId": i.space_id, "Title": i.title, "Created": iso(i.created), "Type": i.type,
            "IsPending": i.is_pending, "Form": _form(i), "RelatedDocumentIds": i.related_document_ids,
            "ResponsibleTeamIds": i.responsible_team_ids, "ResponsibleUserId": i.responsible_user_id,
            "CanTakeResponsibility": can_take, "HasResponsibility": has_responsibility,
            "TaskId": i.task_id, "CorrelationId": i.correlation_id, "IsLinkedToOtherInterruption": False,
            "PullRequests": [], **audit(i),
            "Links": {"Self": own, "Submit": f"{own}/submit", "Responsible": f"{own}/responsible",
                      "Task": f"{base}/api/tasks/{i.task_id}"}}


def freeze(f: DeploymentFreeze) -> Json:
    return {"Id": f.id, "Name": f.name, "Description": f.description, "Start": iso(f.start), "End": iso(f.end),
            "ProjectEnvironmentScope": f.project_environments,
            "TenantProjectEnvironmentScope": [{"TenantId": t, "ProjectId": p, "EnvironmentId": e}
                                              for t, p, e in f.tenant_scopes],
            "RecurringSchedule": f.recurrence}


def team(base: str, t: Team) -> Json:
    return {"Id": t.id, "Name": t.name, "Description": t.description, "SpaceId": t.space_id, "CanBeDeleted": True,
            "CanBeRenamed": True, "CanChangeRoles": True, "CanChangeMembers": True, "MemberUserIds":
            [USER_ID] if t.member else [], "ExternalSecurityGroups": [], **audit(t),
            "Links": {"Self": f"{base}/api/{t.space_id}/teams/{t.id}"}}


def activity(a: Activity, tail: int | None = None) -> Json:
    nodes = a.walk()
    done = sum(1 for n in nodes if n.status not in ("Pending", "Running"))
    logs = a.logs[-tail:] if tail else a.logs
    return {"Id": a.id, "Name": a.name, "Started": iso(a.started), "Ended": iso(a.ended), "Status": a.status,
            "Children": [activity(c, tail) for c in a.children], "ShowAtSummaryLevel": True,
            "LogElements": [{"Category": line.category, "OccurredAt": iso(line.occurred_at),
                             "MessageText": line.message, "Detail": None} for line in logs],
            "ProgressPercentage": int(100 * done / len(nodes)), "ProgressMessage": None}


def task_details(base: str, t: Task, now: datetime, project_id: str | None, tail: int | None) -> Json:
    root = t.activity or Activity(id=t.id, name=t.description)
    nodes = root.walk()
    done = sum(1 for n in nodes if n.status not in ("Pending", "Running"))
    percentage = 100 if t.is_completed else int(100 * done / len(nodes))
    return {"Task": task(base, t, now, project_id), "ActivityLogs": [activity(root, tail)],
            "Progress": {"ProgressPercentage": percentage, "EstimatedTimeRemaining": "" if t.is_completed else
                         "A few seconds"},
            "PhysicalLogSize": sum(len(line.message) + 40 for n in nodes for line in n.logs),
            "Id": t.id, **audit(None),
            "Links": {"Self": f"{base}/api/tasks/{t.id}/details"}}


def raw_log(t: Task, related: list[str]) -> str:
    """The plain-text log of ``/raw``: a header, then each element and its lines, indented by depth."""
    lines = [f"Task ID:        {t.id}", f"Related IDs:    {', '.join(related)}", f"Task status:    {t.state}",
             f"Task queued:    {iso(t.queue_time)}", f"Task started:   {iso(t.start_time) or ''}",
             f"Task completed: {iso(t.completed_time) or ''}",
             f"Task duration:  {duration(t.start_time, t.completed_time, t.last_updated) or ''}",
             f"Server version: {VERSION}", "Server node:    sandbox", ""]

    def emit(node: Activity, depth: int) -> None:
        indent = "  " * depth
        lines.append(f"{'':20}| {indent}== {node.status}: {node.name} ==")
        for line in node.logs:
            lines.append(f"{line.occurred_at:%H:%M:%S}   {line.category:<8} | {indent}  {line.message}")
        for child in node.children:
            emit(child, depth + 1)

    if t.activity is not None:
        emit(t.activity, 0)
    return "\n".join(lines) + "\n"


def _promotion(base: str, release_id: str, env: Environment, tenant_id: str | None) -> Json:
    tail = f"/{tenant_id}" if tenant_id else ""
    preview = f"{base}/api/{env.space_id}/releases/{release_id}/deployments/preview/{env.id}{tail}"
    return {"Id": env.id, "Name": env.name, **audit(None), "Links": {"Preview": preview + "{?includeDisabledSteps}"}}


def template(base: str, t: models.Template) -> Json:
    r = t.release
    return {"PromoteTo": [_promotion(base, r.id, e, None) for e in t.promote_to],
            "TenantPromotions": [{"Id": tenant.id, "Name": tenant.name,
                                  "PromoteTo": [_promotion(base, r.id, e, tenant.id) for e in envs],
                                  **audit(None), "Links": {}}
                                 for tenant, envs in t.tenant_promotions],
            "IsDeploymentProcessModified": False, "IsVariableSetModified": t.variables_modified,
            "IsLibraryVariableSetModified": t.library_variables_modified, "IsGitResourceModified": False,
            "DeploymentNotes": None,
            "Id": None, **audit(None), "Links": {}}


def preview(p: models.Preview) -> Json:
    return {"StepsToExecute": [
        {"ActionId": s.step.action.id, "ActionName": s.step.action.name, "ActionNumber": str(s.number),
         "Roles": s.step.roles, "MachineNames": [m.name for m in s.machines],
         "Machines": [{"Id": m.id, "Name": m.name, "HasLatestCalamari": True} for m in s.machines],
         "CanBeSkipped": True, "HasNoApplicableMachines": not s.machines,
         "UnavailableMachines": [{"Id": m.id, "Name": m.name} for m in s.unavailable],
         "ExcludedMachines": [{"Id": m.id, "Name": m.name} for m in s.excluded],
         "IsDisabled": s.step.action.is_disabled}
        for s in p.steps],
        "Form": {"Values": {v.id: v.value or None for v in p.prompts},
                 "Elements": [{"Name": v.id, "IsValueRequired": bool(v.prompt and v.prompt.required),
                               "Control": {"Type": "VariableValue", "Name": v.name,
                                           "Label": v.prompt.label if v.prompt else v.name,
                                           "Description": v.prompt.description if v.prompt else "",
                                           "IsSecure": v.is_sensitive,
                                           "Required": bool(v.prompt and v.prompt.required)}}
                              for v in p.prompts]},
        "UseGuidedFailureModeByDefault": p.guided_failure_default, "Changes": [], "ChangesMarkdown": "",
        "ReleaseNotes": [], "Id": None, **audit(None), "Links": {}}


def dashboard_item(base: str, item: models.DashboardItem, now: datetime) -> Json:
    d, t = item.deployment, item.task
    sp = f"{base}/api/{d.space_id}"
    return {"Id": d.id, "ProjectId": d.project_id, "EnvironmentId": d.environment_id, "ReleaseId": d.release_id,
            "DeploymentId": d.id, "TaskId": t.id, "TenantId": d.tenant_id, "ChannelId": d.channel_id,
            "ReleaseVersion": item.release.version, "Created": iso(d.created), "QueueTime": iso(t.queue_time),
            "StartTime": iso(t.start_time), "CompletedTime": iso(t.completed_time), "State": t.state,
            "HasWarningsOrErrors": t.has_warnings_or_errors, "ErrorMessage": t.error_message,
            "Duration": duration(t.start_time, t.completed_time, now) or "0 seconds",
            "IsCurrent": item.is_current, "IsPrevious": not item.is_current, "IsCompleted": t.is_completed,
            **pending(t), **audit(None),
            "Links": {"Self": f"{sp}/deployments/{d.id}", "Release": f"{sp}/releases/{d.release_id}",
                      "Task": f"{base}/api/tasks/{t.id}"}}


def dashboard(base: str, db: models.Dashboard, now: datetime) -> Json:
    return {"Projects": [{"Id": p.id, "Name": p.name, "Slug": p.slug, "IsDisabled": p.is_disabled,
                          "ProjectGroupId": p.project_group_id, "EnvironmentIds": [e.id for e in db.environments],
                          "TenantedDeploymentMode": p.tenanted_mode,
                          "CanPerformUntenantedDeployment": p.tenanted_mode != "Tenanted", **audit(None),
                          "Links": {"Self": f"{base}/api/{p.space_id}/projects/{p.id}"}} for p in db.projects],
            "ProjectGroups": [{"Id": "ProjectGroups-1", "Name": "Default Project Group",
                               "EnvironmentIds": [e.id for e in db.environments], **audit(None), "Links": {}}],
            "Environments": [{"Id": e.id, "Name": e.name, **audit(None), "Links": {}} for e in db.environments],
            "Tenants": [{"Id": t.id, "Name": t.name, "TenantTags": [], "ProjectEnvironments": t.project_environments,
                         "IsDisabled": False, **audit(None), "Links": {}} for t in db.tenants],
            "Items": [dashboard_item(base, i, now) for i in db.items], "PreviousItems": [],
            "ProjectLimit": None, "IsFiltered": False, "Id": None, **audit(None), "Links": {}}


def _phase(base: str, p: PhaseProgress, deployments: dict[str, list[tuple[Deployment, Task]]],
           names: dict[str, str], now: datetime) -> Json:
    phase = p.phase
    entries = [pair for env in phase.environment_ids for pair in deployments.get(env, [])]
    return {"Id": phase.id, "Name": phase.name, "Blocked": False, "Progress": p.progress,
            "Deployments": [{"Deployment": deployment(base, d, names.get(d.environment_id, ""), None),
                             "Task": task(base, t, now, d.project_id)} for d, t in entries],
            "AutomaticDeploymentTargets": phase.automatic,
            "OptionalDeploymentTargets": phase.optional or [e for e in phase.environment_ids
                                                            if e not in phase.automatic],
            "MinimumEnvironmentsBeforePromotion": phase.minimum, "IsOptionalPhase": phase.is_optional_phase,
            "IsPriorityPhase": False}


def progression(base: str, rp: models.ReleaseProgression, names: dict[str, str], now: datetime) -> Json:
    pr = rp.progression
    return {"Phases": [_phase(base, p, rp.deployments, names, now) for p in pr.phases],
            "NextDeployments": pr.next_deployments, "NextDeploymentsMinimumRequired": pr.next_minimum,
            "Id": None, **audit(None), "Links": {}}

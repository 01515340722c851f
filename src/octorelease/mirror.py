"""``sandbox --mirror URL``: the structure of a real Octopus space, read with GET requests only,
as an estate (``sandbox/estate/file.py``) that a new sandbox is seeded with.

The mirror reads through our own client (``octopus/``), and only ever calls its ``get``: a real
server is never changed by it (a test mirrors one sandbox into another and reads the source's
request log). What it copies: environments, machines (names, roles, environments, tenants),
lifecycles and their phases, library variable sets, projects with their process (steps, roles,
package ids, scripts), variables and channels, tenants and their connections, the newest version
of every package a process uses, and, with ``history``, the last N releases of each project with
their finished deployments. A sensitive value never leaves the server (Octopus does not send it):
it becomes ``SENSITIVE_PLACEHOLDER``. What the estate has no place for is counted in the summary
as left out, never dropped in silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from octorelease import errors
from octorelease.octopus.api import OctopusApi, SpaceApi
from octorelease.octopus.http import OctopusHttp
from octorelease.sandbox.estate.file import (
    DEFAULT_GROUP,
    PACKAGE_STEP,
    SCRIPT_STEP,
    SENSITIVE_PLACEHOLDER,
    ChannelSpec,
    DeploymentSpec,
    EnvironmentSpec,
    Estate,
    FailureSpec,
    GitSpec,
    GroupSpec,
    LibrarySetSpec,
    LifecycleSpec,
    MachineSpec,
    PhaseSpec,
    ProjectSpec,
    PromptSpec,
    ReleaseSpec,
    SpaceSpec,
    StepSpec,
    TenantSpec,
    VariableSpec,
)
from octorelease.sandbox.rules.versions import version_key

Json = dict[str, Any]
#: (what is being read, how many units are done, how many there are)
Progress = Callable[[str, int, int], None]
#: the value a mirrored deployment gives a required prompted variable (the real one is not kept)
PROMPT_PLACEHOLDER = "mirrored"
_SCOPES = ("Environment", "Machine", "Channel", "Role")
_TENANTED = ("Untenanted", "Tenanted", "TenantedOrUntenanted")


@dataclass
class MirrorSummary:
    """What was copied (counts by kind) and what was left out (one sentence each)."""

    space: str = ""
    copied: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        copied = ", ".join(f"{n} {kind}" for kind, n in self.copied.items())
        lines = [f"Mirrored space '{self.space}': {copied or 'nothing'}."]
        lines += [f"Left out: {n} {what}." for what, n in self.left_out.items()]
        return lines


def mirror_space(http: OctopusHttp, space: str | None, history: int = 0,
                 progress: Progress | None = None) -> tuple[Estate, MirrorSummary]:
    """Read ``space`` (the server's default when ``None``) into an estate of one default space.

    ``history``: how many of each project's newest releases to copy, with their deployments."""
    api = OctopusApi(http).space(space)
    return _Mirror(api, history, progress or (lambda what, done, total: None)).run()


class _Mirror:
    def __init__(self, api: SpaceApi, history: int, progress: Progress) -> None:
        self.api, self.history, self.progress = api, history, progress
        self.summary = MirrorSummary(space=api.space.name)
        self.names: dict[str, str] = {}  # id -> name, for every named thing read so far
        #: package id -> the feeds its steps take it from
        self.packages: dict[str, set[str]] = {}
        #: package id -> the versions mirrored releases chose (kept in the feed so they replay)
        self.pinned: dict[str, set[str]] = {}

    # -- reading ---------------------------------------------------------------------------------

    def get(self, rest: str, params: Json | None = None) -> Json:
        doc: Json = self.api.http.get(self.api.path(rest), params)
        return doc

    def all(self, rest: str, params: Json | None = None) -> list[Json]:
        """Every item of a collection (following its pages), remembering each one's name."""
        items = list(self.api.items(rest, params))
        for item in items:
            if "Name" in item:
                self.names[item["Id"]] = item["Name"]
        return items

    def named(self, ids: Iterable[str], kind: str) -> list[str]:
        """Names of the things with ``ids``; an id this space does not hold is counted as left out."""
        found = []
        for i in ids:
            if i in self.names:
                found.append(self.names[i])
            else:
                self.summary.left_out[f"references to {kind} outside the space"] += 1
        return found

    # -- the space -------------------------------------------------------------------------------

    def run(self) -> tuple[Estate, MirrorSummary]:
        copied = self.summary.copied
        self.progress("environments, machines, lifecycles", 0, 1)
        environments = sorted(self.all("environments"), key=lambda e: e.get("SortOrder", 0))
        tenants = self.all("tenants")
        machines = self.all("machines")
        lifecycles = self.all("lifecycles")
        groups = [g for g in self.all("projectgroups") if g["Name"].strip().lower() != DEFAULT_GROUP.lower()]
        library_sets = self.all("libraryvariablesets", {"contentType": "Variables"})
        projects = self.all("projects")
        total = len(projects) + 2
        self.progress("library variable sets", 1, total)
        space = SpaceSpec(
            name=self.api.space.name, default=True,
            environments=[EnvironmentSpec(name=e["Name"], description=e.get("Description") or "",
                                          guided_failure=bool(e.get("UseGuidedFailure"))) for e in environments],
            machines=[self._machine(m) for m in machines],
            project_groups=[GroupSpec(name=g["Name"], description=g.get("Description") or "") for g in groups],
            lifecycles=[self._lifecycle(life) for life in lifecycles],
            library_variable_sets=[LibrarySetSpec(name=s["Name"], description=s.get("Description") or "",
                                                  variables=self._variables(f"variables/{s['VariableSetId']}", {}))
                                   for s in library_sets],
        )
        for number, project in enumerate(projects):
            self.progress(f"project {project['Name']}", number + 2, total)
            space.projects.append(self._project(project))
        space.tenants = [self._tenant(t) for t in tenants]
        space.packages = {package: sorted(versions, key=version_key) for package, versions in self._newest_packages()}
        self.progress("done", total, total)
        for kind, items in (("environments", space.environments), ("machines", space.machines),
                            ("lifecycles", space.lifecycles), ("project groups", space.project_groups),
                            ("library variable sets", space.library_variable_sets),
                            ("projects", space.projects), ("tenants", space.tenants)):
            copied[kind] = len(items)
        copied["steps"] = sum(len(p.steps) for p in space.projects)
        copied["channels"] = sum(len(p.channels) for p in space.projects)
        copied["variables"] = sum(len(p.variables) for p in space.projects) + sum(
            len(s.variables) for s in space.library_variable_sets)
        copied["package versions"] = sum(len(v) for v in space.packages.values())
        copied["releases"] = sum(len(p.releases) for p in space.projects)
        copied["deployments"] = sum(len(r.deployments) for p in space.projects for r in p.releases)
        if not any(copied.values()):  # a copy of nothing is no mirror: a wrong space, or not Octopus
            raise errors.NotFound(
                f"{self.api.http.server}: space '{space.name}' has nothing to copy (no environment, machine, "
                "lifecycle, project or tenant), so no estate was written.",
                hint="Check --mirror-space, and that the API key's user can see the space.")
        return Estate(spaces=[space]), self.summary

    def _machine(self, m: Json) -> MachineSpec:
        return MachineSpec(name=m["Name"], environments=self.named(m.get("EnvironmentIds") or [], "environments"),
                           roles=list(m.get("Roles") or []), disabled=bool(m.get("IsDisabled")),
                           tenants=self.named(m.get("TenantIds") or [], "tenants"),
                           endpoint=str((m.get("Endpoint") or {}).get("CommunicationStyle") or "None"))

    def _lifecycle(self, life: Json) -> LifecycleSpec:
        phases = []
        for p in life.get("Phases") or []:
            automatic = list(p.get("AutomaticDeploymentTargets") or [])
            manual = [e for e in p.get("OptionalDeploymentTargets") or [] if e not in automatic]
            phases.append(PhaseSpec(name=p["Name"], automatic=self.named(automatic, "environments"),
                                    manual=self.named(manual, "environments"),
                                    minimum=int(p.get("MinimumEnvironmentsBeforePromotion") or 0),
                                    optional=bool(p.get("IsOptionalPhase"))))
        return LifecycleSpec(name=life["Name"], description=life.get("Description") or "", phases=phases)

    def _tenant(self, t: Json) -> TenantSpec:
        connections = t.get("ProjectEnvironments") or {}
        return TenantSpec(name=t["Name"], description=t.get("Description") or "", projects={
            self.names[p]: self.named(envs, "environments") for p, envs in connections.items() if p in self.names})

    # -- projects --------------------------------------------------------------------------------

    def _project(self, p: Json) -> ProjectSpec:
        git = self._git(p)
        at = f"projects/{p['Id']}/{quote(git.default_branch, safe='')}" if git else None
        process = self.get(f"{at}/deploymentprocesses" if at else f"deploymentprocesses/{p['DeploymentProcessId']}")
        channels = self.all(f"projects/{p['Id']}/channels")
        channels.sort(key=lambda c: not c.get("IsDefault"))
        mode = p.get("TenantedDeploymentMode") or "Untenanted"
        spec = ProjectSpec(
            name=p["Name"], description=p.get("Description") or "", lifecycle=self.names[p["LifecycleId"]],
            group=self._group(p.get("ProjectGroupId")),
            tenanted=mode if mode in _TENANTED else "Untenanted",  # type: ignore[arg-type]
            disabled=bool(p.get("IsDisabled")),
            steps=[s for s in (self._step(step) for step in process.get("Steps") or []) if s is not None],
            library_variable_sets=self.named(p.get("IncludedLibraryVariableSetIds") or [], "library variable sets"),
            channels=[ChannelSpec(name=c["Name"], description=c.get("Description") or "",
                                  lifecycle=self.names.get(c.get("LifecycleId") or "")) for c in channels],
            git=git,
        )
        names = {c["Id"]: c["Name"] for c in channels}
        # a version-controlled project's non-sensitive variables are at the ref, its sensitive ones in the database
        spec.variables = [*self._variables(f"{at}/variables", names), *self._variables(f"projects/{p['Id']}/variables",
                                                                                       names)] if at \
            else self._variables(f"variables/{p['VariableSetId']}", names)
        if self.history > 0:
            spec.releases = self._releases(p, spec, channels)
        return spec

    def _git(self, p: Json) -> GitSpec | None:
        """A version-controlled project's repository, its default branch only: the process and
        variables are read there; other branches and tags are left out (and said so)."""
        settings = p.get("PersistenceSettings") or {}
        if not p.get("IsVersionControlled") and settings.get("Type") != "VersionControlled":
            return None
        others = sum(int(self.get(f"projects/{p['Id']}/git/{kind}", {"take": 1}).get("TotalResults") or 0)
                     for kind in ("branches", "tags")) - 1
        if others > 0:
            self.summary.left_out["Git branches and tags other than a project's default branch"] += others
        credentials = settings.get("Credentials") or {}
        return GitSpec(url=settings.get("Url") or "", default_branch=settings.get("DefaultBranch") or "main",
                       base_path=settings.get("BasePath") or ".octopus",
                       username=credentials.get("Username") if credentials.get("Type") == "UsernamePassword" else None)

    def _group(self, group_id: str | None) -> str | None:
        name = self.names.get(group_id or "")
        return name if name and name.strip().lower() != DEFAULT_GROUP.lower() else None

    def _step(self, step: Json) -> StepSpec | None:
        actions = step.get("Actions") or []
        if not actions:
            self.summary.left_out["steps without an action"] += 1
            return None
        if len(actions) > 1:
            self.summary.left_out["child steps (only a step's first action is kept)"] += len(actions) - 1
        action = actions[0]
        properties = {**(step.get("Properties") or {}), **(action.get("Properties") or {})}
        roles = [r.strip() for r in str(properties.get("Octopus.Action.TargetRoles") or "").split(",") if r.strip()]
        packages = action.get("Packages") or []
        if len(packages) > 1:
            self.summary.left_out["extra packages of a step (only the first is kept)"] += len(packages) - 1
        package = packages[0].get("PackageId") if packages else None
        if package:
            self.packages.setdefault(package, set()).add(packages[0].get("FeedId") or "feeds-builtin")
        action_type = action.get("ActionType") or SCRIPT_STEP
        return StepSpec(name=step["Name"], roles=roles, package=package,
                        script=str(properties.get("Octopus.Action.Script.ScriptBody") or ""),
                        type=None if action_type in (PACKAGE_STEP, SCRIPT_STEP) else action_type,
                        disabled=bool(action.get("IsDisabled")))

    def _variables(self, path: str, channels: dict[str, str]) -> list[VariableSpec]:
        variables = []
        for v in self.get(path).get("Variables") or []:
            sensitive = bool(v.get("IsSensitive")) or v.get("Type") == "Sensitive"
            if sensitive:
                self.summary.left_out["sensitive values (replaced by a placeholder)"] += 1
            scope: dict[str, list[str]] = {}
            for kind, values in (v.get("Scope") or {}).items():
                if kind not in _SCOPES:
                    self.summary.left_out[f"variable scopes by {kind} (the variable is kept unscoped by it)"] += 1
                elif kind == "Role":
                    scope[kind] = list(values)
                elif kind == "Channel":
                    scope[kind] = [channels[c] for c in values if c in channels]
                else:
                    scope[kind] = self.named(values, f"{kind.lower()}s")
            prompt = v.get("Prompt")
            variables.append(VariableSpec(
                name=v["Name"], value=SENSITIVE_PLACEHOLDER if sensitive else v.get("Value"), sensitive=sensitive,
                scope=scope, prompt=PromptSpec(label=prompt.get("Label") or v["Name"],
                                               description=prompt.get("Description") or "",
                                               required=bool(prompt.get("Required"))) if prompt else None))
        return variables

    # -- history ---------------------------------------------------------------------------------

    def _releases(self, project: Json, spec: ProjectSpec, channels: list[Json]) -> list[ReleaseSpec]:
        newest = self.get(f"projects/{project['Id']}/releases", {"take": self.history}).get("Items") or []
        default = next((c["Id"] for c in channels if c.get("IsDefault")), None)
        required = {v.name: PROMPT_PLACEHOLDER for v in spec.variables if v.prompt and v.prompt.required}
        releases = []
        for r in reversed(newest[: self.history]):  # oldest first: the order they were made in
            for selected in r.get("SelectedPackages") or []:
                step = next((s for s in spec.steps if s.name == selected.get("StepName")), None)
                if step is not None and step.package:
                    self.packages.setdefault(step.package, set())
                    self.pinned.setdefault(step.package, set()).add(selected["Version"])
            channel = r.get("ChannelId")
            if (r.get("VersionControlReference") or {}).get("GitRef") not in (None, *_refs(spec.git)):
                self.summary.left_out["releases' Git references other than the default branch (replayed at it)"] += 1
            releases.append(ReleaseSpec(
                version=r["Version"], notes=r.get("ReleaseNotes"),
                channel=self.names.get(channel) if channel and channel != default else None,
                packages={s["StepName"]: s["Version"] for s in r.get("SelectedPackages") or []
                          if s.get("StepName")},
                deployments=list(self._deployments(r["Id"], required))))
        return releases

    def _deployments(self, release_id: str, prompted: dict[str, str]) -> Iterator[DeploymentSpec]:
        deployments = list(reversed(self.get(f"releases/{release_id}/deployments", {"take": 1000}).get("Items") or []))
        if not deployments:
            return
        states = {t["Id"]: t for t in self.api.http.get("/api/tasks", {
            "ids": ",".join(d["TaskId"] for d in deployments), "take": len(deployments)}).get("Items") or []}
        for d in deployments:
            task = states.get(d["TaskId"], {})
            state = task.get("State")
            if state not in ("Success", "Failed"):
                self.summary.left_out["deployments not finished, or cancelled"] += 1
                continue
            fails = self._failure(d["TaskId"]) if state == "Failed" else None
            yield DeploymentSpec(to=self.names.get(d["EnvironmentId"], d["EnvironmentId"]),
                                 tenant=self.names.get(d.get("TenantId") or ""), fails=fails, prompted=prompted)

    def _failure(self, task_id: str) -> FailureSpec:
        """The step and machine that failed, and the error they logged, from the task's details."""
        details = self.get(f"tasks/{task_id}/details")  # tasks are system-level; the space path serves them too
        for log in details.get("ActivityLogs") or []:
            for step in log.get("Children") or []:
                for machine in step.get("Children") or []:
                    if machine.get("Status") == "Failed":
                        name = str(step.get("Name") or "")
                        name = name.split(": ", 1)[1] if name.startswith("Step ") and ": " in name else name
                        error = next((e.get("MessageText") for e in machine.get("LogElements") or []
                                      if e.get("Category") == "Error"), None)
                        return FailureSpec(step=name, machine=machine.get("Name"), message=error)
        return FailureSpec()  # the log does not say where: any step fails

    # -- packages --------------------------------------------------------------------------------

    def _newest_packages(self) -> Iterator[tuple[str, set[str]]]:
        """The newest version of every package a process uses, and every version a release chose."""
        for package, feeds in self.packages.items():
            versions = set(self.pinned.get(package, set()))
            for feed in sorted(feeds):
                versions.update(self.api.package_versions(feed, package))
            if versions:
                yield package, versions
            else:
                self.summary.left_out["packages with no version in their feed"] += 1


def _refs(git: GitSpec | None) -> tuple[str, ...]:
    """The names a release's ``GitRef`` has when it is the mirrored default branch."""
    return (git.default_branch, f"refs/heads/{git.default_branch}") if git else ()

"""``create``: create a release, optionally deploying it straight away.

The version is the one given; without one, none is sent, so that Octopus picks it with the
project's versioning strategy: its template (the release template's ``NextVersionIncrement``
says which version that gives now, and the checks and a dry run use it), or its donor package
(the version this release picks for that package). The release is created with the executions
API (``releases/create/v1``: names, not ids). A lost answer is settled by looking the version
up, never by posting again blindly (``once.py``).

The version did not exist when we looked just before posting, so a release found after a lost
answer was made since: by our POST, or by a concurrent run that picked the same version. It is
adopted only when it is what we asked for (notes, package versions); otherwise it is someone
else's, and we say so instead of reporting it as ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from octorelease import errors
from octorelease.actions.once import create_once
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi, did_you_mean
from octorelease.octopus.models import Project, Release, ReleaseTemplate, TemplatePackage


@dataclass(frozen=True)
class ReleaseRequest:
    """What the user asked for; empty fields are left to Octopus (channel, package versions)."""

    project: str
    version: str | None = None
    channel: str | None = None
    packages: Mapping[str, str] = field(default_factory=dict)
    default_package_version: str | None = None
    notes: str | None = None
    ignore_existing: bool = False
    #: a version-controlled project's branch or tag, and commit (``--git-ref``, ``--git-commit``)
    git_ref: str | None = None
    git_commit: str | None = None
    #: the build's own branch (or tag) and commit, taken when neither is given, and where they are from
    build_ref: str | None = None
    build_commit: str | None = None
    build_source: str = "the build"
    #: how the messages name --git-ref and --git-commit (a handler file's git_ref and git_commit)
    wording: Wording = COMMAND_LINE

    def __post_init__(self) -> None:
        """An empty version, channel or default package version is refused rather than taken as
        not given: it is usually a CI variable that was not set (``--version "$VERSION"``), and
        taking it as unset would create a release nobody asked for."""
        for name, value in (("version", self.version), ("channel", self.channel),
                            ("default package version", self.default_package_version),
                            ("Git reference", self.git_ref), ("Git commit", self.git_commit)):
            if value is not None and not value.strip():
                raise errors.InvalidInput(f"The {name} given is empty.",
                                          hint=f"Give a {name}, or leave it out (is a CI variable unset?).")


@dataclass(frozen=True)
class GitChoice:
    """Where a version-controlled project's release takes its process from: the ``GitRef`` and
    ``GitCommit`` sent (either may be missing, not both), and where they came from."""

    ref: str | None
    commit: str | None
    source: str

    @property
    def read_at(self) -> str:
        """The ref the checks read the process at: the commit when there is one (what the release
        will hold), else the branch or tag."""
        return self.commit or self.ref or ""

    def reference(self) -> dict[str, str | None]:
        """``VersionControlReference`` as the release will carry it."""
        return {"GitRef": self.ref or self.commit, "GitCommit": self.commit}

    def describe(self) -> str:
        at = f"{self.ref} at commit {self.commit}" if self.ref and self.commit else self.ref or f"commit {self.commit}"
        return f"Git reference {at} ({self.source})"


def is_version_controlled(project: Project) -> bool:
    settings = project.raw.get("PersistenceSettings") or {}
    return bool(project.raw.get("IsVersionControlled")) or settings.get("Type") == "VersionControlled"


def choose_git(project: Project, request: ReleaseRequest) -> GitChoice | None:
    """The ref a release of ``project`` is made at: the one given, else (a version-controlled
    project in a CI build) the build's branch and commit. A version-controlled project with none,
    or a ref given for a database project, is refused before anything is sent, as Octopus would."""
    given = request.git_ref or request.git_commit
    if not is_version_controlled(project):
        if given:
            flag = request.wording.name("git_ref" if request.git_ref else "git_commit")
            raise errors.OctopusRejected(
                f"Project {project.name} is not kept in Git: {flag} is only for version-controlled projects.",
                hint=f"Leave out {flag}.",
            ).about("git_ref" if request.git_ref else "git_commit", [given], "the project is not version controlled.")
        return None
    if given:
        source = " and ".join(request.wording.name(f) for f, v in (("git_ref", request.git_ref),
                                                                   ("git_commit", request.git_commit)) if v)
        return GitChoice(_full_ref(request.git_ref), request.git_commit and request.git_commit.strip(), source)
    if request.build_ref or request.build_commit:
        return GitChoice(_full_ref(request.build_ref), request.build_commit, request.build_source)
    ref, commit = request.wording.setting("git_ref", "BRANCH"), request.wording.setting("git_commit", "SHA")
    raise errors.OctopusRejected(
        f"Project {project.name} is kept in Git, and no branch, tag or commit was given for its release.",
        hint=f"Give {ref} (or {commit}); in a CI build the build's branch and commit are taken.",
    ).about("git_ref", [], "a version-controlled project's release needs a Git reference.")


def _full_ref(ref: str | None) -> str | None:
    """A branch or tag as given: ``main``, ``refs/heads/main`` and ``refs/tags/v1`` all pass
    through unchanged (Octopus takes each); only surrounding blanks go."""
    return ref.strip() if ref and ref.strip() else None


@dataclass(frozen=True)
class CreatedRelease:
    """The release made (or found, or that would be made by a dry run) and why this version."""

    release: Release
    project_name: str
    created: bool
    reason: str


#: The longest version Octopus accepts (its "The version number is too long").
MAX_VERSION_LENGTH = 349


@dataclass(frozen=True)
class CheckedRelease:
    """A release request that passed every check the server makes before creating it."""

    project: Project
    version: str
    reason: str
    existing: Release | None
    #: False when the version is the one Octopus will pick (none is sent)
    version_given: bool = True
    #: a version-controlled project's ref and commit
    git: GitChoice | None = None


def _step_names(process: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for step in process.get("Steps") or ():
        names.append(step.get("Name") or "")
        names.extend(a.get("Name") or "" for a in step.get("Actions") or () if a.get("Name") != step.get("Name"))
    return [n for n in names if n]


def made_as_asked(release: Release, request: ReleaseRequest) -> bool:
    """Whether ``release`` carries what ``request`` asked for: its notes and the package versions
    named for its steps (``*`` for all). A concurrent run asking for exactly the same cannot be
    told apart, and needs not be: the release is the one both asked for."""
    raw = release.raw
    if (raw.get("ReleaseNotes") or None) != (request.notes or None):
        return False
    for package in raw.get("SelectedPackages") or ():
        names = {str(package.get(k) or "").lower() for k in ("ActionName", "StepName", "PackageReferenceName")}
        names |= {f"{package.get(s)}:{package.get(r)}".lower() for s in ("ActionName", "StepName")
                  for r in ("PackageReferenceName", "PackageId") if package.get(s) and package.get(r)}
        wanted = [v.strip() for k, v in request.packages.items() if k.strip().lower() in names]
        wanted = wanted or [v.strip() for k, v in request.packages.items() if k.strip() == "*"]
        if wanted and package.get("Version") != wanted[0]:
            return False
    return True


def _channel_id(space: SpaceApi, project: Project, name: str | None) -> str | None:
    """The channel's id (``None``: the project's default, as the server takes it)."""
    if not name:
        return None
    channels = space.channels(project)
    for channel in channels:
        if name.strip().lower() in (str(channel.get("Id")).lower(), str(channel.get("Name")).lower()):
            return str(channel["Id"])
    raise errors.fault_in(
        errors.NotFound, "--channel", "channel", [name], f"project {project.name} has no channel of that name.",
        hint=did_you_mean(name, [str(c.get("Name")) for c in channels]),
    )


#: a package of the release template: (its action's name, its reference name), in lower case
PackageKey = tuple[str, str]


def _check_packages(space: SpaceApi, project: Project, request: ReleaseRequest,
                    git: GitChoice | None = None) -> tuple[ReleaseTemplate, dict[PackageKey, str]]:
    """Every package step gets a version the feed has, as the server will insist: the version
    named for the step (or its action or package, or ``*``), else the default, else the newest.
    Every problem is found before one is reported. Returns the release template and the version
    each resolvable package gets."""
    at = git.read_at if git else None
    try:
        process = space.deployment_process(project, at)
    except errors.NotFound:
        if git is None:
            raise
        option = "git_commit" if git.commit else "git_ref"
        raise errors.fault_in(
            errors.NotFound, request.wording.name(option), option,
            [at or ""], f"project {project.name} has no branch, tag or commit of that name ({git.source}).",
            hint=f"Push the branch first, or give {request.wording.name('git_ref')} / "
            f"{request.wording.name('git_commit')} of one the repository has.",
        ) from None
    steps = _step_names(process)
    release_template = space.release_template(str(process.get("Id")), _channel_id(space, project, request.channel),
                                              project=project, git_ref=at)
    template = release_template.packages
    chosen: dict[PackageKey, str] = {}
    known = {s.lower() for s in steps} | {p.package_id.lower() for p in template} | {"*"}
    for key in request.packages:
        step, _, reference = (part.strip() for part in key.partition(":"))
        if step.lower() not in known:
            raise errors.fault_in(
                errors.NotFound, "--package", "packages", [key], f"project {project.name} has no step of that name.",
                hint=did_you_mean(step, steps),
            )
        if reference and not any(reference.lower() in _references(p) for p in template
                                 if step == "*" or step.lower() in (p.step_name.lower(), p.action_name.lower())):
            raise errors.fault_in(
                errors.NotFound, "--package", "packages", [key], f"step {step} has no package {reference!r}.",
                hint=did_you_mean(reference, [r for p in template if p.step_name.lower() == step.lower()
                                              for r in (p.reference_name, p.package_id) if r]),
            )
    wanted = {key.strip().lower(): (key, version.strip()) for key, version in request.packages.items()}
    problems: list[errors.OctoreleaseError] = []
    for package in template:
        if not package.resolvable:
            continue  # the package id is a variable expression: only the server can resolve it
        # octo's StepName:PackageName first (the most specific), then a step, package id or '*'.
        keys = (*(f"{step}:{ref}" for step in (package.step_name, package.action_name, "*")
                  for ref in _references(package)),
                package.step_name, package.action_name, package.package_id, "*")
        named = next((wanted[k.lower()] for k in keys if k.lower() in wanted), None)
        if named is not None:
            flag, option, given, version = "--package", "packages", named[0], named[1]
        elif request.default_package_version:
            flag, option = "--default-package-version", "default_package_version"
            given = version = request.default_package_version.strip()
        else:
            newest = space.package_versions(package.feed_id, package.package_id)
            if newest:
                chosen[_key(package)] = newest[0]
            else:
                problems.append(
                    errors.fault_in(
                        errors.NotFound, "--package", "packages", [package.step_name],
                        f"no version of package {package.package_id} is in the feed {package.feed_name}.",
                        hint=f"Push the package first, or name a version with {_package_setting(request.wording)}.",
                    )
                )
            continue
        chosen[_key(package)] = version
        if not space.package_versions(package.feed_id, package.package_id, version):
            problems.append(
                errors.fault_in(
                    errors.NotFound, flag, option, [given],
                    f"package {package.package_id} {version} is not in the feed {package.feed_name} "
                    f"(step '{package.step_name}').",
                    hint="Push the package first, or name a version the feed has.",
                )
            )
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.restate(" ".join(p.message for p in problems))
        raise first
    return release_template, chosen


def _key(package: TemplatePackage) -> PackageKey:
    return package.action_name.lower(), package.reference_name.lower()


def _picked_version(project: Project, template: ReleaseTemplate, chosen: dict[PackageKey, str],
                    wording: Wording) -> tuple[str, str]:
    """The version Octopus will give a release made without one, and why: the release template's
    ``NextVersionIncrement`` (its versioning template, evaluated now), else the version this
    release takes for the donor package (``VersioningPackageStepName``), as octo and the official
    clients read them."""
    if template.next_version:
        return template.next_version, "picked by Octopus from the project's versioning template"
    if template.versioning_step:
        key = (template.versioning_step.lower(), (template.versioning_reference or "").lower())
        version = chosen.get(key)
        if version:
            return version, f"picked by Octopus: the version of step {template.versioning_step}'s package"
    raise errors.OctopusRejected(
        f"Octopus cannot pick a version for a release of {project.name}: its versioning strategy gives none.",
        hint=f"Give {wording.setting('version', 'VERSION')}, or set the project's release versioning in Octopus.",
    ).about("version", [], "the project's versioning strategy gives no version.")


def _references(package: TemplatePackage) -> tuple[str, ...]:
    """What octo's ``StepName:PackageName:Version`` may call a package of a step: its reference
    name, its package id, or ``*`` (lower case)."""
    return tuple(name.lower() for name in (package.reference_name, package.package_id, "*") if name)


def check_release(space: SpaceApi, request: ReleaseRequest) -> CheckedRelease:
    """Everything the server checks before it creates the release, with GET requests only:
    project, version (given, or the one Octopus will pick), an existing release, channel, steps
    and the feed's package versions."""
    project = space.project(request.project)
    git = choose_git(project, request)
    version = (request.version or "").strip()
    if not version:
        template, chosen = _check_packages(space, project, request, git)
        version, reason = _picked_version(project, template, chosen, request.wording)
        return replace(_not_existing(space, project, request, version, reason, given=False), git=git)
    checked = replace(_not_existing(space, project, request, version, "the version given", given=True), git=git)
    if checked.existing is None:
        _check_packages(space, project, request, git)
    return checked


def _not_existing(space: SpaceApi, project: Project, request: ReleaseRequest, version: str, reason: str, *,
                  given: bool) -> CheckedRelease:
    """The version checked as the server will: not too long, and new unless ``--ignore-existing``."""
    if len(version) > MAX_VERSION_LENGTH:
        raise errors.fault_in(
            errors.InvalidInput, "--version", "version", [], f"longer than {MAX_VERSION_LENGTH} characters."
        )
    existing = space.find_release(project, version)
    if existing is not None:
        if request.ignore_existing:
            return CheckedRelease(project, version, "it already exists", existing, given)
        raise errors.OctopusRejected(
            f"Release {version} of {project.name} already exists" + ("." if given else f" ({reason})."),
            hint=_existing_hint(request.wording),
        ).about("version", [version], f"release {version} of {project.name} already exists.")
    return CheckedRelease(project, version, reason, None, given)


def _package_setting(wording: Wording) -> str:
    """A package's version as the face names it: ``--package STEP=VERSION``, ``packages: {STEP: VERSION}``."""
    return wording.setting("packages", "STEP=VERSION" if wording.flags else "{STEP: VERSION}")


def _existing_hint(wording: Wording) -> str:
    """How to get past a release that already exists, in the face's words."""
    return f"Add {wording.setting('ignore_existing')} to use it, or choose another {wording.name('version')}."


def create_release(space: SpaceApi, request: ReleaseRequest, *, dry_run: bool = False) -> CreatedRelease:
    """Check the request as the server will (``check_release``), then create the release
    (not on a dry run, which returns the release it would create)."""
    return make_release(space, request, check_release(space, request), dry_run=dry_run)


def make_release(
    space: SpaceApi, request: ReleaseRequest, checked: CheckedRelease, *, dry_run: bool = False
) -> CreatedRelease:
    """Create the checked release: the first write of ``create``."""
    project, version = checked.project, checked.version
    if checked.existing is not None:
        return CreatedRelease(checked.existing, project.name, False, checked.reason)
    if dry_run:
        planned = Release("(new)", version, project.id, None,
                          {"VersionControlReference": checked.git.reference()} if checked.git else {})
        return CreatedRelease(planned, project.name, True, checked.reason)
    body = {
        "ProjectName": project.name,
        "ReleaseVersion": version if checked.version_given else None,  # else Octopus picks it
        "ChannelName": request.channel,
        "PackageVersion": request.default_package_version,
        "Packages": [f"{step}:{ver}" for step, ver in request.packages.items()],
        "ReleaseNotes": request.notes,
        "IgnoreIfAlreadyExists": request.ignore_existing,
        "GitRef": checked.git.ref if checked.git else None,
        "GitCommit": checked.git.commit if checked.git else None,
    }
    sent = {k: v for k, v in body.items() if v not in (None, [])}

    def post() -> Release:
        return space.create_release(project, sent)

    theirs: list[Release] = []

    def find_ours() -> Release | None:
        """After a lost answer: the version did not exist when we checked, so one found now was
        made since, by our POST or by a concurrent run; it is ours only if it is as asked."""
        found = space.find_release(project, version)
        if found is not None and not made_as_asked(found, request):
            theirs.append(found)
        return found

    release = create_once(space.http, post, find_ours)
    if theirs:
        if request.ignore_existing:
            return CreatedRelease(release, project.name, False,
                                  f"another run created it meanwhile ({request.wording.setting('ignore_existing')})")
        raise errors.OctopusRejected(
            f"Release {version} of {project.name} was created meanwhile by another run, not by this one "
            "(its notes or package versions differ from those asked for).",
            hint=_existing_hint(request.wording),
        )
    return CreatedRelease(release, project.name, True, checked.reason)

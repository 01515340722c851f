"""Releases: versions, channels, the package version of each step, and variable snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from octorelease.sandbox.errors import ResourceNotFound, ValidationFailed
from octorelease.sandbox.rules import git
from octorelease.sandbox.rules.requests import ReleaseRequest
from octorelease.sandbox.rules.variables import VariableRules
from octorelease.sandbox.rules.versioning import History, evaluate
from octorelease.sandbox.rules.versions import version_key
from octorelease.sandbox.state.entities import (
    DEFAULT_VERSIONING_TEMPLATE,
    Channel,
    Feed,
    PackageReference,
    Project,
    Release,
    SelectedPackage,
    Step,
)

MAX_VERSION_LENGTH = 349
#: the server's words for a version the project already has (its API's documented 400 for
#: ``POST releases``; quoted in OctopusDeploy/Issues #888, #5736 and #7513)
RELEASE_EXISTS = ("Release '{version}' already exists for this project. Please use a different version, or look at "
                  "using a mask to auto-increment the number.")
#: a release of a version-controlled project names where its process is, and a database project's
#: names none. The words are octo's (its ReleasePlanBuilder's, and OctopusDeploy/Issues #7508
#: quotes the second as a user saw it), whose release planning releases/create/v1 took over on
#: the server; the server's own text for these refusals is not published.
GIT_REF_REQUIRED = ("Attempting to create a release for a version controlled project, but no git reference has been "
                    "provided. Use the gitRef parameter to supply a git reference.")
GIT_REF_REFUSED = ("Since the provided project is not a version controlled project, the --gitCommit and --gitRef "
                   "arguments are not supported for this command.")


@dataclass(frozen=True)
class TemplatePackage:
    """One package a new release must choose a version for (``ReleaseTemplatePackage``)."""

    step: Step
    reference: PackageReference
    feed: Feed | None
    #: the version the channel's latest release chose for it, if any
    version_selected_last_release: str | None


@dataclass(frozen=True)
class ReleaseTemplate:
    """What ``deploymentprocesses/{id}/template`` answers: how the next release would be made."""

    project: Project
    channel: Channel
    last_release_version: str | None
    #: the version the template gives; None when a donor package gives it (``versioning_package``)
    next_version_increment: str | None
    packages: list[TemplatePackage]
    versioning_package: TemplatePackage | None


class ReleaseRules(VariableRules):
    def release_template(self, space_id: str, process_ref: str, channel_ref: str | None,
                         release_id: str | None, git_ref: str | None = None) -> ReleaseTemplate:
        """The release template of a project's process (octopus-api-more.md §3), for a channel.

        ``NextVersionIncrement`` is the version the project's template gives a release of this
        channel made now (none when a donor package gives it: ``VersioningPackageStepName``), and
        each enabled package step's ``VersionSelectedLastRelease`` comes from the channel's newest
        release.
        """
        project = self.project(space_id, process_ref.strip().removeprefix("deploymentprocess-"))
        if git_ref is None:
            git.database_only(project, project.process_id)
        else:
            project = git.at(project, git.resolve(project, git_ref).commit)
        channel = self._template_channel(space_id, project, channel_ref)
        if release_id:
            self.require(Release, space_id, release_id)
        releases = self.releases_of(project.id)
        in_channel = sorted((r for r in releases if r.channel_id == channel.id),
                            key=lambda r: (version_key(r.version), r.assembled))
        last = in_channel[-1] if in_channel else None
        feeds = {f.id.lower(): f for f in self.all(Feed, space_id)}
        packages = []
        for step in project.steps:
            if step.action.is_disabled:
                continue
            for ref in step.action.packages:
                chosen = next((p.version for p in (last.selected_packages if last else [])
                               if p.action_name == step.action.name and p.package_reference_name == ref.name), None)
                packages.append(TemplatePackage(step, ref, feeds.get(ref.feed_id.lower()), chosen))
        donor = project.versioning_package
        versioning = next((p for p in packages if donor and p.step.action.name.lower() == donor.action.lower()
                           and p.reference.name.lower() == donor.reference.lower()), None)
        return ReleaseTemplate(project, channel, last.version if last else None,
                               None if donor else self.template_version(space_id, project, channel), packages,
                               versioning)

    def template_version(self, space_id: str, project: Project, channel: Channel) -> str:
        """The version the project's template gives a release of ``channel`` made now."""
        releases = self.releases_of(project.id)
        channels = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        variables = {v.name: v.value for v in self.project_variable_set(space_id, project,
                                                                         self.variables_commit(project)).variables
                     if not v.scope and not v.is_sensitive and v.value is not None}
        history = History(
            project_versions=[r.version for r in releases], channel_name=channel.name,
            channel_versions=[r.version for r in releases if r.channel_id == channel.id],
            other_channels={c.name: [r.version for r in releases if r.channel_id == c.id] for c in channels},
            now=self.clock(), variables=variables)
        return evaluate(project.versioning_template or DEFAULT_VERSIONING_TEMPLATE, history)

    def _template_channel(self, space_id: str, project: Project, ref: str | None) -> Channel:
        """The channel a template is for: the one named (by id), else the default one, else the
        only one; several without a default is Octopus's 400."""
        channels = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        if ref and ref.strip():
            for channel in channels:
                if channel.id.lower() == ref.strip().lower():
                    return channel
            raise ResourceNotFound(ref)
        defaults = [c for c in channels if c.is_default] or (channels if len(channels) == 1 else [])
        if not defaults:
            raise ValidationFailed("A channelId must be provided when more than one exists for that project and no "
                                   "default channel has been specified.")
        return defaults[0]

    def create_release(self, space_id: str, request: ReleaseRequest) -> tuple[Release, bool]:
        """Create a release (or, with ``ignore_if_exists``, return the existing one); the flag says
        whether it was created."""
        project = self.find(Project, space_id, request.project) if request.project else None
        if project is None:
            raise ValidationFailed(
                f"Cannot find the project with name or id '{request.project}'."
                if request.project
                else "Please specify the project to create the release in."
            )
        project, git_ref, git_commit = self._release_ref(project, request)
        version = (request.version or "").strip()
        if not version:
            if request.version_required:
                raise ValidationFailed("Please provide a version number for this release.")
            version = self._strategy_version(space_id, project, request)
        if len(version) > MAX_VERSION_LENGTH:
            raise ValidationFailed("The version number is too long. Please enter a shorter version number.")
        release = self.release_of(project.id, version)
        if release is not None:
            if request.ignore_if_exists:
                return release, False
            raise ValidationFailed(RELEASE_EXISTS.format(version=version))
        channel = self._channel(space_id, project, request.channel)
        packages = self._select_packages(space_id, project, request)
        snapshot = self.take_snapshot(space_id, project, self.variables_commit(project))
        release = Release(
            id=self.new_id("Releases"),
            space_id=space_id,
            project_id=project.id,
            channel_id=channel.id,
            version=version,
            release_notes=request.release_notes,
            assembled=self.clock(),
            selected_packages=packages,
            variable_snapshot_id=snapshot.id,
            library_variable_snapshot_ids=self.take_library_snapshots(space_id, project),
            steps=[s.model_copy(deep=True) for s in project.steps],
            process_snapshot_id=f"{project.process_id}-s-{project.process_version}-{uuid.uuid4().hex[:5].upper()}",
            git_ref=git_ref, git_commit=git_commit, variables_git_commit=git_commit,
        )
        self.put(release)
        return release, True

    @staticmethod
    def _release_ref(project: Project, request: ReleaseRequest) -> tuple[Project, str | None, str | None]:
        """The project as the release sees it, with the ref and commit it records: a
        version-controlled project's process at the commit the request names (the commit given,
        else the ref's head), a database project's own. A ref is required for the one and refused
        for the other (400)."""
        ref, commit = (request.git_ref or "").strip(), (request.git_commit or "").strip()
        if project.git is None:
            if ref or commit:
                raise ValidationFailed(GIT_REF_REFUSED)
            return project, None, None
        if not ref and not commit:
            raise ValidationFailed(GIT_REF_REQUIRED)
        try:
            resolved = git.resolve(project, ref) if ref else None
        except ResourceNotFound as missing:  # the branch's or the tag's words (rules/git.py)
            raise ValidationFailed(missing.message) from None
        found = git.find_commit(project.git, commit) if commit else resolved.commit if resolved else None
        if found is None:
            # the sandbox's own wording: the real server's text for a commit it lacks is not published
            raise ValidationFailed(f"The commit '{commit}' was not found in the repository of project "
                                   f"'{project.name}'.")
        return git.at(project, found), resolved.ref if resolved else found.hash, found.hash

    def _strategy_version(self, space_id: str, project: Project, request: ReleaseRequest) -> str:
        """The version the project's versioning strategy gives a release made without one: the
        donor package's version, as this release would select it, or the template's."""
        channel = self._channel(space_id, project, request.channel)
        donor = project.versioning_package
        if donor is None:
            version = self.template_version(space_id, project, channel)
        else:
            version = next((p.version for p in self._select_packages(space_id, project, request)
                            if p.action_name.lower() == donor.action.lower()
                            and p.package_reference_name.lower() == donor.reference.lower()), "")
        if not version or "#{" in version:
            raise ValidationFailed("A version number was not specified and could not be automatically selected "
                                   f"(the versioning strategy of project '{project.name}' gave '{version}').")
        return version

    def _channel(self, space_id: str, project: Project, ref: str | None) -> Channel:
        channels = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        if ref:
            wanted = ref.strip().lower()
            for channel in channels:
                if wanted in (channel.id.lower(), channel.name.lower(), channel.slug):
                    return channel
            raise ValidationFailed(f"The channel '{ref}' does not exist in project '{project.name}'.")
        for channel in channels:
            if channel.is_default:
                return channel
        raise ValidationFailed(f"Project '{project.name}' has no default channel.")

    def _select_packages(self, space_id: str, project: Project, request: ReleaseRequest) -> list[SelectedPackage]:
        """One version per package step: named for the step (or its package), else the request's
        default, else the newest in the feed. A version the feed lacks is refused by name."""
        feed = self.feed(space_id)
        wanted = {k.strip().lower(): v.strip() for k, v in request.packages.items()}
        selected, problems = [], []
        for step in project.steps:
            for ref in step.action.packages:
                published = [p.version for p in feed.packages if p.package_id.lower() == ref.package_id.lower()]
                version = next(
                    (
                        wanted[k]
                        for k in (step.name.lower(), step.action.name.lower(), ref.package_id.lower(), "*")
                        if k in wanted
                    ),
                    request.package_version or (max(published, key=version_key) if published else None),
                )
                if version is None:
                    problems.append(
                        f"No versions of package '{ref.package_id}' (step '{step.name}') are in the built-in feed."
                    )
                elif version not in published:
                    problems.append(
                        f"The package '{ref.package_id}' version '{version}' (step '{step.name}') "
                        "could not be found in the built-in feed."
                    )
                else:
                    selected.append(
                        SelectedPackage(
                            step_name=step.name,
                            action_name=step.action.name,
                            package_id=ref.package_id,
                            version=version,
                            package_reference_name=ref.name,
                        )
                    )
        if problems:
            raise ValidationFailed(*problems)
        return selected

    def snapshot_variables(self, space_id: str, release_id: str) -> Release:
        """Refresh the release's copies of the project's variables and of its library sets
        (``--updateVariables``); a version-controlled project's Git variables are taken at the
        newest commit of the release's branch (``VariablesGitCommit``), its process stays."""
        release = self.require(Release, space_id, release_id)
        project = self.require(Project, None, release.project_id)
        newest = self.variables_commit(project, release)
        release.variable_snapshot_id = self.take_snapshot(space_id, project, newest).id
        release.variables_git_commit = newest.hash if newest is not None else None
        release.library_variable_snapshot_ids = self.take_library_snapshots(space_id, project)
        self.put(release)
        return release

    def missing_packages(self, space_id: str, release_id: str) -> list[SelectedPackage]:
        """The packages the release chose that its space's built-in feed does not hold."""
        release = self.require(Release, space_id, release_id)
        held = {(p.package_id.lower(), p.version) for p in self.feed(release.space_id).packages}
        return [p for p in release.selected_packages if (p.package_id.lower(), p.version) not in held]

    def project_releases(self, space_id: str, project_ref: str, search: str | None = None) -> list[Release]:
        """A project's releases, newest version first."""
        project = self.project(space_id, project_ref)
        releases = self.releases_of(project.id)
        if search:
            releases = [r for r in releases if search.strip().lower() in r.version.lower()]
        return sorted(releases, key=lambda r: (version_key(r.version), r.assembled), reverse=True)

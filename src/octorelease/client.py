"""``Octopus``: the Python API, and the one path every face (CLI, handler file) goes through.

Each verb returns an ``ActionResult``; ``result.to_dict()`` is exactly the object that
``--json`` prints. Errors are captured in the result (``result.ok`` is False), never raised,
so a script can inspect partial progress; ``result.raise_for_error()`` raises instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from octorelease.actions.options import DeploymentOptions, GuidedFailure
from octorelease.actions.plan import DeploymentPlan, WaitOptions
from octorelease.actions.result import ActionResult, Observer, Ref, SilentObserver
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.errors import OctoreleaseError

if TYPE_CHECKING:
    from octorelease.actions.choose import ChosenRelease, OnRelease
    from octorelease.actions.create import CheckedRelease
    from octorelease.actions.targets import Adopter
    from octorelease.octopus.api import SpaceApi
    from octorelease.octopus.http import OctopusHttp
    from octorelease.octopus.models import Project, Release
    from octorelease.octopus.retry import RetryPolicy


class Octopus:
    """A connection to one Octopus server and space.

    A ``KeyboardInterrupt`` (Ctrl-C, or ``octorelease.errors.Signalled``) during a verb
    is captured like any error: ``result.error`` is ``Interrupted`` (``Terminated`` for SIGTERM)
    and ``result.deployments`` still lists every task started (they may still be running on the server).

    >>> octopus = Octopus("https://octopus.example.com", api_key)        # doctest: +SKIP
    >>> result = octopus.promote("Web", source="Test", to=["Production"])  # doctest: +SKIP
    >>> result.ok, result.to_dict()["deployments"]                        # doctest: +SKIP
    """

    def __init__(
        self,
        server: str,
        api_key: str,
        *,
        space: str | None = None,
        verify: bool | str = True,
        retry: RetryPolicy | None = None,
        observer: Observer | None = None,
        report_server: bool = False,
    ) -> None:
        """``report_server``: read the server's version for every result (``server_version``),
        as ``--json`` and ``-v`` show it; without it, only an action that needs a minimum
        version (``create``) reads it."""
        import os

        from octorelease.octopus.http import OctopusHttp
        from octorelease.octopus.retry import retry_policy_from_env

        policy = retry or retry_policy_from_env(os.environ)
        self.http: OctopusHttp = OctopusHttp(server, api_key, verify=verify, retry=policy)
        self.space_identifier = space
        self.observer: Observer = observer or SilentObserver()
        self._space: SpaceApi | None = None
        #: Releases whose variable snapshot this connection refreshed (``update_variables``):
        #: refreshed once per run, however many actions deploy them.
        self._refreshed: set[str] = set()
        #: Releases a dry run has said it would refresh: the real run refreshes each once, so
        #: the dry run of a later action of the same run says nothing more of it.
        self._would_refresh: set[str] = set()
        #: Who knows of deployments a target joins instead of getting again (``actions.targets.Adopter``):
        #: none here; a run started again after a crash knows its first attempt's (``serve/resume.py``).
        self._adopt: Adopter | None = None
        self.report_server = report_server
        #: The server's version, once read (``GET /api``, once per connection).
        self._server_version: str | None = None

    def __repr__(self) -> str:
        return f"Octopus({self.http.server!r}, space={self.space_identifier!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Octopus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def space(self) -> SpaceApi:
        """The space-scoped API, resolved on first use (one request)."""
        if self._space is None:
            from octorelease.octopus.api import OctopusApi

            self._space = OctopusApi(self.http).space(self.space_identifier)
        return self._space

    def server_version(self) -> str:
        """The Octopus Server's version (``Version`` of ``GET /api``), read once per connection;
        "" when the server does not say. Logged once, for ``-v``."""
        if self._server_version is None:
            import logging

            from octorelease.octopus.api import OctopusApi

            self._server_version = OctopusApi(self.http).server_version()
            logging.getLogger("octorelease").info(
                "Octopus Server %s at %s", self._server_version or "(version not given)", self.http.server
            )
        return self._server_version

    def _note_server(self, result: ActionResult, minimum: str | None = None) -> bool:
        """Put the server's version in ``result`` when it is to be reported (or is known), and
        check it against ``minimum`` when an action needs one; False (``result.error`` set)
        when the server cannot be read or is too old, before anything is asked of it.

        Read only to be reported, an answer that is not Octopus's root is passed over (the
        action's own requests say what is wrong); needed, it is an error of its own."""
        if minimum is None and not self.report_server and self._server_version is None:
            return True
        from octorelease import errors
        from octorelease.octopus.api import version_at_least
        from octorelease.octopus.http import NOT_OCTOPUS_HINT

        try:
            version = self.server_version()
        except (errors.OctopusRejected, errors.BadResponse, errors.AuthenticationFailed,
                errors.PermissionDenied) as exc:
            if minimum is None:
                self._server_version = ""
                return True
            result.error = exc if not isinstance(exc, errors.NotFound) else errors.BadResponse(
                f"GET {self.http.server}/api answered 404: that is not an Octopus Server's root.",
                hint=NOT_OCTOPUS_HINT)
            return False
        except OctoreleaseError as exc:
            result.error = exc
            return False
        result.server_version = version or None
        if minimum is not None and not version_at_least(version, minimum):
            result.error = errors.OctopusRejected(
                f"Octopus Server {version} at {self.http.server} is older than {minimum}, the first with the "
                "executions API that create uses (releases/create/v1).",
                hint="Upgrade Octopus to 2022.3 or later, or create the release in the Octopus portal; "
                "deploy and promote work with older servers.",
            )
            return False
        return True

    # -- verbs -----------------------------------------------------------------------------------

    def promote(
        self,
        project: str,
        *,
        source: str,
        to: Sequence[str],
        release: str | None = None,
        dry_run: bool = False,
        wait: WaitOptions | None = None,
        release_reason: str | None = None,
        **options: Any,
    ) -> ActionResult:
        """Deploy the release running in ``source`` (its latest successful deployment, unless
        ``release`` pins one) to every environment in ``to``. ``options`` are the fields of
        ``DeploymentOptions`` (force_package_download, machines, notes, tenants, ...).
        ``release_reason`` says why a pinned ``release`` was pinned ("the release this handler
        created"), so the message about it tells what really happened."""
        from octorelease.actions.promote import plan_promote

        deployment_options = DeploymentOptions.of(options)
        result = ActionResult("promote", from_environment=source)
        return self._run(
            result,
            lambda space, on_release: plan_promote(
                space,
                project=project,
                source=source,
                targets=to,
                release=release,
                options=deployment_options,
                on_release=on_release,
                leave_to_server=not dry_run,
                adopt=self._adopt,
                wording=(wait or WaitOptions()).wording,
            ),
            dry_run,
            wait or WaitOptions(),
            release_reason=release_reason,
        )

    def deploy(
        self,
        project: str,
        *,
        release: str,
        to: Sequence[str],
        dry_run: bool = False,
        wait: WaitOptions | None = None,
        release_reason: str | None = None,
        **options: Any,
    ) -> ActionResult:
        """Deploy ``release`` (a version, or ``latest``) of ``project`` to every environment in
        ``to``; ``release_reason`` as for ``promote``."""
        from octorelease.actions.deploy import plan_deploy

        deployment_options = DeploymentOptions.of(options)
        return self._run(
            ActionResult("deploy"),
            lambda space, on_release: plan_deploy(
                space, project=project, release=release, targets=to, options=deployment_options, on_release=on_release,
                leave_to_server=not dry_run, adopt=self._adopt, wording=(wait or WaitOptions()).wording,
            ),
            dry_run,
            wait or WaitOptions(),
            release_reason=release_reason,
        )

    def create(
        self,
        project: str,
        *,
        version: str | None = None,
        channel: str | None = None,
        packages: Mapping[str, str] | None = None,
        default_package_version: str | None = None,
        notes: str | None = None,
        ignore_existing: bool = False,
        deploy_to: Sequence[str] = (),
        notes_for_deployments: str | None = None,
        dry_run: bool = False,
        wait: WaitOptions | None = None,
        git_ref: str | None = None,
        git_commit: str | None = None,
        build_git: tuple[str | None, str | None, str] | None = None,
        **options: Any,
    ) -> ActionResult:
        """Create a release (``version``, else the one Octopus picks with the project's versioning
        strategy), then deploy it to ``deploy_to`` when given, with the deployment ``options``.
        A version-controlled project's release is made at ``git_ref`` / ``git_commit``, else at
        ``build_git`` (the build's branch, commit, and where they are from): the ref given wins.
        Messages name the ref and the commit in ``wait``'s wording (a handler's fields)."""
        from dataclasses import replace

        from octorelease.actions.create import ReleaseRequest, check_release, make_release
        from octorelease.actions.deploy import plan_deploy
        from octorelease.actions.prospect import plan_new_release
        from octorelease.octopus.api import EXECUTIONS_API_VERSION

        deployment_options = DeploymentOptions.of({**options, "notes": notes_for_deployments})
        result = ActionResult("create")
        request = ReleaseRequest(
            project=project,
            version=version,
            channel=channel,
            packages=dict(packages or {}),
            default_package_version=default_package_version,
            notes=notes,
            ignore_existing=ignore_existing,
            git_ref=git_ref,
            git_commit=git_commit,
            build_ref=build_git[0] if build_git else None,
            build_commit=build_git[1] if build_git else None,
            build_source=build_git[2] if build_git else "the build",
            wording=(wait or WaitOptions()).wording,
        )
        if not self._note_server(result, EXECUTIONS_API_VERSION):
            return result
        try:
            checked = check_release(self.space, request)
        except OctoreleaseError as exc:
            result.error = exc
            return result
        existing = checked.existing

        def plan_targets(space: SpaceApi, on_release: OnRelease) -> DeploymentPlan:
            """The deployments of the release: checked before it is created, so that a typo in
            ``deploy_to`` or its options leaves no release behind."""
            if existing is None:
                return plan_new_release(
                    space,
                    action="deploy",
                    project=checked.project,
                    version=checked.version,
                    targets=deploy_to,
                    options=deployment_options,
                    reason="the release this run creates",
                    on_release=on_release,
                    channel=request.channel,
                    baseline=not dry_run,
                    git_ref=checked.git.read_at if checked.git else None,
                    wording=request.wording,
                )
            return plan_deploy(
                space,
                project=checked.project,
                release=existing,
                targets=deploy_to,
                options=deployment_options,
                on_release=on_release,
                wording=request.wording,
                adopt=self._adopt,
            )

        probe = None
        if deploy_to and not dry_run:
            probe = self._run(ActionResult("create"), plan_targets, True, WaitOptions(), announce_release=False)
            if probe.error is not None:
                result.project, result.release, result.error = probe.project, probe.release, probe.error
                return result
        try:
            created = make_release(self.space, request, checked, dry_run=dry_run)
        except OctoreleaseError as exc:
            result.error = exc
            return result
        except KeyboardInterrupt as interrupt:
            from octorelease.actions.interrupt import interrupted_error, signal_of

            result.error = interrupted_error(
                signal_of(interrupt), " while creating the release: it may or may not exist on the server."
            )
            return result
        result.project = Ref(created.release.project_id, created.project_name)
        result.release = Ref(created.release.id, created.release.version)
        result.release_created = created.created
        if created.created and not dry_run:
            self._refreshed.add(created.release.id)  # a new release's snapshot is as fresh as it gets
        verb = "Would create" if dry_run else ("Created" if created.created else "Using existing")
        message = f"{verb} release {created.release.version} of {created.project_name} ({created.reason})."
        result.messages.append(message)
        self.observer.note(message)
        if checked.git is not None:
            try:
                self._tell_git(result, checked, created.release, dry_run)
            except OctoreleaseError as exc:
                result.error = exc
                return result
        if not deploy_to:
            result.dry_run = dry_run
            return result
        if dry_run:
            return self._run(result, plan_targets, True, WaitOptions(), announce_release=False)
        # The deployments were planned and checked before the release was made, with what each
        # target had then: that plan, naming the release now made, is carried out as it is, so
        # the project, the release and the environments are not read again.
        assert probe is not None and probe.plan is not None
        plan: DeploymentPlan = replace(probe.plan, release=Ref(created.release.id, created.release.version))

        def planned(space: SpaceApi, on_release: OnRelease) -> DeploymentPlan:
            self.observer.release_chosen(created.project_name, created.release.version)
            return plan

        return self._run(result, planned, False, wait or WaitOptions(), announce_release=False)

    def _version_control(self, project: Project, release: Release) -> dict[str, str | None] | None:
        """A version-controlled project's release's ``VersionControlReference`` (read from the
        release when the choice did not carry it: one GET, for such projects only)."""
        from octorelease.actions.create import is_version_controlled
        from octorelease.actions.prospect import NEW_RELEASE_ID

        if not is_version_controlled(project) or release.id == NEW_RELEASE_ID:
            return None
        reference = release.raw.get("VersionControlReference")
        if reference is None:
            reference = self.space.release(release.id).raw.get("VersionControlReference")
        return {"GitRef": reference.get("GitRef"), "GitCommit": reference.get("GitCommit")} if reference else None

    def _tell_git(self, result: ActionResult, checked: CheckedRelease, release: Release, dry_run: bool) -> None:
        """Say which ref and commit a version-controlled project's release was (or would be) made
        at, and where they came from; the release's ``VersionControlReference`` goes in the result."""
        git = checked.git
        assert git is not None
        if dry_run:
            commit = self.space.git_commit(checked.project, git.commit) if git.commit else None
            where = f"commit {commit}" if commit else "the newest commit there when the release is made"
            message = f"At Git reference {git.ref or commit} ({git.source}): the process of {where}."
            result.version_control = {"GitRef": git.ref or commit, "GitCommit": commit}
        else:
            reference = release.raw.get("VersionControlReference") or self.space.release(release.id).raw.get(
                "VersionControlReference") or git.reference()
            result.version_control = {"GitRef": reference.get("GitRef"), "GitCommit": reference.get("GitCommit")}
            message = (f"Git reference {result.version_control['GitRef']} at commit "
                       f"{result.version_control['GitCommit']} ({git.source}).")
        result.messages.append(message)
        self.observer.note(message)

    def plan(
        self,
        action: Literal["deploy", "promote"],
        project: str,
        *,
        to: Sequence[str],
        source: str | None = None,
        release: str | None = None,
        new_release: str | None = None,
        channel: str | None = None,
        lifecycle: bool = True,
        wording: Wording = COMMAND_LINE,
        **options: Any,
    ) -> ActionResult:
        """What ``deploy`` or ``promote`` would do, as a dry run's result, for a caller that plans
        several actions before it runs the first (a handler). ``new_release`` is the version of a
        release the caller will create first: its steps and prompted variables are read from
        the project. ``lifecycle=False`` leaves the lifecycle unchecked, for an action that an
        earlier deployment of the same release will let through. ``wording``: how its notes
        name settings (a handler's fields)."""
        from octorelease.actions.deploy import plan_deploy
        from octorelease.actions.promote import plan_promote
        from octorelease.actions.prospect import plan_new_release

        deployment_options = DeploymentOptions.of(options)
        result = ActionResult(action, from_environment=source)

        def make_plan(space: SpaceApi, on_release: OnRelease) -> DeploymentPlan:
            if new_release is not None:
                return plan_new_release(
                    space, action=action, project=project, version=new_release, targets=to, source=source,
                    options=deployment_options, on_release=on_release, lifecycle=lifecycle, channel=channel,
                    wording=wording,
                )
            if action == "promote":
                assert source is not None, "a promotion needs a source environment"
                return plan_promote(
                    space, project=project, source=source, targets=to, release=release, options=deployment_options,
                    on_release=on_release, lifecycle=lifecycle, adopt=self._adopt, wording=wording,
                )
            return plan_deploy(
                space, project=project, release=release or "", targets=to, options=deployment_options,
                on_release=on_release, lifecycle=lifecycle, adopt=self._adopt, wording=wording,
            )

        return self._run(result, make_plan, True, WaitOptions())

    def _run(
        self,
        result: ActionResult,
        make_plan: Callable[[SpaceApi, OnRelease], DeploymentPlan],
        dry_run: bool,
        wait: WaitOptions,
        *,
        release_reason: str | None = None,
        announce_release: bool = True,
    ) -> ActionResult:
        """Plan (GETs only), then unless ``dry_run`` create and follow the deployments.

        ``release_reason`` replaces the plan's reason for an untenanted release (a caller that
        pinned it knows why); ``announce_release=False`` when the caller has said which release
        already (``create --deploy-to`` just created it), so it is said once."""
        from dataclasses import replace

        from octorelease.actions.execute import run_plan

        if not self._note_server(result):
            return result

        def on_release(project: Project, chosen: ChosenRelease) -> None:
            result.project = Ref(project.id, project.name)
            if result.release is None or not chosen.tenants:
                # Tenants running different releases are told one by one; the first one leads.
                result.release = Ref(chosen.release.id, chosen.release.version)
            if release_reason and not chosen.tenants:
                chosen = replace(chosen, reason=release_reason)
            self.observer.release_chosen(project.name, chosen.release.version)
            git = self._version_control(project, chosen.release)
            if git is not None and result.version_control is None:
                result.version_control = git
            if not announce_release:
                return
            at = f" (Git {git['GitRef']} at commit {git['GitCommit']})" if git else ""
            message = f"Release {chosen.release.version} of {project.name}{chosen.scope}{at}: {chosen.reason}."
            result.messages.append(message)
            self.observer.note(message)

        try:
            plan = make_plan(self.space, on_release)
            result.plan = plan
            if plan.from_environment:
                result.from_environment = plan.from_environment.name
            if dry_run:
                result.dry_run = True
                result.deployments = [
                    t.result()
                    if t.already is None
                    else t.result(
                        deployment_id=t.already.deployment_id,
                        task_id=t.already.task_id,
                        state=t.already.state,
                        already_deployed=True,
                    )
                    for t in plan.targets
                ]
                self._say_would_update(plan, result)
                return result
            run_plan(self.space, plan, wait, self.observer, result, self._refreshed)
        except OctoreleaseError as exc:
            result.error = exc
        except KeyboardInterrupt as interrupt:
            # Ctrl-C, or SIGTERM from a cancelled CI job: the tasks run on, so say where they are.
            from octorelease.actions.interrupt import settle_interrupt

            result.error = settle_interrupt(self.space, result, wait, self.observer, interrupt)
        return result

    def _say_would_update(self, plan: DeploymentPlan, result: ActionResult) -> None:
        """A dry run's word on ``update_variables``: which snapshots the real run refreshes."""
        if not plan.options.update_variables:
            return
        from octorelease.actions.prospect import NEW_RELEASE_ID

        # A release not made yet will snapshot them anyway.
        fresh = {*self._refreshed, *self._would_refresh, NEW_RELEASE_ID}
        releases = [r for r in plan.releases_to_deploy if r.id not in fresh]
        self._would_refresh.update(r.id for r in releases)
        for release in releases:
            message = f"Would update the variable snapshot of release {release.name} of {plan.project.name} first."
            result.messages.append(message)
            self.observer.note(message)
        result.variables_updated = bool(releases)


__all__ = ["ActionResult", "DeploymentOptions", "GuidedFailure", "Octopus", "Ref", "WaitOptions"]

"""The action commands: promote, deploy, create, and run (a handler file).

Each parses its flags, calls the Python API (``client.Octopus``) or the handler runner, renders
the result and exits with its code. Heavy imports (httpx, rich) happen inside the command bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import click

from octorelease import secrets
from octorelease.cli.exit_codes import EXIT_CODES_HELP, RUN_EXIT_CODES_HELP, exit_code_for
from octorelease.cli.options import (
    GlobalOptions,
    deployment_options,
    global_options,
    parse_package_versions,
    server_connection,
    split_deployment_flags,
)
from octorelease.cli.output import configure_logging, render, reporters
from octorelease.handler.events import BUILD_EVENTS


def _connect(options: GlobalOptions, observer: Any) -> Any:
    """An ``Octopus`` from the global options, refusing early (exit 2) when something is missing."""
    from octorelease.client import Octopus

    server, api_key, verify = server_connection(options)
    return Octopus(server, api_key, space=options.space, verify=verify, observer=observer,
                   report_server=options.json or options.verbose > 0)


def _report_and_exit(ctx: click.Context, run: Callable[[Any], Any], *, log: bool) -> None:
    """Run one action with a console reporter, render its result, and exit with its code."""
    from octorelease.report.console import render_json

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    configure_logging(options.verbose)
    secrets.remember(options.api_key)
    keys = [options.api_key] if options.api_key else []
    reporter, ci = reporters(options, keys, log=log)
    try:
        with _connect(options, reporter) as octopus:
            result = run(octopus)
    finally:
        reporter.close()
    render(reporter, result)
    doc = result.to_dict(exit_code_for)
    ci.report(doc, error=result.error.message if result.error is not None else None)
    if options.json:
        render_json(doc, secrets=keys)
    ctx.exit(0 if result.ok else exit_code_for(result.error))


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--project", required=True, metavar="NAME|ID", help="Project name, slug or id.")
@click.option("--from", "source", required=True, metavar="ENV", help="Environment whose release is promoted.")
@click.option("--to", "targets", required=True, multiple=True, metavar="ENV", help="Target environment (repeatable).")
@click.option(
    "--release",
    default=None,
    metavar="VERSION",
    help="Promote this release instead of the latest successful one in --from.",
)
@click.option("--notes", default=None, help="Deployment notes (the deployments' Comments).")
@click.option(
    "--redeploy/--no-redeploy",
    default=None,
    help="Deploy again to a target that already runs the release (default: join it). "
    "Unset, --force-redeploy implies --redeploy, as it always did.",
)
@deployment_options
@global_options(on_group=False)
@click.pass_context
def promote(
    ctx: click.Context,
    /,
    project: str,
    source: str,
    targets: tuple[str, ...],
    release: str | None,
    notes: str | None,
    redeploy: bool | None,
    **flags: Any,
) -> None:
    """Deploy the release running in one environment to others.

    By default the release of the latest successful deployment to --from is promoted (what
    that environment is actually running); --release pins one. Everything is validated before
    any deployment is created: if one target is not allowed, none is created.
    """
    if any(t.strip().lower() == source.strip().lower() for t in targets):
        raise click.UsageError(f"--to '{source}' is the same as --from; use 'octorelease deploy' to redeploy.")
    options, wait, dry_run = split_deployment_flags(flags)
    _report_and_exit(
        ctx,
        lambda octopus: octopus.promote(
            project,
            source=source,
            to=list(targets),
            release=release,
            dry_run=dry_run,
            wait=wait,
            notes=notes,
            redeploy=redeploy,
            **options,
        ),
        log=wait.log,
    )


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--project", required=True, metavar="NAME|ID", help="Project name, slug or id.")
@click.option("--release", required=True, metavar="VERSION|latest", help="Release version to deploy, or 'latest'.")
@click.option("--to", "targets", required=True, multiple=True, metavar="ENV", help="Target environment (repeatable).")
@click.option("--notes", default=None, help="Deployment notes (the deployments' Comments).")
@deployment_options
@global_options(on_group=False)
@click.pass_context
def deploy(
    ctx: click.Context, /, project: str, release: str, targets: tuple[str, ...], notes: str | None, **flags: Any
) -> None:
    """Deploy a release to one or more environments."""
    options, wait, dry_run = split_deployment_flags(flags)
    _report_and_exit(
        ctx,
        lambda octopus: octopus.deploy(
            project, release=release, to=list(targets), dry_run=dry_run, wait=wait, notes=notes, **options
        ),
        log=wait.log,
    )


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--project", required=True, metavar="NAME|ID", help="Project name, slug or id.")
@click.option("--version", "version", default=None, metavar="VERSION",
    help="Release version (default: Octopus picks it with the project's versioning strategy).")
@click.option("--channel", default=None, metavar="NAME", help="Channel name (default: the project's default channel).")
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="STEP=VERSION|STEP:VERSION",
    help="Version for a package step, named by step or package id (repeatable). STEP:VERSION is octo's form; "
    "the name ends at the first '=' or ':'. octo's STEP:PACKAGE:VERSION names one package of a step.",
)
@click.option(
    "--default-package-version",
    default=None,
    metavar="VERSION",
    help="Version for every package not given by --package (default: the latest in the feed).",
)
@click.option("--notes", default=None, help="Release notes.")
@click.option(
    "--notes-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Read the release notes from this file.",
)
@click.option("--ignore-existing", is_flag=True, help="If the version exists, use it instead of failing.")
@click.option("--deploy-to", "deploy_to", multiple=True, metavar="ENV", help="Deploy the release here (repeatable).")
@click.option("--deployment-notes", default=None, help="Notes (Comments) on the deployments made by --deploy-to.")
@click.option("--git-ref", default=None, metavar="REF",
              help="A version-controlled project's branch or tag to take the process from (main, refs/heads/main, "
              "refs/tags/v1); in a CI build, the build's branch by default.")
@click.option("--git-commit", default=None, metavar="SHA",
              help="A version-controlled project's commit to take the process from; in a CI build, the build's "
              "commit by default.")
@deployment_options
@global_options(on_group=False)
@click.pass_context
def create(
    ctx: click.Context,
    /,
    project: str,
    version: str | None,
    channel: str | None,
    packages: tuple[str, ...],
    default_package_version: str | None,
    notes: str | None,
    notes_file: str | None,
    ignore_existing: bool,
    deploy_to: tuple[str, ...],
    deployment_notes: str | None,
    git_ref: str | None,
    git_commit: str | None,
    **flags: Any,
) -> None:
    """Create a release, and optionally deploy it (--deploy-to)."""
    if notes and notes_file:
        raise click.UsageError("Give --notes or --notes-file, not both.")
    if notes_file:
        with open(notes_file, encoding="utf-8") as handle:
            notes = handle.read()
    package_versions = parse_package_versions(packages)
    options, wait, dry_run = split_deployment_flags(flags)
    build_git = _build_git()
    _report_and_exit(
        ctx,
        lambda octopus: octopus.create(
            project,
            version=version,
            channel=channel,
            packages=package_versions,
            default_package_version=default_package_version,
            notes=notes,
            ignore_existing=ignore_existing,
            deploy_to=list(deploy_to),
            dry_run=dry_run,
            wait=wait,
            notes_for_deployments=deployment_notes,
            git_ref=git_ref,
            git_commit=git_commit,
            build_git=build_git,
            **options,
        ),
        log=wait.log,
    )


def _build_git() -> tuple[str | None, str | None, str] | None:
    """In a CI build, its branch and commit: a version-controlled project's release is made there
    when no --git-ref or --git-commit is given (``choose_git`` prefers those; a database project
    ignores the build's)."""
    import os

    from octorelease.ci_env import detect_ci
    from octorelease.handler.build_values import build_values, git_of_build

    return git_of_build(build_values(os.environ)) if detect_ci(os.environ) else None


def run_handler_file(
    options: GlobalOptions,
    path: str,
    *,
    event: str,
    status: str | None,
    stage: str | None,
    variables: Sequence[str],
    dry_run: bool,
) -> int:
    """Load a handler file, run the handlers this build event selects, report, return the exit code."""
    import os

    from octorelease.errors import InvalidInput
    from octorelease.handler.build_values import build_values, parse_var
    from octorelease.handler.events import parse_event, parse_status
    from octorelease.handler.run import HandlerRun, run_handlers
    from octorelease.handler.select import check_build_values, missing_input, select_handlers
    from octorelease.report.console import render_json

    configure_logging(options.verbose)
    event = parse_event(event)
    status = parse_status(status) if status else None
    overrides = dict(parse_var(v) for v in variables)
    handler_file, options = open_handler_file(options, path)
    # {build.stage} is the --stage value (a --var stage=... wins).
    values = build_values(os.environ, {**({"stage": stage} if stage else {}), **overrides})
    check_build_values(handler_file, event=event, status=status, stage=stage, values=values)
    missing = missing_input(select_handlers(handler_file, event=event, status=status, stage=stage, values=values))
    if missing is not None:
        raise InvalidInput(missing)
    secrets.remember(options.api_key)
    keys = [options.api_key] if options.api_key else []
    reporter, ci = reporters(options, keys)

    def announce(name: str, runs: bool, reason: str) -> None:
        if runs:
            reporter.handler_started(name)
        reporter.note(f"{'>>' if runs else '--'} {name}: {reason}")

    def report(handler: HandlerRun) -> None:
        ignored = handler.outcome == "failed (ignored)"
        for action in handler.actions:
            if ignored and action.error is not None:  # said as an ignored deployment failure is
                reporter.summary(action)
                reporter.warn(f"{handler.name}: failed (ignored: fail_build_on_error: false): {action.error}")
            else:
                render(reporter, action)

    with _connect(options, reporter) as octopus:
        try:
            result = run_handlers(
                octopus,
                handler_file,
                event=event,
                status=status,
                stage=stage,
                values=values,
                dry_run=dry_run,
                on_handler=announce,
                after_handler=report,
            )
        finally:
            reporter.close()
    tally = _handlers_tally(result.handlers, event, status)
    reporter.note(tally)
    if not any(handler.ran for handler in result.handlers):
        ci.warning(f"no handler matched: {tally}", title="octorelease")
    doc = result.to_dict(exit_code_for)
    ci.report(doc, error=result.error.message if result.error is not None else None)
    if options.json:
        render_json(doc, secrets=keys)
    return 0 if result.error is None else exit_code_for(result.error)


def open_handler_file(options: GlobalOptions, path: str) -> tuple[Any, GlobalOptions]:
    """The handler file at ``path``, and the options with its server, key and space where the
    flags give none. The flags stand in for the variables a handler file usually reads its
    connection from (``${OCTOPUS_URL}``, ``${OCTOPUS_API_KEY}``)."""
    import os

    from octorelease.handler.file import load_handler_file

    environ = dict(os.environ)
    for flag, variable in ((options.server, "OCTOPUS_URL"), (options.api_key, "OCTOPUS_API_KEY")):
        if flag:
            environ[variable] = flag
    handler_file = load_handler_file(path, environ)
    options = replace(
        options,
        server=options.server or handler_file.server,
        api_key=options.api_key or (handler_file.api_key.get_secret_value() if handler_file.api_key else None),
        space=options.space or handler_file.space,
    )
    return handler_file, options


def _handlers_tally(handlers: Sequence[Any], event: str, status: str | None) -> str:
    """``3 of 5 handler(s) ran for build-completed (success): 1 succeeded, 1 failed, 1 failed
    (ignored)``; a failed handler ran too, so it is counted, and said, by its ``outcome``."""
    ran = [h for h in handlers if h.ran]
    line = f"{len(ran)} of {len(handlers)} handler(s) ran for {event}" + (f" ({status})" if status else "")
    succeeded, failed, ignored = (sum(1 for h in ran if h.outcome == outcome)
                                  for outcome in ("succeeded", "failed", "failed (ignored)"))
    if failed or ignored:
        line += f": {succeeded} succeeded, {failed} failed" + (f", {ignored} failed (ignored)" if ignored else "")
    return line


@click.command(name="run", epilog=RUN_EXIT_CODES_HELP)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--event",
    default="build-completed",
    show_default=True,
    metavar="EVENT",
    help=f"The build event, one of ContinuaCI's: {', '.join(BUILD_EVENTS)}.",
)
@click.option("--status", default=None, type=click.Choice(["success", "failure"]), help="The build status.")
@click.option("--stage", default=None, metavar="NAME", help="The stage, for stage events.")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="A build value, e.g. build.number=7.")
@click.option("--dry-run", is_flag=True, help="Show which handlers would run and their plans; create nothing.")
@global_options(on_group=False)
@click.pass_context
def run_command(
    ctx: click.Context,
    /,
    file: str,
    event: str,
    status: str | None,
    stage: str | None,
    variables: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Run the handlers of a handler file (octorelease.yml) that this build event selects.

    Each handler whose event, stage, status and conditions match runs its actions in the
    order variables, create, deploy, promote; every other handler is listed with the reason
    it did not run.
    """
    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    code = run_handler_file(
        options, file, event=event, status=status, stage=stage, variables=variables, dry_run=dry_run
    )
    ctx.exit(code)

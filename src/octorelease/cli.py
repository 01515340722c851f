"""The command line: parse, call an action, render, map errors to exit codes.

This is the only module that knows exit codes. Heavy imports (httpx, rich, the sandbox) happen
inside the command bodies so that ``octorelease --help`` starts fast.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import click

from octorelease import errors, secrets
from octorelease._version import __version__
from octorelease.handler.events import BUILD_EVENTS

if TYPE_CHECKING:
    from octorelease.actions.result import ActionResult
    from octorelease.report.ci import CiReporter
    from octorelease.report.console import ConsoleReporter

F = TypeVar("F", bound=Callable[..., Any])

#: One table from error class to exit code; the most specific class wins (see ``exit_code_for``).
EXIT_CODES: dict[type[errors.OctoreleaseError], int] = {
    errors.OctoreleaseError: 1,
    errors.DeploymentFailed: 1,
    errors.InvalidInput: 2,
    errors.OctopusRejected: 3,
    errors.NotFound: 3,
    errors.DeploymentNotAllowed: 3,
    errors.AuthenticationFailed: 4,
    errors.PermissionDenied: 4,
    errors.WaitTimedOut: 5,
    errors.ServerUnreachable: 6,
    errors.BadResponse: 6,
    errors.Interrupted: 130,
    errors.Terminated: 143,
}

EXIT_CODES_HELP = """\b
Exit codes:
  0  done (or failures ignored by --no-fail-on-error)
  1  a deployment failed, was cancelled, or timed out on the server
  2  usage or handler-file error, found before any request
  3  Octopus said no: unknown project/environment/machine/release, lifecycle forbids, validation
  4  authentication or permission (401/403)
  5  our wait timed out
  6  server unreachable, TLS refused, transient errors outlasted the retries,
     or the server's answers are not Octopus's (a web page, bad JSON, a redirect loop)
  70 internal error in octorelease (a bug; -v shows the traceback)
  130 interrupted by SIGINT (Ctrl-C); tasks not cancelled still run on the server
  143 interrupted by SIGTERM (a cancelled CI job); likewise
"""

#: ``run`` has no --no-fail-on-error: a handler file's field says it.
RUN_EXIT_CODES_HELP = EXIT_CODES_HELP.replace(
    "failures ignored by --no-fail-on-error", "failures ignored by fail_build_on_error: false"
)

#: A bug in octorelease rather than a problem the user can fix (sysexits' EX_SOFTWARE).
INTERNAL_ERROR = 70


def exit_code_for(exc: errors.OctoreleaseError) -> int:
    """The exit code of an error: the entry of its most specific class in ``EXIT_CODES``."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


@dataclass
class GlobalOptions:
    """The options every command takes, before or after the command name."""

    server: str | None = None
    api_key: str | None = None
    space: str | None = None
    json: bool = False
    verbose: int = 0
    insecure: bool = False
    ca_bundle: str | None = None


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Store a global option on the shared ``GlobalOptions``; a value given after the command
    name wins over one given before it (and over the environment)."""
    options = ctx.find_object(GlobalOptions)
    if options is None:
        options = ctx.ensure_object(GlobalOptions)
    name = param.name or ""
    if name == "verbose":
        options.verbose = max(options.verbose, int(value or 0))
    elif isinstance(value, bool):
        setattr(options, name, getattr(options, name) or value)
    elif value is not None:
        setattr(options, name, value)
    return value


def global_options(on_group: bool) -> Callable[[F], F]:
    """The global options; on the group they also read the environment variables."""

    def env(*names: str) -> list[str] | None:
        return list(names) if on_group else None

    def decorate(func: F) -> F:
        decorators = [
            click.option(
                "--server",
                envvar=env("OCTOPUS_URL", "OCTOPUS_CLI_SERVER"),
                metavar="URL",
                expose_value=False,
                callback=_remember,
                help="Octopus server URL, with or without /api (env OCTOPUS_URL, else octo's OCTOPUS_CLI_SERVER).",
            ),
            click.option(
                "--api-key",
                envvar=env("OCTOPUS_API_KEY", "OCTOPUS_CLI_API_KEY"),
                metavar="KEY",
                expose_value=False,
                callback=_remember,
                help="Octopus API key (env OCTOPUS_API_KEY, else octo's OCTOPUS_CLI_API_KEY). Never printed.",
            ),
            click.option(
                "--space",
                envvar=env("OCTOPUS_SPACE"),
                metavar="NAME|ID",
                expose_value=False,
                callback=_remember,
                help="Space name or id (env OCTOPUS_SPACE; default: the server's default space).",
            ),
            click.option(
                "--json",
                "json",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=_remember,
                help="Print exactly one JSON object on stdout.",
            ),
            click.option(
                "-v",
                "--verbose",
                count=True,
                expose_value=False,
                callback=_remember,
                help="More detail; -vv logs every request (never its headers).",
            ),
            click.option(
                "--ca-bundle",
                envvar=env("OCTOPUS_CA_BUNDLE"),
                metavar="FILE",
                expose_value=False,
                callback=_remember,
                help="CA bundle file to verify the server's TLS certificate (env OCTOPUS_CA_BUNDLE).",
            ),
            click.option(
                "--insecure",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=_remember,
                help="Do not verify TLS certificates (warned; prefer --ca-bundle).",
            ),
        ]
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="octorelease")
@global_options(on_group=True)
def cli() -> None:
    """Create, deploy and promote Octopus Deploy releases from any CI build."""


def _comma_list(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> tuple[str, ...]:
    """Names from repeated flags and from comma lists alike (``--machine a,b``, as octo's
    ``--specificMachines`` takes them); a blank flag is refused rather than silently meaning "all"."""
    names: list[str] = []
    for value in values:
        pieces = [piece.strip() for piece in value.split(",") if piece.strip()]
        if not pieces:
            raise click.BadParameter(f"expects a name, got {value!r}.", ctx=ctx, param=param)
        names.extend(pieces)
    return tuple(names)


def _guided_failure(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """octo's true/false spelled as on/off, the one spelling the rest of octorelease knows."""
    return {"true": "on", "false": "off"}.get(value.lower(), value.lower())


def deployment_options(func: F) -> F:
    """The options shared by promote, deploy and create --deploy-to."""
    decorators = [
        click.option("--force-package-download", is_flag=True, help="Download packages again even if present."),
        click.option(
            "--force-redeploy",
            is_flag=True,
            help="Redeploy packages already installed on a machine (ForcePackageRedeployment).",
        ),
        click.option(
            "--machine",
            "machines",
            multiple=True,
            metavar="NAME[,NAME]",
            callback=_comma_list,
            help="Deploy only to these machines (repeatable, or a comma list as octo's --specificMachines).",
        ),
        click.option(
            "--exclude-machine",
            "exclude_machines",
            multiple=True,
            metavar="NAME[,NAME]",
            callback=_comma_list,
            help="Do not deploy to these machines (repeatable, or a comma list).",
        ),
        click.option(
            "--skip",
            "skip_steps",
            multiple=True,
            metavar="STEP[,STEP]",
            callback=_comma_list,
            help="Skip these steps (repeatable, or a comma list).",
        ),
        click.option(
            "--variable",
            "variables",
            multiple=True,
            metavar="NAME=VALUE|NAME:VALUE",
            help="Value of a prompted variable, by name or label (repeatable). NAME:VALUE is octo's form; "
            "the name ends at the first '=' or ':'.",
        ),
        click.option(
            "--guided-failure",
            type=click.Choice(["on", "off", "true", "false", "default"], case_sensitive=False),
            default="default",
            show_default=True,
            callback=_guided_failure,
            help="Guided failure mode for the deployments (true/false as octo spells them).",
        ),
        click.option(
            "--tenant",
            "tenants",
            multiple=True,
            metavar="NAME[,NAME]|*",
            callback=_comma_list,
            help="Deploy for these tenants ('*' = every connected tenant; repeatable, or a comma list); "
            "one environment only.",
        ),
        click.option(
            "--tenant-tag",
            "tenant_tags",
            multiple=True,
            metavar="SET/TAG[,SET/TAG]",
            callback=_comma_list,
            help="Deploy for every tenant connected to the environment with this tag (octo's --tenantTag; "
            "repeatable, or a comma list: any tag of one set, one of each set).",
        ),
        click.option(
            "--target-role",
            "target_roles",
            multiple=True,
            metavar="ROLE[,ROLE]",
            callback=_comma_list,
            help="Deploy only to the targets with one of these roles (repeatable, or a comma list).",
        ),
        click.option(
            "--update-variables",
            is_flag=True,
            help="Refresh the release's variable snapshot before deploying it (octo's --updateVariables): "
            "an existing release otherwise keeps the variables it was created with.",
        ),
        click.option(
            "--deploy-at",
            default=None,
            metavar="TIME",
            help="Start the deployments no earlier than TIME (octo's --deployAt): ISO 8601 with an offset "
            "(2026-05-01T22:00+10:00), yyyy-MM-dd HH:mm (local time) or +10m from now.",
        ),
        click.option(
            "--no-deploy-after",
            "--deploy-at-expiry",
            "no_deploy_after",
            default=None,
            metavar="TIME",
            help="Do not start them after TIME (octo's --noDeployAfter, the Go CLI's --deploy-at-expiry); "
            "a task still queued then ends TimedOut.",
        ),
        click.option(
            "--wait/--no-wait",
            default=True,
            show_default=True,
            help="Wait for the deployments to finish, or queue them and return.",
        ),
        click.option(
            "--timeout",
            default="10m",
            show_default=True,
            metavar="DURATION",
            help="How long to wait: 90s, 10m, 1h30m, seconds or hh:mm:ss.",
        ),
        click.option("--cancel-on-timeout", is_flag=True, help="Cancel the deployments on the server on timeout."),
        click.option(
            "--cancel-on-interrupt",
            is_flag=True,
            help="On Ctrl-C or SIGTERM, cancel the deployments this run created on the server.",
        ),
        click.option("--log/--no-log", default=True, show_default=True, help="Stream the Octopus task logs."),
        click.option(
            "--fail-on-error/--no-fail-on-error",
            default=True,
            show_default=True,
            help="Exit 1 when a deployment fails, is cancelled or times out on the server.",
        ),
        click.option("--dry-run", is_flag=True, help="Validate and print the plan; create nothing."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _parse_assignments(values: Sequence[str], flag: str) -> dict[str, str]:
    """``NAME=VALUE`` or octo's ``NAME:VALUE``: the name ends at whichever of '=' and ':' comes
    first, so the value may hold the other (``Url=http://host:80``, ``Conn:a=b``)."""
    parsed: dict[str, str] = {}
    for item in values:
        cut = min((i for i in (item.find("="), item.find(":")) if i >= 0), default=-1)
        name, value = (item[:cut], item[cut + 1 :]) if cut >= 0 else (item, "")
        if cut < 0 or not name.strip():
            raise click.UsageError(f"{flag} expects NAME=VALUE or NAME:VALUE, got {item!r}.")
        parsed[name.strip()] = value
    return parsed


def _package_versions(values: Sequence[str]) -> dict[str, str]:
    """``--package`` values by step (or package id): ``STEP=VERSION``, ``STEP:VERSION``, or
    octo's ``STEP:PACKAGE:VERSION`` for one package of a step with several, kept as the key
    ``STEP:PACKAGE`` (a version never holds a ':')."""
    versions: dict[str, str] = {}
    for name, value in _parse_assignments(values, "--package").items():
        reference, colon, version = value.rpartition(":")
        if colon and not (reference.strip() and version.strip()):
            raise click.UsageError(f"--package expects STEP:PACKAGE:VERSION, got {name}:{value!r}.")
        versions[f"{name}:{reference.strip()}" if colon else name] = version.strip() if colon else value
    return versions


def _split_deployment_flags(flags: dict[str, Any]) -> tuple[dict[str, Any], Any, bool]:
    """Deployment options, wait options and dry-run from the parsed flags (which it empties)."""
    from octorelease.actions.plan import WaitOptions
    from octorelease.schedule import parse_duration

    wait = WaitOptions(
        wait=flags.pop("wait"),
        timeout_seconds=parse_duration(flags.pop("timeout")),
        cancel_on_timeout=flags.pop("cancel_on_timeout"),
        cancel_on_interrupt=flags.pop("cancel_on_interrupt"),
        log=flags.pop("log"),
        fail_on_error=flags.pop("fail_on_error"),
    )
    dry_run = flags.pop("dry_run")
    options = {
        "force_package_download": flags.pop("force_package_download"),
        "force_redeploy": flags.pop("force_redeploy"),
        "machines": flags.pop("machines"),
        "exclude_machines": flags.pop("exclude_machines"),
        "skip_steps": flags.pop("skip_steps"),
        "prompted_variables": _parse_assignments(flags.pop("variables"), "--variable"),
        "guided_failure": flags.pop("guided_failure"),
        "tenants": flags.pop("tenants"),
        "tenant_tags": _tenant_tags(flags.pop("tenant_tags")),
        "target_roles": flags.pop("target_roles"),
        "update_variables": flags.pop("update_variables"),
        **_schedule(flags.pop("deploy_at"), flags.pop("no_deploy_after")),
    }
    return options, wait, dry_run


def _tenant_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """``--tenant-tag`` values, each ``TagSetName/TagName`` (exit 2 before any request if not)."""
    from octorelease.actions.targets import split_tag

    for tag in tags:
        split_tag(tag)
    return tags


def _schedule(deploy_at: str | None, no_deploy_after: str | None) -> dict[str, Any]:
    """``--deploy-at`` and ``--no-deploy-after`` as times, refused (exit 2) before any request
    when unreadable, past, or in the wrong order."""
    from octorelease.schedule import check_schedule, parse_time

    start = parse_time(deploy_at, "--deploy-at") if deploy_at is not None else None
    expiry = parse_time(no_deploy_after, "--no-deploy-after") if no_deploy_after is not None else None
    check_schedule(start, expiry)
    return {"deploy_at": start, "no_deploy_after": expiry}


def _connect(options: GlobalOptions, observer: Any) -> Any:
    """An ``Octopus`` from the global options, refusing early (exit 2) when something is missing."""
    from octorelease.client import Octopus

    server, api_key, verify = _connection(options)
    return Octopus(server, api_key, space=options.space, verify=verify, observer=observer)


def _connection(options: GlobalOptions) -> tuple[str, str, bool | str]:
    """Server, API key and TLS verification from the global options; exit 2 when one is missing."""
    if not options.server:
        raise errors.InvalidInput(
            "No Octopus server given.", hint="Pass --server URL, or set OCTOPUS_URL (or octo's OCTOPUS_CLI_SERVER)."
        )
    if not options.api_key:
        raise errors.InvalidInput(
            "No API key given.", hint="Pass --api-key KEY, or set OCTOPUS_API_KEY (or octo's OCTOPUS_CLI_API_KEY)."
        )
    verify: bool | str = options.ca_bundle or True
    if options.insecure:
        click.echo("Warning: TLS certificate verification is off (--insecure).", err=True)
        verify = False
    return options.server, options.api_key, verify


def _configure_logging(verbosity: int) -> None:
    """-v shows retries, -vv every request (method, path, status, time; never headers).

    The handler is made anew for each run, on this run's (redacting) stderr; the one a previous
    run left is dropped unflushed, since its stream may be closed."""
    import logging

    from octorelease.safe_text import log_formatter

    global _log_handler
    logger = logging.getLogger("octorelease")
    logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING)
    if _log_handler is not None:
        logger.removeHandler(_log_handler)
        _log_handler = None
    if verbosity <= 0:
        return
    _log_handler = logging.StreamHandler(sys.stderr)
    _log_handler.setFormatter(log_formatter("%(message)s"))
    logger.addHandler(_log_handler)


#: The log handler of the latest run with -v (see ``_configure_logging``).
_log_handler: Any = None


def _render(reporter: ConsoleReporter, result: ActionResult) -> None:
    """What a user sees of one finished action: its summary (or plan), then its error if any."""
    reporter.summary(result)
    if result.error is not None:
        reporter.error(result.error)


def _reporters(options: GlobalOptions, keys: list[str], *, log: bool = True) -> tuple[ConsoleReporter, CiReporter]:
    """The console reporter and the CI reporter of one command; in a CI, warnings become the
    CI's warning annotations (``CiReporter``), so every command reports as ``run`` does."""
    import os

    from octorelease.report.ci import CiReporter
    from octorelease.report.console import ConsoleReporter

    ci = CiReporter(os.environ, secrets=keys)
    reporter = ConsoleReporter(
        sys.stderr, verbosity=options.verbose, log=log, secrets=keys, annotations=ci if ci.ci else None
    )
    return reporter, ci


def _report_and_exit(ctx: click.Context, run: Callable[[Any], Any], *, log: bool) -> None:
    """Run one action with a console reporter, render its result, and exit with its code."""
    from octorelease.report.console import render_json

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    _configure_logging(options.verbose)
    secrets.remember(options.api_key)
    keys = [options.api_key] if options.api_key else []
    reporter, ci = _reporters(options, keys, log=log)
    try:
        with _connect(options, reporter) as octopus:
            result = run(octopus)
    finally:
        reporter.close()
    _render(reporter, result)
    doc = result.to_dict(exit_code_for)
    ci.report(doc, error=result.error.message if result.error is not None else None)
    if options.json:
        render_json(doc, secrets=keys)
    ctx.exit(0 if result.ok else exit_code_for(result.error))


@cli.command(epilog=EXIT_CODES_HELP)
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
    options, wait, dry_run = _split_deployment_flags(flags)
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


@cli.command(epilog=EXIT_CODES_HELP)
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
    options, wait, dry_run = _split_deployment_flags(flags)
    _report_and_exit(
        ctx,
        lambda octopus: octopus.deploy(
            project, release=release, to=list(targets), dry_run=dry_run, wait=wait, notes=notes, **options
        ),
        log=wait.log,
    )


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--project", required=True, metavar="NAME|ID", help="Project name, slug or id.")
@click.option("--version", "version", default=None, metavar="VERSION",
    help="Release version (default: the next after the highest).")
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
    **flags: Any,
) -> None:
    """Create a release, and optionally deploy it (--deploy-to)."""
    if notes and notes_file:
        raise click.UsageError("Give --notes or --notes-file, not both.")
    if notes_file:
        with open(notes_file, encoding="utf-8") as handle:
            notes = handle.read()
    package_versions = _package_versions(packages)
    options, wait, dry_run = _split_deployment_flags(flags)
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
            **options,
        ),
        log=wait.log,
    )


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

    from octorelease.handler.build_values import build_values, parse_var
    from octorelease.handler.events import parse_event, parse_status
    from octorelease.handler.run import HandlerRun, run_handlers
    from octorelease.report.console import render_json

    _configure_logging(options.verbose)
    event = parse_event(event)
    status = parse_status(status) if status else None
    overrides = dict(parse_var(v) for v in variables)
    handler_file, options = _load_handler_file(options, path)
    # {build.stage} is the --stage value (a --var stage=... wins).
    values = build_values(os.environ, {**({"stage": stage} if stage else {}), **overrides})
    secrets.remember(options.api_key)
    keys = [options.api_key] if options.api_key else []
    reporter, ci = _reporters(options, keys)

    def announce(name: str, runs: bool, reason: str) -> None:
        if runs:
            reporter.handler_started(name)
        reporter.note(f"{'>>' if runs else '--'} {name}: {reason}")

    def report(handler: HandlerRun) -> None:
        for action in handler.actions:
            _render(reporter, action)

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
    reporter.note(_handlers_tally(result.handlers, event, status))
    doc = result.to_dict(exit_code_for)
    ci.report(doc, error=result.error.message if result.error is not None else None)
    if options.json:
        render_json(doc, secrets=keys)
    return 0 if result.error is None else exit_code_for(result.error)


def _load_handler_file(options: GlobalOptions, path: str) -> tuple[Any, GlobalOptions]:
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
    """``3 of 5 handler(s) ran for build-completed (success): 2 succeeded, 1 failed``; a
    failed handler ran too, so it is counted, and said."""
    ran = [h for h in handlers if h.ran]
    failed = sum(1 for h in ran if h.error is not None)
    line = f"{len(ran)} of {len(handlers)} handler(s) ran for {event}" + (f" ({status})" if status else "")
    if failed:
        line += f": {len(ran) - failed} succeeded, {failed} failed"
    return line


@cli.command(name="run", epilog=RUN_EXIT_CODES_HELP)
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


@cli.command()
@click.option(
    "--json", "json", is_flag=True, default=False, expose_value=False, callback=_remember,
    help="Print exactly one JSON object on stdout.",
)
@click.option("-v", "--verbose", count=True, expose_value=False, callback=_remember, help="More detail.")
@click.pass_context
def demo(ctx: click.Context, /) -> None:
    """Start the sandbox, ship a release through it with a handler file, and stop.

    Creates a release of the demo project Web, deploys it to Development, promotes it to Test
    and Staging (showing the task logs), shows a promotion the lifecycle refuses, and prints
    the summary.
    """
    from octorelease.demo import DEMO_BUILD_VALUES, DEMO_SPEED, handler_file
    from octorelease.sandbox.http.server import SandboxServer

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    with SandboxServer(port=0, seed="demo", speed=DEMO_SPEED) as server:
        click.echo(f"Sandbox running at {server.url} with the demo seed.", err=True)
        click.echo(f"Running {handler_file()} for build-completed (success)", err=True)
        demo_options = GlobalOptions(
            server=server.url, api_key=server.api_key, json=options.json, verbose=options.verbose
        )
        code = run_handler_file(
            demo_options,
            str(handler_file()),
            event="build-completed",
            status="success",
            stage=None,
            variables=[f"{k}={v}" for k, v in DEMO_BUILD_VALUES.items()],
            dry_run=False,
        )
    click.echo("Sandbox stopped.", err=True)
    ctx.exit(code)


SERVE_EXIT_CODES_HELP = """\b
Exit codes:
  0  stopped by SIGINT (Ctrl-C) or SIGTERM; runs cut short resume at the next start
  2  usage or handler-file error (a secret not set, an unknown source, the port taken)
  70 internal error in octorelease (a bug; -v shows the traceback)
"""


@cli.command(epilog=SERVE_EXIT_CODES_HELP)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8070, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free).")
@click.option("--db", "db_path", default=None, metavar="PATH",
              help="SQLite file holding the queue and the history (default: octorelease-serve.db in the "
              "current directory).")
@click.option("--max-parallel", default=4, show_default=True, type=click.IntRange(min=1), metavar="N",
              help="Runs for different Octopus projects at once (runs for one project go one at a time).")
@global_options(on_group=False)
@click.pass_context
def serve(ctx: click.Context, /, file: str, host: str, port: int, db_path: str | None, max_parallel: int) -> None:
    """Receive build events by webhook and run the handlers of FILE they select, until Ctrl-C.

    Each CI posts to /hooks/<source> (github, gitlab, azure, jenkins, generic), signed with
    the secret the handler file's serve: section names; a run goes through the same code path
    as `octorelease run`. The history is at /api/runs, health at /healthz, metrics at /metrics.
    """
    import os

    from octorelease.serve.resume import Connection
    from octorelease.serve.server import ServeServer, default_db_path, make_service, webhook_secrets

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    _configure_logging(max(options.verbose, 1))  # a service says what it resumes and what fails
    handler_file, options = _load_handler_file(options, file)
    sources = _webhook_sources()
    secrets_by_source = webhook_secrets(handler_file, sources, os.environ)
    server_url, api_key, verify = _connection(options)
    for secret in (api_key, *secrets_by_source.values()):
        secrets.remember(secret)
    connection = Connection(server_url, api_key, options.space, verify)
    db = db_path or default_db_path()
    service = make_service(handler_file, connection, sources=sources, secrets=secrets_by_source, db_path=db,
                           code_for=exit_code_for, internal_code=INTERNAL_ERROR, max_parallel=max_parallel,
                           extra_routes=_page_routes())
    try:
        server = ServeServer(service, host, port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise errors.InvalidInput(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                                      hint="Pick another --port (0: any free one) or --host.") from None
        raise
    click.echo(f"octorelease serve listening on {server.url}", nl=True)
    click.echo(f"Webhooks: {', '.join(f'/hooks/{name}' for name in sorted(secrets_by_source))}; "
               f"history in {db}", err=True)
    sys.stdout.flush()
    server.run()
    left = service.worker.running_ids()
    if left:
        click.echo(f"Stopped with {len(left)} run(s) under way ({', '.join(map(str, left))}): they resume at the next "
                   "start, adopting what they made.", err=True)


def _webhook_sources() -> Any:
    """Every CI that can send build events, by route name (``serve/sources/``)."""
    from octorelease.serve.sources import SOURCES

    return SOURCES


def _page_routes() -> Any:
    """The history page's routes (``serve/pages/``): ``/``, ``/runs/{id}`` and its script."""
    from octorelease.serve import pages

    return pages.routes()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST", help="Interface to listen on.")
@click.option("--port", default=8065, show_default=True, type=int, metavar="PORT",
    help="Port to listen on (0: any free).")
@click.option("--db", "db_path", default=None, metavar="PATH",
    help="SQLite file to keep state in (default: in memory).")
@click.option(
    "--seed",
    default="demo",
    show_default=True,
    metavar="demo|empty|large[:SIZES]|FILE",
    help="Initial data when the database is new: the demo, an empty Octopus, the demo plus a large estate "
    "(sized e.g. 'large:environments=200,machines=1000,releases=500,deployments=5000'), or an estate file (YAML).",
)
@click.option(
    "--export",
    "export_path",
    default=None,
    metavar="FILE",
    help="Write the estate held in --db to FILE as an estate file ('-': stdout) and exit.",
)
@click.option(
    "--mirror",
    "mirror_url",
    default=None,
    metavar="URL",
    help="Copy the structure of a real Octopus space (GET requests only; its key from OCTOPUS_API_KEY) "
    "into a new database and serve it.",
)
@click.option("--mirror-space", default=None, metavar="NAME", help="The space to mirror (default: the default space).")
@click.option(
    "--mirror-history",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="N",
    help="Copy the last N releases of each project, with their deployments.",
)
@click.option("--api-key", default=None, metavar="KEY",
    help="API key clients must send (default: a fixed sandbox key).")
@click.option(
    "--admin-key",
    default=None,
    metavar="KEY",
    envvar="OCTORELEASE_SANDBOX_ADMIN_KEY",
    help="Key the test controls (/_sandbox/*) demand in X-Sandbox-Admin-Key (env OCTORELEASE_SANDBOX_ADMIN_KEY; "
    "default: none on loopback, a random one, printed, on any other --host).",
)
@click.option(
    "--speed", default=1.0, show_default=True, type=float, metavar="SECONDS",
    help="Seconds each deployment step takes on each machine."
)
@click.option(
    "--faults",
    default=None,
    metavar="SPEC",
    help="Fail /api requests on purpose, e.g. '503:0.1,429:0.05,lost:0.05,seed=7' "
    "(kinds 500, 502, 503, 429, reset, lost, slow; KIND@SECONDS:RATE, only=METHOD, path=TEXT).",
)
@click.option("-v", "--verbose", count=True, expose_value=False, callback=_remember,
              help="Print one line per request: method, path, status and time (never headers).")
@click.pass_context
def sandbox(ctx: click.Context, /, host: str, port: int, db_path: str | None, seed: str, export_path: str | None,
            mirror_url: str | None, mirror_space: str | None, mirror_history: int, api_key: str | None,
            admin_key: str | None, speed: float, faults: str | None) -> None:
    """Run the Octopus-compatible sandbox server until Ctrl-C.

    The estate it holds comes from --seed (or from --db when that database was seeded before),
    or from a real space with --mirror; --export writes a database's (or the mirror's) estate as
    a file that --seed takes, and exits.
    """
    from octorelease.sandbox.http.faults import FaultSpecError, parse_spec

    skipped: list[str] | None = None
    if mirror_url is not None and seed != "demo":
        raise errors.InvalidInput("--seed and --mirror both say where the estate comes from: give one of them.")
    if mirror_url is not None:
        estate: Any = _mirror(mirror_url, mirror_space, mirror_history, db_path, to_file=export_path is not None)
        if export_path is not None:
            from octorelease.sandbox.estate.export import dump_estate

            _write_estate(dump_estate(estate), export_path, f"the mirror of {mirror_url}")
            return
        skipped = []
    elif export_path is not None:
        _export_estate(db_path, export_path)
        return
    else:
        estate = _seed_estate(seed)

    if faults is not None:
        try:
            parse_spec(faults)
        except FaultSpecError as exc:
            raise errors.InvalidInput(f"--faults: {exc}") from None
    from octorelease.sandbox.http.server import serve

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    try:
        with _estate_errors():
            serve(host=host, port=port, db_path=db_path, seed=estate, api_key=api_key, speed=speed, faults=faults,
                  access_log=options.verbose > 0, admin_key=admin_key, skipped=skipped)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise errors.InvalidInput(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                hint="Pick another --port (0: any free one) or --host.",
            ) from None
        raise


@contextmanager
def _estate_errors() -> Iterator[None]:
    """An estate file's faults, each one ``Error: file:line: field: message`` line, then exit 2."""
    from octorelease.sandbox.estate.file import EstateFileError

    try:
        yield
    except EstateFileError as exc:
        for line in exc.lines[:-1]:
            _echo_error(line)
        raise errors.InvalidInput(exc.lines[-1]) from None


def _seed_estate(seed: str) -> Any:
    """``demo`` and ``empty`` as they are, or the estate file ``seed`` names, checked whole
    before anything starts."""
    if seed in ("demo", "empty"):
        return seed
    from octorelease.sandbox.estate.seed_large import LargeSeedError, is_large, parse_large

    if is_large(seed):
        try:
            return parse_large(seed)
        except LargeSeedError as exc:
            raise errors.InvalidInput(f"--seed {seed}: {exc}.") from None
    from octorelease.sandbox.estate.file import load_estate

    with _estate_errors():
        return load_estate(seed)


def _export_estate(db_path: str | None, export_path: str) -> None:
    """Write the estate held in the database at ``db_path`` to ``export_path`` (``-``: stdout)."""
    import os

    if db_path is None:
        raise errors.InvalidInput("--export needs --db PATH: the database whose estate to write.")
    if not os.path.isfile(db_path):
        raise errors.InvalidInput(f"--db {db_path}: no such database.")
    from octorelease.sandbox.estate.export import read_estate

    text = read_estate(db_path)
    if text is None:
        raise errors.InvalidInput(f"--db {db_path}: the database holds no space, so no estate to export.")
    _write_estate(text, export_path, f"the estate held in {db_path}")


def _write_estate(text: str, export_path: str, source: str) -> None:
    if export_path == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(export_path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise errors.InvalidInput(f"--export {export_path}: cannot be written ({exc.strerror}).") from None
    click.echo(f"Wrote {source} to {export_path}.", err=True)


def _mirror(url: str, space: str | None, history: int, db_path: str | None, *, to_file: bool) -> Any:
    """Read a real space into an estate, with a progress bar on a terminal, and say what was
    copied and left out. The real server's key comes from OCTOPUS_API_KEY only: --api-key is
    the sandbox's own."""
    import os

    from octorelease.mirror import mirror_space
    from octorelease.octopus.http import OctopusHttp
    from octorelease.octopus.retry import retry_policy_from_env
    from octorelease.report.progress import progress_bar

    if not to_file and db_path is not None and os.path.exists(db_path):
        raise errors.InvalidInput(f"--mirror copies into a new database, and {db_path} already exists.",
                                  hint="Give --db a new file, or leave it out (in memory).")
    key = os.environ.get("OCTOPUS_API_KEY", "")
    if not key:
        raise errors.InvalidInput("--mirror needs the real server's API key in OCTOPUS_API_KEY.")
    with OctopusHttp(url, key, retry=retry_policy_from_env(os.environ)) as http, progress_bar(
            f"Mirroring {http.server}") as progress:
        estate, summary = mirror_space(http, space, history, progress)
    with _estate_errors():
        from octorelease.sandbox.estate.file import check_estate

        check_estate(estate, name=f"the mirror of {url}")
    from octorelease.safe_text import one_line

    for line in summary.lines():
        click.echo(one_line(line), err=True)
    return estate


def _raise_signalled(signum: int, frame: object) -> None:
    raise errors.Signalled(signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM (a cancelled CI job) unwinds like Ctrl-C instead of killing the process, so an
    interrupted wait can still report its tasks; the previous handler is put back after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_signalled)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _without_httpx_cli() -> None:
    """httpx's ``__init__`` imports httpx's own command line (``httpx._main``: rich.syntax,
    rich.progress, pygments, a third of the client's import time) unless that import fails, and
    then defines a stand-in; octorelease never runs it. Only the command line does this, in its
    own process: a program that imports octorelease as a library keeps its httpx untouched."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (tests call this with a list).

    Everything it writes, by any path, passes through the redaction of every secret it was
    given (``secrets.redacted_output``)."""
    import os

    _without_httpx_cli()
    args = list(argv) if argv is not None else sys.argv[1:]
    with secrets.redacted_output(secrets.secrets_of(args, os.environ)):
        return _main(args)


def _is_utf8(arg: str) -> bool:
    """False for an argument carrying undecodable bytes (Python keeps them as surrogates)."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _main(args: list[str]) -> int:
    want_json = "--json" in args
    unreadable = next((i for i, arg in enumerate(args, 1) if not _is_utf8(arg)), None)
    if unreadable is not None:  # a byte the shell could not decode: it would fail deep in a request
        message = f"Argument {unreadable} is not valid UTF-8 text."
        if want_json:
            _print_json_error(args, 2, message)
        _echo_error(message, "Give names, versions and paths as UTF-8 text.")
        return 2
    try:
        with _sigterm_unwinds():
            returned = cli.main(args=args, prog_name="octorelease", standalone_mode=False)
        if isinstance(returned, int):  # click returns ctx.exit(code) as a value without standalone mode
            return returned
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        if want_json:
            _print_json_error(args, 2, exc.format_message())
        exc.show()
        _annotate_error(exc.format_message())
        return 2
    except errors.OctoreleaseError as exc:
        code = exit_code_for(exc)
        if want_json:
            _print_json_error(args, code, exc.message)
        _echo_error(exc.message, exc.hint)
        _annotate_error(exc.message)
        return code
    except (KeyboardInterrupt, click.Abort) as exc:
        # Interrupted outside an action (an action reports its own tasks): click wraps it in Abort.
        from octorelease.actions.interrupt import interrupted_error, signal_of

        error = interrupted_error(signal_of(exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__), ".")
        code = exit_code_for(error)
        if want_json:
            _print_json_error(args, code, error.message)
        _echo_error(error.message)
        return code
    except Exception as exc:  # a bug: one line and exit 70; the traceback too when asked for
        message = f"unexpected {type(exc).__name__}: {exc}"
        if want_json:
            _print_json_error(args, INTERNAL_ERROR, message)
        if any(arg in ("-v", "-vv", "--verbose") for arg in args):
            import traceback

            traceback.print_exc(file=sys.stderr)
            _echo_error(message)
        else:
            _echo_error(f"{message} (run with -v for the traceback)")
        return INTERNAL_ERROR
    return 0


def _echo_error(message: str, hint: str | None = None) -> None:
    """``Error: <message>`` and ``  hint: <hint>`` on stderr, each one clean line: a message may
    carry a server's text, which must not start a line of the build log (``safe_text``)."""
    from octorelease.safe_text import one_line

    click.echo(f"Error: {one_line(message)}", err=True)
    if hint:
        click.echo(f"  hint: {one_line(hint)}", err=True)


def _annotate_error(message: str) -> None:
    """In a CI, an error found before any action ran is the CI's error annotation too; a
    handler-file error (``FILE:LINE: ...``) is annotated at its file and line."""
    import os

    from octorelease.report.ci import CiReporter

    ci = CiReporter(os.environ, secrets=[os.environ.get("OCTOPUS_API_KEY", "")])
    if ci.ci:
        ci.error(message, title="octorelease")


def _print_json_error(args: Sequence[str], code: int, message: str) -> None:
    """The contract's JSON object for an error found before any action ran."""
    from octorelease.safe_text import safe_json

    command = next((a for a in args if a in ("promote", "deploy", "create", "run", "demo")), None)
    doc: dict[str, Any] = {"ok": False}
    if command in ("run", "demo"):
        doc["handlers"] = []
    elif command is not None:
        doc.update({"action": command, "project": None, "release": None})
        if command == "promote":
            doc["from"] = None
        doc["deployments"] = []
    doc["error"] = {"code": code, "message": message}
    click.echo(safe_json(doc))


if __name__ == "__main__":
    sys.exit(main())

"""The command line's options: the global ones every command takes, the deployment options that
promote, deploy and create --deploy-to share, and the parsing of their values.

A value that cannot be right is refused here (exit 2), before any request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from octorelease import errors

F = TypeVar("F", bound=Callable[..., Any])


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


def remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
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
                callback=remember,
                help="Octopus server URL, with or without /api (env OCTOPUS_URL, else octo's OCTOPUS_CLI_SERVER).",
            ),
            click.option(
                "--api-key",
                envvar=env("OCTOPUS_API_KEY", "OCTOPUS_CLI_API_KEY"),
                metavar="KEY",
                expose_value=False,
                callback=remember,
                help="Octopus API key (env OCTOPUS_API_KEY, else octo's OCTOPUS_CLI_API_KEY). Never printed.",
            ),
            click.option(
                "--space",
                envvar=env("OCTOPUS_SPACE"),
                metavar="NAME|ID",
                expose_value=False,
                callback=remember,
                help="Space name or id (env OCTOPUS_SPACE; default: the server's default space).",
            ),
            click.option(
                "--json",
                "json",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=remember,
                help="Print exactly one JSON object on stdout.",
            ),
            click.option(
                "-v",
                "--verbose",
                count=True,
                expose_value=False,
                callback=remember,
                help="More detail; -vv logs every request (never its headers).",
            ),
            click.option(
                "--ca-bundle",
                envvar=env("OCTOPUS_CA_BUNDLE"),
                metavar="FILE",
                expose_value=False,
                callback=remember,
                help="CA bundle file to verify the server's TLS certificate (env OCTOPUS_CA_BUNDLE).",
            ),
            click.option(
                "--insecure",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=remember,
                help="Do not verify TLS certificates (warned; prefer --ca-bundle).",
            ),
        ]
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


def deployment_options(func: F) -> F:
    """The options shared by promote, deploy and create --deploy-to: one flag per field of
    ``actions.options.DeploymentOptions``, its value stored under the field's name (``--skip`` as
    ``skip_steps``), then the wait options and ``--dry-run``."""
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
            help="Deploy only to these machines (repeatable, or a comma list as octo's --specificMachines).",
        ),
        click.option(
            "--exclude-machine",
            "exclude_machines",
            multiple=True,
            metavar="NAME[,NAME]",
            help="Do not deploy to these machines (repeatable, or a comma list).",
        ),
        click.option(
            "--skip",
            "skip_steps",
            multiple=True,
            metavar="STEP[,STEP]",
            help="Skip these steps (repeatable, or a comma list).",
        ),
        click.option(
            "--variable",
            "prompted_variables",
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
            is_flag=False,
            flag_value="on",
            help="Guided failure for the deployments: alone or 'on', a failing step waits for a person; "
            "'off'; 'default' follows the project, then the environment (true/false as octo spells them).",
        ),
        click.option(
            "--no-guided-failure",
            is_flag=True,
            help="Guided failure off, whatever the environment's default (same as --guided-failure off).",
        ),
        click.option(
            "--tenant",
            "tenants",
            multiple=True,
            metavar="NAME[,NAME]|*",
            help="Deploy for these tenants ('*' = every connected tenant; repeatable, or a comma list); "
            "one environment only.",
        ),
        click.option(
            "--tenant-tag",
            "tenant_tags",
            multiple=True,
            metavar="SET/TAG[,SET/TAG]",
            help="Deploy for every tenant connected to the environment with this tag (octo's --tenantTag; "
            "repeatable, or a comma list: any tag of one set, one of each set).",
        ),
        click.option(
            "--target-role",
            "target_roles",
            multiple=True,
            metavar="ROLE[,ROLE]",
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
            "--freeze-override",
            default=None,
            metavar="REASON",
            help="Deploy despite a deployment freeze in force, for REASON (Octopus records it against the "
            "override; the API key needs DeploymentFreezeAdminister). Without it a target in a freeze is "
            "refused before anything is created.",
        ),
        click.option(
            "--wait/--no-wait",
            default=True,
            show_default=True,
            help="Wait for the deployments to finish, or queue them and return.",
        ),
        click.option(
            "--timeout",
            "timeout_seconds",
            default="10m",
            show_default=True,
            metavar="DURATION",
            help="How long to wait: 90s, 10m, 1h30m, seconds or hh:mm:ss.",
        ),
        click.option("--cancel-on-timeout", is_flag=True, help="Cancel the deployments on the server on timeout."),
        click.option(
            "--on-interruption",
            type=click.Choice(["wait", "fail", "cancel"], case_sensitive=False),
            default="wait",
            show_default=True,
            help="When a deployment waits for a person (manual intervention, guided failure): keep waiting, "
            "end the wait (exit 7; it still waits on the server), or cancel it (exit 7).",
        ),
        click.option(
            "--interruption-timeout",
            "interruption_timeout_seconds",
            default=None,
            metavar="DURATION",
            help="How long a person may take to act, counted apart from --timeout (default: no limit); "
            "then exit 7 (with --cancel-on-timeout the deployment is cancelled).",
        ),
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


def parse_package_versions(values: Sequence[str]) -> dict[str, str]:
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


def split_deployment_flags(flags: dict[str, Any]) -> tuple[dict[str, Any], Any, bool]:
    """Deployment options, wait options and dry-run from the parsed flags (which it empties).

    ``deployment_options`` stores every flag under its field's name in ``DeploymentOptions`` or
    ``WaitOptions``, so the options are gathered by those names and read by their ``of``, which
    refuses a value that cannot be right (exit 2, naming the flag) before any request. Only what
    is the command line's own is read here: ``NAME=VALUE`` pairs and ``--no-guided-failure``."""
    from dataclasses import fields

    from octorelease.actions.options import DeploymentOptions
    from octorelease.actions.plan import WaitOptions

    wait = WaitOptions.of({f.name: flags.pop(f.name) for f in fields(WaitOptions) if f.name in flags})
    dry_run = flags.pop("dry_run")
    if flags.pop("no_guided_failure"):
        if DeploymentOptions.of({"guided_failure": flags["guided_failure"]}).guided_failure == "on":
            raise click.UsageError("--guided-failure and --no-guided-failure contradict each other.")
        flags["guided_failure"] = "off"
    given = {f.name: flags.pop(f.name) for f in fields(DeploymentOptions) if f.name in flags}
    given["prompted_variables"] = _parse_assignments(given["prompted_variables"], "--variable")
    options = DeploymentOptions.of(given, labels=_flag_names())
    return {name: getattr(options, name) for name in given}, wait, dry_run


def _flag_names() -> dict[str, str]:
    """The flag each option is stored from (``deploy_at``: ``--deploy-at``), for its errors."""
    command = click.get_current_context().command
    return {param.name: param.opts[0] for param in command.params if param.name and param.opts}


def server_connection(options: GlobalOptions) -> tuple[str, str, bool | str]:
    """Server, API key and TLS verification from the global options; exit 2 when one is missing."""
    if not options.server:
        raise errors.InvalidInput(
            "No Octopus server given.", hint="Pass --server URL, or set OCTOPUS_URL (or octo's OCTOPUS_CLI_SERVER)."
        )
    if not options.api_key:
        raise errors.InvalidInput(
            "No API key given.", hint="Pass --api-key KEY, or set OCTOPUS_API_KEY (or octo's OCTOPUS_CLI_API_KEY)."
        )
    from octorelease.octopus.http import web_ui_base

    server = options.server
    base = web_ui_base(server)
    if base is not None:
        click.echo(f"Note: {base}/app#... is the web UI's address; using the server's, {base}.", err=True)
        server = base
    verify: bool | str = options.ca_bundle or True
    if options.insecure:
        click.echo("Warning: TLS certificate verification is off (--insecure).", err=True)
        verify = False
    return server, options.api_key, verify

"""The command line: parse, call an action, render, map errors to exit codes.

This is the only module that knows exit codes. Heavy imports (httpx, rich, the sandbox) happen
inside the command bodies so that ``octorelease --help`` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from octorelease.octopus import errors

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
}

EXIT_CODES_HELP = """\b
Exit codes:
  0  done (or failures ignored by --no-fail-on-error)
  1  a deployment failed, was cancelled, or timed out on the server
  2  usage or handler-file error, found before any request
  3  Octopus said no: unknown project/environment/machine/release, lifecycle forbids, validation
  4  authentication or permission (401/403)
  5  our wait timed out
  6  server unreachable, or transient errors outlasted the retries
"""


def exit_code_for(exc: errors.OctoreleaseError) -> int:
    """The exit code of an error: the entry of its most specific class in ``EXIT_CODES``."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="octorelease")
def cli() -> None:
    """Create, deploy and promote Octopus Deploy releases from any CI build."""


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8065, show_default=True, type=int, help="Port to listen on (0: any free).")
@click.option("--db", "db_path", default=None, help="SQLite file to keep state in (default: in memory).")
@click.option(
    "--seed",
    type=click.Choice(["demo", "empty"]),
    default="demo",
    show_default=True,
    help="Initial data when the database is new.",
)
@click.option("--api-key", default=None, help="API key clients must send (default: a fixed sandbox key).")
@click.option(
    "--speed", default=1.0, show_default=True, type=float, help="Seconds each deployment step takes on each machine."
)
def sandbox(host: str, port: int, db_path: str | None, seed: str, api_key: str | None, speed: float) -> None:
    """Run the Octopus-compatible sandbox server until Ctrl-C."""
    from octorelease.sandbox.server import serve

    serve(host=host, port=port, db_path=db_path, seed=seed, api_key=api_key, speed=speed)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (tests call this with a list)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="octorelease", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

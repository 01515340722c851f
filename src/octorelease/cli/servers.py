"""The commands that run a server: ``serve`` (the handler service), ``sandbox`` (with its estate:
seed, export, mirror) and ``demo`` (a sandbox and a handler file, shipped once).

The sandbox and the service are imported inside the command bodies, so ``--help`` does not pay
for them.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from octorelease import errors, secrets
from octorelease.cli.actions import open_handler_file, run_handler_file
from octorelease.cli.exit_codes import SERVE_EXIT_CODES_HELP, exit_code_for
from octorelease.cli.options import GlobalOptions, global_options, remember, server_connection
from octorelease.cli.output import configure_logging, echo_error


@click.command()
@click.option(
    "--json", "json", is_flag=True, default=False, expose_value=False, callback=remember,
    help="Print exactly one JSON object on stdout.",
)
@click.option("-v", "--verbose", count=True, expose_value=False, callback=remember, help="More detail.")
@click.pass_context
def demo(ctx: click.Context, /) -> None:
    """Start the sandbox, ship a release through it with a handler file, and stop.

    Creates a release of the demo project Web, deploys it to Development, promotes it to Test
    and Staging (showing the task logs), shows a promotion the lifecycle refuses, promotes it
    to Production, where it waits for a release manager's approval (answered by the demo with
    `octorelease interruptions proceed`), and prints the summary. Then it ships Platform, a
    project kept in Git: a release made at its branch feature/canary, deployed to Ops, naming
    the branch and the commit.
    """
    from octorelease.demo import DEMO_BUILD_VALUES, DEMO_SPEED, demo_estate, handler_file, release_manager
    from octorelease.sandbox.http.server import SandboxServer

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    with SandboxServer(port=0, seed=demo_estate(), speed=DEMO_SPEED) as server:
        click.echo(f"Sandbox running at {server.url} with the demo seed; Web's Production deployments wait "
                   "for the Release Managers to approve them.", err=True)
        click.echo(f"Running {handler_file()} for build-completed (success)", err=True)
        approver = release_manager(server.url, server.api_key, lambda line: click.echo(line, err=True))
        demo_options = GlobalOptions(
            server=server.url, api_key=server.api_key, json=options.json, verbose=options.verbose
        )
        build = [f"{k}={v}" for k, v in DEMO_BUILD_VALUES.items()]
        code = run_handler_file(demo_options, str(handler_file()), event="build-completed", status="success",
                                stage=None, variables=build, dry_run=False)
        approver.set()
        # a project kept in Git; with --json its report is text on stderr, so stdout keeps one object (Web's)
        click.echo(f"Running {handler_file('platform.yml')} for build-completed (success): Platform, a project "
                   "kept in Git", err=True)
        git_options = GlobalOptions(server=server.url, api_key=server.api_key, verbose=options.verbose)
        code = code or run_handler_file(git_options, str(handler_file("platform.yml")), event="build-completed",
                                        status="success", stage=None, variables=build, dry_run=False)
    click.echo("Sandbox stopped.", err=True)
    ctx.exit(code)


@click.command(epilog=SERVE_EXIT_CODES_HELP)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8070, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free).")
@click.option("--db", "db_path", default=None, metavar="PATH|URL",
              help="SQLite file holding the queue and the history, or a postgresql:// URL that several "
              "replicas share (default: the handler file's serve: db:, else octorelease-serve.db in the "
              "current directory).")
@click.option("--max-parallel", default=4, show_default=True, type=click.IntRange(min=1), metavar="N",
              help="Runs for different Octopus projects at once (runs for one project go one at a time).")
@click.option("--lease", "lease_seconds", default=30.0, show_default=True, type=click.FloatRange(min=0.5),
              metavar="SECONDS", help="How long a replica's claim on a run lasts unless renewed (every third of "
              "it): another replica resumes a dead one's runs this long after it died.")
@click.option("--poll", "poll_seconds", default=1.0, show_default=True, type=click.FloatRange(min=0.05),
              metavar="SECONDS", help="How often the queue is read for events another replica accepted.")
@global_options(on_group=False)
@click.pass_context
def serve(ctx: click.Context, /, file: str, host: str, port: int, db_path: str | None, max_parallel: int,
          lease_seconds: float, poll_seconds: float) -> None:
    """Receive build events by webhook and run the handlers of FILE they select, until Ctrl-C.

    Each CI posts to /hooks/<source> (github, gitlab, azure, jenkins, generic), signed with
    the secret the handler file's serve: section names; a run goes through the same code path
    as `octorelease run`. The history is at /api/runs, health at /healthz, metrics at /metrics.
    """
    import os

    from octorelease.serve.access import load_access, startup_warnings
    from octorelease.serve.resume import Connection
    from octorelease.serve.server import ServeServer, database, is_database_url, make_service, webhook_secrets
    from octorelease.serve.store import StoreUnavailable

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    configure_logging(max(options.verbose, 1))  # a service says what it resumes and what fails
    handler_file, options = open_handler_file(options, file)
    sources = _webhook_sources()
    secrets_by_source = webhook_secrets(handler_file, sources, os.environ)
    access = load_access(handler_file, os.environ)
    server_url, api_key, verify = server_connection(options)
    for secret in (api_key, *secrets_by_source.values(), *access.secrets()):
        secrets.remember(secret)
    connection = Connection(server_url, api_key, options.space, verify)
    db = database(handler_file, db_path, os.environ)
    if is_database_url(db):
        from octorelease.serve.store_postgres import password_of

        secrets.remember(password_of(db))
    try:
        service = make_service(handler_file, connection, sources=sources, secrets=secrets_by_source, db_path=db,
                               code_for=exit_code_for, max_parallel=max_parallel,
                               extra_routes=_page_routes(), access=access, lease_seconds=lease_seconds,
                               poll_seconds=poll_seconds)
    except StoreUnavailable as exc:  # a directory, a missing parent, a read-only place, not a database; no server
        if is_database_url(db):
            raise errors.InvalidInput(f"{exc}.", hint="Check the URL, that PostgreSQL is up and that this host may "
                                      "connect (pg_hba.conf); a service manager may start serve again.") from None
        raise errors.InvalidInput(f"--db {db}: cannot be used as the history database ({exc.cause}).",
                                  hint="Give --db a file you can write, in a directory that exists.") from None
    try:
        server = ServeServer(service, host, port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise errors.InvalidInput(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                                      hint="Pick another --port (0: any free one) or --host.") from None
        raise
    click.echo(f"octorelease serve listening on {server.url}", nl=True)
    click.echo(f"Webhooks: {', '.join(f'/hooks/{name}' for name in sorted(secrets_by_source))}; "
               f"history in {service.store.where()}", err=True)
    for warning in startup_warnings(access, host):
        click.echo(f"Warning: {warning}", err=True)
    sys.stdout.flush()
    server.run()
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped: one more Ctrl-C while the process ends changes nothing
    left = service.worker.running_ids()
    if left:
        click.echo(f"Stopped with {len(left)} run(s) under way ({', '.join(map(str, left))}): they resume at the next "
                   "start, adopting what they made.", err=True)
        # Their threads are left as they are: what they committed is in the store, and the next start
        # resumes them. The interpreter's shutdown would stop each one in the middle of whatever call
        # it is in, and one stopped inside a native extension (pydantic-core) aborts the process
        # ("FATAL: exception not rethrown", SIGABRT), so the process ends here, its output flushed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _webhook_sources() -> Any:
    """Every CI that can send build events, by route name (``serve/sources/``)."""
    from octorelease.serve.sources import SOURCES

    return SOURCES


def _page_routes() -> Any:
    """The history page's routes (``serve/pages/``): ``/``, ``/runs/{id}`` and its script."""
    from octorelease.serve import pages

    return pages.routes()


@click.command()
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
@click.option("-v", "--verbose", count=True, expose_value=False, callback=remember,
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
            echo_error(line)
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

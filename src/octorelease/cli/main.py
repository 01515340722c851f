"""The command line's entry point: the group, ``main``, and signals.

``main`` runs the group with every secret it was given redacted from everything written, turns
an error into one line and its exit code (``exit_codes.py``), and makes SIGTERM unwind like
Ctrl-C so an interrupted wait can still report its tasks. The commands live in ``actions.py``
and ``servers.py``; heavy imports happen inside their bodies so that ``--help`` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

from octorelease import errors, secrets
from octorelease._version import __version__
from octorelease.cli import actions, interruptions, servers
from octorelease.cli.exit_codes import EXIT_CODES_HELP, INTERNAL_ERROR, exit_code_for
from octorelease.cli.options import global_options
from octorelease.cli.output import echo_error, print_json_error, report_error


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="octorelease")
@global_options(on_group=True)
def cli() -> None:
    """Create, deploy and promote Octopus Deploy releases from any CI build."""


for _command in (actions.promote, actions.deploy, actions.create, actions.run_command, interruptions.interruptions,
                 servers.demo, servers.serve, servers.sandbox):
    cli.add_command(_command)


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


def _with_octo_equivalent(exc: click.ClickException, args: Sequence[str]) -> click.ClickException:
    """An unknown flag that is octo's says what octorelease takes instead (``octo's --deployTo
    is --to``), rather than click's nearest spelling, which for octo's flags is misleading."""
    if not isinstance(exc, click.NoSuchOption):
        return exc
    from octorelease.cli.octo_flags import octo_equivalent

    said = octo_equivalent(exc.option_name, args)
    if said is None:
        return exc
    return click.NoSuchOption(exc.option_name, message=f"No such option {exc.option_name!r}: {said}.", ctx=exc.ctx)


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
            print_json_error(args, 2, message)
        echo_error(message, "Give names, versions and paths as UTF-8 text.")
        return 2
    try:
        with _sigterm_unwinds():
            returned = cli.main(args=args, prog_name="octorelease", standalone_mode=False)
        if isinstance(returned, int):  # click returns ctx.exit(code) as a value without standalone mode
            return returned
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as raised:
        usage_error = _with_octo_equivalent(raised, args)
        if want_json:
            print_json_error(args, 2, usage_error.format_message())
        usage_error.show()
        report_error(args, 2, usage_error.format_message())
        return 2
    except errors.OctoreleaseError as exc:
        code = exit_code_for(exc)
        if want_json:
            print_json_error(args, code, exc.message)
        echo_error(exc.message, exc.hint)
        report_error(args, code, exc.message)
        return code
    except (KeyboardInterrupt, click.Abort) as exc:
        # Interrupted outside an action (an action reports its own tasks): click wraps it in Abort.
        from octorelease.actions.interrupt import interrupted_error, signal_of

        error = interrupted_error(signal_of(exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__), ".")
        code = exit_code_for(error)
        if want_json:
            print_json_error(args, code, error.message)
        echo_error(error.message)
        return code
    except Exception as exc:  # a bug: one line and exit 70; the traceback too when asked for
        message = f"unexpected {type(exc).__name__}: {exc}"
        if want_json:
            print_json_error(args, INTERNAL_ERROR, message)
        if any(arg in ("-v", "-vv", "--verbose") for arg in args):
            import traceback

            traceback.print_exc(file=sys.stderr)
            echo_error(message)
        else:
            echo_error(f"{message} (run with -v for the traceback)")
        return INTERNAL_ERROR
    return 0

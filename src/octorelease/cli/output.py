"""What the command line writes besides an action's own report: logging for ``-v``, the reporters
of one command, and the one-line errors (with their JSON object and CI annotation) of a
command that failed before any action ran.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from octorelease.cli.options import GlobalOptions

if TYPE_CHECKING:
    from octorelease.actions.result import ActionResult
    from octorelease.report.ci import CiReporter
    from octorelease.report.console import ConsoleReporter


def configure_logging(verbosity: int) -> None:
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


#: The log handler of the latest run with -v (see ``configure_logging``).
_log_handler: Any = None


def render(reporter: ConsoleReporter, result: ActionResult) -> None:
    """What a user sees of one finished action: its summary (or plan), then its error if any."""
    reporter.summary(result)
    if result.error is not None:
        reporter.error(result.error)


def reporters(options: GlobalOptions, keys: list[str], *, log: bool = True) -> tuple[ConsoleReporter, CiReporter]:
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


def echo_error(message: str, hint: str | None = None) -> None:
    """``Error: <message>`` and ``  hint: <hint>`` on stderr, each one clean line: a message may
    carry a server's text, which must not start a line of the build log (``safe_text``)."""
    from octorelease.safe_text import one_line

    click.echo(f"Error: {one_line(message)}", err=True)
    if hint:
        click.echo(f"  hint: {one_line(hint)}", err=True)


def report_error(args: Sequence[str], code: int, message: str) -> None:
    """In a CI, an error found before any action ran gives what every finished command gives:
    the outputs (``ok=false``), the job summary with the message, and the error annotation (a
    handler-file error, ``FILE:LINE: ...``, at its file and line)."""
    import os

    from octorelease.report.ci import CiReporter

    ci = CiReporter(os.environ, secrets=[os.environ.get("OCTOPUS_API_KEY", "")])
    if ci.ci:
        ci.report(error_doc(args, code, message), error=message)


def print_json_error(args: Sequence[str], code: int, message: str) -> None:
    """The contract's JSON object for an error found before any action ran."""
    from octorelease.safe_text import safe_json

    click.echo(safe_json(error_doc(args, code, message)))


def error_doc(args: Sequence[str], code: int, message: str) -> dict[str, Any]:
    """The result of a command that ended before any action ran: ``ok`` false, no actions."""
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
    return doc

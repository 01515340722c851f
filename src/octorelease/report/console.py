"""What a user sees: the human text on stderr, and the one JSON object on stdout.

``ConsoleReporter`` is the Observer the actions talk to while they work, and it renders the
``ActionResult`` they return (one wrapper around rich, like hatch's ``Terminal``). It has two
faces, chosen once when it is built:

- **live**, on an interactive terminal: a rich ``Live`` region with one line per deployment
  whose elapsed time ticks on its own; log lines and finished deployments print above it;
- **plain**, in CI or when stderr is not a terminal: whole lines only, no spinner and no cursor
  movement, each state change printed once (``[Test] Executing``), so a build log reads top to
  bottom. Task logs go inside the CI's fold (``::group::``) when it has one, streamed as the
  task runs (``report/folds.py``): one task's fold is open at a time, the others' logs and state
  lines are held until it closes, so a promotion to three environments folds three times, never
  interleaved, and the state lines stay outside the folds. Whatever is held or open when the
  wait ends (interrupted, unfinished) is printed at ``close``.

Everything written passes through ``redact``: task logs and server messages may echo the API
key, and the key must never reach a build log. It passes through ``safe_text`` too: text from the
server is cleaned of escapes and CI commands, and each line of a task log message gets its own
prefix. rich is imported only when a reporter is built, so importing this module (as ``cli/`` does
for ``--help``) costs nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from octorelease.actions.result import FAILED_STATES, ActionResult, DeploymentResult, LogLine, did_not_succeed
from octorelease.ci_env import running_in_ci
from octorelease.report.folds import FoldedLog, LogGroups
from octorelease.safe_text import one_line, safe_json, safe_lines
from octorelease.schedule import format_duration
from octorelease.secrets import redact, redact_value

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.spinner import Spinner
    from rich.table import Table
    from rich.text import Text

    from octorelease.actions.plan import DeploymentPlan

#: Task states after which nothing changes any more.
FINISHED_STATES = FAILED_STATES | {"Success"}

#: Colours given to environments in the order they first appear; red and yellow are left out
#: because they mean error and warning.
ENVIRONMENT_COLOURS = ("cyan", "magenta", "blue", "green", "bright_cyan", "bright_magenta", "bright_blue")

#: How the Octopus log categories are styled; the others are plain.
CATEGORY_STYLES = {"Error": "red", "Fatal": "bold red", "Warning": "yellow", "Highlight": "bold"}

#: How task states are styled, in the live view, the state lines and the summary.
STATE_STYLES = {"Success": "green", "Executing": "cyan", "Cancelling": "yellow", "Queued": "dim"}


def render_json(result_dict: Mapping[str, Any], stream: TextIO | None = None, *, secrets: Sequence[str] = ()) -> None:
    """Write the ``--json`` document: exactly one JSON object and a newline, nothing else.

    ``stream`` defaults to the ``sys.stdout`` of the moment of the call, not of the import,
    so click's ``CliRunner`` and pytest's ``capsys`` see the output.
    """
    out = sys.stdout if stream is None else stream
    out.write(safe_json(redact_value(result_dict, secrets)) + "\n")
    out.flush()


class Annotations(Protocol):
    """Where a warning goes in a CI: its own annotation (``report/ci.py``'s ``CiReporter``)."""

    def warning(self, message: str, *, title: str | None = None) -> None:
        """Write ``message`` as the CI's warning."""


@dataclass
class _Track:
    """What the reporter remembers of one deployment between two events."""

    deployment: DeploymentResult
    colour: str
    seen_at: float
    updated_at: float
    server_seconds: float | None = None
    finished_at: float | None = None
    printed_state: str | None = None

    @property
    def state(self) -> str:
        """The state to show: a deployment we hear of exists on the server, so an action that
        has not yet set a state past the dataclass default ("Planned") means "Queued"."""
        if self.deployment.waiting_for_schedule:
            return f"Queued, scheduled for {self.deployment.scheduled_for}"
        if self.deployment.pending_interruptions and not self.finished:
            titles = ", ".join(str(p.get("title")) for p in self.deployment.pending_interruptions)
            return f"{self.deployment.state}, waiting for a person: {titles}"
        return "Queued" if self.deployment.state == "Planned" else self.deployment.state

    @property
    def finished(self) -> bool:
        return self.deployment.state in FINISHED_STATES

    def elapsed(self, now: float) -> float:
        """Seconds the deployment has run: the server's figure, moved on by our own clock
        between updates so the live view ticks without asking the server."""
        if self.finished and self.deployment.duration_seconds is not None:
            return self.deployment.duration_seconds
        end = self.finished_at if self.finished_at is not None else now
        if self.server_seconds is not None:
            return self.server_seconds + (end - self.updated_at)
        return end - self.seen_at


def _key(deployment: DeploymentResult) -> str:
    """Which deployment an event is about: actions may hand over a fresh object each time."""
    return deployment.deployment_id or f"{deployment.environment_id}/{deployment.tenant_id or ''}"


def _seconds(seconds: float) -> str:
    """A duration as the summary and the state lines show it (``3.2s``, ``1m5s``)."""
    return format_duration(round(seconds, 1))


def _failure(deployment: DeploymentResult) -> str:
    """Why a deployment failed, in one phrase: the step and Octopus's message."""
    reason = ": ".join(part for part in (deployment.failed_step, deployment.error_message) if part)
    if deployment.cancelled_by_us:
        reason = ", ".join(part for part in (reason, "cancelled by octorelease") if part)
    return reason


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class ConsoleReporter:
    """The Observer of the command line: human text on ``stream`` (stderr), live or plain.

    ``live=None`` decides by itself: live when ``stream`` is a terminal and no CI variable is
    set. ``secrets`` (the API key) are replaced by ``***`` in every line. ``verbosity`` 1 (``-v``)
    adds the notes an action marks as detail, deployment ids and links.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbosity: int = 0,
        log: bool = True,
        live: bool | None = None,
        secrets: Sequence[str] = (),
        environ: Mapping[str, str] = os.environ,
        groups: LogGroups | None = None,
        annotations: Annotations | None = None,
    ) -> None:
        from rich.console import Console

        out = sys.stderr if stream is None else stream
        isatty = getattr(out, "isatty", lambda: False)()
        in_ci = running_in_ci(environ)
        self._live = (isatty and not in_ci) if live is None else live
        self._verbosity = verbosity
        self._log = log
        self._secrets = tuple(secrets)
        if groups is None and in_ci:
            from octorelease.report.ci import log_groups

            groups = log_groups(environ)
        self._annotations = annotations
        no_color = environ.get("NO_COLOR", "") != ""
        force_color = not no_color and environ.get("FORCE_COLOR", "") != ""
        # Every choice rich would otherwise make from os.environ is made here from ``environ``.
        self._console: Console = Console(
            file=out,
            force_terminal=self._live or force_color or isatty,
            no_color=no_color,
            color_system=None if no_color else "auto",
            markup=False,
            emoji=False,
            highlight=False,
        )
        self._tracks: dict[str, _Track] = {}
        self._spinners: dict[str, Spinner] = {}
        self._view: Live | None = None
        #: Task logs in the CI's folds, streamed (``report/folds.py``); None without folds.
        self._folded = FoldedLog(groups, self._print, self._write_marker) if groups and not self._live else None
        self._release: str | None = None
        self._handler: str | None = None
        #: The error of the result whose table was printed last, by id: its line without the
        #: deployments' messages, which the table showed.
        self._tabled: dict[int, str] | None = None
        #: Fit the result table to the terminal: only a real one has a width to fit.
        self._fit = isatty

    # -- the Observer protocol -------------------------------------------------------------

    def note(self, message: str, *, level: int = 0) -> None:
        """Something the user should know; ``level=1`` notes are details shown only with -v."""
        if self._verbosity >= level:
            self._say(message)

    def warn(self, message: str, detail: str | None = None) -> None:
        """A warning line; in a CI, the CI's own warning annotation instead (said once), in
        full (``detail``): an annotation stands apart from the summary's table."""
        if self._annotations is not None:
            self._annotations.warning(redact(detail or message, self._secrets))
            return
        self._say(("Warning: ", "bold yellow"), (message, "yellow"))

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        track = self._track(deployment)
        track.printed_state = track.state
        if self._live:
            self._start_view()
        else:
            queued = f"Queued {deployment.task_id or deployment.deployment_id or ''}".rstrip()
            if deployment.waiting_for_schedule:
                queued += f", scheduled for {deployment.scheduled_for}"
            self._state_line(deployment, self._line(self._prefix(track), queued), finished=False)
        if self._verbosity >= 1:
            where = ", ".join(part for part in (deployment.deployment_id, deployment.web_url) if part)
            if where:
                self._say(self._prefix(track), (where, "dim"))

    def task_updated(self, deployment: DeploymentResult) -> None:
        track = self._track(deployment)
        if self._view is not None:
            self._view.refresh()
        if track.state == track.printed_state or (self._live and not track.finished):
            return
        track.printed_state = track.state
        line: list[str | tuple[str, str]] = [self._prefix(track), (track.state, self._state_style(deployment))]
        if track.finished:
            # Why it failed is said once, in the summary's table; its link is said here too.
            line.append(f" in {_seconds(track.elapsed(time.monotonic()))}")
            if deployment.failed and deployment.web_url:
                line.append((f" {deployment.web_url}", "dim"))
        self._state_line(deployment, self._line(*line), finished=track.finished)

    def _state_line(self, deployment: DeploymentResult, line: Text, *, finished: bool) -> None:
        """A deployment's state line: outside the CI's folds (``FoldedLog`` holds it while
        another task's fold is open), else printed now."""
        if self._folded is not None:
            self._folded.state(_key(deployment), self._group_title(deployment), line, finished=finished)
        else:
            self._print(line)

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        if not self._log or not lines:
            return
        track = self._track(deployment)
        prefix = [] if self._folded is not None else [self._prefix(track)]
        rendered: list[Text] = []
        for line in lines:
            # Each line of a multi-line message gets the prefix: a continuation line of a
            # script's output must not start a line of the build log on its own.
            where, style = self._log_where(line), CATEGORY_STYLES.get(line.category, "")
            rendered.extend(self._line(*prefix, (where, "dim"), (text, style)) for text in safe_lines(line.text))
        if self._folded is None:
            for text in rendered:
                self._print(text)
            return
        # The fold begins when the task began, however late its first lines are read.
        began = time.time() - track.elapsed(time.monotonic())
        self._folded.log(_key(deployment), self._group_title(deployment), rendered, began=began)

    def release_chosen(self, project: str, version: str) -> None:
        """Name the release being deployed, for the CI fold titles ("Deploy Web 1.3.0 to Test")."""
        self._release = f"{project} {version}"

    def error(self, exc: BaseException) -> None:
        """One line ``Error: <message>``, and a second ``  hint: <hint>`` when there is one.
        Failed deployments the summary's table has just shown are named without their messages:
        the table's Error column said them."""
        said = self._tabled.get(id(exc)) if self._tabled is not None else None
        self._say(("Error: ", "bold red"), (said if said is not None else str(exc), "red"))
        hint = getattr(exc, "hint", None)
        if hint:
            self._say(f"  hint: {hint}")

    def plan(self, plan: DeploymentPlan) -> None:
        """What ``--dry-run`` would have done, under a heading that says nothing was done."""
        self.release_chosen(plan.project.name, plan.release.name)
        self._say(("Dry run: nothing was created. The plan:", "bold"))
        for line in plan.describe():
            self._say(line)
        for warning in plan.warnings:
            self.warn(warning)

    def summary(self, result: ActionResult) -> None:
        """The end of the output: a table of the deployments and one verdict line.

        The result's error is not printed here: the caller passes it to ``error``, which
        is how errors raised outside a result reach the user too, so each is said once.
        """
        self._stop_view()
        if self._folded is not None:
            self._folded.close()  # a fold still open (a wait that timed out) ends before the table
        # The action is over: its lines leave the live view, which the next action (a later
        # handler of a run) starts afresh.
        self._tracks.clear()
        self._spinners.clear()
        self._tabled = None
        if result.action not in ("create", "deploy", "promote"):
            return  # the handler file's project variables: told as notes while they were set
        if result.dry_run:
            if result.plan is not None:
                self.plan(result.plan)
            return
        if result.deployments:
            self._print_table(result.deployments)
            if result.error is not None and any(_failure(d) for d in result.deployments):
                from octorelease.errors import DeploymentFailed

                if isinstance(result.error, DeploymentFailed):
                    self._tabled = {id(result.error): did_not_succeed(result.deployments, why=False)}
        verdict = self._verdict(result)
        if verdict is not None:
            self._print(verdict)

    def close(self) -> None:
        """End the live view, close the open fold and print the folds of tasks that did not end
        (interrupted, timed out, not waited for); safe to call more than once."""
        self._stop_view()
        if self._folded is not None:
            self._folded.close()

    def __enter__(self) -> ConsoleReporter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- what is shown ---------------------------------------------------------------------

    def _track(self, deployment: DeploymentResult) -> _Track:
        """The remembered state of ``deployment``, updated with what this event says."""
        now = time.monotonic()
        key = _key(deployment)
        track = self._tracks.get(key)
        if track is None:
            colour = ENVIRONMENT_COLOURS[len(self._tracks) % len(ENVIRONMENT_COLOURS)]
            track = self._tracks[key] = _Track(deployment, colour, seen_at=now, updated_at=now)
        track.deployment = deployment
        if deployment.duration_seconds != track.server_seconds:
            # Restart our own clock only when the server's figure moves, or a log event
            # carrying the old figure would make the elapsed time jump backwards.
            track.server_seconds, track.updated_at = deployment.duration_seconds, now
        if track.finished and track.finished_at is None:
            track.finished_at = now
        return track

    @staticmethod
    def _prefix(track: _Track) -> tuple[str, str]:
        return (f"[{track.deployment.label}] ", track.colour)

    @staticmethod
    def _log_where(line: LogLine) -> str:
        return f"{line.step} ({line.machine}): " if line.machine else f"{line.step}: "

    @staticmethod
    def _state_style(deployment: DeploymentResult) -> str:
        return "red" if deployment.failed else STATE_STYLES.get(deployment.state, "")

    def handler_started(self, name: str) -> None:
        """Name the handler whose actions follow, so CI folds read "Ship to Test: Deploy Web 1.3.0 to Test"."""
        self._handler = name

    def _group_title(self, deployment: DeploymentResult) -> str:
        title = " ".join(part for part in ("Deploy", self._release, "to", deployment.label) if part)
        return f"{self._handler}: {title}" if self._handler else title

    def _table(self, deployments: Sequence[DeploymentResult], *, links: bool = True) -> Table:
        """Environment, state, duration and task of each deployment; its link (unless ``links``
        is False: they are printed under the table); why, for failed ones."""
        from rich import box
        from rich.table import Table

        with_errors = any(_failure(d) for d in deployments)
        with_links = links and any(d.web_url for d in deployments)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        headings = ("Environment", "State", "Duration", "Task") + (("Link",) if with_links else ())
        for heading in headings:
            table.add_column(heading, no_wrap=True)
        if with_errors:
            table.add_column("Error", overflow="fold")
        for d in deployments:
            duration = _seconds(d.duration_seconds) if d.duration_seconds is not None else "-"
            cells = [
                self._line(d.label),
                self._line((d.state, self._state_style(d))),
                self._line(duration),
                self._line(d.task_id or "-"),
            ]
            if with_links:
                cells.append(self._line((d.web_url or "", "dim")))
            if with_errors:
                cells.append(self._line((_failure(d), "red")))
            table.add_row(*cells)
        return table

    def _verdict(self, result: ActionResult) -> Text | None:
        """One line on how the action went, or None when only the error line can say it."""
        deployments = result.deployments
        if result.action == "create" and not deployments:
            return None  # "Created release 1.4.0 of Web (...)" was said as it happened: once is enough
        failed = [d for d in deployments if d.failed]
        succeeded = [d for d in deployments if d.state == "Success" and not d.already_deployed]
        already = [d for d in deployments if d.state == "Success" and d.already_deployed]
        pending = [d for d in deployments if d.state not in FINISHED_STATES]
        queued = ", ".join(
            f"{d.task_id} ({d.label}" + (f", scheduled for {d.scheduled_for})" if d.waiting_for_schedule else ")")
            for d in pending
        )
        if failed and result.error is not None:
            return None  # the error line says it
        if failed:
            return self._line((f"{len(failed)} of {_plural(len(deployments), 'deployment')} failed.", "bold red"))
        if result.error is not None:
            if not pending:
                return None
            return self._line(
                (f"{len(pending)} of {_plural(len(deployments), 'deployment')} had not finished: ", "yellow"), queued
            )
        pieces = [f"{len(succeeded)} succeeded"] if succeeded else []
        if already:
            pieces.append(f"{len(already)} already there")
        if pending:
            pieces.append(f"queued {queued}")
        return self._line(
            (
                _headline(result) + (": " + "; ".join(pieces) if pieces else "") + ".",
                "bold green" if (succeeded or already) and not pending else "",
            )
        )

    # -- writing ---------------------------------------------------------------------------

    def _line(self, *parts: str | tuple[str, str]) -> Text:
        """A styled line whose every part is cleaned and redacted: the one way text is built.

        Parts carry names and messages from the server, so each is made one line with no
        escapes and no CI marker (``safe_text``); a line break inside one would start a line of
        the build log that a CI agent reads as a command.
        """
        from rich.text import Text

        text = Text()
        for part in parts:
            content, style = (part, "") if isinstance(part, str) else part
            text.append(redact(one_line(content), self._secrets), style=style)
        return text

    def _say(self, *parts: str | tuple[str, str]) -> None:
        self._print(self._line(*parts))

    def _print(self, renderable: RenderableType, *, soft_wrap: bool = True) -> None:
        """Print above the live region, or as whole lines.

        ``soft_wrap`` leaves long lines to the terminal: rich would otherwise break a log line
        at 80 columns in a build log.
        """
        self._console.print(renderable, soft_wrap=soft_wrap)

    def _print_table(self, deployments: Sequence[DeploymentResult]) -> None:
        """The result table, fitted to a terminal's width: when it is wider, the links go under
        it, one a line, and the Error column wraps within itself, so that no line of it wraps
        (at 80 columns the rule and the links did). Where it cannot fit without cutting a task
        id (a very narrow terminal), and where there is no terminal (a CI log is as wide as its
        lines), it is printed at its natural width: the terminal wraps an over-wide line, which
        loses nothing."""
        table = self._table(deployments)
        terminal = self._console.width
        if self._fit and self._widths(table)[1] > terminal:
            narrow = self._table(deployments, links=False)
            if self._widths(narrow)[0] <= terminal:
                self._console.print(narrow, soft_wrap=False)
                for d in deployments:
                    if d.web_url:
                        self._say(f"{d.label}: ", (d.web_url, "dim"))
                return
        previous = self._console.width
        self._console.width = max(self._widths(table)[1], previous)  # print(width=) is capped at the console's
        try:
            self._console.print(table, soft_wrap=False, crop=False)
        finally:
            self._console.width = previous

    def _widths(self, table: Table) -> tuple[int, int]:
        """The least and the natural width of ``table``, whatever the console's width."""
        from rich.measure import Measurement

        measured = Measurement.get(self._console, self._console.options.update_width(10_000), table)
        return measured.minimum, measured.maximum

    def _write_marker(self, marker: str) -> None:
        """A CI fold marker goes out verbatim: rich would strip the escape codes GitLab needs."""
        self._console.file.write(redact(marker, self._secrets) + "\n")
        self._console.file.flush()

    # -- the live view ---------------------------------------------------------------------

    def _start_view(self) -> None:
        if self._view is not None:
            return
        from rich.live import Live

        self._view = Live(
            console=self._console,
            get_renderable=self._board,
            transient=True,
            refresh_per_second=4,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._view.start(refresh=True)

    def _stop_view(self) -> None:
        if self._view is not None:
            self._view.stop()
            self._view = None

    def _board(self) -> RenderableType:
        """The live region, rebuilt at every refresh so elapsed times tick between events."""
        from rich.spinner import Spinner
        from rich.table import Table

        now = time.monotonic()
        grid = Table.grid(padding=(0, 1))
        for key, track in list(self._tracks.items()):
            deployment = track.deployment
            if track.finished:
                mark: RenderableType = self._line(("✗", "red") if deployment.failed else ("✓", "green"))
            else:
                mark = self._spinners.setdefault(key, Spinner("dots", style="cyan"))
            grid.add_row(
                mark,
                self._line((deployment.label, track.colour)),
                self._line((track.state, self._state_style(deployment))),
                self._line((format_duration(round(track.elapsed(now))), "dim")),
            )
        return grid


def _headline(result: ActionResult) -> str:
    """What the action did, in the past tense: "Promoted Web 1.1.0 from Development to Test"."""
    what = " ".join(ref.name for ref in (result.project, result.release) if ref is not None)
    targets = ", ".join(d.label for d in result.deployments)
    if result.action == "promote" and any(d.release for d in result.deployments):
        # Tenants that ran different releases: each target says which it got.
        each = ", ".join(f"{d.release.name if d.release else '?'} to {d.label}" for d in result.deployments)
        return f"Promoted {result.project.name if result.project else ''} from {result.from_environment}: {each}"
    if result.action == "promote":
        return f"Promoted {what} from {result.from_environment} to {targets}"
    if result.action == "deploy":
        return f"Deployed {what} to {targets}"
    if result.action == "create":
        made = "Used the existing release" if result.release_created is False else "Created release"
        return f"{made} {what}" + (f" and deployed it to {targets}" if targets else "")
    return f"{result.action.capitalize()} {what}".rstrip()

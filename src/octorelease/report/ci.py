"""CI-native output: folded log groups, error annotations, step outputs, a job summary.

Each CI has its own little language in the build log. What we write for each:

=========== ============================== =================================== =====================
CI          fold a group                   error / warning                     outputs for later steps
=========== ============================== =================================== =====================
GitHub      ``::group::T`` /               ``::error title=T::M`` /            ``name=value`` lines in
            ``::endgroup::``               ``::warning title=T::M``            ``$GITHUB_OUTPUT`` (1)
GitLab      ``section_start`` /            ``Error: M`` (4) / ``WARNING: M``   ``OCTORELEASE_N=value``
            ``section_end`` (collapsed)                                        in a dotenv report (3)
Azure       ``##[group]T`` /               ``##vso[task.logissue type=error]M`` ``##vso[task.setvariable
            ``##[endgroup]``                                                   variable=N;isOutput=true]V``
TeamCity    ``##teamcity[blockOpened`` /   ``##teamcity[buildProblem`` (2) /   ``##teamcity[setParameter
            ``blockClosed``                ``message ... status='WARNING']``   name='octorelease.N']``
Jenkins     a plain ``== T`` line          ``Error: M`` (4) / ``WARNING: M``   -
=========== ============================== =================================== =====================

(1) Multi-line values use GitHub's ``name<<DELIMITER`` form, with a random delimiter that is
checked not to occur in the value. GitHub also gets a Markdown table in
``$GITHUB_STEP_SUMMARY`` (``write_summary``). (2) ``buildProblem`` fails the TeamCity build, so
call ``error`` only for failures that should fail it (``--fail-on-error``); use ``warning`` else.
(3) ``$OCTORELEASE_DOTENV``, default ``octorelease.env``, for ``artifacts: reports: dotenv:``.
(4) The console's own error line, written once: ``error`` writes nothing more there.
A message that starts ``FILE:LINE: `` (a handler-file error) is annotated at that file and line
on GitHub (``file=,line=``) and Azure (``sourcepath=;linenumber=``).

Outside a CI nothing is written: the console report already says it all.

Every value is escaped for its CI (a newline in a message must not end the command, nor start a
new one), and everything written, to the stream or to a file, is first cleaned (``safe_text``:
no escapes, no control characters, no CI marker in text we did not write) and redacted: the
given secrets, and anything shaped like an Octopus API key, become ``***``.

``CiReporter`` takes the stream and the environment as arguments (no globals), so tests give
it a ``StringIO`` and a dict, and files land where the dict's ``GITHUB_OUTPUT`` points.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from octorelease.ci_env import detect_ci
from octorelease.safe_text import clean, one_line, safe_json
from octorelease.schedule import format_duration
from octorelease.secrets import redact_keys

#: Where GitLab's dotenv report is written unless ``OCTORELEASE_DOTENV`` names a file.
DOTENV_FILE = "octorelease.env"

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

Clock = Callable[[], float]


# ---------------------------------------------------------------------------------------------
# Escaping, one function per CI language


def github_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF would end or forge a command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value (``title=``): also ``:`` and ``,``."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def azure_data(text: str) -> str:
    """A logging command's message, escaped as azure-pipelines-task-lib does."""
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def azure_property(text: str) -> str:
    """A logging command's property value: also ``;`` and ``]``, which end it."""
    return azure_data(text).replace(";", "%3B").replace("]", "%5D")


_TEAMCITY_ESCAPES = {
    "|": "||",
    "'": "|'",
    "\n": "|n",
    "\r": "|r",
    "[": "|[",
    "]": "|]",
    "\u0085": "|x",
    "\u2028": "|l",
    "\u2029": "|p",
}


def teamcity_value(text: str) -> str:
    """A service message attribute value, with TeamCity's ``|`` escapes."""
    return "".join(_TEAMCITY_ESCAPES.get(char, char) for char in text)


# ---------------------------------------------------------------------------------------------
# Folds


#: GitLab section names made by this process: each is unique in the job's log (see ``LogFolds``).
_SECTIONS = itertools.count(1)
_STARTED = int(time.time())


class LogFolds:
    """The marker lines that open and close a fold in one CI's log (``None`` outside one).

    It is also what the console reporter asks ``log_groups`` for, so task logs it prints are
    folded with the same markers.

    GitLab's markers carry a Unix time each, and GitLab shows a section's duration as their
    difference: ``at`` gives the moment a fold really began or ended (the console prints a
    fold it held back later). Its section names are unique in the job's log, where two
    octorelease commands of one job write one after the other: the process (its id and start),
    and a count that goes on across the runs of one process.
    """

    def __init__(self, ci: str, clock: Clock = time.time) -> None:
        self.ci = ci
        self._clock = clock
        self._sections: dict[str, list[str]] = {}  # GitLab: title -> open section names

    def open(self, title: str, at: float | None = None) -> str:
        """The line that starts a fold named ``title`` (which began ``at``, by default now)."""
        title = one_line(title)
        if self.ci == "github":
            return f"::group::{github_data(title)}"
        if self.ci == "azure":
            return f"##[group]{title}"
        if self.ci == "teamcity":
            return f"##teamcity[blockOpened name='{teamcity_value(title)}']"
        if self.ci == "gitlab":
            name = f"octorelease_{os.getpid()}_{_STARTED}_{next(_SECTIONS)}"
            self._sections.setdefault(title, []).append(name)
            return f"\x1b[0Ksection_start:{self._stamp(at)}:{name}[collapsed=true]\r\x1b[0K{title}"
        return f"== {title}"

    def _stamp(self, at: float | None) -> int:
        return int(self._clock() if at is None else at)

    def close(self, title: str, at: float | None = None) -> str:
        """The line that ends the fold named ``title`` (which ended ``at``, by default now);
        empty where a CI has no such line."""
        title = one_line(title)
        if self.ci == "github":
            return "::endgroup::"
        if self.ci == "azure":
            return "##[endgroup]"
        if self.ci == "teamcity":
            return f"##teamcity[blockClosed name='{teamcity_value(title)}']"
        if self.ci == "gitlab":
            opened = self._sections.get(title)
            name = opened.pop() if opened else "octorelease"
            return f"\x1b[0Ksection_end:{self._stamp(at)}:{name}\r\x1b[0K"
        return ""


def log_groups(environ: Mapping[str, str], clock: Clock = time.time) -> LogFolds | None:
    """The folds of the CI we run in; None outside a CI. Jenkins has no folds: its "fold" is a
    headed run of lines (``== Deploy Web 1.3.0 to Test``), as the docs promise (docs/guides/handler-file.md)."""
    ci = detect_ci(environ)
    return LogFolds(ci, clock) if ci in ("github", "gitlab", "azure", "teamcity", "jenkins") else None


# ---------------------------------------------------------------------------------------------
# What a result gives later steps, and the summary rows


#: The per-deployment outputs: output name -> the deployment's JSON field. Each is a
#: comma-separated list, one entry per deployment in the same order, so entry i of every list
#: is about the same deployment.
DEPLOYMENT_OUTPUTS = {
    "environments": "environment",
    "deployment_ids": "deployment_id",
    "task_ids": "task_id",
    "states": "state",
    "web_urls": "web_url",
}


def step_outputs(result: Mapping[str, Any]) -> dict[str, str]:
    """The outputs later steps read from a ``--json`` result (one action's, or ``run``'s).

    ``ok`` (``true``/``false``), the last release acted on (``release_version``,
    ``release_id``), per deployment (``DEPLOYMENT_OUTPUTS``, comma-separated, in the same
    order) its environment, deployment id, task id, state and web URL, and the whole result
    as compact JSON in ``result`` for anything else (GitHub: ``fromJSON(steps.x.outputs.result)``).
    """
    actions = _actions(result)
    releases = [action["release"] for action in actions if action.get("release")]
    deployments = [  # those made on the server: a dry run's planned ones have no ids
        deployment
        for action in actions
        for deployment in action.get("deployments") or []
        if deployment.get("task_id") or deployment.get("deployment_id")
    ]
    outputs = {
        "ok": "true" if result.get("ok") else "false",
        "release_version": str(releases[-1].get("version", "")) if releases else "",
        "release_id": str(releases[-1].get("id", "")) if releases else "",
    }
    for name, field in DEPLOYMENT_OUTPUTS.items():
        outputs[name] = ",".join(str(deployment.get(field) or "").replace(",", "%2C") for deployment in deployments)
    outputs["result"] = safe_json(result, compact=True)
    return outputs


def ignored_failures(result: Mapping[str, Any]) -> list[str]:
    """The deployments that failed although the result is ok (``--no-fail-on-error`` or
    ``fail_build_on_error: false``): "Test (Failed)", one per deployment."""
    if not result.get("ok"):
        return []
    failures = [
        f"{_environment_label(deployment)} ({deployment.get('state')})"
        for action in _actions(result)
        for deployment in action.get("deployments") or []
        if deployment.get("state") in ("Failed", "Canceled", "TimedOut")
    ]
    # a handler whose action was refused (no deployment to name) under fail_build_on_error: false
    failures += [
        f"{handler.get('name')} ({(action.get('error') or {}).get('message', '')})"
        for handler in result.get("handlers") or []
        if handler.get("outcome") == "failed (ignored)"
        for action in handler.get("actions") or []
        if action.get("error")
    ]
    return failures


_LOCATION = re.compile(r"(?P<file>[^:\n]+):(?P<line>[0-9]+): ")


def location_of(message: str) -> tuple[str, int] | None:
    """The ``FILE:LINE: `` a handler-file error starts with, for an annotation at that line."""
    match = _LOCATION.match(message)
    return (match["file"], int(match["line"])) if match else None


def _actions(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The action results inside ``result``: itself, or every handler's actions for ``run``."""
    if "handlers" in result:
        return [action for handler in result["handlers"] for action in handler.get("actions") or []]
    return [result]


@dataclass(frozen=True)
class SummaryRow:
    """One line of the job summary: one deployment, or an action that deployed nothing."""

    action: str  # "promote", or "Ship to Test / promote" when a handler ran it
    project: str
    release: str
    environment: str
    state: str
    duration_seconds: float | None = None
    task_id: str | None = None
    task_url: str | None = None
    message: str = ""  # why an action that deployed nothing ended in Error


def summary_rows(result: Mapping[str, Any]) -> list[SummaryRow]:
    """The rows of a ``--json`` result: one action's, or ``run``'s with its ``handlers``."""
    if "handlers" in result:
        return [
            row
            for handler in result["handlers"]
            for action in handler.get("actions") or []
            for row in _action_rows(action, prefix=f"{handler['name']} / ")
        ]
    return _action_rows(result)


def _action_rows(action: Mapping[str, Any], prefix: str = "") -> list[SummaryRow]:
    name = prefix + str(action.get("action", ""))
    project = (action.get("project") or {}).get("name", "")
    release = (action.get("release") or {}).get("version", "")
    deployments = action.get("deployments") or []
    if not deployments:
        error = action.get("error")
        state = "Error" if error else ("Created" if action.get("created") else "Done")
        message = str(error.get("message", "")) if isinstance(error, Mapping) else str(error or "")
        return [SummaryRow(name, project, release, "", state, message=message)]
    return [
        SummaryRow(
            action=name,
            project=project,
            release=release,
            environment=_environment_label(deployment),
            state=str(deployment.get("state", "")),
            duration_seconds=deployment.get("duration_seconds"),
            task_id=deployment.get("task_id"),
            task_url=deployment.get("web_url"),
            message=_people(deployment),
        )
        for deployment in deployments
    ]


def _people(deployment: Mapping[str, Any]) -> str:
    """What a person was asked, in a summary row: what it waits for (and who can act), or how
    it was answered and by whom."""
    said = [f"waits for a person: {p.get('title')} ({', '.join(p.get('teams') or []) or 'anyone'})"
            for p in deployment.get("pending_interruptions") or () if isinstance(p, Mapping)]
    from octorelease.actions.interruptions import PAST

    said += [f"{a.get('title')}: {PAST.get(str(a.get('answer')), 'answered')}"
             + (f" by {a.get('answered_by')}" if a.get("answered_by") else "")
             for a in deployment.get("answered_interruptions") or () if isinstance(a, Mapping)]
    return "; ".join(said)


def _environment_label(deployment: Mapping[str, Any]) -> str:
    environment = str(deployment.get("environment", ""))
    tenant = deployment.get("tenant")
    return f"{environment} ({tenant})" if tenant else environment


_STATE_ICONS = {"Success": "✅", "Failed": "❌", "TimedOut": "⏱️", "Canceled": "⛔", "Error": "❌"}
_SUMMARY_COLUMNS = ("Handler/Action", "Project", "Release", "Environment", "State", "Duration", "Task link")


def markdown_summary(rows: Sequence[SummaryRow], title: str = "octorelease") -> str:
    """A Markdown heading and table of ``rows`` (GitHub's job summary renders it)."""
    lines = [
        f"### {_cell(title)}",
        "",
        "| " + " | ".join(_SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(_SUMMARY_COLUMNS),
    ]
    for row in rows:
        icon = _STATE_ICONS.get(row.state)
        cells = [
            row.action,
            row.project,
            row.release,
            row.environment,
            (f"{icon} {row.state}" if icon else row.state) + (f": {row.message}" if row.message else ""),
            format_duration(round(row.duration_seconds, 1)) if row.duration_seconds is not None else "",
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + f" | {_link(row)} |")
    return "\n".join(lines) + "\n\n"


def _cell(text: str) -> str:
    """Table-safe text: no line breaks, no column breaks, no HTML."""
    text = one_line(text).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(row: SummaryRow) -> str:
    label = _cell(row.task_id or "task")
    url = row.task_url or ""
    if not url.startswith(("https://", "http://")):
        return label if row.task_id else ""
    return f"[{label}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


# ---------------------------------------------------------------------------------------------
# The reporter


class CiReporter:
    """Writes CI-native output for the CI found in ``environ`` (nothing outside a CI).

    ``stream`` receives the log lines (stderr when not given, looked up at each write so test
    capture works); files named by ``environ`` (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``)
    receive outputs and the summary. ``secrets`` are hidden in everything written.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        stream: TextIO | None = None,
        *,
        secrets: Iterable[str] = (),
        clock: Clock = time.time,
    ) -> None:
        self.ci = detect_ci(environ)
        self._environ = environ
        self._stream = stream
        self._secrets = [secret for secret in secrets if secret]
        self._folds = LogFolds(self.ci, clock) if self.ci is not None else None

    @contextmanager
    def group(self, name: str) -> Iterator[None]:
        """Fold what is written inside the block under ``name``."""
        if self._folds is not None:
            self._write(self._folds.open(self._clean(name)))
        try:
            yield
        finally:
            if self._folds is not None:
                closing = self._folds.close(self._clean(name))
                if closing:
                    self._write(closing)

    def error(self, message: str, *, title: str | None = None) -> None:
        """An error annotation (on TeamCity, a build problem that fails the build). A message
        that starts ``FILE:LINE: `` (a handler-file error) is annotated at that file and line."""
        self._annotate("error", message, title)

    def warning(self, message: str, *, title: str | None = None) -> None:
        """A warning annotation (on TeamCity, a message with the WARNING status)."""
        self._annotate("warning", message, title)

    def succeeded_with_issues(self, message: str) -> None:
        """End an Azure step as SucceededWithIssues (a failure ignored on purpose); elsewhere
        the warning annotation already said it."""
        if self.ci == "azure":
            self._write(f"##vso[task.complete result=SucceededWithIssues;]{azure_data(self._clean(message))}")

    def report(self, result: Mapping[str, Any], *, error: str | None = None) -> None:
        """Everything a finished command gives its CI: the outputs, the summary, the error
        annotation (when the command failed) and, for failures ignored on purpose, the step's
        state with issues (Azure). Every command calls this, ``run`` as ``promote``."""
        if self.ci is None:
            return
        self.set_outputs(step_outputs(result))
        self.write_summary(summary_rows(result), error=error)
        if error is not None:
            self.error(error, title="octorelease")
        ignored = ignored_failures(result)
        if ignored:
            self.succeeded_with_issues(f"failed, ignored: {', '.join(ignored)}")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Outputs for later steps of the job (GitHub, Azure, TeamCity; ignored elsewhere)."""
        for name in outputs:
            if not _OUTPUT_NAME.fullmatch(name):
                raise ValueError(f"output name {name!r} is not letters, digits, '_' and '-'")
        values = {name: self._clean(value) for name, value in outputs.items()}
        if self.ci == "github":
            self._append("GITHUB_OUTPUT", "".join(_github_output(name, value) for name, value in values.items()))
        elif self.ci == "azure":
            for name, value in values.items():
                self._write(f"##vso[task.setvariable variable={name};isOutput=true]{azure_data(value)}")
        elif self.ci == "teamcity":
            for name, value in values.items():
                self._write(f"##teamcity[setParameter name='octorelease.{name}' value='{teamcity_value(value)}']")
        elif self.ci == "gitlab":
            self._write_dotenv(values)

    def _write_dotenv(self, values: Mapping[str, str]) -> None:
        """GitLab's dotenv report: ``OCTORELEASE_<NAME>=value`` lines in the file
        ``$OCTORELEASE_DOTENV`` names (default ``octorelease.env``), for the job to declare under
        ``artifacts: reports: dotenv:``. GitLab takes single-line values only and small files,
        so the whole ``result`` JSON is left out (``--json`` gives it)."""
        path = self._environ.get("OCTORELEASE_DOTENV") or DOTENV_FILE
        lines = [
            f"OCTORELEASE_{name.upper().replace('-', '_')}={one_line(value)}\n"
            for name, value in values.items()
            if name != "result"
        ]
        with open(path, "w", encoding="utf-8") as file:
            file.writelines(lines)

    def write_summary(
        self, rows: Sequence[SummaryRow], *, title: str = "octorelease", error: str | None = None
    ) -> None:
        """Append a Markdown table of ``rows``, and the error that ended the command, to GitHub's
        job summary (ignored elsewhere): a failed step's summary says why, not only "Error"."""
        if self.ci != "github" or not (rows or error):
            return
        text = markdown_summary(rows, title) if rows else f"### {_cell(title)}\n\n"
        if error is not None:
            text += f"❌ **Error:** {_cell(error)}\n\n"
        self._append("GITHUB_STEP_SUMMARY", self._clean(text))

    def _annotate(self, level: str, message: str, title: str | None) -> None:
        message = self._clean(message)
        title = self._clean(title) if title else None
        where = location_of(message)
        if self.ci == "github":
            properties = [f"file={github_property(where[0])}", f"line={where[1]}"] if where else []
            properties += [f"title={github_property(title)}"] if title else []
            self._write(f"::{level}{' ' + ','.join(properties) if properties else ''}::{github_data(message)}")
        elif self.ci == "azure":
            text = f"{title}: {message}" if title else message
            source = f";sourcepath={azure_property(where[0])};linenumber={where[1]}" if where else ""
            self._write(f"##vso[task.logissue type={level}{source}]{azure_data(text)}")
        elif self.ci == "teamcity":
            text = teamcity_value(f"{title}: {message}" if title else message)
            if level == "error":
                self._write(f"##teamcity[buildProblem description='{text}']")
            else:
                self._write(f"##teamcity[message text='{text}' status='WARNING']")
        elif self.ci is not None and level != "error":
            # GitLab and Jenkins have no annotations: the console's own ``Error:`` line is the
            # error line there, and an ``ERROR:`` line after it would say it twice.
            self._write(f"{level.upper()}: {title + ': ' if title else ''}{message}")

    def _clean(self, text: str) -> str:
        """Safe to write: no escapes, no CI marker (``safe_text``), no secret."""
        return redact_keys(clean(text), self._secrets)

    def _write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def _append(self, variable: str, text: str) -> None:
        path = self._environ.get(variable)
        if path:
            with open(path, "a", encoding="utf-8") as file:
                file.write(text)


def _github_output(name: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry; a multi-line value gets a delimiter it cannot contain."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"

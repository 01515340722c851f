"""``octorelease interruptions``: list the deployments that wait for a person, and answer one.

``list`` shows what waits for a project, an environment, a task or a whole run's JSON output;
``proceed``/``abort`` answer a manual intervention, ``retry``/``ignore``/``exclude``/``fail`` a
guided failure, taking responsibility first. Outside the responsible teams: exit 4, naming them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from octorelease import errors, secrets
from octorelease.cli.exit_codes import EXIT_CODES_HELP
from octorelease.cli.options import GlobalOptions, global_options, server_connection
from octorelease.cli.output import configure_logging

F = Callable[..., Any]


def _where(func: F) -> F:
    """The options that say which deployments to look at (all of them may be combined)."""
    for decorator in reversed([
        click.option("--project", default=None, metavar="NAME|ID", help="Interruptions of this project's deployments."),
        click.option("--environment", default=None, metavar="NAME|ID",
                     help="Interruptions of deployments to this environment."),
        click.option("--task", "tasks", multiple=True, metavar="ID", help="Interruptions of this task (repeatable)."),
        click.option("--run-json", default=None, metavar="FILE", type=click.Path(dir_okay=False),
                     help="Interruptions of the tasks in this --json output of promote, deploy, create or run "
                          "('-': stdin)."),
    ]):
        func = decorator(func)
    return func


def _tasks_of_run(path: str) -> list[str]:
    """The task ids of a ``--json`` document (one action, or ``run``'s handlers' actions)."""
    from pathlib import Path

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError) as exc:
        raise errors.InvalidInput(f"--run-json {path}: not a readable JSON document ({exc}).") from None
    actions = [a for h in doc.get("handlers") or () for a in h.get("actions") or ()] if isinstance(doc, dict) else []
    found = [d.get("task_id") for a in [doc, *actions] if isinstance(a, dict)
             for d in a.get("deployments") or () if isinstance(d, dict)]
    tasks = [str(t) for t in found if t]
    if not tasks:
        raise errors.InvalidInput(f"--run-json {path}: it names no deployment task.")
    return tasks


def _regarding(space: Any, project: str | None, environment: str | None, tasks: tuple[str, ...],
               run_json: str | None) -> tuple[list[str], list[str], str]:
    """The tasks to ask about, the project and environment they must regard, and how to say so."""
    regarding = [*tasks, *(_tasks_of_run(run_json) if run_json else [])]
    within, said = [], []
    if project:
        within.append(space.project(project).id)
        said.append(f"in project {project}")
    if environment:
        from octorelease.actions.targets import resolve_environments

        [found] = resolve_environments(space, [environment])
        within.append(found.id)
        said.append(f"in {found.name}")
    if regarding:
        said.append("for " + ", ".join(regarding))
    return regarding, within, " ".join(said) or "in the space"


def _connected(ctx: click.Context) -> tuple[Any, GlobalOptions, list[str]]:
    from octorelease.client import Octopus

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    configure_logging(options.verbose)
    secrets.remember(options.api_key)
    server, api_key, verify = server_connection(options)
    return Octopus(server, api_key, space=options.space, verify=verify), options, [api_key]


def _emit(options: GlobalOptions, keys: list[str], doc: dict[str, Any], lines: list[str]) -> None:
    from octorelease.report.console import render_json
    from octorelease.safe_text import one_line

    if options.json:
        render_json(doc, secrets=keys)
        return
    for line in lines:
        click.echo(one_line(line) if line else "")


@click.group(epilog=EXIT_CODES_HELP)
def interruptions() -> None:
    """List deployments that wait for a person, and answer them.

    A manual intervention step waits for someone to proceed or abort; with guided failure, a
    failed step waits for someone to retry, ignore, exclude the machine, or fail. Answering
    takes responsibility first, as the Octopus portal does; only members of the responsible
    teams may (exit 4 otherwise, naming the teams).
    """


@interruptions.command("list")
@_where
@global_options(on_group=False)
@click.pass_context
def list_command(ctx: click.Context, /, project: str | None, environment: str | None, tasks: tuple[str, ...],
                 run_json: str | None) -> None:
    """Show the pending interruptions (JSON: pending_interruptions)."""
    from octorelease.actions.interruptions import pending

    octopus, options, keys = _connected(ctx)
    with octopus:
        regarding, within, said = _regarding(octopus.space, project, environment, tasks, run_json)
        found = pending(octopus.space, regarding=regarding, within=within)
    lines = [f"Nothing waits for a person {said}."] if not found else []
    for p in found:
        waited = f"{p.waited_seconds:.0f}s" if p.waited_seconds is not None else "?"
        verbs = "proceed|abort" if p.type == "ManualIntervention" else "retry|ignore|exclude|fail"
        lines += [f"{p.id}: {p.sentence()} (waiting {waited})",
                  *([f"  instructions: {p.instructions}"] if p.instructions else []),
                  f"  answer: octorelease interruptions {verbs} {p.id}"
                  + ("" if p.can_act else " (by a member of those teams)"),
                  f"  {p.web_url}"]
    _emit(options, keys, {"ok": True, "action": "interruptions",
                          "pending_interruptions": [p.to_dict() for p in found], "error": None}, lines)


def _answer_command(verb: str, summary: str) -> click.Command:
    @click.argument("interruption_id", required=False, metavar="[ID]")
    @_where
    @click.option("--notes", default=None, help="Notes recorded with the answer (the audit log shows them).")
    @global_options(on_group=False)
    @click.pass_context
    def command(ctx: click.Context, /, interruption_id: str | None, project: str | None, environment: str | None,
                tasks: tuple[str, ...], run_json: str | None, notes: str | None) -> None:
        from octorelease.actions.interruptions import PAST, answer, describe, one_pending

        octopus, options, keys = _connected(ctx)
        with octopus:
            space = octopus.space
            if interruption_id is None:
                if not (project or environment or tasks or run_json):
                    raise errors.InvalidInput(f"Name the interruption to {verb}: its ID, or --task, --project, "
                                              "--environment or --run-json to find the one that waits.")
                regarding, within, said = _regarding(space, project, environment, tasks, run_json)
                interruption_id = one_pending(space, regarding, within, said)
            done = answer(space, interruption_id, verb, notes)
            seen = describe(space, done)
        how = PAST.get(done.answer or "", verb)
        line = f"{done.id} ({done.title}) {how}" + (f" by {done.answered_by}" if done.answered_by else "") + \
            (f": {notes}" if notes else "") + f"; {done.task_id} goes on: {seen.web_url}"
        _emit(options, keys, {"ok": True, "action": verb, "interruption": {**seen.to_dict(), "answer": done.answer,
                                                                          "answered_by": done.answered_by},
                              "error": None}, [line])

    command.__doc__ = summary
    return interruptions.command(verb, epilog=EXIT_CODES_HELP)(command)


for _verb, _summary in (
    ("proceed", "Proceed with a manual intervention (ID, or the one that waits for --task/--project/...)."),
    ("abort", "Abort a manual intervention: the deployment fails."),
    ("retry", "Guided failure: run the failed step again."),
    ("ignore", "Guided failure: ignore the failure and go on."),
    ("exclude", "Guided failure: leave the machine out of the rest of the deployment."),
    ("fail", "Guided failure: fail the deployment."),
):
    _answer_command(_verb, _summary)

"""Which handlers run for a build event, and why each one does or does not.

Every handler gets a decision with a reason, so ``run --dry-run`` and the report can say
"status is failure, handler runs on success" instead of leaving the user to guess.

Rules, in the order they are checked (the first that fails is the reason):

1. ``enabled: false`` never runs.
2. The event must be the handler's event.
3. Status: a handler without ``status:`` runs on either. A handler with one runs only when the
   status given matches. When the event carries a status (stage-completed, build-completed) but
   none was given, a handler that asks for one does **not** run: deploying after a build whose
   outcome we do not know is the riskier guess, and the reason says to pass ``--status``.
4. Stage: a handler without ``stage:`` runs at every stage ("(all stages)" in ContinuaCI); one
   with a stage runs only when that stage is given.
5. Conditions, in file order; the first false one is named with its values.

Handlers are returned in run order: by ``run_order``, then as written; handlers without a
``run_order`` come after those with one, in file order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from octorelease.errors import InvalidInput
from octorelease.handler.build_values import placeholders, unfilled_message
from octorelease.handler.conditions import Evaluation, evaluate
from octorelease.handler.events import STATUS_EVENTS, parse_event, parse_status
from octorelease.handler.file import Handler, HandlerFile, HandlerFileError, build_value_faults


@dataclass(frozen=True)
class Decision:
    """Whether one handler runs for this build event, and the reason, in words."""

    index: int  # position in the file: handlers[index]
    handler: Handler
    will_run: bool
    reason: str
    conditions: tuple[Evaluation, ...] = ()
    #: The input it waits for and was not given ("status" or "stage"): with it, it might run.
    wants: str | None = None


def run_order(handler_file: HandlerFile) -> list[int]:
    """Indexes of the handlers in the order they run."""
    handlers = handler_file.handlers
    return sorted(
        range(len(handlers)),
        key=lambda index: (handlers[index].run_order is None, handlers[index].run_order or 0, index),
    )


def select_handlers(
    handler_file: HandlerFile,
    *,
    event: str,
    status: str | None = None,
    stage: str | None = None,
    values: Mapping[str, str],
) -> list[Decision]:
    """A decision for every handler, in run order.

    ``event`` and ``status`` accept the same spellings as the handler file. A condition that
    uses an unknown build value raises HandlerFileError pointing at the condition.
    """
    event = parse_event(event)
    status = parse_status(status) if status is not None else None
    return [
        _decide(handler_file, index, event, status if event in STATUS_EVENTS else None, stage, values)
        for index in run_order(handler_file)
    ]


def _decide(
    handler_file: HandlerFile,
    index: int,
    event: str,
    status: str | None,
    stage: str | None,
    values: Mapping[str, str],
) -> Decision:
    handler = handler_file.handlers[index]
    refusal = _trigger_refusal(handler, event, status, stage)
    if refusal is not None:
        wants = next((name for name in ("status", "stage") if refusal.startswith(f"no {name} given")), None)
        return Decision(index, handler, False, refusal, wants=wants)
    evaluations: list[Evaluation] = []
    for position, condition in enumerate(handler.conditions):
        try:
            evaluation = evaluate(condition, values)
        except InvalidInput as exc:
            where = handler_file.locate(("handlers", index, "conditions", position))
            raise HandlerFileError(f"{where}: {exc}") from None
        evaluations.append(evaluation)
        if not evaluation.holds:
            reason = f"condition false: {evaluation.condition} ({evaluation.detail})"
            return Decision(index, handler, False, reason, tuple(evaluations))
    return Decision(index, handler, True, _run_reason(handler, event, status, stage), tuple(evaluations))


def check_build_values(
    handler_file: HandlerFile,
    *,
    event: str,
    status: str | None = None,
    stage: str | None = None,
    values: Mapping[str, str],
) -> None:
    """Raise HandlerFileError naming every ``{build.*}`` this build cannot fill in, at once (a
    file that lacks three values is told so in one run, not in three): each one a handler that
    can run names, and each typo anywhere. A handler can run unless its trigger rules this event
    out or one of its conditions is false before the first that names a missing value."""
    event = parse_event(event)
    status = parse_status(status) if status is not None and event in STATUS_EVENTS else None
    faults: list[tuple[str, str]] = []
    for index, handler in enumerate(handler_file.handlers):
        runs = _trigger_refusal(handler, event, status, stage) is None and not _ruled_out(handler, values)
        faults.extend(build_value_faults(handler_file, index, values, runs=runs))
    if faults:
        raise HandlerFileError(unfilled_message(faults, values))


def _ruled_out(handler: Handler, values: Mapping[str, str]) -> bool:
    """Whether a condition is false before the first that names a value ``values`` lacks: they
    are checked in order, and the first false one decides."""
    for condition in handler.conditions:
        if any(name not in values for name in placeholders(condition)):
            return False
        try:
            if not evaluate(condition, values).holds:
                return True
        except InvalidInput:
            return False  # a malformed condition: deciding the handler says so
    return False


def missing_input(decisions: list[Decision]) -> str | None:
    """Why no handler can run for want of a ``--status`` or ``--stage`` the build event needs, in
    one line, or None when one runs or none waits for one: a run that does nothing because an
    input was left out (a CI step's default) is a usage error, not a quiet success."""
    if any(decision.will_run for decision in decisions):
        return None
    for name in ("status", "stage"):
        waiting = [decision for decision in decisions if decision.wants == name]
        if waiting:
            names = ", ".join(f"'{decision.handler.name}'" for decision in waiting)
            example = "success or failure" if name == "status" else "NAME"
            return (f"no handler ran: {names} {'waits' if len(waiting) == 1 else 'wait'} for --{name}, "
                    f"which was not given (pass --{name} {example}; in a CI step, its {name} input)")
    return None


def _trigger_refusal(handler: Handler, event: str, status: str | None, stage: str | None) -> str | None:
    """Why the handler's ``enabled``/``on:`` rule out this event, or None when they allow it."""
    wanted = handler.on
    if not handler.enabled:
        return "disabled"
    if wanted.event != event:
        return f"event is {event}, handler waits for {wanted.event}"
    if wanted.status is not None and status is None:
        return f"no status given (--status), handler runs on {wanted.status}"
    if wanted.status is not None and wanted.status != status:
        return f"status is {status}, handler runs on {wanted.status}"
    if wanted.stage is not None and stage is None:
        return f"no stage given (--stage), handler runs on stage {wanted.stage}"
    if wanted.stage is not None and wanted.stage != stage:
        return f"stage is {stage}, handler runs on stage {wanted.stage}"
    return None


def _run_reason(handler: Handler, event: str, status: str | None, stage: str | None) -> str:
    """``event is build-completed, status success, 2 conditions hold``."""
    parts = [f"event is {event}"]
    if handler.on.status is not None:
        parts.append(f"status {status}")
    if handler.on.stage is not None:
        parts.append(f"stage {stage}")
    count = len(handler.conditions)
    if count:
        parts.append(f"{count} condition{'s' if count > 1 else ''} hold{'' if count > 1 else 's'}")
    return ", ".join(parts)

"""Point a server-side fault of a handler's action at the line of the handler file it came from.

A handler is checked against the server before its first write (``run.py``). The checks are
the command line's, so their errors name flags ("--machine 'web-9': no such machine in
Test"); in a handler the user wrote no flag but a field, so the error is restated as
``octorelease.yml:15: handlers[0].promote.machines[0]: 'web-9': no such machine in Test.``.
The error keeps its class, so the exit code is the one the same fault has on the command line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from octorelease.errors import OctoreleaseError
from octorelease.handler.file import Handler, HandlerFile
from octorelease.yaml_lines import Loc

#: The handler file's field for an option the command line spells otherwise, per action.
_FIELDS = {("create", "to"): "deploy_to"}


def fault_location(handler: Handler, index: int, action: str, error: OctoreleaseError) -> Loc:
    """The path into the handler file of the input ``error`` is about, as precisely as known:
    the list item or mapping key, else the field, else the action."""
    if error.option == "project":
        return ("handlers", index, "project")
    if action not in ("create", "deploy", "promote") or error.option is None:
        return ("handlers", index, action)
    section = getattr(handler, action)
    field = _FIELDS.get((action, error.option), error.option)
    value = error.values[0] if error.values else None
    source = handler.promote.from_ if action == "promote" and handler.promote is not None else None
    if field == "to" and value is not None and source is not None and _same(value, source):
        return ("handlers", index, action, "from")
    loc: Loc = ("handlers", index, action, field)
    written = _written(section, field)
    if value is None:
        return loc
    if isinstance(written, list):
        position = next((i for i, item in enumerate(written) if _same(item, value)), None)
        return loc if position is None else (*loc, position)
    if isinstance(written, dict):
        key = next((k for k in written if _same(k, value)), None)
        return loc if key is None else (*loc, key)
    return loc


def _written(section: BaseModel, key: str) -> Any:
    """The value written under ``key`` in the file: a field's name, or its alias (``skip``)."""
    for name, info in type(section).model_fields.items():
        if key in (name, info.alias):
            return getattr(section, name)
    return None


def point_at_file(error: OctoreleaseError, handler_file: HandlerFile, loc: Loc) -> None:
    """Restate ``error`` as ``file:line: field: what is wrong``, without the command-line flag."""
    error.restate(f"{handler_file.locate(loc)}: {error.detail or error.message}")


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()

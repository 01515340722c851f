"""The deployment options: the one definition of what a user may set on a deployment, and the one
place their values are read.

Every face gathers the values as the user wrote them and hands them on under the field's own
name, so nothing maps names by hand and nothing reads a value twice:

- the command line stores each deployment flag (``cli/options.py``, ``deployment_options``)
  under its field's name: ``--skip`` as ``skip_steps``, ``--variable`` as ``prompted_variables``;
- the handler file's ``DeploymentFields`` (``handler/file.py``) names its fields as these are
  (the file's ``skip`` is the alias of ``skip_steps``);
- the Python API (``client.Octopus``) takes them as keyword arguments of these names.

``DeploymentOptions.of`` makes this object of them: it reads guided failure's spellings, the
tenant tags and the schedule, and refuses a value that cannot be right. Its error's line names
the value as the face calling spells it (``labels``: the command line's flags), and is ``about``
the field, so a handler file points at the line the value was written on.

Adding an option touches this class, its flag and its handler field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from octorelease import errors

GuidedFailure = Literal["on", "off", "default"]

#: Guided failure as a user may spell it: on/off/default, or octo's true/false (any case).
_GUIDED_FAILURE: dict[str, GuidedFailure] = {
    "on": "on", "true": "on", "off": "off", "false": "off", "default": "default",
}


@dataclass(frozen=True)
class DeploymentOptions:
    """The deployment fields a user sets (ContinuaCI's Promote tab plus what peers offer)."""

    force_package_download: bool = False
    #: Octopus's ``ForcePackageRedeployment`` (ContinuaCI's "Force Re-deployment").
    force_redeploy: bool = False
    #: Promote only: deploy again to a target that already runs the release (else it is
    #: joined). ``None`` follows ``force_redeploy``, which did both jobs before this existed.
    redeploy: bool | None = None
    machines: tuple[str, ...] = ()
    exclude_machines: tuple[str, ...] = ()
    skip_steps: tuple[str, ...] = ()
    notes: str | None = None
    prompted_variables: Mapping[str, str] = field(default_factory=dict)
    guided_failure: GuidedFailure = "default"
    tenants: tuple[str, ...] = ()
    #: Every connected tenant with these tags (``TagSetName/TagName``; any of a set's, all sets).
    tenant_tags: tuple[str, ...] = ()
    #: Only the deployment targets with these roles (sent as ``SpecificMachineIds``).
    target_roles: tuple[str, ...] = ()
    #: Refresh the release's variable snapshot before deploying it (octo's ``--updateVariables``):
    #: an existing release otherwise keeps the variables it was created with.
    update_variables: bool = False
    #: Start no earlier than this (Octopus's ``QueueTime``; octo's ``--deployAt``).
    deploy_at: datetime | None = None
    #: Do not start after this (``QueueTimeExpiry``; octo's ``--noDeployAfter``): a task still
    #: queued then ends TimedOut on the server.
    no_deploy_after: datetime | None = None
    #: Deploy despite a deployment freeze in force, for this reason (recorded by Octopus against
    #: the override): the targets inside one are created through ``POST deployments/override``.
    freeze_override: str | None = None

    @property
    def redeploys(self) -> bool:
        """Whether a target already running the release gets a new deployment anyway."""
        return self.force_redeploy if self.redeploy is None else self.redeploy

    @classmethod
    def of(cls, values: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> DeploymentOptions:
        """The options from values named as the fields are (the Python API's keyword arguments,
        the command line's flags, a handler's fields), rejecting unknown names loudly.

        What a face may give loosely is made exact here: a name, any sequence of names or comma
        lists of them for a tuple (``--machine a,b``, ``machines: "a, b"``), a bool or octo's
        true/false for ``guided_failure``, a TIME text or a naive ``datetime`` (local time) for a
        time. A value that cannot be right raises ``InvalidInput`` before any
        request, naming the field as ``labels`` spell it (default: the field's name)."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TypeError(f"unknown deployment option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        labels = labels or {}
        clean: dict[str, Any] = {}
        for name, value in values.items():
            label = labels.get(name, name)
            if known[name] == "tuple[str, ...]" and value is not None:
                value = _names(value, name, label)
            if name == "prompted_variables" and value is not None:
                value = dict(value)
            if name == "guided_failure" and value is not None:
                value = _guided_failure(value, label)
            if name == "tenant_tags" and value is not None:
                for tag in value:
                    split_tag(tag)
            if known[name] == "datetime | None" and isinstance(value, str):
                value = _time(value, name, label)  # relative times (+10m) count from now
            if name == "freeze_override" and value is not None and not str(value).strip():
                detail = "the reason for overriding a deployment freeze is blank."
                raise errors.InvalidInput(f"{label}: {detail}", hint="say why the freeze is overridden; Octopus "
                                          "records it").about(name, (), detail)
            if known[name] == "datetime | None" and getattr(value, "tzinfo", False) is None:
                value = value.astimezone()  # a naive datetime is local time, as octo takes one
            if value is not None:
                clean[name] = value
        if "deploy_at" in clean or "no_deploy_after" in clean:
            from octorelease.schedule import SCHEDULE_FIELDS, check_schedule

            start, expiry = (labels.get(name, name) for name in SCHEDULE_FIELDS)
            check_schedule(clean.get("deploy_at"), clean.get("no_deploy_after"), (start, expiry))
        return cls(**clean)


def _names(value: str | Sequence[str], name: str, label: str) -> tuple[str, ...]:
    """The names of a name, a sequence of them, or comma lists of them, as octo's
    ``--specificMachines`` takes them; a blank one is refused rather than silently meaning "all"
    (no ``--machine`` is every machine)."""
    names: list[str] = []
    for item in (value,) if isinstance(value, str) else value:
        pieces = [piece.strip() for piece in str(item).split(",") if piece.strip()]
        if not pieces:
            detail = f"expects a name, got {item!r}"
            raise errors.InvalidInput(f"{label} {detail}.").about(name, (), detail)
        names.extend(pieces)
    return tuple(names)


def _guided_failure(value: object, label: str) -> GuidedFailure:
    """``on``, ``off`` or ``default`` for a bool or any spelling in ``_GUIDED_FAILURE``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    spelled = _GUIDED_FAILURE.get(str(value).strip().lower())
    if spelled is None:
        detail = f"expected on, off or default, got {value!r}"
        raise errors.InvalidInput(f"{label}: {detail}").about("guided_failure", (), detail)
    return spelled


def _time(text: str, name: str, label: str) -> datetime:
    """A TIME text as a moment; one that is not is refused, ``about`` the field ``name``."""
    from octorelease.schedule import parse_time

    try:
        return parse_time(text, "")
    except errors.InvalidInput as exc:
        raise errors.InvalidInput(f"{label} {exc.message}").about(name, (), exc.message) from None


def split_tag(value: str) -> tuple[str, str]:
    """``TagSetName/TagName`` as octo reads it: exactly two parts, neither empty."""
    parts = [part.strip() for part in value.split("/")]
    if len(parts) != 2 or not all(parts):
        raise errors.fault_in(
            errors.InvalidInput, "--tenant-tag", "tenant_tags", [value], "expected TagSetName/TagName.",
        )
    return parts[0], parts[1]

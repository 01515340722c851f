"""The deployment options: the one definition of what a user may set on a deployment.

Every face hands them on under the field's own name, so nothing maps names by hand:

- the command line stores each deployment flag (``cli/options.py``, ``deployment_options``)
  under its field's name: ``--skip`` as ``skip_steps``, ``--variable`` as ``prompted_variables``;
- the handler file's ``DeploymentFields`` (``handler/file.py``) names its fields as these are
  (the file's ``skip`` is the alias of ``skip_steps``);
- the Python API (``client.Octopus``) takes them as keyword arguments of these names, and
  ``DeploymentOptions.of`` makes this object of them for the actions.

Adding an option touches this class, its flag and its handler field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

GuidedFailure = Literal["on", "off", "default"]


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
    def of(cls, values: Mapping[str, Any]) -> DeploymentOptions:
        """The options from keyword arguments named as the fields are (the Python API's, the
        command line's flags, a handler's fields), rejecting unknown names loudly.

        What a face may give loosely is made exact here: any sequence of names for a tuple, a
        bool for ``guided_failure``, a TIME text or a naive ``datetime`` (local time) for a time."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TypeError(f"unknown deployment option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if known[name] == "tuple[str, ...]" and value is not None:
                value = (value,) if isinstance(value, str) else tuple(value)
            if name == "prompted_variables" and value is not None:
                value = dict(value)
            if name == "guided_failure" and isinstance(value, bool):
                value = "on" if value else "off"
            if known[name] == "datetime | None" and isinstance(value, str):
                from octorelease.schedule import parse_time

                value = parse_time(value, name)  # relative times (+10m) count from now
            if name == "freeze_override" and value is not None and not str(value).strip():
                from octorelease import errors

                raise errors.InvalidInput(f"{name}: the reason for overriding a deployment freeze is blank.",
                                          hint="say why the freeze is overridden; Octopus records it")
            if known[name] == "datetime | None" and getattr(value, "tzinfo", False) is None:
                value = value.astimezone()  # a naive datetime is local time, as octo takes one
            if value is not None:
                clean[name] = value
        if "deploy_at" in clean or "no_deploy_after" in clean:
            from octorelease.schedule import check_schedule

            check_schedule(clean.get("deploy_at"), clean.get("no_deploy_after"), ("deploy_at", "no_deploy_after"))
        return cls(**clean)

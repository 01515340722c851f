"""How a message names a setting: as the user of this face wrote it.

The actions' notes, warnings and hints tell the user which setting to change. On the command
line that is a flag (``--no-redeploy``); in a handler file it is a field (``redeploy: false``),
and a handler's user who is told to "add --no-redeploy" has nothing to add it to. The actions
name a setting by its option name and value, and the face's ``Wording`` spells it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Wording:
    """One face's spelling of settings: ``setting("redeploy", False)`` is ``--no-redeploy`` on
    the command line and ``redeploy: false`` in a handler file. A value that is not a bool is
    shown as given (``"VERSION"`` for a placeholder)."""

    flags: bool
    #: Names that differ from the option's (``fail_on_error`` is the file's ``fail_build_on_error``).
    names: dict[str, str] = field(default_factory=dict)

    def name(self, option: str) -> str:
        """The flag or the field alone: ``--interruption-timeout``, ``interruption_timeout``."""
        name = self.names.get(option, option)
        return "--" + name.replace("_", "-") if self.flags else name

    def setting(self, option: str, value: object = True) -> str:
        """The flag or the field set to ``value``: ``--no-redeploy``, ``redeploy: false``."""
        name = self.name(option)
        if self.flags:
            if isinstance(value, bool):
                return name if value else f"--no-{name[2:]}"
            return f"{name} {value}"
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return f"{name}: {shown}"


#: The command line's flags (and the Python API's default wording): a list option's flag is
#: given once per item, so it is singular (``tenants``: ``--tenant``).
COMMAND_LINE = Wording(flags=True, names={
    "tenants": "tenant", "tenant_tags": "tenant_tag", "machines": "machine", "exclude_machines": "exclude_machine",
    "target_roles": "target_role", "skip_steps": "skip", "packages": "package", "prompted_variables": "variable",
})
#: A handler file's fields (``octorelease run``, ``octorelease serve``).
HANDLER_FILE = Wording(flags=False, names={"fail_on_error": "fail_build_on_error", "skip_steps": "skip"})

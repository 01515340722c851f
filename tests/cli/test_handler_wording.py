"""A handler's refusals and hints name the fields its user wrote, never flags they cannot add:
``ignore_existing: true``, ``release: VERSION``, ``tenants``, ``from`` and ``to`` (the actions
spell a setting through the face's ``Wording``)."""

from __future__ import annotations

from typing import Any

import pytest

HANDLERS = """\
handlers:
  - name: Words
    project: {project}
    on: {{event: build-completed}}
    {action}
"""


@pytest.mark.parametrize(
    ("project", "action", "says", "never"),
    [
        ("Web", 'create: {version: "1.0.0"}',
         ("handlers[0].create.version: release 1.0.0 of Web already exists",
          "hint: Add ignore_existing: true to use it, or choose another version."),
         ("--ignore-existing", "--version")),
        ("Web", 'deploy: {to: [Test], release: "{build.version}"}',
         ("No release given.", "hint: Give release: VERSION or release: latest."), ("--release",)),
        ("Web", "deploy: {to: [Test], release: latest, tenants: ['*', Acme]}",
         ("handlers[0].deploy.tenants: '*' means every connected tenant; give no other tenant with it.",),
         ("--tenant",)),
        ("Worker", "deploy: {to: [Test], release: latest, tenants: [Acme]}",
         ("Project Worker is not tenanted; tenants cannot be used.",), ("--tenant",)),
        ("Web", 'promote: {from: Development, to: ["{build.environment}"]}',
         ("'Development' is both from and to.",), ("--from", "--to")),
    ],
    ids=["existing release", "empty release", "every tenant and one", "untenanted", "from is to"],
)
def test_a_handlers_refusals_name_its_fields(sandbox: Any, octorelease: Any, tmp_path: Any, project: str,
                                             action: str, says: tuple[str, ...], never: tuple[str, ...]) -> None:
    path = tmp_path / "octorelease.yml"
    path.write_text(HANDLERS.format(project=project, action=action), encoding="utf-8")
    run = octorelease("run", str(path), "--event", "build-completed", "--var", "version=",
                      "--var", "environment=Development")
    assert run.code not in (0, 70), run.err
    assert all(words in run.err for words in says), run.err
    assert not any(flag in run.err for flag in never), run.err


def test_the_command_lines_wording_names_flags_that_exist() -> None:
    """``COMMAND_LINE`` spells an option as its flag, by hand (the actions may not import the
    command line); each flag it names must be one the commands take, so a renamed flag cannot
    leave the hints naming the old one."""
    import click

    from octorelease.actions.wording import COMMAND_LINE
    from octorelease.cli import cli

    assert isinstance(cli, click.Group)
    flags = {opt for command in cli.commands.values() for param in command.params for opt in param.opts}
    for option in COMMAND_LINE.names:
        assert COMMAND_LINE.name(option) in flags, option

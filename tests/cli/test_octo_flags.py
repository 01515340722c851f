"""An octo user's flags: each of octo's promote-release, deploy-release and create-release flags
that octorelease spells otherwise is answered with its equivalent, not click's nearest spelling."""

from __future__ import annotations

import re

import click
import pytest

from octorelease.cli.main import cli
from octorelease.cli.octo_flags import _BY_COMMAND, _SAME, octo_equivalent
from testing.cli import run_cli


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("promote", "--deployto", "Test"), "No such option '--deployto': octo's --deployto is --to."),
        (("deploy", "--deployTo", "Test"), "octo's --deployTo is --to."),
        (("create", "--deployTo", "Test"), "octo's --deployTo is --deploy-to."),
        (("promote", "--waitfordeployment"), "octo's --waitfordeployment is not needed: waiting is the default"),
        (("promote", "--specificMachines", "a"), "octo's --specificMachines is --machine"),
        (("create", "--releaseNumber", "1.0.0"), "octo's --releaseNumber is --version."),
    ],
)
def test_octo_s_flags_get_their_equivalent(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], said: str
) -> None:
    run = run_cli(capsys, *args)
    assert run.code == 2 and said in run.err
    assert "Did you mean" not in run.err


def test_a_flag_that_is_not_octo_s_keeps_click_s_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "promote", "--no-wiat")
    assert run.code == 2 and "Did you mean" in run.err and "octo's" not in run.err


@pytest.mark.parametrize("command", ["promote", "deploy", "create"])
def test_every_equivalent_named_is_a_flag_of_that_command(command: str) -> None:
    group = cli
    assert isinstance(group, click.Group)
    known = {name for param in group.commands[command].params for name in (*param.opts, *param.secondary_opts)}
    for key in {**_SAME, **_BY_COMMAND[command]}:
        said = octo_equivalent(f"--{key}", [command])
        assert said is not None
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-v)\b", said.split(" is ", 1)[1]):
            assert flag in known, f"{command}: {said} names {flag}, which {command} does not take"

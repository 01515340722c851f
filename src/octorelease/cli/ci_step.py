"""One CI step from environment variables: what the ready-made integrations run.

The GitHub Action (``action.yml``), the GitLab include template and the Azure Pipelines
template (``ci/``) all map their inputs to the same ``OCTORELEASE_*`` variables and run
``python -m octorelease.ci_step``, so the mapping from inputs to flags is written once, here,
and no input is ever pasted into a shell script (an input holding ``$(...)`` or a quote is a
value, never code). The outputs are octorelease's own CI outputs (``report/ci.py``).

========================= ==========================================================
variable                  becomes
========================= ==========================================================
``OCTORELEASE_COMMAND``   the command: ``run`` (default), ``promote``, ``deploy``, ``create``
``OCTORELEASE_FILE``      ``run``'s handler file (default ``octorelease.yml``)
``OCTORELEASE_EVENT``     ``--event`` (``run``)
``OCTORELEASE_STATUS``    ``--status`` (``run``)
``OCTORELEASE_STAGE``     ``--stage`` (``run``)
``OCTORELEASE_PROJECT``   ``--project``
``OCTORELEASE_FROM``      ``--from`` (``promote``)
``OCTORELEASE_TO``        ``--to`` per environment (``--deploy-to`` for ``create``), comma or newline separated
``OCTORELEASE_RELEASE``   ``--release`` (``promote``, ``deploy``)
``OCTORELEASE_VERSION``   ``--version`` (``create``)
``OCTORELEASE_ARGS``      any other flags, split as a POSIX shell would (quotes kept, nothing run)
========================= ==========================================================

``OCTORELEASE_SERVER``, ``OCTORELEASE_API_KEY`` and ``OCTORELEASE_SPACE``, when not empty,
become ``OCTOPUS_URL``, ``OCTOPUS_API_KEY`` and ``OCTOPUS_SPACE`` for this process (so an empty
input leaves the job's own ``OCTOPUS_*`` alone, and the key is never on a command line).
An empty variable is no flag.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping

COMMANDS = ("run", "promote", "deploy", "create")

#: Single-valued inputs: variable suffix -> (flag, the commands that take it).
_FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "EVENT": ("--event", ("run",)),
    "STATUS": ("--status", ("run",)),
    "STAGE": ("--stage", ("run",)),
    "PROJECT": ("--project", ("promote", "deploy", "create")),
    "FROM": ("--from", ("promote",)),
    "RELEASE": ("--release", ("promote", "deploy")),
    "VERSION": ("--version", ("create",)),
}


class StepError(ValueError):
    """An input that no command takes, or an unknown command: the step's usage error."""


def step_argv(environ: Mapping[str, str]) -> list[str]:
    """The octorelease command line the ``OCTORELEASE_*`` variables ask for."""

    def value(name: str) -> str:
        return environ.get(f"OCTORELEASE_{name}", "").strip()

    command = value("COMMAND") or "run"
    if command not in COMMANDS:
        raise StepError(f"command {command!r} is not one of {', '.join(COMMANDS)}")
    argv = [command]
    if command == "run":
        argv.append(value("FILE") or "octorelease.yml")
    for name, (flag, commands) in _FLAGS.items():
        if value(name):
            if command not in commands:
                raise StepError(f"{name.lower()} is not an input of {command} (it is for {', '.join(commands)})")
            argv += [flag, value(name)]
    targets = [item.strip() for item in re.split(r"[,\n]", value("TO")) if item.strip()]
    if targets and command == "run":
        raise StepError("to is not an input of run (the handler file says where)")
    for target in targets:
        argv += ["--deploy-to" if command == "create" else "--to", target]
    return argv + shlex.split(value("ARGS"))


def main() -> int:
    """Run the step; a bad input is exit 2 with one line, as any usage error."""
    from octorelease.cli.main import main as cli_main

    for name, variable in (("SERVER", "OCTOPUS_URL"), ("API_KEY", "OCTOPUS_API_KEY"), ("SPACE", "OCTOPUS_SPACE")):
        given = os.environ.get(f"OCTORELEASE_{name}", "").strip()
        if given:
            os.environ[variable] = given
    try:
        argv = step_argv(os.environ)
    except (StepError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())

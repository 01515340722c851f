"""The command line: parse, call an action, render, map errors to exit codes.

- ``main``: the group, ``main`` (the console script ``octorelease``), signals;
- ``options``: the global and the deployment options, and the parsing of their values;
- ``exit_codes``: the only place that knows exit codes;
- ``output``: logging, reporters, and the one-line errors of a command that could not start;
- ``actions``: promote, deploy, create, run;
- ``servers``: serve, sandbox (seed, export, mirror), demo;
- ``ci_step``: the ready-made integrations' step (``python -m octorelease.ci_step``).
"""

from __future__ import annotations

from octorelease.cli.exit_codes import exit_code_for
from octorelease.cli.main import cli, main

#: ``main`` is the console script; ``cli`` the click group (what a docs generator reads);
#: ``exit_code_for`` gives a Python API result's error its exit code, as the README shows.
__all__ = ["cli", "exit_code_for", "main"]

"""``python -m octorelease.ci_step``, the command the GitHub Action and the CI templates run.

The step itself is ``cli/ci_step.py``; this name stays because ``action.yml`` and ``ci/`` use it.
"""

from __future__ import annotations

import sys

from octorelease.cli.ci_step import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())

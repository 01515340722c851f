"""``python -m octorelease.cli``: the command line, as the console script runs it."""

import sys

from octorelease.cli.main import main

sys.exit(main())

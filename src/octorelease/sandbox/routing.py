"""Routes whose literal words match in any letter case, as Octopus's do.

Octopus answers ``/api/Spaces-1/DeploymentProcesses/...`` and ``/api/Spaces-1/Projects/...`` as
well as the lower-case forms its Links use (octopus-api-more.md §2; the solutions team's own
scripts send both). Ids and slugs were already matched ignoring case by the models; these two
classes make the route words do the same, so every route in the table gets it without a rewrite
of the path anywhere else.
"""

from __future__ import annotations

import re
from typing import Any

from starlette import routing


def _ignoring_case(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)


class Route(routing.Route):
    """Starlette's ``Route``, matched ignoring letter case."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.path_regex = _ignoring_case(self.path_regex)


class Mount(routing.Mount):
    """Starlette's ``Mount``, matched ignoring letter case."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.path_regex = _ignoring_case(self.path_regex)

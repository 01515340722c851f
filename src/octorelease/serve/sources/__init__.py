"""One module per CI that can send build events to ``octorelease serve``; see ``base.py``.

:data:`SOURCES` is the registry the app serves: ``/hooks/<name>`` for each of its keys.
"""

from __future__ import annotations

from octorelease.serve.sources import azure, generic, github, gitlab, jenkins
from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored, Source

#: Every source, keyed by its route name (``/hooks/generic`` is ``SOURCES["generic"]``).
SOURCES: dict[str, Source] = {
    source.name: source for source in (github.SOURCE, gitlab.SOURCE, azure.SOURCE, jenkins.SOURCE, generic.SOURCE)
}

__all__ = ["SOURCES", "BadPayload", "BuildEvent", "Ignored", "Source"]

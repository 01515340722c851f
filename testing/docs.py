"""The documentation's examples, read where a reader finds them: README.md and the site's pages
under ``docs/``. Tests run these blocks against the sandbox, so an example that stops working
fails the suite instead of misleading the next reader."""

from __future__ import annotations

import re
from pathlib import Path

#: The repository's root: pages are named from it (``"docs/guides/serve.md"``, ``"README.md"``).
ROOT = Path(__file__).resolve().parents[1]


def page(name: str) -> str:
    """The text of one page (a path from the repository root)."""
    return (ROOT / name).read_text(encoding="utf-8")


def block_after(name: str, marker: str) -> str:
    """The first fenced block after ``marker`` (an HTML comment, a heading, a phrase) in page
    ``name``: its text, without the fences and their language tag."""
    match = re.search(re.escape(marker) + r".*?```[a-z]*\n(.*?)```", page(name), re.S)
    assert match is not None, f"no block after {marker!r} in {name}"
    return match[1]

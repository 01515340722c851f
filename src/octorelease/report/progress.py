"""A progress bar for long reads (the sandbox's ``--mirror``): rich's, on a terminal only.

In a CI log or a pipe a bar is noise (each redraw becomes a line), so there the callback does
nothing and the caller's summary says what was done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: (what is being done, how many units are done, how many there are)
Progress = Callable[[str, int, int], None]


@contextmanager
def progress_bar(title: str, *, force_terminal: bool | None = None) -> Iterator[Progress]:
    """A callback that moves a bar titled ``title`` on stderr while the block runs; the bar is
    removed when the block ends."""
    terminal = sys.stderr.isatty() if force_terminal is None else force_terminal
    if not terminal:
        yield lambda what, done, total: None
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from octorelease.safe_text import clean

    def safe(text: str) -> str:  # names come from the server: neither escapes nor rich markup
        return escape(clean(text))

    console = Console(stderr=True, force_terminal=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(safe(title), total=None)

        def advance(what: str, done: int, total: int) -> None:
            bar.update(task, description=f"{safe(title)}: {safe(what)}", completed=done, total=total)

        yield advance

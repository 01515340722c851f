"""One way to find the word a user probably meant, for every "did you mean ...?" we print."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], *, ignore_case: bool = False, cutoff: float = 0.6) -> str | None:
    """The choice most like ``word`` (difflib's ratio of at least ``cutoff``), or None.

    With ``ignore_case`` the comparison is case-insensitive and the choice is returned as written.
    difflib is imported here, on the first suggestion: the command line imports this module at
    start-up (``handler/events.py``), and ``--help`` must not pay for it."""
    import difflib

    options = list(choices)
    if not ignore_case:
        close = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
        return close[0] if close else None
    lowered = {option.lower(): option for option in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[close[0]] if close else None

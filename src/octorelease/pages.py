"""What every server-rendered page of octorelease shares: serve's history and the sandbox's /app.

Pages are Jinja2 templates with every value autoescaped; ``visible`` (the templates' ``finalize``)
strips the control and bidirectional characters that would make a name read unlike it is, and
``HEADERS`` sends a Content-Security-Policy that allows only the server's own script and style,
so that even a value that slipped past escaping could not run a script. ``cross_site`` tells a
form a browser posted from another site, which no page may act on.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.requests import Request

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(value: Any) -> Any:
    """Jinja's ``finalize``: ``None`` shows as nothing; strings lose their control and
    bidirectional characters."""
    if value is None:
        return ""
    return _INVISIBLE.sub("", value) if isinstance(value, str) else value


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a character ``visible`` would strip."""
    return _INVISIBLE.search(text) is not None


def templates(package: str) -> Environment:
    """The templates in ``package``'s ``templates`` folder, every value autoescaped and ``visible``."""
    return Environment(loader=PackageLoader(package, "templates"), autoescape=True, finalize=visible,
                       trim_blocks=True, lstrip_blocks=True)


def cross_site(request: Request) -> bool:
    """A POST a browser sent from another site (cookies and basic credentials go along by
    themselves): the browser says so in ``Sec-Fetch-Site``; a browser too old to send it, in an
    ``Origin`` that is not this host (the pages' ``no-referrer`` makes a modern one send
    ``Origin: null``, so ``Sec-Fetch-Site``, which a page cannot forge, decides when it is
    there). A script sends neither."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("host", "")
    return origin.partition("://")[2] != host

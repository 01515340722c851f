"""Land an interrupt at an exact request, as a signal arriving then would, without timing.

``InterruptAt`` is an httpx transport that sends requests to the real server and raises
``Signalled`` (a ``KeyboardInterrupt``) at the first request that matches: before it is sent,
or after the server carried it out but before its answer is read (the answer is then lost).
"""

from __future__ import annotations

import signal

import httpx

from octorelease.errors import Signalled


class InterruptAt(httpx.BaseTransport):
    """``skip``: how many matching requests go through before the one interrupted."""

    def __init__(self, method: str, path_contains: str, *, after: bool = False, signum: int = signal.SIGINT,
                 skip: int = 0) -> None:
        self.method = method.upper()
        self.path_contains = path_contains
        self.after = after
        self.signum = signum
        self.skip = skip
        self.fired = False
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hit = not self.fired and request.method == self.method and self.path_contains in request.url.path
        if hit and self.skip > 0:
            self.skip -= 1
            hit = False
        if hit and not self.after:
            self.fired = True
            raise Signalled(self.signum)
        response = self._inner.handle_request(request)
        if hit:
            response.read()
            response.close()
            self.fired = True
            raise Signalled(self.signum)
        return response

    def close(self) -> None:
        self._inner.close()

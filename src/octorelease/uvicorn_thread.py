"""An ASGI app served by uvicorn in a background thread, on a socket bound before it starts.

The sandbox and ``octorelease serve`` both need this: binding first means ``port=0`` gets a free
port whose number is known at once, and ``start()`` returns only when uvicorn is listening.
uvicorn's own signal handlers are not installed: the owner of the server decides when it stops.

Both listen to whoever connects, so a client cannot hold the server by being slow
(``_GuardedHttp``, over uvicorn's httptools protocol): a request's headers must arrive within
:data:`HEADER_TIMEOUT_SECONDS` of its first byte (or of the connection), and its body within
:data:`BODY_TIMEOUT_SECONDS` of its headers, or the connection is closed (408); at most
``connection_limits()`` connections are open at once, well below the process's file descriptor
limit, and one more is answered 503 and closed at once; asyncio accepts up to the listen backlog
in one go before any close is carried out, so the backlog takes a quarter of what the limit
leaves and the open connections three quarters (``connection_limits``): accepting never runs
out of descriptors. Should it run out anyway (another part of the process holding them), asyncio's
"socket.accept() out of system resource" is logged once per :data:`ACCEPT_ERROR_EVERY_SECONDS`
with a count, instead of a traceback per attempt (thousands a second).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("octorelease.http")

HEADER_TIMEOUT_SECONDS = 10.0
#: Long enough for the largest body either server takes (1 MiB) over a slow link.
BODY_TIMEOUT_SECONDS = 30.0
MAX_CONNECTIONS = 1000
#: Connections waiting to be accepted: a burst of webhooks waits there rather than being refused.
MAX_BACKLOG = 2048
#: File descriptors left to the rest of the process (databases, logs, clients, threads).
RESERVED_DESCRIPTORS = 64
ACCEPT_ERROR_EVERY_SECONDS = 10.0

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


def connection_limits() -> tuple[int, int]:
    """How many connections may be open at once, and the listen backlog (how many asyncio accepts
    in one go): :data:`MAX_CONNECTIONS` and :data:`MAX_BACKLOG`, or fewer when the file descriptor
    limit would not leave :data:`RESERVED_DESCRIPTORS` besides them."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to stay under
        return MAX_CONNECTIONS, MAX_BACKLOG
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS, MAX_BACKLOG
    room = max(16, soft - RESERVED_DESCRIPTORS)
    return min(MAX_CONNECTIONS, room * 3 // 4), min(MAX_BACKLOG, room // 4)


class _GuardedHttp(HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's HTTP protocol with read deadlines and a connection cap (module docstring)."""

    cap = MAX_CONNECTIONS
    header_timeout = HEADER_TIMEOUT_SECONDS
    body_timeout = BODY_TIMEOUT_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.cap:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout)  # a kept-alive connection's next request

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()  # what the app does with the request is not the client's to hurry
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            if self.cycle is None or not self.cycle.response_started:
                self.transport.write(_TIMED_OUT)
            self.transport.close()


class _AcceptErrors:
    """The loop's exception handler: "out of system resource" on accept once per interval, with
    how many were left out; anything else as asyncio logs it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next = 0.0
        self._left_out = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            loop.default_exception_handler(context)
            return
        now = self._clock()
        if now < self._next:
            self._left_out += 1
            return
        self._next = now + ACCEPT_ERROR_EVERY_SECONDS
        log.error("cannot accept connections: %s (%d more such errors left out)", context.get("exception"),
                  self._left_out)
        self._left_out = 0


class _Uvicorn(uvicorn.Server):  # type: ignore[misc]
    """uvicorn without signal handlers: the thread that owns the server decides when it stops.

    Stopped twice (a second Ctrl-C), uvicorn stops waiting for connections and skips the app's
    lifespan shutdown, which leaves the lifespan task to be cancelled (a ``CancelledError``
    traceback) and the app unstopped. Here the owner is told first (``on_force_exit``: make the
    shutdown quick), and the lifespan shutdown runs all the same."""

    on_force_exit: Callable[[], None] | None = None

    def install_signal_handlers(self) -> None:
        pass

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.force_exit and self.on_force_exit is not None:
            self.on_force_exit()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        if self.force_exit:
            await self.lifespan.shutdown()

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_AcceptErrors())
        await super().serve(sockets=sockets)


class UvicornThread:
    """``app`` listening on ``host:port`` (``port=0``: any free port), served in a thread."""

    def __init__(self, app: Any, host: str, port: int, *, name: str,
                 lifespan: Literal["auto", "on", "off"] = "off",
                 timeouts: tuple[float, float] = (HEADER_TIMEOUT_SECONDS, BODY_TIMEOUT_SECONDS),
                 on_force_exit: Callable[[], None] | None = None) -> None:
        """``timeouts``: for a request's headers, and for its body (module docstring);
        ``on_force_exit``: called when a second stop asks to stop at once (``_Uvicorn``)."""
        self.host = host
        self.name = name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say they are TCP, and
        # with Nagle on every keep-alive request waits 40 ms for a delayed ACK.
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        cap, backlog = connection_limits()
        # Listening at once: a client told the port (a line printed before uvicorn runs) waits in
        # the backlog until uvicorn accepts, instead of being refused.
        self.socket.listen(backlog)
        self.port: int = self.socket.getsockname()[1]
        protocol = type("GuardedHttp", (_GuardedHttp,),
                        {"cap": cap, "header_timeout": timeouts[0], "body_timeout": timeouts[1]})
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan, http=protocol,
                                backlog=backlog)
        self.server = _Uvicorn(config)
        self.server.on_force_exit = on_force_exit
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Serve in a daemon thread; return once uvicorn accepts connections."""
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, name=self.name,
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start")
            time.sleep(0.005)

    def run_here(self) -> None:
        """Serve in the calling thread until ``stop()`` is asked (from a signal handler, say)."""
        self.server.run(sockets=[self.socket])

    def ask_to_stop(self) -> None:
        """Stop after the requests under way; asked twice, stop at once."""
        if self.server.should_exit:
            self.server.force_exit = True
            if self.server.on_force_exit is not None:
                self.server.on_force_exit()
        self.server.should_exit = True

    def stop(self, timeout: float = 10) -> None:
        """Stop serving, wait for the thread, close the socket."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=timeout)
        self.socket.close()

    def wait(self) -> None:
        """Block until the server thread ends (it ends only when stopped)."""
        while self.thread is not None and self.thread.is_alive():
            self.thread.join(0.5)

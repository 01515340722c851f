"""An ASGI app served by uvicorn in a background thread, on a socket bound before it starts.

The sandbox and ``octorelease serve`` both need this: binding first means ``port=0`` gets a free
port whose number is known at once, and ``start()`` returns only when uvicorn is listening.
uvicorn's own signal handlers are not installed: the owner of the server decides when it stops.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal

import uvicorn


class _Uvicorn(uvicorn.Server):  # type: ignore[misc]
    """uvicorn without signal handlers: the thread that owns the server decides when it stops."""

    def install_signal_handlers(self) -> None:
        pass


class UvicornThread:
    """``app`` listening on ``host:port`` (``port=0``: any free port), served in a thread."""

    def __init__(self, app: Any, host: str, port: int, *, name: str,
                 lifespan: Literal["auto", "on", "off"] = "off") -> None:
        self.host = host
        self.name = name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say they are TCP, and
        # with Nagle on every keep-alive request waits 40 ms for a delayed ACK.
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        # Listening at once: a client told the port (a line printed before uvicorn runs) waits in
        # the backlog until uvicorn accepts, instead of being refused.
        self.socket.listen(2048)
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan)
        self.server = _Uvicorn(config)
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

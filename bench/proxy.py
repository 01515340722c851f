"""A counting proxy: sits between a client and the sandbox and records every request.

Both clients (octorelease and the official npm client) are pointed at it, so they are counted
the same way: each request's method, path, arrival time, bytes up and down and the time to its
answer. It frames HTTP/1.1 messages (Content-Length or chunked) on both directions of each
keep-alive connection and relays every byte unchanged. Loopback only, in a background thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class Exchange:
    """One request and its answer, as the proxy saw them."""

    started: float  # time.time() when the request line arrived
    method: str
    target: str  # path and query, as sent
    bytes_up: int = 0
    bytes_down: int = 0
    seconds: float | None = None  # from the request line to the answer's last byte

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class _Framer:
    """Splits one direction of an HTTP/1.1 connection into messages: head, then body."""

    def __init__(self) -> None:
        self.buffer = b""
        self.remaining = 0  # body bytes still to come (Content-Length)
        self.chunked = False
        self.in_body = False

    def feed(self, data: bytes, bodyless: bool = False) -> list[tuple[str, bytes]]:
        """Events: ("head", head bytes) when a message starts, ("end", b"") when it ends."""
        self.buffer += data
        events: list[tuple[str, bytes]] = []
        while True:
            if not self.in_body:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return events
                head, self.buffer = self.buffer[:end + 4], self.buffer[end + 4:]
                events.append(("head", head))
                fields = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
                          for line in head.split(b"\r\n")[1:] if b":" in line}
                self.chunked = b"chunked" in fields.get(b"transfer-encoding", b"").lower()
                self.remaining = int(fields.get(b"content-length", b"0") or 0)
                status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b""
                if bodyless or status in (b"204", b"304") or status.startswith(b"1"):
                    self.chunked, self.remaining = False, 0
                self.in_body = True
            if self.chunked:
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0:
                    return events
                size = int(self.buffer[:line_end].split(b";")[0] or b"0", 16)
                if len(self.buffer) < line_end + 2 + size + 2:
                    return events
                self.buffer = self.buffer[line_end + 2 + size + 2:]
                if size:
                    continue
                # a chunked body ends with a 0-size chunk (no trailers from our peers)
            else:
                if len(self.buffer) < self.remaining:
                    self.remaining -= len(self.buffer)
                    self.buffer = b""
                    return events
                self.buffer = self.buffer[self.remaining:]
            self.in_body = False
            events.append(("end", b""))


class CountingProxy:
    """``with CountingProxy(port_of_upstream) as proxy:`` then point clients at ``proxy.url``."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="counting-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Stop listening and end every connection's relay while the loop still runs."""
        if self._server is not None:
            self._server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def take(self) -> list[Exchange]:
        """Every exchange since the last ``take``, and forget them."""
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        for writer in (client_writer, upstream_writer):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending: deque[Exchange] = deque()  # sent, not yet answered (in order: HTTP/1.1)
        up, down = _Framer(), _Framer()

        async def requests() -> None:
            while data := await client_reader.read(65536):
                current = pending[-1] if pending else None
                for kind, head in up.feed(data):
                    if kind == "head":
                        method, target = head.split(b" ", 2)[:2]
                        current = Exchange(time.time(), method.decode(), target.decode())
                        pending.append(current)
                        with self._lock:
                            self.exchanges.append(current)
                if current is not None:
                    current.bytes_up += len(data)
                upstream_writer.write(data)
                await upstream_writer.drain()
            upstream_writer.close()

        async def answers() -> None:
            while data := await upstream_reader.read(65536):
                if pending:
                    pending[0].bytes_down += len(data)
                bodyless = bool(pending) and pending[0].method == "HEAD"
                for kind, _ in down.feed(data, bodyless):
                    if kind == "end" and pending:
                        done = pending.popleft()
                        done.seconds = time.time() - done.started
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        try:
            await asyncio.gather(requests(), answers())
        except (ConnectionError, OSError):
            pass
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()

"""A server that is not Octopus: a small real HTTP(S) server on 127.0.0.1 serving canned answers.

The sandbox plays a well-behaved Octopus; this plays everything else a ``--server`` URL can
point at: a login page, a proxy's HTML error, truncated or non-UTF-8 JSON, a body too large,
a redirect loop, a server that accepts and never answers, a bad TLS certificate. An ``Answer``
is plain data, so a table of hostile servers is a list of ``Answer`` (or of path -> ``Answer``
mappings) given to ``pytest.mark.parametrize``::

    with FakeServer({"/api/spaces": Answer.html("<h1>Sign in</h1>")}) as server:
        run = run_cli(capsys, "promote", ..., "--server", server.url, "--api-key", KEY)

Paths not in the mapping get ``default`` (``SPACES`` for ``/api/spaces`` first, so a case can
get past the space lookup and break a later call). Every request is recorded (method and path
with query, never headers), and so is every accepted connection, so a test can count attempts
even when no HTTP request got through (a failed TLS handshake).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from types import TracebackType
from typing import Any

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One canned HTTP answer. ``hang``: accept the request and never answer (until the server
    stops); ``claimed_length``: announce this Content-Length whatever the body is (more than the
    body: the connection closes early, a body cut on the wire); ``chunked``: no Content-Length,
    the body in chunks (its size is known only once it is read)."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False
    claimed_length: int | None = None
    chunked: bool = False

    @classmethod
    def json(cls, doc: Any, status: int = 200, content_type: str | None = JSON) -> Answer:
        """``doc`` as JSON (any JSON value: a list or ``None`` where Octopus sends an object)."""
        return cls(status, jsonlib.dumps(doc).encode(), content_type)

    @classmethod
    def html(cls, text: str, status: int = 200) -> Answer:
        """A web page, as a login form, a proxy or a web server's error page sends."""
        return cls(status, text.encode(), HTML)

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str | None = JSON) -> Answer:
        """Bytes as they are: truncated JSON, non-UTF-8, a very large body."""
        return cls(status, body, content_type)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Answer:
        return cls(status, b"", None, (("Location", location),))


#: Enough of Octopus's ``/api/spaces`` for octorelease to find the default space.
SPACES = Answer.json({"Items": [{"Id": "Spaces-1", "Name": "Default", "IsDefault": True}]})

#: What Octopus answers for a path it does not know.
NOT_FOUND = Answer.json({"ErrorMessage": "The resource you requested was not found."}, status=404)

AnswerFor = Mapping[str, Answer] | Answer | Callable[[str], Answer]


class FakeServer:
    """Serve ``answers`` on 127.0.0.1 in a background thread (HTTPS with ``ssl_context``).

    ``answers`` is one ``Answer`` for every path, a mapping from path (without query) to
    ``Answer``, or a function of the path."""

    def __init__(self, answers: AnswerFor, *, default: Answer = NOT_FOUND,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.answers = answers
        self.default = default
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self._stopping = threading.Event()
        self._httpd = _Httpd(("127.0.0.1", 0), _handler_for(self))
        self._httpd.owner = self
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    def answer_for(self, path: str) -> Answer:
        if isinstance(self.answers, Answer):
            return self.answers
        if callable(self.answers):
            return self.answers(path)
        if path in self.answers:
            return self.answers[path]
        if path == "/api/spaces":
            return SPACES
        return self.default

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeServer

    def get_request(self) -> tuple[socket, Any]:
        self.owner.connections += 1
        return super().get_request()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gives up mid-answer (or refuses our certificate) is expected here."""


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked bodies need it; every answer still closes the connection

        def _answer(self) -> None:
            server.requests.append((self.command, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            answer = server.answer_for(self.path.split("?", 1)[0])
            if answer.hang:
                server._stopping.wait()
                return
            self.send_response(answer.status)
            if answer.content_type:
                self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers:
                self.send_header(name, value)
            if answer.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                claimed = answer.claimed_length if answer.claimed_length is not None else len(answer.body)
                self.send_header("Content-Length", str(claimed))
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stopped reading (a body too large): the point
                self._write_body(answer)

        def _write_body(self, answer: Answer) -> None:
            if not answer.chunked:
                self.wfile.write(answer.body)
                return
            step = 64 * 1024
            for start in range(0, len(answer.body), step):
                chunk = answer.body[start:start + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

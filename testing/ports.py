"""A free TCP port on 127.0.0.1, for a child process that must be told its port up front."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (closed again: the caller's process binds it next)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

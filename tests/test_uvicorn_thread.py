"""The servers' guard against running out of descriptors: asyncio's accept error, logged once
per interval with a count, never a traceback per attempt (106,000 lines in 6 s before)."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest

from octorelease.uvicorn_thread import ACCEPT_ERROR_EVERY_SECONDS, _AcceptErrors


def test_accept_errors_are_said_once_per_interval_with_how_many_were_left_out(
    caplog: pytest.LogCaptureFixture
) -> None:
    now = [100.0]
    loop = asyncio.new_event_loop()
    handler = _AcceptErrors(clock=lambda: now[0])
    error = OSError(errno.EMFILE, "Too many open files")
    try:
        with caplog.at_level(logging.ERROR, logger="octorelease.http"):
            for _ in range(2048):  # one pass of asyncio's accept loop over a full backlog
                handler(loop, {"message": "socket.accept() out of system resource", "exception": error})
            now[0] += ACCEPT_ERROR_EVERY_SECONDS
            handler(loop, {"message": "socket.accept() out of system resource", "exception": error})
    finally:
        loop.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "octorelease.http"]
    assert lines == [
        "cannot accept connections: [Errno 24] Too many open files (0 more such errors left out)",
        "cannot accept connections: [Errno 24] Too many open files (2047 more such errors left out)",
    ]
    assert not any(r.exc_info for r in caplog.records)


def test_other_loop_errors_are_logged_as_asyncio_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            _AcceptErrors()(loop, {"message": "something else went wrong"})
    finally:
        loop.close()
    assert [r.getMessage() for r in caplog.records] == ["something else went wrong"]

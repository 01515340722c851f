"""``octorelease sandbox`` as a command: what it says when it cannot start."""

from __future__ import annotations

import socket

from testing.cli import assert_one_line_error, run_cli


def test_a_port_already_in_use_is_one_line_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_cli(capsys, "sandbox", "--port", str(port))
    assert_one_line_error(run, 2, f"Cannot listen on 127.0.0.1:{port}: Address already in use.")
    assert run.err.splitlines()[-1] == "  hint: Pick another --port (0: any free one) or --host."
    assert run.out == ""

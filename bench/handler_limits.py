"""What each hostile handler file costs now that the reader is bounded: wall time and peak memory.

Run with ``.venv/bin/python bench/handler_limits.py``. Each file is run by a fresh
``octorelease run`` process, as CI would run it, and must exit 2 before any request (the server
URL points at a closed port). Peak memory is the child's maximum resident set size; the first
row, a valid file with a bad event, is the cost of starting Python and loading octorelease.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from octorelease.yaml_lines import MAX_BYTES, MAX_VALUES
from testing.children import spawn
from testing.hostile_files import (
    HEAD,
    alias_bomb,
    deep_list,
    deep_mapping,
    many_aliases,
    many_values,
    padded,
    with_handler_line,
)

CASES: list[tuple[str, str, list[str]]] = [
    ("baseline: valid file, unknown event", HEAD.replace("build-completed", "build-finished"), []),
    ("alias bomb, 9 levels of 9 aliases", alias_bomb(), []),
    ("101 aliases", many_aliases(101), []),
    ("list nested 20,000 deep", deep_list(20_000), []),
    ("mapping nested 5,000 deep", deep_mapping(5_000), []),
    (f"{MAX_VALUES + 1:,} values in a block list", many_values(MAX_VALUES + 1), []),
    ("4 MiB file", padded(4 * 1024 * 1024), []),
    (f"{MAX_BYTES // 1024} KiB of comments (accepted size, bad event)",
     padded(MAX_BYTES - 64).replace("build-completed", "build-finished"), []),
    ("'(x+x+)+y' against 5,000 x", with_handler_line('conditions: ["{build.branch} matches (x+x+)+y"]'),
     ["--var", "build.branch=" + "x" * 5000]),
    ("'(a+)+$' against 40 a and !", with_handler_line("""conditions: ["{build.branch} matches '(a+)+$'"]"""),
     ["--var", "build.branch=" + "a" * 40 + "!"]),
    ("'(a{65535}){65535}'", with_handler_line("""conditions: ["{build.branch} matches (a{65535}){65535}"]"""),
     []),
    ("groups nested 2,000 deep",
     with_handler_line(f"""conditions: ["{{build.branch}} matches {'(' * 2000}a{')' * 2000}"]"""), []),
]


def measure(text: str, extra: list[str]) -> tuple[int, float, float, str]:
    """Exit code, seconds, peak MiB and the last line of stderr of one ``octorelease run``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "octorelease.yml"
        path.write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "octorelease.cli", "run", path.name, "--event", "build-completed",
                   "--server", "http://127.0.0.1:9", "--api-key", "API-BENCH", *extra]
        started = time.perf_counter()
        process = spawn(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        err = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, seconds, usage.ru_maxrss / 1024, (err.strip().splitlines() or [""])[-1]


def main() -> None:
    print(f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| case | exit | time (s) | peak memory (MiB) | message |\n|---|---|---|---|---|")
    for name, text, extra in CASES:
        code, seconds, mib, line = measure(text, extra)
        print(f"| {name} | {code} | {seconds:.2f} | {mib:.0f} | `{line[:100]}` |")


if __name__ == "__main__":
    main()

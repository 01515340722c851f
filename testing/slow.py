"""Choose the suite's slow tests from a ``--durations=0`` run: ``tests/slow.txt``, which the root
conftest marks ``slow`` and ``make test-fast`` leaves out.

    .venv/bin/pytest --durations=0 > durations.log
    .venv/bin/python -m testing.slow durations.log > tests/slow.txt

A test (every parametrization of one test function) is slow when one of its rows took
``ROW_SECONDS`` or more (setup, call and teardown together), or all its rows together took
``TOTAL_SECONDS`` or more: a long sweep (every route, every hostile answer) that the whole suite
runs anyway. The figures suit a two-core machine with other work on it.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable

ROW_SECONDS = 0.25
TOTAL_SECONDS = 1.5
LINE = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(\S.*)$")


def slow_tests(log: Iterable[str]) -> list[str]:
    """The node ids, without parameters, of the slow tests that ``log`` shows."""
    rows: dict[str, float] = defaultdict(float)
    for line in log:
        match = LINE.match(line.rstrip("\n"))
        if match:
            rows[match[2]] += float(match[1])
    by_test: dict[str, list[float]] = defaultdict(list)
    for node_id, seconds in rows.items():
        by_test[node_id.split("[", 1)[0]].append(seconds)
    return sorted(test for test, seconds in by_test.items()
                  if max(seconds) >= ROW_SECONDS or sum(seconds) >= TOTAL_SECONDS)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as log:
        tests = slow_tests(log)
    print(f"# Slow tests: `make test-fast` leaves them out. Made by `python -m testing.slow` from a\n"
          f"# --durations=0 run (a row of {ROW_SECONDS} s or more, or {TOTAL_SECONDS} s or more in all).\n"
          f"# A test that moves or is renamed moves or is renamed here too.")
    print("\n".join(tests))


if __name__ == "__main__":
    main(sys.argv[1])

"""One running sandbox: store, models, task runner, the API key and the request log, wired together.

The HTTP app (``api/``) and the test controls (``control.py``) both act on this object; the
server (``server.py``) only decides where it listens.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.estate import seed as seeds
from octorelease.sandbox.http.faults import HttpFaults
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.rules.requests import Fault
from octorelease.sandbox.rules.runner import TaskRunner, recover
from octorelease.sandbox.state.store import Store

DEFAULT_API_KEY = "API-SANDBOX0000000000000000000000"
#: what ``set_speed`` takes
SPEED_RULE = "'seconds_per_step' must be a number of seconds, 0 or more."
#: how many requests the request log (``GET /_sandbox/requests``) keeps: the newest
REQUEST_LOG_LIMIT = 10_000


class Sandbox:
    """State plus behaviour of one sandbox; ``reset`` gives tests a clean one in milliseconds."""

    def __init__(self, db_path: str | None = None, seed: seeds.Seed = "demo", api_key: str | None = None,
                 speed: float = 1.0, faults: str | None = None,
                 access_log: Callable[[str], None] | None = None, admin_key: str | None = None,
                 skipped: list[str] | None = None, request_log_limit: int = REQUEST_LOG_LIMIT) -> None:
        """``seed``: ``demo``, ``empty``, ``large[:SIZES]`` (or a ``LargeEstate``) or a loaded estate
        file, applied when the database is new;
        ``skipped``: history the rules refuse is left out and listed there (``seed.apply``)."""
        seeds.check(seed)
        self.store = Store(db_path)
        self.backend = Backend(self.store)
        self.api_key = api_key or DEFAULT_API_KEY
        #: the last ``request_log_limit`` /api requests as {"method", "path", "query", "status"}
        #: (plus "fault"), oldest first; never headers (they hold the key); "status" is None until
        #: answered, and for a dropped one. Bounded, so a long-running sandbox does not grow.
        self.requests: deque[dict[str, Any]] = deque(maxlen=request_log_limit)
        #: where one line per request goes (``octorelease sandbox -v``), if anywhere
        self.access_log = access_log
        #: what the test controls (``/_sandbox/*``) demand in ``X-Sandbox-Admin-Key``; None: nothing
        self.admin_key = admin_key
        #: the ``--faults`` spec the sandbox started with; ``reset`` goes back to it
        self.startup_faults = faults
        #: the HTTP faults in force (``faults.py``); ``None``: every request is served
        self.http_faults: HttpFaults | None = HttpFaults.parse(faults) if faults else None
        try:
            with self.backend.lock:
                if not self.store.is_seeded():
                    self.backend.wipe()
                    seeds.apply(self.backend, seed, skipped)
                recover(self.backend)
        except BaseException:
            self.store.close()  # a seed refused (its transaction rolled back): nothing stays open
            raise
        self.runner = TaskRunner(self.backend, speed)

    def start(self) -> None:
        self.runner.start()

    def record(self, method: str, path: str, query: str, fault: str | None) -> dict[str, Any]:
        """Note a request as it arrives (``query`` already masked); ``answered`` completes it."""
        entry: dict[str, Any] = {"method": method, "path": path, "query": query, "status": None}
        if fault:
            entry["fault"] = fault
        if path == "/api" or path.startswith("/api/"):
            self.requests.append(entry)
        return entry

    def answered(self, entry: dict[str, Any], status: int | None, seconds: float) -> None:
        """Complete a request's entry with its status (None: dropped, no answer) and log its line:
        ``GET /api/Spaces-1/projects?take=5 200 3.1 ms``, plus the fault it got, if any. The pages'
        views and refreshes (``GET /app...``, twice a second while a task runs) are left out: the
        log is for what a pipeline sent."""
        entry["status"] = status
        if self.access_log is not None and not (entry["method"] in ("GET", "HEAD") and _is_page(entry["path"])):
            target = f"{entry['path']}?{entry['query']}" if entry["query"] else entry["path"]
            fault = f" (fault: {entry['fault']})" if "fault" in entry else ""
            self.access_log(f"{entry['method']} {target} {status or 'dropped'} {seconds * 1000:.1f} ms{fault}")

    def close(self) -> None:
        self.runner.stop()
        self.store.close()

    def set_speed(self, seconds_per_step: float) -> None:
        """How long each step takes on each machine from now on (``--speed``)."""
        if not 0 <= seconds_per_step < float("inf"):
            raise ValidationFailed(SPEED_RULE)
        self.runner.speed = seconds_per_step

    def hold_tasks(self, held: bool) -> None:
        """Keep queued tasks from starting (``True``) until released (``False``); a reset releases them."""
        self.runner.hold(held)

    def add_fault(self, fault: Fault) -> None:
        """Make the steps ``fault`` matches fail from now on."""
        with self.backend.lock:
            self.backend.add_fault(fault)

    def clear_faults(self) -> None:
        with self.backend.lock:
            self.backend.faults.clear()

    def set_http_faults(self, spec: str | None) -> None:
        """Fail ``/api`` requests as ``spec`` says from now on (its random sequence starts
        afresh); ``None`` serves every request. Raises ``FaultSpecError`` for a bad spec."""
        self.http_faults = HttpFaults.parse(spec) if spec else None

    def reset(self, seed: str) -> None:
        """Stop running tasks, wipe everything (faults, limited keys, request log too, and a
        hold on the queue), re-seed.

        HTTP faults go back to the ``--faults`` spec the sandbox started with, from the start of
        its random sequence, so that a run after a reset meets the same faults again."""
        try:
            seeds.check(seed)
        except ValueError as exc:
            raise ValidationFailed(f"Unknown seed '{seed}': {exc}.") from None
        self.runner.stop()
        with self.backend.lock:
            self.backend.wipe()
            seeds.apply(self.backend, seed)
            self.requests.clear()
        self.set_http_faults(self.startup_faults)
        self.runner.hold(False)
        self.runner.start()


def _is_page(path: str) -> bool:
    return path == "/app" or path.startswith("/app/")

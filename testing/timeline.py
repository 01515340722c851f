"""An observer that notes when it hears things, for tests and benchmarks about the pace of a
wait: when the last deployment was queued, when each verdict was told, which log lines came."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from octorelease.actions.result import DeploymentResult, LogLine, SilentObserver


@dataclass
class Timeline(SilentObserver):
    """When each thing was heard: ``time.monotonic()`` for spans, ``time.time()`` for verdicts
    (compared with the server's ``CompletedTime`` when the sandbox runs on this machine)."""

    queued_at: float = 0.0
    ended_at: dict[str, float] = field(default_factory=dict)
    told_at: dict[str, float] = field(default_factory=dict)  # task id -> wall clock of its verdict
    lines: dict[str, list[str]] = field(default_factory=dict)

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        self.queued_at = time.monotonic()

    def task_updated(self, deployment: DeploymentResult) -> None:
        if deployment.finished and deployment.task_id not in self.told_at:
            self.ended_at[deployment.label] = time.monotonic()
            self.told_at[deployment.task_id or ""] = time.time()

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        self.lines.setdefault(deployment.label, []).extend(line.text for line in lines)

    @property
    def waited(self) -> float:
        """Seconds from the last deployment queued to the last verdict told."""
        return max(self.ended_at.values()) - self.queued_at


def wait_requests(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests of a wait, out of a sandbox's request log: task polls and log reads."""
    return [r for r in requests if re.match(r"/api/(Spaces-\d+/)?tasks", r["path"])]

"""Collections the sandbox does not emulate (docs/guides/sandbox.md): empty pages, an empty ``/all`` and 404 for any
id, so that tools which list them work and find nothing.
"""

from __future__ import annotations

from octorelease.sandbox.http.api.collections import unemulated
from octorelease.sandbox.http.api.context import Ctx, route

RUNBOOKS = unemulated("Runbook", "Runbooks")
ACCOUNTS = unemulated("Account", "Accounts")
ACTION_TEMPLATES = unemulated("ActionTemplate", "ActionTemplates")
PROXIES = unemulated("Proxy", "Proxies")
CERTIFICATES = unemulated("Certificate", "Certificates")
SUBSCRIPTIONS = unemulated("Subscription", "Subscriptions")
ARTIFACTS = unemulated("Artifact", "Artifacts")
RUNBOOK_PROCESSES = unemulated("RunbookProcess", "RunbookProcesses")
RUNBOOK_SNAPSHOTS = unemulated("RunbookSnapshot", "RunbookSnapshots")
RUNBOOK_RUNS = unemulated("RunbookRun", "RunbookRuns")
WORKER_POOLS = unemulated("WorkerPool", "WorkerPools")
WORKERS = unemulated("Worker", "Workers")


@route()
def no_strings(ctx: Ctx) -> list[str]:
    """The string lists of something the sandbox has none of (workers' operating systems)."""
    return []

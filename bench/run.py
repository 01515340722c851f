"""``make bench``: octorelease against the official client, on the same jobs, in one table.

Every figure of issue 11 is measured in one run: octorelease (its console script, a fresh
process per job, as a CI step runs it), the official npm client ``@octopusdeploy/api-client``
doing the same job (``bench/node/official.mjs``, the version the compatibility test installs),
their ratio, the target and whether it is met. Requests and bytes are counted by a proxy between
each client and the sandbox (``bench/proxy.py``); the sandbox runs in its own process.

Sections (``--only`` picks some): startup, detection, waiting, jobs, flat, scale. ``--smoke``
runs each with the smallest sizes, to check the harness itself in seconds, not to measure.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # bench/'s modules
sys.path.insert(1, str(Path(__file__).parent.parent))  # testing/

from clients import Run, completed_at, node_available, octorelease, official, run_timed
from estate import PROJECT, RELEASE, environment, estate_file
from proxy import CountingProxy, Exchange
from sandbox_process import SandboxProcess


@dataclass
class Row:
    """One line of the table: a figure for octorelease, for the official client, and the verdict."""

    figure: str
    ours: str
    theirs: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None


@dataclass
class Sizes:
    """How much of each thing one run measures; ``SMOKE`` only checks that the harness works."""

    startup_runs: int = 10
    short_task: float = 1.5  # seconds per task (one script step)
    short_samples: int = 10  # per client
    long_task: float = 40.0
    long_samples: int = 6
    wait_task: float = 10.0
    many_tasks: int = 12  # "N tasks" while waiting
    job_repeats: int = 3
    large_seed: str = "large"
    endpoint_repeats: int = 15
    poll_seconds: float = 3.0
    poll_tasks: int = 3000
    idle_seconds: float = 10.0
    notes: list[str] = field(default_factory=list)


SMOKE = Sizes(startup_runs=1, short_task=0.2, short_samples=1, long_task=0.5, long_samples=1, wait_task=0.5,
              many_tasks=2, job_repeats=1, large_seed="large:environments=20,machines=40,releases=20,deployments=40",
              endpoint_repeats=1, poll_seconds=0.5, poll_tasks=10, idle_seconds=0.5)


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "—"


def log(message: str) -> None:
    """Progress on stderr: the table alone goes to stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 10 samples is the largest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


# -- start-up ----------------------------------------------------------------------------------------


def section_startup(sizes: Sizes) -> list[Row]:
    from startup import startup_medians

    medians = startup_medians(sizes.startup_runs)
    click = medians["click"]
    return [Row(f"start-up: octorelease --{name} (vs python -c 'import click')", f"{medians[name] * 1000:.0f} ms",
                f"{click * 1000:.0f} ms", ratio(medians[name], click), "≤ 1.5x", medians[name] <= 1.5 * click)
            for name in ("help", "version")]


# -- detection -----------------------------------------------------------------------------------------


def _deploy_one(url: str, client: str, env: str, delay: float, *extra: str) -> Run:
    time.sleep(delay)
    if client == "octorelease":
        return octorelease(url, "deploy", "--project", PROJECT, "--release", RELEASE, "--to", env, *extra)
    return official(url, "deploy", project=PROJECT, release=RELEASE, to=[env], wait=True)


def _detections(sandbox: SandboxProcess, samples: int, stagger: float, rounds: int,
                first: int) -> dict[str, list[float]]:
    """Seconds from each task's completion on the server to its client reporting it, per client;
    environments from number ``first + 1`` on, each used once."""
    found: dict[str, list[float]] = {"octorelease": [], "official": []}
    per_round = -(-samples // rounds)
    number = first
    for _ in range(rounds):
        jobs = []
        for _ in range(per_round):
            for client in found:
                number += 1
                jobs.append((client, environment(number)))
        with ThreadPoolExecutor(len(jobs)) as pool:
            runs = list(pool.map(lambda job: _deploy_one(sandbox.url, job[0], job[1], random.uniform(0, stagger)),
                                 jobs))
        for (client, _), run in zip(jobs, runs, strict=True):
            run.check(f"{client} deploy")
            for task_id, seen in run.finished().items():
                found[client].append(seen - completed_at(sandbox.get(f"/api/tasks/{task_id}")))
    return found


def section_detection(sizes: Sizes, sandbox: SandboxProcess) -> list[Row]:
    rows = []
    # Each task goes to an environment of its own that no other task of the run used: a client
    # that expects a task to last as long as the previous one there gets no misleading history.
    for kind, seconds, samples, stagger, rounds, first in (
            ("short", sizes.short_task, sizes.short_samples, 0.5, max(1, sizes.short_samples // 2), 0),
            ("long", sizes.long_task, sizes.long_samples, min(8.0, sizes.long_task / 4), 1,
             2 * sizes.short_samples)):
        sandbox.set_speed(seconds)
        log(f"detection: {samples} {kind} tasks ({seconds:g} s) per client")
        found = _detections(sandbox, samples, stagger, rounds, first)
        for name, fraction, limit in (("median", 0.5, 0.5), ("p95", 0.95, 1.0)):
            ours = statistics.median(found["octorelease"]) if fraction == 0.5 else percentile(found["octorelease"],
                                                                                              fraction)
            theirs = statistics.median(found["official"]) if fraction == 0.5 else percentile(found["official"],
                                                                                             fraction)
            rows.append(Row(f"detection {name}, {kind} tasks ({seconds:g} s, {len(found['octorelease'])} runs)",
                            f"{ours:.2f} s", f"{theirs:.2f} s", ratio(ours, theirs), f"≤ {limit:g} s", ours <= limit))
    return rows


# -- requests while waiting ------------------------------------------------------------------------------


def waiting_rate(exchanges: list[Exchange]) -> float:
    """Requests per second while waiting: from the client's first request about a task (its first
    poll) to its last request, every request counted (polls, log reads), as intervals: n requests
    over the time from the first to the last are n - 1 intervals."""
    first = next((i for i, e in enumerate(exchanges) if "/tasks" in e.path), None)
    waiting = exchanges[first:] if first is not None else []
    if len(waiting) < 2:
        return 0.0
    return (len(waiting) - 1) / (waiting[-1].started - waiting[0].started)


@contextmanager
def proxied(sandbox: SandboxProcess) -> Iterator[CountingProxy]:
    with CountingProxy(sandbox.port) as proxy:
        yield proxy


def _counted(sandbox: SandboxProcess, job: Callable[[str], Run]) -> tuple[Run, list[Exchange]]:
    with proxied(sandbox) as proxy:
        run = job(proxy.url)
        return run, proxy.take()


def section_waiting(sizes: Sizes, sandbox: SandboxProcess) -> list[Row]:
    sandbox.set_speed(sizes.wait_task)
    rows = []
    for tasks in (1, sizes.many_tasks):
        for log_on in (False, True):
            log(f"waiting: {tasks} task(s) of {sizes.wait_task:g} s, logs {'on' if log_on else 'off'}")
            ours_envs = [environment(n) for n in range(1, tasks + 1)]
            theirs_envs = [environment(n) for n in range(tasks + 1, 2 * tasks + 1)]
            targets = [arg for env in ours_envs for arg in ("--to", env)]

            def ours(url: str, targets: list[str] = targets, log_on: bool = log_on) -> Run:
                return octorelease(url, "deploy", "--project", PROJECT, "--release", RELEASE, *targets,
                                   "--log" if log_on else "--no-log").check("octorelease deploy")

            def theirs(url: str, envs: list[str] = theirs_envs, log_on: bool = log_on) -> Run:
                return official(url, "deploy", project=PROJECT, release=RELEASE, to=envs, wait=True,
                                log=log_on).check("official deploy")

            with ThreadPoolExecutor(2) as pool:
                mine, other = pool.submit(_counted, sandbox, ours), pool.submit(_counted, sandbox, theirs)
                our_rate, their_rate = waiting_rate(mine.result()[1]), waiting_rate(other.result()[1])
            limit = 2.0 if log_on else 1.0
            rows.append(Row(f"requests/s while waiting, {tasks} task(s), logs {'on' if log_on else 'off'}",
                            f"{our_rate:.2f}/s", f"{their_rate:.2f}/s", ratio(our_rate, their_rate),
                            f"≤ {limit:g}/s", our_rate <= limit))
    return rows


# -- the same jobs, on the demo seed ---------------------------------------------------------------------


@dataclass
class Job:
    """One job for both clients: octorelease's arguments and the official client's job and arguments."""

    name: str
    ours: list[str]
    theirs: str
    theirs_args: dict[str, object]

    def run_ours(self, url: str) -> Run:
        return octorelease(url, *self.ours).check(f"octorelease {' '.join(self.ours)}")

    def run_theirs(self, url: str) -> Run:
        return official(url, self.theirs, **self.theirs_args).check(f"official {self.theirs} {self.theirs_args}")


def _worker_promote(targets: list[str]) -> Job:
    return Job(f"promote setup, K={len(targets)}",
               ["promote", "--project", "Worker", "--from", "Development", *[a for t in targets for a in ("--to", t)],
                "--no-wait"], "promote", {"project": "Worker", "from": "Development", "to": targets})


DEMO_JOBS = {
    "deploy": Job("deploy-and-wait, logs off", ["deploy", "--project", "Web", "--release", "1.1.0", "--to", "Test",
                                                "--no-log"],
                  "deploy", {"project": "Web", "release": "1.1.0", "to": ["Test"], "wait": True}),
    "deploy-log": Job("deploy-and-wait, logs on", ["deploy", "--project", "Web", "--release", "1.1.0", "--to", "Test"],
                      "deploy", {"project": "Web", "release": "1.1.0", "to": ["Test"], "wait": True, "log": True}),
    "promote-1": _worker_promote(["Test"]),
    "promote-3": _worker_promote(["Test", "Staging", "Production"]),
    "create": Job("create", ["create", "--project", "Web", "--version", "9.0.0", "--package", "Deploy web=1.3.0"],
                  "create", {"project": "Web", "version": "9.0.0", "packages": ["Deploy web:1.3.0"]}),
    "create-deploy": Job("create --deploy-to (no wait)",
                         ["create", "--project", "Web", "--version", "9.0.0", "--package", "Deploy web=1.3.0",
                          "--deploy-to", "Development", "--no-wait"],
                         "create", {"project": "Web", "version": "9.0.0", "packages": ["Deploy web:1.3.0"],
                                    "to": ["Development"]}),
}


@dataclass
class Measured:
    """A job's medians over its runs, for one client."""

    requests: float
    bytes_down: float
    seconds: float
    exchanges: list[Exchange]


def _measure(sandbox: SandboxProcess, run: Callable[[str], Run], repeats: int, reset: str | None,
             speed: float) -> Measured:
    counts, sizes, walls, last = [], [], [], []
    for _ in range(repeats):
        if reset:
            sandbox.control("POST", "reset", {"seed": reset})
            sandbox.set_speed(speed)
        result, exchanges = _counted(sandbox, run)
        counts.append(len(exchanges))
        sizes.append(sum(e.bytes_down for e in exchanges))
        walls.append(result.seconds)
        last = exchanges
    return Measured(statistics.median(counts), statistics.median(sizes), statistics.median(walls), last)


def _refetches(exchanges: list[Exchange]) -> list[str]:
    """What ``create`` fetched that it had, or did not need (issue 11): the release list (only a
    hint needs it, and a new version's 404 is no error), the created release after its POST, the
    project more than once."""
    created = [i for i, e in enumerate(exchanges) if e.method == "POST" and "/releases" in e.path]
    after = exchanges[created[0] + 1:] if created else []
    again = [f"GET {e.path} (list)" for e in exchanges if e.method == "GET" and e.path.endswith("/releases")]
    again += [f"GET {e.path}" for e in after if e.method == "GET" and "/releases/" in e.path
              and "/deployments/" not in e.path]
    projects = [e.target for e in exchanges
                if e.method == "GET" and re.search(r"/projects(/Projects-\d+)?$", e.path)]
    if len(projects) > 1:
        again.append(f"the project {len(projects)} times")
    return again


def section_jobs(sizes: Sizes, sandbox: SandboxProcess) -> list[Row]:
    rows = []
    speed = 0.3
    for key, job in DEMO_JOBS.items():
        log(f"jobs: {job.name}")
        repeats = sizes.job_repeats if key.startswith("deploy") else 1  # the others' counts do not vary
        ours = _measure(sandbox, job.run_ours, repeats, "demo", speed)
        theirs = _measure(sandbox, job.run_theirs, repeats, "demo", speed)
        requests = Row(f"{job.name}: requests", f"{ours.requests:g}", f"{theirs.requests:g}",
                       ratio(ours.requests, theirs.requests))
        if key.startswith("deploy"):
            requests.target, requests.met = "≤ client + 1", ours.requests <= theirs.requests + 1
            rows.append(requests)
            rows.append(Row(f"{job.name}: wall", f"{ours.seconds:.2f} s", f"{theirs.seconds:.2f} s",
                            ratio(ours.seconds, theirs.seconds), "< client", ours.seconds < theirs.seconds))
        elif key.startswith("promote"):
            k = len(job.theirs_args["to"])  # type: ignore[arg-type]
            requests.target, requests.met = f"≤ 5 + K = {5 + k}", ours.requests <= 5 + k
            rows.append(requests)
        else:
            again = _refetches(ours.exchanges)
            requests.target, requests.met = "no GET of what it has", not again
            if again:
                requests.ours += f" ({len(again)} needless)"
                sizes.notes.append(f"{job.name} fetched needlessly: {', '.join(again)}")
            rows.append(requests)
    return rows


# -- flat cost: the large estate against the demo seed ---------------------------------------------------


def flat_jobs() -> list[Job]:
    """create, deploy and promote (no waiting: the cost of the estate, not of the task), in that
    order, on a fresh sandbox. The names are the demo's: the large seed is the demo plus its bulk."""
    return [
        Job("create", ["create", "--project", "Web", "--version", "9.0.0", "--package", "Deploy web=1.3.0"],
            "create", {"project": "Web", "version": "9.0.1", "packages": ["Deploy web:1.3.0"]}),
        Job("deploy", ["deploy", "--project", "Web", "--release", "1.1.0", "--to", "Test", "--no-wait"],
            "deploy", {"project": "Web", "release": "1.1.0", "to": ["Test"]}),
        Job("promote", ["promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--no-wait"],
            "promote", {"project": "Worker", "from": "Development", "to": ["Test"]}),
    ]


def _kb(size: float) -> str:
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MB"


def _flat_runs(sandbox: SandboxProcess) -> dict[str, tuple[Measured, Measured]]:
    """Each flat job on ``sandbox`` (fresh): (octorelease, official client) by job."""
    found: dict[str, tuple[Measured, Measured]] = {}
    for job in flat_jobs():
        ours = _measure(sandbox, job.run_ours, 1, None, 0.05)
        theirs = _measure(sandbox, job.run_theirs, 1, None, 0.05)
        found[job.name] = (ours, theirs)
    return found


def section_flat(sizes: Sizes, large: SandboxProcess) -> tuple[list[Row], list[Exchange]]:
    """The flat jobs on a fresh demo sandbox, then on ``large``; the exchanges on ``large``."""
    log("flat: the jobs on the demo seed")
    with SandboxProcess(seed="demo", speed=0.05) as sandbox:
        demo = _flat_runs(sandbox)
    log(f"flat: the jobs on --seed {sizes.large_seed}")
    large_runs = _flat_runs(large)
    rows = []
    for name, (ours_demo, theirs_demo) in demo.items():
        ours_large, theirs_large = large_runs[name]
        for figure, get, show, limit in (
                ("requests", lambda m: m.requests, lambda v: f"{v:g}", 1.0),
                ("bytes", lambda m: m.bytes_down, _kb, 2.0),
                ("wall", lambda m: m.seconds, lambda v: f"{v:.2f} s", 1.5)):
            ours_growth = get(ours_large) / get(ours_demo)
            theirs_growth = get(theirs_large) / get(theirs_demo)
            rows.append(Row(f"flat cost, {name}: {figure}, demo → large",
                            f"{show(get(ours_demo))} → {show(get(ours_large))} ({ours_growth:.2f}x)",
                            f"{show(get(theirs_demo))} → {show(get(theirs_large))} ({theirs_growth:.2f}x)",
                            ratio(get(ours_large), get(theirs_large)),
                            "same" if figure == "requests" else f"≤ {limit:g}x demo", ours_growth <= limit))
    exchanges = [e for ours, theirs in large_runs.values() for e in ours.exchanges + theirs.exchanges]
    return rows, exchanges


# -- sandbox scale ---------------------------------------------------------------------------------------

#: Ids in a path, so that requests for different tasks or releases count as one endpoint.
_IDS = re.compile(r"(?<=/)(?:[A-Za-z]+-\d+|\d+(?:\.\d+)+[^/]*)(?=/|$)")


def endpoint(exchange: Exchange) -> str:
    """``GET /api/Spaces-1/releases/Releases-9/deployments/template`` -> ``GET releases/{id}/deployments/template``."""
    path = _IDS.sub("{id}", exchange.path).removeprefix("/api").removeprefix("/{id}").strip("/")
    return f"{exchange.method} {path or '/api'}"


def _endpoint_medians(sandbox: SandboxProcess, exchanges: list[Exchange], repeats: int) -> dict[str, float]:
    """Median seconds per endpoint: each GET the clients sent replayed ``repeats`` times straight
    to the sandbox (fewer when they take over 1.5 s in all); a write as the proxy timed it when the
    client sent it (a replay would write again)."""
    timings: dict[str, list[float]] = {}
    seen: set[str] = set()
    for exchange in exchanges:
        if exchange.method != "GET":
            if exchange.seconds is not None:
                timings.setdefault(endpoint(exchange), []).append(exchange.seconds)
            continue
        if exchange.target in seen:
            continue
        seen.add(exchange.target)
        spent = 0.0
        for _ in range(repeats):  # at most a second and a half each: one slow answer says enough
            started = time.perf_counter()
            sandbox.http.get(exchange.target)
            took = time.perf_counter() - started
            timings.setdefault(endpoint(exchange), []).append(took)
            spent += took
            if spent > 1.5:
                break
    return {name: statistics.median(values) for name, values in timings.items()}


def poll_target(exchanges: list[Exchange]) -> str | None:
    """The request a client repeats while it waits (its poll), with ``{task}`` for the task id."""
    posts = [i for i, e in enumerate(exchanges) if e.method == "POST"]
    waiting = [re.sub(r"ServerTasks-\d+", "{task}", e.target) for e in exchanges[posts[-1] + 1:]] if posts else []
    return max(set(waiting), key=waiting.count) if waiting else None


def _polls_per_second(sandbox: SandboxProcess, target: str, tasks: int, seconds: float) -> float:
    """Requests per second the sandbox answers for ``target`` (``{task}``: each of ``tasks`` tasks in turn)."""
    script = Path(__file__).parent / "node" / "polls.mjs"
    run = run_timed(["node", str(script), sandbox.url, target, str(tasks), str(seconds)]).check("polls.mjs")
    return float(run.lines[-1][1])


def _until_idle(sandbox: SandboxProcess, deadline_seconds: float = 120) -> None:
    """Wait (with a deadline) until no task is queued or running."""
    deadline = time.monotonic() + deadline_seconds
    while sandbox.get("/api/tasks", active="true", take=1)["TotalResults"] and time.monotonic() < deadline:
        time.sleep(0.2)


def section_scale(sizes: Sizes, sandbox: SandboxProcess, exchanges: list[Exchange],
                  polls: dict[str, str | None]) -> list[Row]:
    """The sandbox's own figures on the large estate: per endpoint, polls, idle CPU."""
    rows = []
    census = sandbox.control("GET", "census")
    tasks = int(census.get("task", 0) or 0)
    log(f"scale: {len(exchanges)} requests' endpoints replayed on --seed {sizes.large_seed} ({tasks} tasks)")
    medians = _endpoint_medians(sandbox, exchanges, sizes.endpoint_repeats)
    slowest = max(medians, key=lambda name: medians[name])
    over = sorted(name for name, value in medians.items() if value > 0.010)
    rows.append(Row(f"sandbox: endpoint medians, large estate ({len(medians)} endpoints the clients use)",
                    f"slowest {medians[slowest] * 1000:.1f} ms ({slowest}), {len(over)} over 10 ms",
                    target="≤ 10 ms each", met=not over))
    sizes.notes.append("endpoint medians on the large estate: " + ", ".join(
        f"{name} {medians[name] * 1000:.1f} ms" for name in sorted(medians, key=lambda n: -medians[n])))
    rates = {}
    for client, target in polls.items():
        if target:
            log(f"scale: polls/s of {client}'s poll {target}")
            rates[client] = _polls_per_second(sandbox, target, min(tasks, sizes.poll_tasks), sizes.poll_seconds)
    if "octorelease" in rates:
        theirs = rates.get("official", 0.0)
        rows.append(Row(f"sandbox: task polls/s, {min(tasks, sizes.poll_tasks)} tasks polled in turn",
                        f"{rates['octorelease']:.0f}/s", f"{theirs:.0f}/s" if theirs else "—",
                        ratio(rates["octorelease"], theirs), "≥ 500/s", rates["octorelease"] >= 500))
    log(f"scale: idle CPU over {sizes.idle_seconds:g} s")
    _until_idle(sandbox)
    before = sandbox.cpu_seconds()
    time.sleep(sizes.idle_seconds)
    idle = (sandbox.cpu_seconds() - before) / sizes.idle_seconds
    rows.append(Row(f"sandbox: idle CPU, large estate ({tasks} tasks)", f"{idle * 100:.1f}% of a core",
                    target="≤ 2%", met=idle <= 0.02))
    return rows


# -- the table ---------------------------------------------------------------------------------------------


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.node()} {platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def table(rows: list[Row]) -> str:
    lines = ["| figure | octorelease | official client | ratio | target | met |", "|---|---|---|---|---|---|"]
    verdict = {True: "met", False: "**missed**", None: "—"}
    lines += [f"| {r.figure} | {r.ours} | {r.theirs} | {r.ratio} | {r.target} | {verdict[r.met]} |" for r in rows]
    return "\n".join(lines)


SECTIONS = ("startup", "detection", "waiting", "jobs", "flat", "scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="smallest sizes: checks the harness, measures nothing")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--large-seed", help="the large estate's --seed (default: 'large', the issue's sizes)")
    options = parser.parse_args(argv)
    sizes = SMOKE if options.smoke else Sizes()
    if options.large_seed:
        sizes.large_seed = options.large_seed
    wanted = options.only or list(SECTIONS)
    missing = node_available()
    if missing and set(wanted) - {"startup"}:
        print(f"bench: the official client cannot run: {missing}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows: list[Row] = []
    polls: dict[str, str | None] = {}
    if "startup" in wanted:
        log("start-up")
        rows += section_startup(sizes)
    if {"detection", "waiting"} & set(wanted):
        bench_estate = estate_file(max(2 * sizes.many_tasks, 2 * (sizes.long_samples + sizes.short_samples)))
        with SandboxProcess(seed=str(bench_estate), speed=sizes.short_task) as sandbox:
            if "detection" in wanted:
                rows += section_detection(sizes, sandbox)
            if "waiting" in wanted:
                rows += section_waiting(sizes, sandbox)
    if "jobs" in wanted:
        with SandboxProcess(seed="demo", speed=0.3) as sandbox:
            rows += section_jobs(sizes, sandbox)
            for client, job in (("octorelease", DEMO_JOBS["deploy"].run_ours),
                                ("official", DEMO_JOBS["deploy"].run_theirs)):
                polls[client] = poll_target(_counted(sandbox, job)[1])
    if {"flat", "scale"} & set(wanted):
        log(f"starting a sandbox with --seed {sizes.large_seed}")
        with SandboxProcess(seed=sizes.large_seed, speed=0.05) as large:
            sizes.notes.append(f"--seed {sizes.large_seed}: the sandbox answered {large.seconds_to_start:.0f} s "
                               "after it was started")
            exchanges: list[Exchange] = []
            if "flat" in wanted:
                flat_rows, exchanges = section_flat(sizes, large)
                rows += flat_rows
            else:  # the endpoints the clients use on the large estate, to time them
                exchanges = [e for runs in _flat_runs(large).values() for m in runs for e in m.exchanges]
            if "scale" in wanted:
                rows += section_scale(sizes, large, exchanges, polls)
    print(machine())
    print(table(rows))
    for note in sizes.notes:
        print(f"- {note}")
    met = [r.met for r in rows if r.met is not None]
    print(f"{sum(met)} of {len(met)} targets met; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

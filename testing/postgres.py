"""A throwaway PostgreSQL for tests and benchmarks: Debian's ``initdb`` and ``pg_ctl`` on a
temporary directory and a free port, trust logins on 127.0.0.1 only, removed at the end.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user the
Debian package creates (``runuser``). ``missing()`` says why there can be none (the tests skip
with it); ``apt-get install postgresql`` provides it, as ``.ci/run`` does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testing.ports import free_port

#: Where Debian's ``postgresql`` package puts each version's programs (newest first).
BIN_GLOB = "/usr/lib/postgresql/*/bin"
INSTALL_HINT = "apt-get install postgresql (the tests start a throwaway cluster with its initdb and pg_ctl)"
SUPERUSER = "octorelease"


def bin_dir() -> Path | None:
    """The newest installed version's programs, or the ones on PATH."""
    found = sorted(glob.glob(BIN_GLOB), key=lambda path: int(Path(path).parent.name)
                   if Path(path).parent.name.isdigit() else 0, reverse=True)
    for directory in found:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def missing() -> str | None:
    """Why no throwaway cluster can be started here, or None when one can."""
    if bin_dir() is None:
        return f"PostgreSQL's initdb and pg_ctl are not installed: {INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and initdb refuses root: there is no postgres user to run it as"
        if shutil.which("runuser") is None:
            return "running as root, and initdb refuses root: runuser is missing"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install 'octorelease[postgres]' (part of .[dev])"
    return None


class Cluster:
    """One throwaway cluster: ``start()``, ``url(database)``, ``stop()``/``start()`` again (a
    restart keeps its data), ``destroy()``."""

    def __init__(self) -> None:
        found = bin_dir()
        assert found is not None, INSTALL_HINT
        self.bin = found
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="octorelease-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-instructions",
                  "--locale=C")
        self._databases = 0

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*self._as, str(self.bin / program), *args], capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> Cluster:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
        self._run("pg_ctl", "start", "-w", "-t", "120", "-D", str(self.data), "-l", str(self.log), "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``fast``: connections are cut, as a restart does; ``immediate``: as a crash)."""
        self._run("pg_ctl", "stop", "-w", "-t", "120", "-D", str(self.data), "-m", mode)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"serve_{os.getpid()}_{self._databases}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):  # not running
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

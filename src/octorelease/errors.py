"""The exception family of octorelease.

Every error a caller may catch, and the exit code the command line gives it (the table of
codes lives in ``cli/exit_codes.py``; this tree is the reason it can be one table)::

    OctoreleaseError                 anything octorelease raises on purpose
    ├── InvalidInput                 2  bad flags or handler file, before any request or anything is created
    ├── OctopusRejected              3  Octopus said no (400/404/405/409, or our own lookups)
    │   ├── NotFound                 3  unknown project, environment, machine, release, ...
    │   └── DeploymentNotAllowed     3  the lifecycle (or permissions) forbid a target
    ├── AuthenticationFailed         4  401: the API key is missing or wrong
    ├── PermissionDenied             4  403: the key may not do this
    ├── DeploymentFailed             1  a task ended Failed, Canceled or TimedOut on the server
    ├── WaitTimedOut                 5  our own wait ran out before the tasks completed
    ├── ServerUnreachable            6  connection failed, TLS refused, or 5xx/429 outlasted the retries
    ├── BadResponse                  6  the server answered, but not as Octopus does (a web page,
    │                                   invalid or oversized JSON, a wrong shape, a redirect loop)
    ├── Interrupted                130  SIGINT (Ctrl-C) stopped us; the tasks may still run
    │   └── Terminated             143  SIGTERM (a cancelled CI job) stopped us
    └── InternalError               70  a bug: an exception octorelease did not expect, where a run must
                                        go on and report it (serve's worker)

``Signalled`` is not in this tree on purpose: it is the ``KeyboardInterrupt`` the command line's
SIGTERM handler raises, so that no ``except Exception`` on the way can swallow it; the client
turns it (and a plain Ctrl-C) into ``Interrupted`` or ``Terminated`` in the action's result.

``error_object`` is the ``error`` of every JSON document (``--json``, serve's runs), with its
code from the command line's table (``code_for``, ``cli.exit_code_for``).

``str(exc)`` is the one line a user sees. ``exc.hint`` is an optional second line ("did you
mean 'Production'?"). No exception ever holds request headers, so the API key cannot leak
through a message, a repr or a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

E = TypeVar("E", bound="OctoreleaseError")


class OctoreleaseError(Exception):
    """Base of every error octorelease raises on purpose."""

    #: The input at fault, when one is: a field name of the handler file's actions (``machines``,
    #: ``to``, ``packages``, ...) and the values of it at fault, so that a handler can point at the
    #: line it was written on instead of at a command-line flag (see ``fault_in``).
    option: str | None = None
    values: tuple[str, ...] = ()
    #: The message without the command-line flag it starts with ("'web-9': no such machine ...").
    detail: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def about(self: E, option: str, values: Sequence[str] = (), detail: str | None = None) -> E:
        """Say which input this error is about (returns the error, to ``raise exc.about(...)``)."""
        self.option, self.values, self.detail = option, tuple(values), detail
        return self

    def restate(self, message: str) -> None:
        """Replace the one line a user sees (a handler names file and line instead of a flag)."""
        self.message = message
        self.args = (message,)


def fault_in(
    cls: type[E], flag: str, option: str, values: Sequence[str], detail: str, *, hint: str | None = None
) -> E:
    """``--machine 'web-9': no such machine in Test.`` for the command line, remembering the
    option and the values so that a handler file can say ``octorelease.yml:7:
    handlers[0].promote.machines[0]: 'web-9': no such machine in Test.`` instead."""
    quoted = ", ".join(f"'{value}'" for value in values)
    said = f"{quoted}: {detail}" if quoted else detail
    return cls(f"{flag} {said}", hint=hint).about(option, values, said)


class InvalidInput(OctoreleaseError):
    """The user's flags, handler file or values are wrong; raised before any request is sent."""


class OctopusRejected(OctoreleaseError):
    """Octopus (or a lookup we made on it) refused the request: validation, 404, 405, 409."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.method = method
        self.path = path
        self.errors = list(errors or [])


class NotFound(OctopusRejected):
    """A named thing (project, environment, machine, release, space, step) does not exist."""


class DeploymentNotAllowed(OctopusRejected):
    """The release may not be deployed to one or more targets (lifecycle, permission, tenant)."""

    def __init__(self, message: str, *, reasons: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reasons = dict(reasons or {})


class AuthenticationFailed(OctoreleaseError):
    """Octopus answered 401: the API key is missing, malformed or not valid."""


class PermissionDenied(OctoreleaseError):
    """Octopus answered 403: the key is valid but lacks a permission (e.g. DeploymentCreate)."""


class DeploymentFailed(OctoreleaseError):
    """At least one deployment task finished Failed, Canceled or TimedOut on the server."""


class WaitTimedOut(OctoreleaseError):
    """Our client-side wait ran out before every task completed (the tasks may still run)."""


class NobodyActed(WaitTimedOut):
    """A deployment waits for a person (a manual intervention, guided failure) and the wait
    ended for it: ``--on-interruption fail|cancel``, or ``--interruption-timeout`` passed."""


class ServerUnreachable(OctoreleaseError):
    """The server could not be reached, or transient errors (5xx, 429, resets) outlasted retries."""


class BadResponse(OctoreleaseError):
    """The server answered, but not as Octopus does: a web page, invalid, non-UTF-8 or oversized
    JSON, a list or null where an object belongs, a redirect loop or a redirect to another origin,
    pages that never end.
    Usually ``--server`` points at something that is not the Octopus API (a proxy, a login page)."""


class Interrupted(OctoreleaseError):
    """SIGINT stopped octorelease; what it had started (listed in the result) may still run."""


class Terminated(Interrupted):
    """SIGTERM (what CI systems send to a cancelled job) stopped octorelease."""


class InternalError(OctoreleaseError):
    """A bug: an exception octorelease did not expect, caught where a run must go on (serve's
    worker) so that its result says so with the code of a bug."""


#: An error's exit code (``cli.exit_code_for``): only the command line knows the table.
CodeFor = Callable[[OctoreleaseError], int]


def error_object(error: OctoreleaseError | None, code_for: CodeFor) -> dict[str, Any] | None:
    """The ``error`` of a JSON document: ``{"code": 3, "message": "..."}``, or None without one."""
    return None if error is None else {"code": code_for(error), "message": error.message}


class Signalled(KeyboardInterrupt):
    """A signal, raised as a ``KeyboardInterrupt`` so that it unwinds like Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

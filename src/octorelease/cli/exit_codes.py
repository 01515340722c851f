"""Exit codes: the one place that knows them.

One table from error class to exit code (the error family in ``errors.py`` is the reason it can be
one table), the help texts that list the codes, and the code for a bug in octorelease.
"""

from __future__ import annotations

from octorelease import errors

#: One table from error class to exit code; the most specific class wins (see ``exit_code_for``).
EXIT_CODES: dict[type[errors.OctoreleaseError], int] = {
    errors.OctoreleaseError: 1,
    errors.DeploymentFailed: 1,
    errors.InvalidInput: 2,
    errors.OctopusRejected: 3,
    errors.NotFound: 3,
    errors.DeploymentNotAllowed: 3,
    errors.AuthenticationFailed: 4,
    errors.PermissionDenied: 4,
    errors.WaitTimedOut: 5,
    errors.NobodyActed: 7,
    errors.ServerUnreachable: 6,
    errors.BadResponse: 6,
    errors.Interrupted: 130,
    errors.Terminated: 143,
    errors.InternalError: 70,
}


EXIT_CODES_HELP = """\b
Exit codes:
  0  done (or failures ignored by --no-fail-on-error)
  1  a deployment failed, was cancelled, or timed out on the server
  2  usage or handler-file error, found before any request; or flags the
     project cannot take (a required prompted variable), before anything is created
  3  Octopus said no: unknown project/environment/machine/release, lifecycle forbids, validation
  4  authentication or permission (401/403)
  5  our wait timed out
  6  server unreachable, TLS refused, transient errors outlasted the retries,
     or the server's answers are not Octopus's (a web page, bad JSON, a redirect loop)
  7  a deployment waits for a person and nobody acted (--interruption-timeout,
     or --on-interruption fail|cancel)
  70 internal error in octorelease (a bug; -v shows the traceback)
  130 interrupted by SIGINT (Ctrl-C); tasks not cancelled still run on the server
  143 interrupted by SIGTERM (a cancelled CI job); likewise
"""


#: ``run`` has no --no-fail-on-error: a handler file's field says it.
RUN_EXIT_CODES_HELP = EXIT_CODES_HELP.replace(
    "failures ignored by --no-fail-on-error", "failures ignored by fail_build_on_error: false"
)


SERVE_EXIT_CODES_HELP = """\b
Exit codes:
  0  stopped by SIGINT (Ctrl-C) or SIGTERM; runs cut short resume at the next start
  2  usage or handler-file error (a secret not set, an unknown source, the port taken)
  70 internal error in octorelease (a bug; -v shows the traceback)
"""


#: A bug in octorelease rather than a problem the user can fix (sysexits' EX_SOFTWARE).
INTERNAL_ERROR = EXIT_CODES[errors.InternalError]


def exit_code_for(exc: errors.OctoreleaseError) -> int:
    """The exit code of an error: the entry of its most specific class in ``EXIT_CODES``."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1

"""The errors the sandbox's rules raise, each with Octopus's wording and the status it is served with.

Models raise these and never see HTTP; ``http/middleware.py`` turns one into Octopus's error envelope
``{"ErrorMessage": ..., "Errors": [...], "ParsedHelpLinks": [], "Details": null}`` with the class's
``status`` (moto's split: the rule knows the words, the HTTP layer owns the response)::

    SandboxError                 base; ``status`` is read when the error is serialised
    ├── ValidationFailed    400  "There was a problem with your request." + one reason per error
    ├── MissingFields       400  "The SpaceIdOrName field is required." (a required field left out)
    │   └── Conflict        409  same envelope: the resource changed under the caller
    ├── Unauthorized        401  no API key, or an unknown one
    ├── AdminKeyRequired    401  a test control (/_sandbox) without the admin key, when one is set
    ├── PermissionDenied    403  the key may not do this ("Missing permission: DeploymentCreate")
    ├── ResourceNotFound    404  an id or version in the path does not exist
    └── MethodNotAllowed    405  the route exists, the verb does not
"""

from __future__ import annotations

VALIDATION_MESSAGE = "There was a problem with your request."
INVALID_KEY = (
    "The API key you provided was not valid. Please double-check your API key and try again. "
    "For instructions on finding your API key, please visit: https://oc.to/ApiKey"
)
#: The header that carries the admin key of the test controls (``/_sandbox/*``).
ADMIN_KEY_HEADER = "X-Sandbox-Admin-Key"
MISSING_KEY = "You must be logged in to perform this action. Please provide a valid API key or log in again."


class SandboxError(Exception):
    """Base of the errors the sandbox serves; ``message`` and ``errors`` become the envelope."""

    status = 500

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])


class ValidationFailed(SandboxError):
    """A request Octopus would refuse with 400; each reason is one entry of ``Errors``."""

    status = 400

    def __init__(self, *reasons: str) -> None:
        super().__init__(VALIDATION_MESSAGE, list(reasons))


class MissingFields(SandboxError):
    """Fields the reference marks required were left out (or blank): 400 in the words of the real
    server's model binding (ASP.NET's ``[Required]``), as OctopusDeploy/cli issue #217 shows it:
    ``ErrorMessage`` "The Resource field is required.", ``Errors`` empty."""

    status = 400

    def __init__(self, *names: str) -> None:
        super().__init__(" ".join(f"The {name} field is required." for name in names))


class Conflict(ValidationFailed):
    """The caller wrote over a newer version of the resource (409, validation envelope)."""

    status = 409


class Unauthorized(SandboxError):
    """The request carries no API key, or one the sandbox does not know."""

    status = 401

    def __init__(self, *, missing: bool) -> None:
        super().__init__(MISSING_KEY if missing else INVALID_KEY)


class AdminKeyRequired(SandboxError):
    """A test control was called without the sandbox's admin key (or with a wrong one)."""

    status = 401

    def __init__(self) -> None:
        super().__init__(f"The sandbox's test controls need its admin key, in the {ADMIN_KEY_HEADER} header.")


class ControlsLoopbackOnly(SandboxError):
    """A test control was called from another machine (through a proxy on this one) of a sandbox
    that has no admin key, and so answers its controls on this machine only."""

    status = 403

    def __init__(self) -> None:
        super().__init__("The sandbox's test controls answer this machine only: start the sandbox with "
                         "--admin-key to use them from elsewhere.")


class PermissionDenied(SandboxError):
    """The API key is valid but limited, and this action is outside its limits."""

    status = 403

    def __init__(self, permission: str) -> None:
        super().__init__(
            "You do not have permission to perform this action. Please contact your Octopus "
            f"administrator. Missing permission: {permission}"
        )


class ResourceNotFound(SandboxError):
    """A resource named in the path does not exist (in this space)."""

    status = 404

    def __init__(self, what: str | None = None) -> None:
        super().__init__(
            f"The resource '{what}' was not found." if what else "The resource you requested was not found."
        )


class GitRefNotFound(ResourceNotFound):
    """A branch or a tag that a version-controlled project's repository lacks (404), in the real
    server's words (``rules/git.py`` says where each is quoted from)."""

    def __init__(self, message: str) -> None:
        SandboxError.__init__(self, message)


class MethodNotAllowed(SandboxError):
    """The path exists but does not accept this HTTP method."""

    status = 405

    def __init__(self, method: str) -> None:
        super().__init__(f"The method {method} is not allowed on this resource.")

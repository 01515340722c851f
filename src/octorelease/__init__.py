"""octorelease: create, deploy and promote Octopus Deploy releases from any CI build.

The public Python API. Importing this package stays cheap: the HTTP client, rich and the
sandbox are loaded only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from octorelease.errors import (
    AuthenticationFailed,
    DeploymentFailed,
    DeploymentNotAllowed,
    Interrupted,
    InvalidInput,
    NotFound,
    OctopusRejected,
    OctoreleaseError,
    PermissionDenied,
    ServerUnreachable,
    Terminated,
    WaitTimedOut,
)

if TYPE_CHECKING:  # loaded lazily by __getattr__ below; named here for type checkers and the API docs
    from octorelease.client import Octopus

__all__ = [
    "AuthenticationFailed",
    "DeploymentFailed",
    "DeploymentNotAllowed",
    "Interrupted",
    "InvalidInput",
    "NotFound",
    "Octopus",
    "OctopusRejected",
    "OctoreleaseError",
    "PermissionDenied",
    "ServerUnreachable",
    "Terminated",
    "WaitTimedOut",
]


def __getattr__(name: str) -> Any:
    """Load ``Octopus`` and ``__version__`` only when asked for, to keep start-up fast."""
    if name == "Octopus":
        from octorelease.client import Octopus

        return Octopus
    if name == "__version__":
        from octorelease._version import __version__

        return __version__
    raise AttributeError(f"module 'octorelease' has no attribute {name!r}")

"""Jenkins: the Notification plugin's JSON, phases QUEUED, STARTED, COMPLETED and FINALIZED.

Route ``/hooks/jenkins``. In the job's configuration (Job Notifications), add an endpoint:
format JSON, protocol HTTP, event "All Events", URL
``https://octorelease:<secret>@serve.example.com/hooks/jenkins``; store that URL as a "secret
text" credential so it stays out of the job's configuration.

The plugin signs nothing and sets no header of its own choosing, but it turns the URL's user
information into HTTP basic auth: that is how it proves itself. As with Azure DevOps, a secret
written ``user:password`` must match both, a secret without a colon is the password, and a
sender that can set headers (a pipeline's ``httpRequest`` step, curl) may send the secret in
``X-Octorelease-Token`` instead. A token in the query string is not accepted: query strings end
up in access logs and proxies' logs, and a secret must not.

=============== ===============================================================================
phase           ContinuaCI event (status)
=============== ===============================================================================
``QUEUED``      ``build-created`` (the plugin sends it as the build starts, before STARTED)
``STARTED``     ``after-build-started``
``COMPLETED``   ``build-stopping`` when the build was aborted, else ignored: the build ends at
                FINALIZED, after its post-build steps (archived artifacts, published reports)
``FINALIZED``   ``build-completed``: ``SUCCESS`` is success; ``UNSTABLE``, ``FAILURE``,
                ``NOT_BUILT`` and ``ABORTED`` are failure
=============== ===============================================================================

Jenkins has no stages in this payload. Values: ``number`` build.number, ``id`` the same (a
build's BUILD_ID is its number), ``branch`` scm.branch without ``origin/``, ``commit``
scm.commit, ``url`` build.full_url, ``repository`` scm.url, ``job`` the job's name; the
parameters ``TAG_NAME``, ``BUILD_TRIGGER`` and ``BUILD_USER_ID`` give ``tag``, ``trigger`` and
``actor`` when the job has them.

The plugin has no delivery id and does not look at the answer's status; a delivery is
``name#number#phase``, so a repeat of the same phase of the same build runs once.
"""

from __future__ import annotations

from collections.abc import Mapping

from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import basic_or_header_matches, bounded_values, field, load_object, text, word

_PHASE_EVENTS = {"QUEUED": "build-created", "STARTED": "after-build-started", "FINALIZED": "build-completed"}


class JenkinsSource:
    """``/hooks/jenkins``: one Jenkins build's phases."""

    name = "jenkins"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Basic auth from the endpoint URL's user information, or ``X-Octorelease-Token``."""
        return basic_or_header_matches(headers, secret)

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """One phase of one build; a repeat of the same phase has the same delivery."""
        payload = load_object(body)
        build = field(payload, "build")
        job, number = text(payload, "name"), text(build, "number")
        phase = text(build, "phase").upper()
        if not isinstance(build, dict) or not job or not number or not phase:
            raise BadPayload("not a Notification plugin body: it needs 'name', 'build.number' and 'build.phase'")
        key = word(f"{job}#{number}#{phase}", "name#number#phase")
        result = text(build, "status").upper()
        kind = word(" ".join(part for part in (phase, result) if part), "phase")
        event = _PHASE_EVENTS.get(phase)
        if phase == "COMPLETED":
            if result != "ABORTED":
                return Ignored(self.name, key, kind, "Jenkins ends a build at FINALIZED, after its post-build steps")
            event = "build-stopping"
        if event is None:
            return Ignored(self.name, key, kind, f"phase {phase!r} is not a build event")
        branch = text(build, "scm", "branch")
        parameters = field(build, "parameters")
        values = {
            "number": number,
            "id": number,
            "branch": branch.removeprefix("origin/"),
            "commit": text(build, "scm", "commit"),
            "url": text(build, "full_url"),
            "repository": text(build, "scm", "url"),
            "job": job,
            "tag": text(parameters, "TAG_NAME"),
            "trigger": text(parameters, "BUILD_TRIGGER"),
            "actor": text(parameters, "BUILD_USER_ID"),
        }
        status = ("success" if result == "SUCCESS" else "failure") if event == "build-completed" else None
        return BuildEvent(self.name, key, event, status, None, bounded_values(self.name, values), kind)


SOURCE = JenkinsSource()

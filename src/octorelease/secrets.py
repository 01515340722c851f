"""Keeping the API key out of everything octorelease writes: every redaction is here.

The reporters redact what they print, but a secret can reach the output by other paths too: the
top-level error line, a ``--json`` error object, a ``-vv`` log line, a traceback, a usage error
that echoes a flag. So the command line puts ``RedactingStream`` in front of stdout and stderr
for the whole run (``redacted_output``): whatever is written, by whichever path, passes through
one place. The secrets are the ``--api-key`` and ``OCTOPUS_API_KEY`` values and any credentials
in a server URL (``secrets_of``), plus any found later (``remember``: a handler file's key).

The reporters themselves redact with the functions here (``redact``; ``redact_value`` for
the ``--json`` document; ``redact_keys`` for CI markers, which also hide anything shaped like an
Octopus API key).

Whatever compares a secret someone sent (serve's logins and webhook tokens, the sandbox's API
keys) compares it with ``same_secret``, in constant time.

This module is imported by the command line before any command runs, so it imports nothing heavy.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

#: What a secret is replaced with.
REDACTED = "***"

#: Octopus API keys are ``API-`` and upper-case letters and digits; hide any we did not know of.
API_KEY_SHAPE = re.compile(r"API-[A-Z0-9]{16,}")

#: Shorter pieces of a URL's credentials are not hidden: hiding every ``x`` garbles the output.
MIN_SECRET_LENGTH = 4

_active: set[str] | None = None


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``.

    The longest secrets go first, so a secret that contains another is hidden whole; empty
    secrets are ignored (replacing "" would put ``***`` between every character).
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_value(value: Any, secrets: Iterable[str]) -> Any:
    """A JSON-ready value with every string in it redacted, keys included.

    Redacting the values rather than the dumped text also catches a secret that JSON would
    have escaped (a quote or a backslash in it).
    """
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {redact_value(k, secrets): redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item, secrets) for item in value]
    return value


def redact_keys(text: str, secrets: Iterable[str]) -> str:
    """``redact``, and anything shaped like an Octopus API key hidden too (a key we were not given)."""
    return API_KEY_SHAPE.sub(REDACTED, redact(text, secrets))


def same_secret(given: str, known: str) -> bool:
    """Whether ``given`` is the secret ``known``, in a time that depends only on their lengths
    (``hmac.compare_digest``): how long a refusal takes tells a guesser nothing.

    Compared as UTF-8 bytes, since ``compare_digest`` refuses ``str`` that is not ASCII and a
    header or an environment variable may hold anything: ``surrogatepass`` gives every string,
    a lone surrogate or a byte ``os.environ`` could not decode too, bytes of its own, so the
    bytes are equal exactly when the strings are. hmac is imported here, not at start-up."""
    import hmac

    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), known.encode("utf-8", "surrogatepass"))


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries (user, password, query and fragment values), raw and
    percent-decoded: what output must never show, though such a URL is refused. urllib.parse
    is imported here, not at start-up: ``--help`` and ``--version`` have no URL."""
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url.strip())
        netloc, query, fragment = parts.netloc, parts.query, parts.fragment
    except ValueError:  # e.g. "http://[::1" — refused later, but its secrets are still hidden
        netloc = url.partition("//")[2].split("/")[0].split("?")[0]
        query, _, fragment = url.partition("?")[2].partition("#")
    userinfo = netloc.rpartition("@")[0]
    values = [piece.partition("=")[2] for piece in re.split(r"[&;]", query)]
    found = [userinfo, *userinfo.split(":"), *values, fragment]
    return [s for item in found for s in (item, unquote(item)) if len(s) >= MIN_SECRET_LENGTH]


def secrets_of(args: Sequence[str], environ: Mapping[str, str]) -> set[str]:
    """Every secret a command line was given: ``--api-key`` (flag or variable), and whatever
    ``--server`` or ``OCTOPUS_URL`` carries in its user part or query."""
    keys = [environ.get("OCTOPUS_API_KEY", "")]
    urls = [environ.get("OCTOPUS_URL", "")]
    for i, arg in enumerate(args):
        for flag, into in (("--api-key", keys), ("--server", urls)):
            if arg == flag and i + 1 < len(args):
                into.append(args[i + 1])
            elif arg.startswith(flag + "="):
                into.append(arg.split("=", 1)[1])
    found = {key for key in keys if key}
    for url in urls:
        if url:
            found.update(url_secrets(url))
    return found


def remember(secret: str | None) -> None:
    """Hide ``secret`` too in what is written from now on (a key found after start-up, e.g. in
    the environment variable a handler file names)."""
    if secret and _active is not None:
        _active.add(secret)


class RedactingStream:
    """A text stream that writes to ``stream`` with every secret replaced.

    Text is held back until a line ends (or ``flush``), so a secret written in two pieces is
    still seen whole; on ``flush`` only a tail that could begin a secret stays back."""

    def __init__(self, stream: TextIO, secrets: set[str]) -> None:
        self._stream = stream
        self._secrets = secrets
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        if cut:
            self._emit(cut)
        return len(text)

    def flush(self) -> None:
        self._emit(len(self._pending) - self._possible_start())
        self._stream.flush()

    def finish(self) -> None:
        """Write everything held back (the run is over)."""
        self._emit(len(self._pending))
        self._stream.flush()

    def _emit(self, upto: int) -> None:
        if upto > 0:
            text = self._pending[:upto]
            if self._secrets:
                text = redact(text, self._secrets)
            self._stream.write(text)
            self._pending = self._pending[upto:]

    def _possible_start(self) -> int:
        """The length of the longest tail of what is pending that a secret begins with."""
        held = 0
        for secret in self._secrets:
            for size in range(min(len(secret) - 1, len(self._pending)), held, -1):
                if self._pending.endswith(secret[:size]):
                    held = size
                    break
        return held

    def __getattr__(self, name: str) -> Any:
        # Not the binary buffer: writing there would pass the redaction by.
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextmanager
def redacted_output(secrets: set[str]) -> Iterator[set[str]]:
    """stdout and stderr redact ``secrets`` (and any ``remember``-ed later) until the block ends."""
    global _active
    previous_active, out, err = _active, sys.stdout, sys.stderr
    active = set(secrets)
    streams = [RedactingStream(out, active), RedactingStream(err, active)]
    _active = active
    sys.stdout, sys.stderr = streams[0], streams[1]  # type: ignore[assignment]
    try:
        yield active
    finally:
        for stream in streams:
            stream.finish()
        sys.stdout, sys.stderr = out, err
        _active = previous_active

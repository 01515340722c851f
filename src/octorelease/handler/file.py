"""The handler file, ``octorelease.yml``: load it, expand ``${ENV}``, validate it, locate faults.

A handler file is read by CI on every build, usually after someone edited it in a hurry, so its
errors are the one line a CI log shows and must point at the fault::

    octorelease.yml:12: handlers[0].promote.to: 'Production' is listed in both from and to

Loading goes in three passes:

1. ``yaml.compose`` builds the node tree, which knows the line of every key and value, within
   the bounds of ``yaml_lines.py`` (size, aliases, depth, values). We turn it
   into plain data ourselves, so every scalar stays a string (``version: 1.10`` stays ``1.10``
   and ``on:`` stays a key rather than YAML 1.1's ``True``), ``${VAR}`` is expanded from the
   environment (``$${`` writes a literal ``${``), and duplicate keys are refused.
2. pydantic checks the shape. Its error ``loc`` is a path into that data, so the line is found
   in the map built by pass 1. Then ``DeploymentOptions.of``, the one reader of the deployment
   options every face shares, reads each action's (guided failure, tenant tags, times); the
   field it refuses is the path.
3. Rules across fields (a promotion to its own source, tenants with several environments, ...)
   are checked with the same paths.

``{build.*}`` placeholders stay in the loaded file; ``expand_handler`` fills them in at run time,
when the build values are known, and its errors point into the file too.

The API key must be written as a reference (``api_key: ${OCTOPUS_API_KEY}``): a key typed into
a file lands in version control, so a literal one is refused and never repeated in the error.
The same holds for the webhook secrets of ``octorelease serve`` (``serve: secrets: {github:
${GITHUB_WEBHOOK_SECRET}}``). Those are kept as written, not expanded: ``run`` reads the same
file in a CI job where the service's secrets are not set, and the service resolves them itself
when it starts (``ServeSection.secret_variables``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

from octorelease.ci_env import variable_text
from octorelease.errors import InvalidInput
from octorelease.handler.build_values import expand_build_values, placeholders, unfilled_references
from octorelease.handler.conditions import parse_condition
from octorelease.handler.events import (
    STAGE_EVENTS,
    STATUS_EVENTS,
    parse_event,
    parse_status,
)
from octorelease.schedule import parse_duration
from octorelease.yaml_lines import (
    MAX_BYTES,
    Fault,
    LimitExceeded,
    LineReader,
    Loc,
    check_size,
    compose,
    line_of,
    located,
    pydantic_faults,
    render_loc,
)

DEFAULT_FILE = "octorelease.yml"
DEFAULT_TIMEOUT_SECONDS = 600.0


class HandlerFileError(InvalidInput):
    """The handler file is missing, not YAML, or not a valid handler file; names file and line."""


# ---------------------------------------------------------------------------------------------
# The schema


def _as_list(value: object) -> object:
    """Let ``to: Production`` stand for ``to: [Production]``."""
    return [value] if isinstance(value, str) else value


def _as_seconds(value: object) -> object:
    if isinstance(value, (str, int, float)):
        try:
            return parse_duration(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
    return value


Names = Annotated[list[str], BeforeValidator(_as_list)]
Seconds = Annotated[float, BeforeValidator(_as_seconds)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeploymentFields(_Model):
    """How deployments are made; the same options serve create's deploy_to, deploy and promote.

    The handler file's spelling of ``actions.options.DeploymentOptions``: each field has its
    name there (``skip`` is written for ``skip_steps``), so ``deployment_options`` hands them
    on by name, as written: ``DeploymentOptions.of`` reads them (guided failure's spellings,
    tenant tags, times), for the file's check (``_option_faults``) and for the action alike.
    ``notes`` and ``redeploy`` are the actions' own (create's notes are the release's).
    """

    force_package_download: bool = False
    force_redeploy: bool = False
    machines: Names = []
    exclude_machines: Names = []
    skip_steps: Names = Field([], alias="skip")
    prompted_variables: dict[str, str] = {}
    #: on, off or default (octo's true/false too)
    guided_failure: str = "default"
    tenants: Names = []
    tenant_tags: Names = []
    target_roles: Names = []
    #: Refresh the release's variable snapshot first (the CLI's ``--update-variables``).
    update_variables: bool = False
    #: A scheduled deployment (the CLI's ``--deploy-at`` / ``--no-deploy-after``); relative
    #: times (``+10m``) count from when the action runs.
    deploy_at: str | None = None
    no_deploy_after: str | None = None
    #: Deploy despite a deployment freeze in force, for this reason (the CLI's ``--freeze-override``).
    freeze_override: str | None = None

    def deployment_options(self) -> dict[str, Any]:
        """These fields as the Python API's keyword arguments, which are named as they are."""
        return {name: getattr(self, name) for name in DeploymentFields.model_fields}


class Create(DeploymentFields):
    """Create a release (and optionally deploy it at once)."""

    version: str | None = None
    channel: str | None = None
    packages: dict[str, str] = {}
    default_package_version: str | None = None
    notes: str | None = None  # release notes
    notes_file: str | None = None
    ignore_existing: bool = False
    deploy_to: Names = []
    #: a version-controlled project's branch or tag, and commit; none given: the build's
    #: (``{build.branch}`` and ``{build.commit}``)
    git_ref: str | None = None
    git_commit: str | None = None


class Deploy(DeploymentFields):
    """Deploy a release (the one created by this handler unless ``release`` names one)."""

    to: Names
    release: str | None = None
    notes: str | None = None  # deployment comments


class Promote(Deploy):
    """Promote the release running in ``from`` (or ``release``) to ``to``."""

    from_: str = Field(alias="from")
    #: Deploy again where the release already runs; unset follows ``force_redeploy`` (the CLI's
    #: ``--redeploy/--no-redeploy``).
    redeploy: bool | None = None


class On(_Model):
    """The build event (and status, stage) a handler runs on."""

    event: str
    status: str | None = None
    stage: str | None = None

    @field_validator("event")
    @classmethod
    def _event(cls, value: str) -> str:
        return _or_value_error(parse_event, value)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return None if value is None else _or_value_error(parse_status, value)


class Handler(_Model):
    """One build event handler: when it runs, and what it does then."""

    name: str
    enabled: bool = True
    run_order: int | None = None
    project: str
    on: On
    conditions: list[str] = []
    variables: dict[str, str] = {}
    create: Create | None = None
    deploy: Deploy | None = None
    promote: Promote | None = None
    wait: bool = True
    fail_build_on_error: bool = True
    log_messages: bool = True
    timeout: Seconds = DEFAULT_TIMEOUT_SECONDS
    cancel_on_timeout: bool = False
    cancel_on_interrupt: bool = False
    #: as ``--on-interruption`` and ``--interruption-timeout``
    on_interruption: Literal["wait", "fail", "cancel"] = "wait"
    interruption_timeout: Seconds | None = None

    def wait_options(self) -> dict[str, Any]:
        """The wait fields under ``actions.plan.WaitOptions``'s names, for ``WaitOptions.of`` (the
        handler runner adds the file's wording)."""
        return {
            "wait": self.wait,
            "timeout_seconds": self.timeout,
            "cancel_on_timeout": self.cancel_on_timeout,
            "cancel_on_interrupt": self.cancel_on_interrupt,
            "log": self.log_messages,
            "fail_on_error": self.fail_build_on_error,
            "on_interruption": self.on_interruption,
            "interruption_timeout_seconds": self.interruption_timeout,
        }


Role = Literal["reader", "operator"]


class TokenLogin(_Model):
    """``serve: access: tokens: {NAME: {token: ${ENV}, role: reader}}``: ``Authorization: Bearer``."""

    token: str
    role: Role = "reader"


class UserLogin(_Model):
    """``serve: access: users: {NAME: {password: ${ENV}, role: reader}}``: HTTP basic."""

    password: str
    role: Role = "reader"


class ProxyLogin(_Model):
    """``serve: access: proxy:``: a reverse proxy that authenticated the user names them in a header."""

    user_header: str = "X-Forwarded-User"
    #: addresses or networks the proxy connects from (``10.0.0.5``, ``10.0.0.0/24``)
    trusted: list[str] = []
    #: a header the proxy adds with a shared secret, checked as well as (or instead of) ``trusted``
    secret_header: str = "X-Octorelease-Proxy-Secret"
    secret: str | None = None
    #: who may read (``*``: anyone the proxy lets through) and who may also re-run and cancel
    readers: list[str] = ["*"]
    operators: list[str] = []
    #: where the page sends a browser without a login (``{path}``: the page asked for)
    login_url: str | None = None


class AccessSection(_Model):
    """``serve: access:``: who may read the history page and ``/api/``, and who may act on runs."""

    tokens: dict[str, TokenLogin] = {}
    users: dict[str, UserLogin] = {}
    proxy: ProxyLogin | None = None


class ServeSection(_Model):
    """``serve:``, read by ``octorelease serve`` only: the webhook secret of each source, who may
    read and act (``access:``), ``/metrics``'s token and the history's database (``db:``), all as
    ``${ENV}`` references kept unexpanded (``run`` ignores the section)."""

    secrets: dict[str, str] = {}
    access: AccessSection | None = None
    metrics_token: str | None = None
    #: the history's database (an SQLite file or a ``postgresql://`` URL), as ``--db`` takes it
    db: str | None = None

    def secret_variables(self) -> dict[str, str]:
        """The environment variable each source's secret is read from: ``{"github": "GITHUB_WEBHOOK_SECRET"}``."""
        return {source: referenced_variable(reference) for source, reference in self.secrets.items()}


def referenced_variable(reference: str) -> str:
    """``VAR`` of a secret's ``${VAR}``: the reader lets nothing else be written for a secret."""
    return reference.strip()[2:-1]


class HandlerFile(_Model):
    """A loaded handler file; it remembers where each value was written, to point at faults."""

    server: str | None = None
    api_key: SecretStr | None = None
    space: str | None = None
    serve: ServeSection | None = None
    handlers: list[Handler]

    _name: str = PrivateAttr(DEFAULT_FILE)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    def locate(self, loc: Loc) -> str:
        """``octorelease.yml:12: handlers[0].promote.to`` for a path into the file."""
        return _locate(self._name, self._lines, loc)

    def resolve(self, written: str) -> Path:
        """A path written in the file (``notes_file:``), taken relative to the file's folder,
        so ``octorelease run ci/octorelease.yml`` finds ``ci/NOTES.md`` from any directory."""
        return Path(self._name).parent / written


def _or_value_error(parse: Callable[[str], str], value: str) -> str:
    """Run one of the events parsers so that pydantic reports its message as the field's."""
    try:
        return parse(value)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# Loading


def load_handler_file(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> HandlerFile:
    """Read, expand and validate the handler file at ``path`` (errors name it as given).

    ``environ`` supplies ``${VAR}`` values (default: ``os.environ``); the command line may pass
    the environment with its own flags merged in.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read(MAX_BYTES + 1)  # a huge file is refused, not read whole
        check_size(data)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise HandlerFileError(f"{name}: no such file") from None
    except UnicodeDecodeError:
        raise HandlerFileError(f"{name}: not a UTF-8 text file") from None
    except LimitExceeded as exc:
        raise HandlerFileError(f"{name}:{exc.line}: {exc.message}") from None
    except OSError as exc:
        raise HandlerFileError(f"{name}: cannot be read ({exc.strerror})") from None
    return parse_handler_file(text, name=name, environ=environ)


def parse_handler_file(text: str, *, name: str = DEFAULT_FILE, environ: Mapping[str, str] | None = None) -> HandlerFile:
    """Validate handler-file ``text``; ``name`` is what error lines call the file."""
    try:
        root = compose(text)
    except LimitExceeded as exc:
        raise HandlerFileError(f"{name}:{exc.line}: {exc.message}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, most controls)
        line = text.count("\n", 0, exc.position) + 1
        raise HandlerFileError(f"{name}:{line}: YAML syntax error: unacceptable character "
                               f"#x{exc.character:04x}: {exc.reason}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc.context)
        # A ``{build.x}`` inside a flow mapping ({a: 1.{build.number}}) reads as a nested mapping.
        hint = " (put quotes around values with {build.*} in them)" if "'{'" in problem else ""
        raise HandlerFileError(f"{name}:{line}: YAML syntax error: {problem}{hint}") from None
    if root is None:
        raise HandlerFileError(f"{name}:1: the file is empty; it needs a handlers: list")
    reader = _Reader(name, os.environ if environ is None else environ)
    data = reader.read(root, ())
    try:
        loaded = HandlerFile.model_validate(data)
    except ValidationError as exc:
        _raise_first(name, reader.lines, pydantic_faults(exc, HandlerFile))
        raise HandlerFileError(f"{name}: not a valid handler file") from None  # pydantic gave no error
    loaded._name = name
    loaded._lines = reader.lines
    # the values DeploymentOptions.of reads come before the rules across fields, as pydantic's faults do
    _raise_first(name, reader.lines, (fault for index, handler in enumerate(loaded.handlers)
                                      for fault in _option_faults_of(handler, ("handlers", index))))
    _raise_first(name, reader.lines, _rule_faults(loaded))
    return loaded


def expand_handler(handler_file: HandlerFile, index: int, values: Mapping[str, str]) -> Handler:
    """Handler ``index`` with ``{build.*}`` filled in everywhere but its name and conditions.

    Conditions are left as written because evaluating them explains them with both forms.
    """
    handler = handler_file.handlers[index]
    loc: Loc = ("handlers", index)
    data = handler.model_dump(by_alias=True)

    def expand(value: Any, at: Loc) -> Any:
        if isinstance(value, str):
            try:
                return expand_build_values(value, values)
            except InvalidInput as exc:
                raise HandlerFileError(f"{handler_file.locate(at)}: {exc}") from None
        if isinstance(value, dict):
            return {key: expand(item, (*at, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item, (*at, position)) for position, item in enumerate(value)]
        return value

    expanded = {
        key: value if key in ("name", "conditions", "on") else expand(value, (*loc, key)) for key, value in data.items()
    }
    try:
        handler = Handler.model_validate(expanded)
    except ValidationError as exc:  # a value that is valid only once filled in (deploy_at: "{build.when}")
        at, message = next(pydantic_faults(exc, Handler))
        raise HandlerFileError(f"{handler_file.locate((*loc, *at))}: {message}") from None
    for fault in _option_faults_of(handler, loc):
        raise HandlerFileError(f"{handler_file.locate(fault[0])}: {fault[1]}")
    return handler


def build_value_faults(handler_file: HandlerFile, index: int, values: Mapping[str, str], *,
                       runs: bool) -> list[tuple[str, str]]:
    """Every ``{build.*}`` of handler ``index`` (conditions too) that cannot be filled in, as
    (where, name), in file order. ``runs``: the handler runs in this build, so it needs every
    value it names; else only a value no CI and no ``--var`` can give is a fault, so a typo in
    the failure handler is found on a green build."""
    faults: list[tuple[str, str]] = []

    def walk(value: Any, at: Loc) -> None:
        if isinstance(value, str):
            faults.extend((handler_file.locate(at), name) for name in unfilled_references(value, values, runs=runs))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*at, key))
        elif isinstance(value, list):
            for position, item in enumerate(value):
                walk(item, (*at, position))

    data = handler_file.handlers[index].model_dump(by_alias=True)
    for key, value in data.items():
        if key != "name":
            walk(value, ("handlers", index, key))
    return faults


# ---------------------------------------------------------------------------------------------
# Pass 1: YAML nodes to plain data, with lines


_ENV_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_PURE_REFERENCE = re.compile(r"\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BUILD_VALUE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _serve_secret_example(loc: Loc) -> str | None:
    """The variable an example names when ``loc`` is one of ``serve:``'s secrets, else None."""
    if len(loc) == 3 and loc[:2] == ("serve", "secrets"):
        return f"{str(loc[2]).upper()}_WEBHOOK_SECRET"
    if loc == ("serve", "metrics_token"):
        return "OCTORELEASE_METRICS_TOKEN"
    if loc == ("serve", "db"):
        return "OCTORELEASE_SERVE_DB"
    if loc == ("serve", "access", "proxy", "secret"):
        return "OCTORELEASE_PROXY_SECRET"
    if len(loc) == 5 and loc[:3] in (("serve", "access", "tokens"), ("serve", "access", "users")) \
            and loc[4] in ("token", "password"):
        return f"{_VARIABLE_HINT.sub('_', str(loc[3])).upper()}_{str(loc[4]).upper()}"
    return None


_VARIABLE_HINT = re.compile(r"[^A-Za-z0-9]+")


class _Reader(LineReader):
    """Reads the handler file: refuses a literal API key and bad placeholders, expands ``${VAR}``."""

    def __init__(self, name: str, environ: Mapping[str, str]) -> None:
        super().__init__(name)
        self.environ = environ

    def scalar(self, text: str, loc: Loc) -> str:
        if loc == ("api_key",) and not _PURE_REFERENCE.fullmatch(text):
            raise self.error(
                self.lines[loc],
                loc,
                "write a reference such as ${OCTOPUS_API_KEY}, not the key itself "
                "(a key in a file ends up in version control)",
            )
        example = _serve_secret_example(loc)
        if example is not None:
            if not _PURE_REFERENCE.fullmatch(text):
                raise self.error(
                    self.lines[loc],
                    loc,
                    f"write a reference such as ${{{example}}}, not the secret itself "
                    "(a secret in a file ends up in version control)",
                )
            return text  # resolved by the service when it starts, not by run
        for name in placeholders(text):
            if not _BUILD_VALUE_NAME.fullmatch(name):
                raise self.error(self.lines[loc], loc, f"bad placeholder {{build.{name}}}")
        return _ENV_REFERENCE.sub(lambda match: self._variable(match, loc), text)

    def _variable(self, match: re.Match[str], loc: Loc) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if not _VARIABLE_NAME.fullmatch(name):
            raise self.error(self.lines[loc], loc, f"bad environment variable reference ${{{name}}}")
        if name not in self.environ:
            raise self.error(self.lines[loc], loc, f"environment variable {name} is not set")
        try:
            return variable_text(self.environ, name)
        except InvalidInput as exc:
            raise self.error(self.lines[loc], loc, exc.message) from None

    def error(self, line: int, loc: Loc, message: str) -> HandlerFileError:
        return HandlerFileError(f"{self.name}:{line}: {render_loc(loc)}: {message}")


# ---------------------------------------------------------------------------------------------
# Passes 2 and 3: faults as (path, message), reported at the first line


def _raise_first(name: str, lines: Mapping[Loc, int], faults: Iterator[Fault]) -> None:
    """Raise the fault written first in the file as one error line; return when there is none."""
    first = located(name, lines, faults)[:1]
    if first:
        raise HandlerFileError(first[0]) from None


def _rule_faults(loaded: HandlerFile) -> Iterator[Fault]:
    if not loaded.handlers:
        yield ("handlers",), "at least one handler is needed"
    seen: dict[str, int] = {}
    for index, handler in enumerate(loaded.handlers):
        loc: Loc = ("handlers", index)
        if handler.name in seen:
            yield (*loc, "name"), f"{handler.name!r} is also the name of handlers[{seen[handler.name]}]"
        seen.setdefault(handler.name, index)
        yield from _trigger_faults(handler.on, (*loc, "on"))
        yield from _action_faults(handler, loc)
        for position, condition in enumerate(handler.conditions):
            try:
                parse_condition(condition)
            except InvalidInput as exc:
                yield (*loc, "conditions", position), str(exc)


def _trigger_faults(on: On, loc: Loc) -> Iterator[Fault]:
    if on.status is not None and on.event not in STATUS_EVENTS:
        yield (*loc, "status"), f"{on.event} has no status; only stage-completed and build-completed do"
    if on.stage is not None and on.event not in STAGE_EVENTS:
        yield (*loc, "stage"), f"{on.event} happens at no stage; stage: is for stage events"


def _action_faults(handler: Handler, loc: Loc) -> Iterator[Fault]:
    if handler.create is None and handler.deploy is None and handler.promote is None:
        yield loc, "a handler needs at least one of create, deploy or promote"
    if handler.create is not None:
        create = handler.create
        if create.notes is not None and create.notes_file is not None:
            yield (*loc, "create", "notes_file"), "give notes or notes_file, not both"
        yield from _tenant_faults([*create.tenants, *create.tenant_tags], create.deploy_to, (*loc, "create"),
                                  "deploy_to")
    if handler.deploy is not None:
        if handler.deploy.release is None and handler.create is None:
            yield (*loc, "deploy"), "no release to deploy: give release: or add a create: action"
        yield from _target_faults(handler.deploy, (*loc, "deploy"))
    if handler.promote is not None:
        yield from _target_faults(handler.promote, (*loc, "promote"))
        for position, environment in enumerate(handler.promote.to):
            if environment == handler.promote.from_:
                yield (*loc, "promote", "to", position), f"{environment!r} is listed in both from and to"


def _option_faults_of(handler: Handler, loc: Loc) -> Iterator[Fault]:
    for key in ("create", "deploy", "promote"):
        action = getattr(handler, key)
        if action is not None:
            yield from _option_faults(action, (*loc, key))


def _target_faults(action: Deploy, loc: Loc) -> Iterator[Fault]:
    if not action.to:
        yield (*loc, "to"), "at least one environment is needed"
    yield from _tenant_faults([*action.tenants, *action.tenant_tags], action.to, loc, "to")


def _option_faults(action: DeploymentFields, loc: Loc) -> Iterator[Fault]:
    """What ``DeploymentOptions.of`` refuses in the action's fields (a guided failure, tenant tag
    or time it cannot read; a schedule already past or in the wrong order), at the field it is
    about. Values with ``{build.*}`` in them are checked when the action runs, once filled in."""
    from octorelease.actions.options import DeploymentOptions

    written: dict[str, Any] = {}
    for name, value in action.deployment_options().items():
        if isinstance(value, list):
            written[name] = [item for item in value if not placeholders(item)]
        elif not (isinstance(value, str) and placeholders(value)):
            written[name] = value
    try:
        DeploymentOptions.of(written)
    except InvalidInput as exc:
        yield (*loc, exc.option) if exc.option else loc, exc.detail or exc.message


def _tenant_faults(tenants: list[str], environments: list[str], loc: Loc, key: str) -> Iterator[Fault]:
    if tenants and len(environments) > 1:
        yield (*loc, "tenants"), f"a tenanted deployment goes to one environment, not {len(environments)} ({key})"


def _locate(name: str, lines: Mapping[Loc, int], loc: Loc) -> str:
    return f"{name}:{line_of(lines, loc)}: {render_loc(loc)}"

"""The hostile-input table (issue 8): what a CI job, a pull request's handler file or a server
can hand octorelease, one row each, with the exit code the docs give for it.

A row is plain data. ``args``, ``env`` and ``files`` may hold ``{dir}`` (where the row's
``files`` are written), ``{server}`` and ``{key}`` (the sandbox's URL and key), replaced as they
are, nothing else; unless ``connect`` is false the sandbox's ``--server`` and ``--api-key`` are
added. ``says`` are words the one error line must hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.cli import test_hostile_limits, test_not_octopus

from testing.fake_server import Answer, AnswerFor

#: A key the sandbox accepts only for Development (made by the table's fixture).
LIMITED_KEY = "API-HOSTILELIMITED00000000000000"


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...] = ()
    connect: bool = True
    #: run as a CI log shows it (False) and with --json (True); a command without --json (``sandbox``)
    #: runs as text only, and a row whose text run another test makes already, with --json only
    modes: tuple[bool, ...] = (False, True)
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    #: a server that is not Octopus (``testing/fake_server.py``) to start; ``{fake}`` is its URL
    answers: AnswerFor | None = None


def case(category: str, name: str, code: int, *args: str, **options: object) -> Case:
    return Case(name, category, args, code, **options)  # type: ignore[arg-type]


PROMOTE = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")
DEPLOY = ("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Staging")


def _run(file: str, *more: str) -> tuple[str, ...]:
    return ("run", f"{{dir}}/{file}", "--event", "build-completed", "--status", "success", *more)


def _handler(body: str, *, top: str = "") -> str:
    """A handler file with one handler whose fields are ``body`` (indented by the caller)."""
    return f"{top}handlers:\n  - name: Ship\n    project: Web\n    on: {{event: build-completed}}\n{body}"


FLAGS = [
    case("flags", "missing --project", 2, "promote", "--from", "Test", "--to", "Staging", says=("--project",)),
    case("flags", "--to equals --from", 2, "promote", "--project", "Web", "--from", "Test", "--to", "test",
         says=("same as --from",)),
    case("flags", "unknown option", 2, *PROMOTE, "--bogus", says=("--bogus",)),
    case("flags", "unknown command", 2, "frobnicate", says=("frobnicate",)),
    case("flags", "guided failure not a choice", 2, *PROMOTE, "--guided-failure", "maybe", says=("maybe",)),
    case("flags", "--variable without =", 2, *PROMOTE, "--variable", "noequals", says=("NAME=VALUE",)),
    case("flags", "--variable without a name", 2, *DEPLOY, "--variable", "=x", says=("NAME=VALUE",)),
    case("flags", "--package without =", 2, "create", "--project", "Web", "--package", "noequals",
         says=("--package",)),
    case("flags", "--notes and --notes-file", 2, "create", "--project", "Web", "--notes", "a", "--notes-file",
         "{dir}/notes.txt", files={"notes.txt": "notes"}, says=("not both",)),
    case("flags", "--notes-file missing", 2, "create", "--project", "Web", "--notes-file", "{dir}/absent.txt",
         says=("does not exist",)),
    case("flags", "--notes-file a directory", 2, "create", "--project", "Web", "--notes-file", "{dir}",
         says=("directory",)),
    case("flags", "tenants with two targets", 2, *PROMOTE, "--to", "Production", "--tenant", "Acme",
         says=("one environment",)),
    case("flags", "deploy --release empty", 2, "deploy", "--project", "Web", "--release", "", "--to", "Staging",
         says=("No release",)),
    case("flags", "promote --release empty", 2, *PROMOTE, "--release", "", says=("empty",)),
    case("flags", "--package STEP:PACKAGE: without a version", 2, "create", "--project", "Web", "--package",
         "Deploy web:Web:", says=("STEP:PACKAGE:VERSION",)),
    case("flags", "--tenant-tag without a set", 2, *PROMOTE, "--tenant-tag", "Gold", says=("TagSetName/TagName",)),
    case("flags", "--tenant-tag blank", 2, *PROMOTE, "--tenant-tag", ",", says=("--tenant-tag",)),
    case("flags", "--deploy-at not a time", 2, *DEPLOY, "--deploy-at", "soon", says=("--deploy-at", "not a time")),
    case("flags", "--deploy-at in the past", 2, *PROMOTE, "--deploy-at", "2020-01-01T00:00Z", says=("in the past",)),
    case("flags", "--no-deploy-after before --deploy-at", 2, *DEPLOY, "--deploy-at", "+2h", "--no-deploy-after",
         "+1h", says=("is not after --deploy-at",)),
    case("flags", "create --version empty", 2, "create", "--project", "Web", "--version", "", says=("empty",)),
    case("flags", "create --channel blank", 2, "create", "--project", "Web", "--channel", " ", says=("empty",)),
    case("flags", "create --default-package-version empty", 2, "create", "--project", "Web",
         "--default-package-version", "", says=("empty",)),
    case("flags", "run --status not a choice", 2, *_run("any.yml")[:2], "--status", "meh", says=("meh",)),
    case("flags", "run --var without =", 2, *_run("any.yml", "--var", "novalue"), says=("novalue",)),
    case("flags", "run unknown --event", 2, "run", "{dir}/any.yml", "--event", "build-finished",
         says=("build-finished", "build-completed")),
    case("flags", "sandbox --port not a number", 2, "sandbox", "--port", "abc", connect=False, modes=(False,)),
    case("flags", "sandbox --seed unknown", 2, "sandbox", "--seed", "bogus", connect=False, modes=(False,)),
    case("flags", "sandbox --faults unreadable", 2, "sandbox", "--faults", "nonsense", connect=False, modes=(False,),
         says=("--faults",)),
]

DURATIONS = [
    case("durations", f"--timeout {value}", 2, *PROMOTE, "--timeout", value, says=("duration",))
    for value in ("abc", "0", "-5", "nan", "1e400", "10x", "1h-5m", "::")
] + [
    case("durations", "handler timeout unreadable", 2, *_run("timeout.yml"),
         files={"timeout.yml": _handler("    deploy: {to: Staging, release: 1.0.0}\n    timeout: soon\n")},
         says=("timeout.yml:", "duration")),
]

NAMES = [
    case("names", "unknown project", 3, "promote", "--project", "Nope", "--from", "Test", "--to", "Staging",
         says=("Nope",)),
    case("names", "unknown --from", 3, "promote", "--project", "Web", "--from", "Tset", "--to", "Staging",
         says=("Tset",)),
    case("names", "unknown package of a step", 3, "create", "--project", "Web", "--package", "Deploy web:Nope:1.3.0",
         says=("Nope", "has no package")),
    case("names", "unknown tag set", 3, *PROMOTE, "--tenant-tag", "Regoin/EU", says=("Regoin/EU", "no such tag set")),
    case("names", "unknown tag", 3, *PROMOTE, "--tenant-tag", "Region/Mars", says=("Region/Mars", "no such tag")),
    case("names", "unknown target role", 3, *PROMOTE, "--target-role", "wbe", says=("wbe", "has that role")),
    case("names", "unknown --to", 3, "promote", "--project", "Web", "--from", "Test", "--to", "Prodction",
         says=("Prodction",)),
    case("names", "unknown --machine", 3, *PROMOTE, "--machine", "nope", says=("nope",)),
    case("names", "unknown --exclude-machine", 3, *PROMOTE, "--exclude-machine", "nope", says=("nope",)),
    case("names", "unknown --skip step", 3, *PROMOTE, "--skip", "nope", says=("nope",)),
    case("names", "unknown --tenant", 3, *PROMOTE, "--tenant", "nope", says=("nope",)),
    case("names", "unknown --release (promote)", 3, *PROMOTE, "--release", "9.9.9", says=("9.9.9",)),
    case("names", "unknown --release (deploy)", 3, "deploy", "--project", "Web", "--release", "9.9.9", "--to",
         "Development", says=("9.9.9",)),
    case("names", "a release that is a path", 3, *PROMOTE, "--release", "../../api/users", says=("not found",)),
    case("names", "a project that is a path", 3, "promote", "--project", "Web/../../x", "--from", "Test", "--to",
         "Staging", says=("not found",)),
    case("names", "unknown --space", 3, *PROMOTE, "--space", "Nowhere", says=("Nowhere",)),
    case("names", "unknown --channel", 3, "create", "--project", "Web", "--channel", "nope", says=("nope",)),
    case("names", "--package of no step", 3, "create", "--project", "Web", "--package", "nope=1.0.0",
         says=("nope",)),
    case("names", "--package version not in the feed", 3, "create", "--project", "Web", "--package",
         "Deploy web=99.0.0", says=("99.0.0",)),
    case("names", "create an existing version", 3, "create", "--project", "Web", "--version", "1.0.0",
         says=("already exists",)),
    case("names", "required prompted variable missing", 2, "deploy", "--project", "Billing", "--release", "latest",
         "--to", "Development", says=("Approver",)),
    case("names", "unknown prompted variable", 3, *DEPLOY, "--variable", "Nope=x", says=("Nope",)),
    case("names", "lifecycle forbids the target", 3, "promote", "--project", "Web", "--from", "Test", "--to",
         "Production", says=("Nothing was created",)),
    case("names", "create --deploy-to a target the lifecycle has not reached", 3, "create", "--project", "Web",
         "--deploy-to", "Production", says=("Nothing was created",)),
    case("names", "create --deploy-to one allowed and one not", 3, "create", "--project", "Web", "--version",
         "7.0.0", "--deploy-to", "Development", "--deploy-to", "Staging", says=("Staging",)),
    case("names", "handler names an unknown project", 3, *_run("project.yml"),
         files={"project.yml": "handlers:\n  - name: Ship\n    project: Nope\n    on: {event: build-completed}\n"
                               "    deploy: {to: Staging, release: 1.0.0}\n"}, says=("Nope",)),
]

#: Text with the markers each CI acts on, and terminal escapes, given where a name belongs: it is
#: echoed in the error line and must come out inert (no line starts with a marker, no escape).
ESCAPES = [
    case("escapes", "GitHub command as --to", 3, "promote", "--project", "Web", "--from", "Test", "--to",
         "::error::pwned"),
    case("escapes", "Azure command as --to", 3, "promote", "--project", "Web", "--from", "Test", "--to",
         "##vso[task.setvariable variable=x]y"),
    case("escapes", "TeamCity message as --from", 3, "promote", "--project", "Web", "--from",
         "##teamcity[buildProblem description='x']", "--to", "Staging"),
    case("escapes", "OSC title as --project", 3, "promote", "--project", "\x1b]0;pwned\x07", "--from", "Test",
         "--to", "Staging"),
    case("escapes", "line break and add-mask as --machine", 3, *PROMOTE, "--machine", "a\n::add-mask::x"),
    case("escapes", "CRLF and stop-commands as --release", 3, *PROMOTE, "--release",
         "1.0\r\n::stop-commands::tok", says=("not found",)),
    case("escapes", "a query and a fragment as --release", 3, *PROMOTE, "--release", "1.0.0?take=1#x",
         says=("not found",)),
    case("escapes", "a line break after a project id", 3, "promote", "--project", "Projects-1\n", "--from", "Test",
         "--to", "Staging", says=("not found",)),
    case("escapes", "clear screen as --space", 3, *PROMOTE, "--space", "\x1b[2J\x9b31m"),
    case("escapes", "GitLab section as --tenant", 3, *PROMOTE, "--tenant",
         "\x1b[0Ksection_start:1:x\r\x1b[0Kname"),
    case("escapes", "escapes as run --event", 2, "run", "{dir}/any.yml", "--event", "\x1b[2J\n::error::x"),
    case("escapes", "hostile handler name, unknown project", 3, *_run("names.yml"),
         files={"names.yml": "handlers:\n  - name: \"Ship\\n::error::x \\e[31m##vso[task.complete]\"\n"
                             "    project: \"Nope\\r\\n##teamcity[x]\"\n    on: {event: build-completed}\n"
                             "    deploy: {to: Staging, release: 1.0.0}\n"}),
]

HANDLER_FILES = [
    case("handler files", "missing file", 2, *_run("absent.yml"), says=("absent.yml", "no such file")),
    case("handler files", "a directory", 2, "run", "{dir}", says=("directory",)),
    case("handler files", "empty file", 2, *_run("empty.yml"), files={"empty.yml": ""}, says=("empty.yml:1",)),
    case("handler files", "YAML syntax error", 2, *_run("syntax.yml"),
         files={"syntax.yml": "handlers:\n  - name: [unclosed\n"}, says=("syntax.yml:", "YAML")),
    case("handler files", "not UTF-8", 2, *_run("latin1.yml"), files={"latin1.yml": b"handlers: [\xe9\xff]\n"},
         says=("UTF-8",)),
    case("handler files", "a list at the top", 2, *_run("list.yml"), files={"list.yml": "- a\n- b\n"},
         says=("list.yml",)),
    case("handler files", "no handlers", 2, *_run("nohandlers.yml"), files={"nohandlers.yml": "space: Default\n"},
         says=("handlers",)),
    case("handler files", "unknown field", 2, *_run("field.yml"),
         files={"field.yml": _handler("    deploy: {to: Staging}\n    wiat: true\n")}, says=("field.yml:", "wiat")),
    case("handler files", "unknown build event", 2, *_run("event.yml"),
         files={"event.yml": "handlers:\n  - name: Ship\n    project: Web\n    on: {event: build-finished}\n"
                             "    deploy: {to: Staging}\n"}, says=("event.yml:4", "build-finished")),
    case("handler files", "unknown status", 2, *_run("status.yml"),
         files={"status.yml": "handlers:\n  - name: Ship\n    project: Web\n"
                              "    on: {event: build-completed, status: meh}\n    deploy: {to: Staging}\n"},
         says=("status.yml:4", "meh")),
    case("handler files", "duplicate key", 2, *_run("dup.yml"),
         files={"dup.yml": _handler("    deploy: {to: Staging}\n    deploy: {to: Test}\n")}, says=("dup.yml:",)),
    case("handler files", "promote to its own source", 2, *_run("self.yml"),
         files={"self.yml": _handler("    promote: {from: Test, to: [Test]}\n")}, says=("self.yml:",)),
    case("handler files", "tenants with two environments", 2, *_run("tenants.yml"),
         files={"tenants.yml": _handler("    deploy: {to: [Test, Staging], tenants: [Acme]}\n")},
         says=("tenants.yml:",)),
    case("handler files", "guided failure not a choice", 2, *_run("guided.yml"),
         files={"guided.yml": _handler("    deploy: {to: Staging, guided_failure: maybe}\n")},
         says=("guided.yml:", "maybe")),
    case("handler files", "tenant tag without a set", 2, *_run("tag.yml"),
         files={"tag.yml": _handler("    promote: {from: Test, to: Staging, tenant_tags: [Gold]}\n")},
         says=("tag.yml:", "tenant_tags")),
    case("handler files", "deploy_at not a time", 2, *_run("at.yml"),
         files={"at.yml": _handler("    deploy: {to: Staging, release: 1.0.0, deploy_at: soon}\n")},
         says=("at.yml:", "deploy_at", "not a time")),
    case("handler files", "no_deploy_after before deploy_at", 2, *_run("after.yml"),
         files={"after.yml": _handler("    promote: {from: Test, to: Staging, deploy_at: +2h,\n"
                                      "              no_deploy_after: +1h}\n")},
         says=("after.yml:", "no_deploy_after")),
    case("handler files", "update_variables not a boolean", 2, *_run("update.yml"),
         files={"update.yml": _handler("    deploy: {to: Staging, release: 1.0.0, update_variables: sometimes}\n")},
         says=("update.yml:", "update_variables")),
    case("handler files", "a literal API key", 2, *_run("key.yml"),
         files={"key.yml": _handler("    deploy: {to: Staging}\n", top="api_key: {key}\n")},
         says=("key.yml:1",)),
    case("handler files", "condition that does not parse", 2, *_run("cond.yml"),
         files={"cond.yml": _handler("    conditions: ['{build.branch} ==']\n    deploy: {to: Staging}\n")},
         says=("cond.yml:",)),
    case("handler files", "unknown build value", 2, *_run("value.yml"),
         files={"value.yml": _handler("    deploy: {to: Staging, release: '{build.nothing}'}\n")},
         says=("value.yml:", "build.nothing")),
    case("handler files", "unquoted placeholder in a flow mapping", 2, *_run("flow.yml"),
         files={"flow.yml": _handler("    create: {version: 1.{build.number}}\n")}, says=("flow.yml:", "quotes")),
]

SERVERS = [
    case("servers", "no server", 2, *PROMOTE, "--api-key", "{key}", connect=False, says=("server",)),
    case("servers", "no API key", 2, *PROMOTE, "--server", "{server}", connect=False, says=("API key",)),
    case("servers", "blank server", 2, *PROMOTE, "--server", "  ", "--api-key", "{key}", connect=False),
    case("servers", "not a URL", 2, *PROMOTE, "--server", "not a url", "--api-key", "{key}", connect=False,
         says=("http(s)",)),
    case("servers", "ftp URL", 2, *PROMOTE, "--server", "ftp://octopus.example", "--api-key", "{key}",
         connect=False, says=("http(s)",)),
    case("servers", "javascript URL", 2, *PROMOTE, "--server", "javascript:alert(1)", "--api-key", "{key}",
         connect=False, says=("http(s)",)),
    case("servers", "scheme only", 2, *PROMOTE, "--server", "http://", "--api-key", "{key}", connect=False),
    case("servers", "connection refused", 6, *PROMOTE, "--server", "http://127.0.0.1:1", "--api-key", "{key}",
         connect=False, says=("127.0.0.1:1",)),
    case("servers", "OCTOPUS_URL refused", 6, *PROMOTE, connect=False,
         env={"OCTOPUS_URL": "http://127.0.0.1:1/api", "OCTOPUS_API_KEY": "{key}"}, says=("127.0.0.1:1",)),
    case("servers", "wrong API key", 4, *PROMOTE, "--server", "{server}", "--api-key",
         "API-WRONG0000000000000000000000000", connect=False, says=("401",)),
    case("servers", "key not allowed to deploy there", 4, *PROMOTE, "--server", "{server}", "--api-key",
         LIMITED_KEY, connect=False, says=("Staging",)),
    case("servers", "an IPv6 URL cut short", 2, *PROMOTE, "--server", "http://[::1", "--api-key", "{key}",
         connect=False, says=("not a valid URL",)),
    case("servers", "a port that is not a number", 2, *PROMOTE, "--server", "http://127.0.0.1:abc", "--api-key",
         "{key}", connect=False, says=("not a valid URL",)),
    case("servers", "an API key with a non-ASCII letter", 2, *PROMOTE, "--server", "{server}", "--api-key",
         "API-KÉY0000000000000000000000000", connect=False, says=("API key",)),
    case("servers", "an API key with a line break", 2, *PROMOTE, "--server", "{server}", "--api-key",
         "API-KEY00000\nX-Other: 1", connect=False, says=("API key",)),
    case("servers", "an API key of spaces", 2, *PROMOTE, "--server", "{server}", "--api-key", "   ",
         connect=False, says=("API key",)),
    case("flags", "an argument that is not UTF-8", 2, "promote", "--project", "W\udcffeb", "--from", "Test",
         "--to", "Staging", says=("UTF-8",)),
    case("names", "a project name of 70,000 characters", 2, "promote", "--project", "W" * 70_000, "--from",
         "Test", "--to", "Staging", says=("cannot be sent in a URL",)),
]



def _limits() -> list[Case]:
    """The rows of ``tests/cli/test_hostile_limits.py`` (durations out of range, alias bombs, deep
    nesting, oversized files, catastrophic regular expressions), which runs each as text and checks
    its message whole; here they run with --json and get the table's checks (the census, nothing a
    CI would act on)."""
    rows = []
    for number, row in enumerate(test_hostile_limits.CASES):
        if row.code == 0:
            continue  # a condition that is merely false is no refusal
        name = f"limits-{number}/octorelease.yml"  # a folder each: a notes_file is read beside its file
        args = tuple(f"{{dir}}/{name}" if arg == "octorelease.yml" else arg for arg in row.args)
        files: dict[str, str | bytes] = {name: row.handler_file} if row.handler_file is not None else {}
        if row.notes is not None:
            files[f"limits-{number}/notes.txt"] = row.notes
        rows.append(Case(row.id, "limits table", args, row.code, modes=(True,), files=files))
    return rows


#: The URL carries the key: refused in one line that never repeats it (exit 2).
URL_SECRETS = [
    case("servers", "the key as the URL's password", 2, *PROMOTE, "--server", "http://octo:{key}@127.0.0.1:1",
         "--api-key", "{key}", connect=False, says=("refused",)),
    case("servers", "the key in the URL's query", 2, *PROMOTE, "--server", "http://127.0.0.1:1/?apikey={key}",
         "--api-key", "{key}", connect=False, says=("refused",)),
    case("servers", "the key in OCTOPUS_URL", 2, *PROMOTE, connect=False,
         env={"OCTOPUS_URL": "http://x:{key}@127.0.0.1:1/api", "OCTOPUS_API_KEY": "{key}"}, says=("refused",)),
    case("servers", "wrong API key, every request logged", 4, *PROMOTE, "-vv", "--server", "{server}",
         "--api-key", "API-WRONG0000000000000000000000000", connect=False, says=("401",)),
    case("servers", "--ca-bundle missing", 2, *PROMOTE, "--ca-bundle", "{dir}/absent.pem", says=("CA bundle",)),
    case("servers", "--ca-bundle not a certificate", 2, *PROMOTE, "--ca-bundle", "{dir}/notes.txt",
         says=("CA bundle",)),
]

FAKE_SERVERS = [
    case("fake servers", "a redirect loop", 6, *PROMOTE, "--server", "{fake}", "--api-key", "{key}", connect=False,
         answers=lambda path: Answer.redirect(path), says=("redirected in a loop",)),
    case("fake servers", "TLS to a server that speaks plain HTTP", 6, *PROMOTE, "--server", "{fake-tls}",
         "--api-key", "{key}", connect=False, answers=Answer.json({})),
    # tests/cli/test_not_octopus.py runs these as text; here with --json and the table's checks
    *(case("fake servers", name, 6, *PROMOTE, "--server", "{fake}", "--api-key", "{key}", connect=False,
           answers=answers, modes=(True,)) for name, answers, _ in test_not_octopus.NOT_OCTOPUS),
]

CASES: list[Case] = [*FLAGS, *DURATIONS, *NAMES, *ESCAPES, *HANDLER_FILES, *SERVERS, *URL_SECRETS, *FAKE_SERVERS,
                     *_limits()]

"""The estate file: ``sandbox --seed FILE`` and ``sandbox --db PATH --export FILE``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from octorelease.sandbox.estate.export import dump_estate, export_estate, read_estate
from octorelease.sandbox.estate.file import EstateFileError, demo_path, load_estate, parse_estate
from octorelease.sandbox.http.server import SandboxServer
from octorelease.sandbox.http.service import Sandbox
from testing.cli import run_cli
from testing.docs import block_after


def _exported(seed: object) -> str:
    sandbox = Sandbox(seed=seed)  # type: ignore[arg-type]
    try:
        return dump_estate(export_estate(sandbox.backend))
    finally:
        sandbox.close()


def test_seed_export_seed_gives_the_same_estate(tmp_path: Path) -> None:
    first = _exported(load_estate(demo_path()))
    file = tmp_path / "estate.yml"
    file.write_text(first, encoding="utf-8")
    second = _exported(load_estate(file))
    assert second == first
    assert "fails:" in first and "Smoke test failed: GET /health returned 503" in first  # the history too


def test_the_shipped_demo_file_is_the_demo_seed() -> None:
    assert _exported("demo") == _exported(load_estate(demo_path()))


def test_export_from_the_command_line_writes_what_the_database_holds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "sandbox.db"
    Sandbox(db_path=str(db), seed="demo").close()
    out = tmp_path / "estate.yml"
    result = run_cli(capsys, "sandbox", "--db", str(db), "--export", str(out))
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8") == read_estate(str(db))
    assert "name: dev-web-01" in out.read_text(encoding="utf-8")


def test_a_seeded_estate_is_served_under_its_own_names(tmp_path: Path) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(ESTATE, encoding="utf-8")
    with SandboxServer(port=0, seed=load_estate(file)) as server:
        headers = {"X-Octopus-ApiKey": server.api_key}
        envs = httpx.get(f"{server.url}/api/Spaces-1/environments/all", headers=headers).json()
        assert [e["Name"] for e in envs] == ["QA", "Live"]
        machines = httpx.get(f"{server.url}/api/Spaces-1/machines/all", headers=headers).json()
        assert [(m["Name"], m["Roles"]) for m in machines] == [("qa-1", ["api"]), ("live-1", ["api"])]
        project = httpx.get(f"{server.url}/api/Spaces-1/projects/shop-api", headers=headers).json()
        process = httpx.get(f"{server.url}/api/Spaces-1/deploymentprocesses/{project['DeploymentProcessId']}",
                            headers=headers).json()
        assert [s["Name"] for s in process["Steps"]] == ["Deploy API", "Migrate"]
        variables = httpx.get(f"{server.url}/api/Spaces-1/variables/{project['VariableSetId']}",
                              headers=headers).json()["Variables"]
        by_name = {v["Name"]: v for v in variables}
        assert by_name["DbPassword"]["IsSensitive"] and by_name["DbPassword"]["Value"] is None
        assert by_name["Ticket"]["Prompt"]["Label"] == "Ticket"
        assert by_name["Url"]["Scope"] == {"Environment": ["Environments-2"]}


ESTATE = """\
spaces:
  - name: Default
    default: true
    environments: [QA, Live]
    machines:
      - {name: qa-1, environments: QA, roles: api}
      - {name: live-1, environments: Live, roles: api}
    lifecycles:
      - name: Straight
        phases:
          - {name: QA, manual: QA}
          - {name: Live, manual: Live}
    packages:
      Shop.Api: [2.0.0, 2.1.0]
    projects:
      - name: Shop API
        lifecycle: Straight
        steps:
          - {name: Deploy API, roles: api, package: Shop.Api}
          - {name: Migrate, roles: api, script: ./migrate.sh}
        variables:
          - {name: DbPassword, value: secret, sensitive: true}
          - {name: Url, value: https://shop.example, scope: {Environment: Live}}
          - {name: Ticket, prompt: {label: Ticket}}
        releases:
          - version: 2.0.0
            deployments: [QA]
"""

BROKEN = """\
spaces:
  - name: Default
    environments: [QA, Live]
    machines:
      - {name: qa-1, environments: Qa-typo, roles: api}
      - {name: live-1, environmnets: Live, roles: api}
    lifecycles:
      - name: Straight
    projects:
      - name: Shop API
        lifecycle: Stright
        tenanted: sometimes
"""


def test_every_fault_of_an_estate_file_is_one_line_with_file_line_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(BROKEN, encoding="utf-8")
    result = run_cli(capsys, "sandbox", "--seed", str(file), "--port", "0")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines == [
        f"Error: {file}:6: spaces[0].machines[1].environmnets: unknown key 'environmnets' "
        "(did you mean 'environments'?)",
        f"Error: {file}:6: spaces[0].machines[1]: missing required field 'environments'",
        f"Error: {file}:12: spaces[0].projects[0].tenanted: "
        "Input should be 'Untenanted', 'Tenanted' or 'TenantedOrUntenanted'",
    ]


def test_names_that_refer_to_nothing_are_each_reported(tmp_path: Path) -> None:
    text = BROKEN.replace("environmnets", "environments").replace("sometimes", "Tenanted")
    with pytest.raises(EstateFileError) as caught:
        parse_estate(text, name="estate.yml")
    assert caught.value.lines == [
        "estate.yml:5: spaces[0].machines[0].environments[0]: no environment 'Qa-typo' in space 'Default'",
        "estate.yml:11: spaces[0].projects[0].lifecycle: no lifecycle 'Stright' in space 'Default' "
        "(did you mean 'Straight'?)",
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("", "estate.yml:1: the file is empty; it needs a spaces: list"),
    ("spaces: [\n", "estate.yml:2: YAML syntax error: expected the node content, but found '<stream end>'"),
    ("spaces: []\n", "estate.yml:1: spaces: List should have at least 1 item after validation, not 0"),
    ("spaces:\n  - name: A\n  - name: a\n", "estate.yml:3: spaces[1].name: 'a' is also the name of spaces[0]"),
    ("a: &a [x]\n" + "".join(f"b{i}: *a\n" for i in range(101)),
     "estate.yml:102: more than 100 aliases (*name) (an estate file may use at most 100)"),
    ("spaces:\n  - name: A\x00\n", "estate.yml:2: YAML syntax error: unacceptable character #x0000: "
                                     "special characters are not allowed"),
    ("spaces: " + "[" * 60 + "]" * 60 + "\n",
     "estate.yml:1: nested more than 50 levels deep (an estate file needs fewer than 10)"),
])
def test_malformed_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(EstateFileError) as caught:
        parse_estate(text, name="estate.yml")
    assert caught.value.lines == [message]


def test_export_needs_an_existing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "sandbox", "--export", str(tmp_path / "out.yml"))
    assert result.code == 2
    assert result.err.strip() == "Error: --export needs --db PATH: the database whose estate to write."
    result = run_cli(capsys, "sandbox", "--db", str(tmp_path / "none.db"), "--export", str(tmp_path / "out.yml"))
    assert result.code == 2 and "no such database" in result.err
    assert not (tmp_path / "none.db").exists()


def test_a_history_the_rules_refuse_is_a_fault_of_the_file_and_nothing_is_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(ESTATE.replace("label: Ticket", "label: Ticket, required: true"), encoding="utf-8")
    db = tmp_path / "sandbox.db"
    result = run_cli(capsys, "sandbox", "--seed", str(file), "--db", str(db), "--port", "0")
    assert result.code == 2
    assert result.err.strip() == (
        f"Error: {file}:27: spaces[0].projects[0].releases[0].deployments[0]: "
        "Please provide a variable for the prompted value Ticket")
    assert read_estate(str(db)) is None  # the seed's transaction rolled back whole


def test_the_documented_estate_seeds_and_the_promotion_it_shows_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(block_after("docs/guides/rehearse.md", "## Seed it from a file"), encoding="utf-8")
    with SandboxServer(port=0, seed=load_estate(file), speed=0.001) as server:
        result = run_cli(capsys, "promote", "--server", server.url, "--api-key", server.api_key,
                         "--project", "Shop API", "--from", "QA", "--to", "Live", "--json")
    assert result.code == 0, result.everything
    assert [d["state"] for d in result.json["deployments"]] == ["Success"]
    assert result.json["release"]["version"] == "2.0.0"

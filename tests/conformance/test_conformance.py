"""The sandbox and octorelease against the conformance table (``routes.yaml``): what the real
Octopus Server documents, from its published reference and its official clients.

* the table has a row for every route the sandbox serves, and every row says where its facts
  come from;
* the sandbox answers each row's sample with the row's status and every listed answer field, of
  the listed type (fields the table lists as ``not_yet`` must be absent, so the table is
  updated when the sandbox catches up); a row the sandbox does not emulate is really not served;
* the checks themselves can fail (a body without a required field, an answer with a wrong type).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.sandbox.http.test_contract import sandbox_routes

from testing import conformance
from testing.conformance import Row
from testing.sandbox import SandboxControl

#: a value for each parameter of a documented path, in the demo estate
SAMPLES = {"{spaceId}": "Spaces-1", "{spaceIdentifier}": "Spaces-1", "{projectId}": "Projects-1",
           "{releaseId}": "Releases-1", "{environmentId}": "Environments-2", "{tenantId}": "Tenants-1"}

ANSWERED = [row for row in conformance.rows() if row.sample is not None and row.emulated != "no"]
NOT_EMULATED = [row for row in conformance.rows() if row.emulated == "no"]


def test_every_route_the_sandbox_serves_has_a_row() -> None:
    documented = {conformance.route_key(row.method, path) for row in conformance.rows() for path in row.paths}
    missing = [f"{m} {p}" for m, p in sandbox_routes() if conformance.route_key(m, p) not in documented]
    assert missing == [], "routes the sandbox serves with no row in routes.yaml:\n" + "\n".join(missing)


@pytest.mark.parametrize("row", conformance.rows(), ids=lambda row: row.name)
def test_every_row_says_where_its_route_comes_from(row: Row) -> None:
    assert row.source.get("route"), f"{row.name} has no source for its route"
    assert not (row.required and "required" not in row.source and "swagger" not in row.source["route"]), row.name
    assert row.ok in (200, 201, 204), row.name


@pytest.mark.parametrize("row", ANSWERED, ids=lambda row: row.name)
def test_the_sandbox_answers_each_row_with_its_status_and_fields(sandbox: SandboxControl, row: Row) -> None:
    sample = row.sample or {}
    response = sandbox.call(row.method, sample["path"], params=sample.get("query"), json=sample.get("body"))
    assert response.status_code == row.ok, f"{row.name}: {response.status_code} {response.text[:300]}"
    assert conformance.answer_problems(row, response.json()) == []


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: SAMPLES.get(m.group(0), "1"), path)


def test_a_row_marked_not_emulated_is_not_served(sandbox: SandboxControl) -> None:
    """Once the sandbox serves it, the table must say so (and list what it answers)."""
    served = []
    for row in NOT_EMULATED:
        response = sandbox.call(row.method, _concrete(row.path), json={} if row.method == "POST" else None)
        if response.status_code not in (404, 405):
            served.append(f"{row.name} answers {response.status_code}: mark it emulated")
    assert served == []


def test_a_request_is_matched_only_at_a_documented_path() -> None:
    untenanted = conformance.row_for("POST", "/api/Spaces-1/deployments/create/untenanted/v1")
    assert untenanted is not None and untenanted.required[-1] == "SpaceIdOrName"
    assert conformance.row_for("POST", "/api/deployments/create/untenanted/v1") is None  # no unscoped alias
    assert conformance.row_for("GET", "/api/spaces/Spaces-1/TASKS") is not None  # any letter case
    assert conformance.row_for("GET", "/api/Default/tasks") is None  # {spaceId} is an id, not a name


def test_the_required_field_check_can_fail() -> None:
    create = conformance.row_for("POST", "/api/Spaces-1/releases/create/v1")
    assert create is not None
    assert conformance.missing_required(create, ["ProjectName", "ReleaseVersion"]) == ["SpaceId", "SpaceIdOrName"]
    assert conformance.missing_required(create, ["projectName", "spaceId", "spaceIdOrName"]) == []
    assert conformance.missing_required(create, None) == ["ProjectName", "SpaceId", "SpaceIdOrName"]


def test_the_answer_check_can_fail() -> None:
    tasks = conformance.row_for("GET", "/api/Spaces-1/tasks")
    assert tasks is not None
    good: dict[str, Any] = {name: _a(kind) for name, kind in tasks.answer.items() if name not in tasks.not_yet}
    assert conformance.answer_problems(tasks, {"Items": [good]}) == []
    wrong = {**good, "IsCompleted": "yes"}
    del wrong["State"]
    assert conformance.answer_problems(tasks, {"Items": [wrong]}) == [
        "GET /api/{spaceId}/tasks: IsCompleted is str 'yes', not boolean",
        "GET /api/{spaceId}/tasks: the answer lacks State (string)",
    ]
    if tasks.not_yet:
        early = {**good, tasks.not_yet[0]: None}
        assert conformance.answer_problems(tasks, {"Items": [early]}) == [
            f"GET /api/{{spaceId}}/tasks: {tasks.not_yet[0]} is given now; take it out of not_yet"]
    assert conformance.answer_problems(tasks, {"Items": []})  # an empty page proves nothing


def _a(kind: str) -> Any:
    """A value of a table type (the first of its alternatives)."""
    return {"string": "x", "boolean": True, "integer": 1, "number": 1.5, "object": {}, "array": [],
            "null": None}[kind.split("|")[0]]

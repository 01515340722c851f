"""`octorelease deploy` and `octorelease create` against the sandbox."""

from __future__ import annotations

from typing import Any


def releases_of(sandbox: Any, project_id: str) -> list[str]:
    return [r["Version"] for r in sandbox.get(f"/api/Spaces-1/projects/{project_id}/releases", take=100)["Items"]]


def test_deploy_latest_release(sandbox, octorelease):
    run = octorelease("deploy", "--project", "Web", "--release", "latest", "--to", "Development", "--json")
    assert run.code == 0, run.err
    assert run.json["release"]["version"] == "1.2.0"
    assert run.json["deployments"][0]["state"] == "Success"


def test_deploy_unknown_release_exits_3_with_recent_versions(sandbox, octorelease):
    run = octorelease("deploy", "--project", "Web", "--release", "9.9.9", "--to", "Development")
    assert run.code == 3
    assert "Release '9.9.9' of project 'Web' not found" in run.err
    assert "1.2.0" in run.err


def test_create_takes_the_next_version_after_the_highest(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--json")
    assert run.code == 0, run.err
    assert run.json["release"]["version"] == "1.2.1"
    assert run.json["created"] is True
    assert "1.2.1" in releases_of(sandbox, "Projects-1")


def test_create_with_packages_notes_and_deploy_to(sandbox, octorelease, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("Fixes the login page", encoding="utf-8")
    run = octorelease(
        "create", "--project", "Web", "--version", "1.3.0", "--package", "Deploy web=1.3.0",
        "--notes-file", str(notes), "--deploy-to", "Development", "--json",
    )
    assert run.code == 0, run.err
    release = sandbox.get(f"/api/Spaces-1/releases/{run.json['release']['id']}")
    assert release["ReleaseNotes"] == "Fixes the login page"
    assert [p["Version"] for p in release["SelectedPackages"]] == ["1.3.0"]
    assert run.json["deployments"][0]["environment"] == "Development"
    assert run.json["deployments"][0]["state"] == "Success"


def test_create_existing_version_fails_unless_ignore_existing(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--version", "1.1.0")
    assert run.code == 3
    assert "already exists" in run.err and "--ignore-existing" in run.err
    run = octorelease("create", "--project", "Web", "--version", "1.1.0", "--ignore-existing", "--json")
    assert run.code == 0, run.err
    assert run.json["created"] is False
    assert run.json["release"] == {"id": "Releases-2", "version": "1.1.0"}


def test_create_with_unknown_step_names_it(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--package", "Deploy wbe=1.3.0")
    assert run.code == 3
    assert "Deploy wbe" in run.err and "did you mean 'Deploy web'?" in run.err


def test_create_with_a_version_not_in_the_feed_is_refused(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--version", "1.4.0", "--default-package-version", "7.7.7")
    assert run.code == 3
    assert "7.7.7" in run.err
    assert "1.4.0" not in releases_of(sandbox, "Projects-1")


def test_create_dry_run_creates_nothing(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--dry-run", "--json")
    assert run.code == 0, run.err
    assert run.json["dry_run"] is True
    assert "1.2.1" not in releases_of(sandbox, "Projects-1")

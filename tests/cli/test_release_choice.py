"""Which release `promote` takes from the source environment, and the reason it prints."""

from __future__ import annotations


def test_a_rollback_in_the_source_is_what_gets_promoted(sandbox, octorelease):
    rollback = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Development", "--no-log")
    assert rollback.code == 0, rollback.err
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--json", "--no-log")
    assert run.code == 0, run.err
    assert run.json["release"]["version"] == "1.0.0"


def test_the_previous_success_is_taken_while_the_newest_deployment_still_runs(sandbox, octorelease):
    sandbox.set_speed(3.0)  # still running when the promotion looks, even on a busy machine
    running = octorelease("deploy", "--project", "Web", "--release", "1.2.0", "--to", "Development", "--no-wait")
    assert running.code == 0, running.err
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--json", "--dry-run")
    assert run.code == 0, run.err
    assert run.json["release"]["version"] == "1.1.0"
    assert "release 1.2.0, is still" in run.err


def test_a_project_never_deployed_to_the_source_has_nothing_to_promote(sandbox, octorelease):
    run = octorelease("promote", "--project", "Billing", "--from", "Development", "--to", "Test")
    assert run.code == 3
    assert "Project Billing has never been deployed to Development: there is nothing to promote." in run.err
    assert "--release" in run.err


def test_no_successful_deployment_in_the_source_is_refused(sandbox, octorelease):
    sandbox.fail(step="Deploy worker", environment="Test", message="disk full")
    failed = octorelease("deploy", "--project", "Worker", "--release", "2.0.0", "--to", "Test", "--no-log")
    assert failed.code == 1
    run = octorelease("promote", "--project", "Worker", "--from", "Test", "--to", "Staging")
    assert run.code == 3
    assert "No successful deployment of Worker to Test: the newest one, release 2.0.0, is Failed." in run.err

"""The package as a new user gets it: every documented install command works as written, in a
venv of its own; the wheel carries the metadata PyPI shows; the release workflow publishes only a
tag that is the package's version, with trusted publishing (no stored token)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import yaml

from octorelease import __version__
from testing.docs import block_after
from testing.runner import run_bash

ROOT = Path(__file__).resolve().parents[1]
INSTALL_PAGES = ("README.md", "docs/getting-started.md")


def copy_of_this_tree(target: Path) -> str:
    """This tree as a clone of it would be (tracked and new files, uncommitted changes too), made a
    repository with one commit; returns the commit."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a clone"], cwd=target, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=target, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_every_documented_install_command_works_as_written(tmp_path: Path, wheelhouse: dict[str, str]) -> None:
    blocks = {name: block_after(name, "<!-- install -->") for name in INSTALL_PAGES}
    assert len(set(blocks.values())) == 1, f"the install differs between {', '.join(INSTALL_PAGES)}"
    venv_line, *installs = blocks["README.md"].splitlines()
    clone = tmp_path / "octorelease"
    clone.mkdir()
    commit = copy_of_this_tree(clone)
    # the repository at a ref: this copy's, at its commit (no network here but the package index)
    installs = [line.replace("https://github.com/<owner>/octorelease", f"file://{clone}").replace("<ref>", commit)
                for line in installs]
    assert len(installs) == 3 and all("<" not in line.split("#")[0] for line in installs)
    script = [venv_line]
    for line in installs:
        script += [line, "octorelease --version", 'test "$(command -v octorelease)" = ~/.octorelease/bin/octorelease',
                   "pip uninstall --quiet --yes octorelease"]
    done = run_bash("\n".join(script), {"HOME": str(tmp_path)}, clone, fresh=wheelhouse)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(f"octorelease, version {__version__}") == 3, done.stdout


def test_the_wheel_carries_what_pypi_shows(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as wheel:
        (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(name).decode())
        assert any(name.endswith("licenses/LICENSE") for name in wheel.namelist())
    assert metadata["Version"] == __version__ and metadata["License-Expression"] == "MIT"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith("# octorelease")
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.10" in classifiers and "Typing :: Typed" in classifiers
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)


def release_workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text(encoding="utf-8"))
    return loaded


def test_the_release_workflow_publishes_a_tag_with_trusted_publishing() -> None:
    workflow = release_workflow()
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML reads the key `on` as true
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "build" and publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    (upload,) = [step for step in publish["steps"] if "gh-action-pypi-publish" in step.get("uses", "")]
    assert "with" not in upload, "trusted publishing takes no token or password"
    assert "secrets." not in (ROOT / ".github/workflows/release.yml").read_text(encoding="utf-8")
    build = "\n".join(step.get("run", "") for step in workflow["jobs"]["build"]["steps"])
    assert "python -m build --outdir dist ." in build and "twine check --strict dist/*" in build
    assert re.search(r"^package:.*\n(\t.*\n)*\t\$\(BIN\)/twine check --strict dist/\*$",
                     (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)


def test_the_release_refuses_a_tag_that_is_not_the_version_and_an_unnamed_owner(tmp_path: Path) -> None:
    (check,) = [step for step in release_workflow()["jobs"]["build"]["steps"]
                if step.get("name") == "The tag is the package's version"]
    (tmp_path / "src/octorelease").mkdir(parents=True)
    shutil.copy2(ROOT / "src/octorelease/_version.py", tmp_path / "src/octorelease/_version.py")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    def run(tag: str, owner: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "pyproject.toml").write_text(pyproject.replace("<owner>", owner), encoding="utf-8")
        return run_bash(check["run"], {"TAG": tag}, tmp_path)

    assert run(f"v{__version__}", "acme").returncode == 0
    refused = run("v99.0.0", "acme")
    assert refused.returncode == 1 and f"tag v99.0.0 is not v{__version__}" in refused.stdout
    unnamed = run(f"v{__version__}", "<owner>")
    assert unnamed.returncode == 1 and "still name <owner>" in unnamed.stdout

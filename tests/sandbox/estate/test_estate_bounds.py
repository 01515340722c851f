"""An estate file is held to what the API allows, and refused cheaply when it is too large: a
lone surrogate is a fault at its line (as in a handler file), a name longer than the API takes is
a fault, and a file of a million values is refused before a tree of it is built."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from octorelease.handler.file import HandlerFileError, parse_handler_file
from octorelease.sandbox.estate.file import LIMITS, EstateFileError, parse_estate
from testing.children import finish, spawn

ESTATE = """\
spaces:
  - name: Default
    environments: [{environment}]
    lifecycles: [{{name: Straight}}]
    projects: [{{name: {project}, lifecycle: Straight}}]
"""


def faults(text: str) -> list[str]:
    with pytest.raises(EstateFileError) as caught:
        parse_estate(text, name="estate.yml")
    return caught.value.lines


def test_a_lone_surrogate_in_an_estate_file_is_a_fault_at_its_line() -> None:
    assert faults(ESTATE.format(environment='"Prod\\ud800"', project="Web")) == [
        "estate.yml:3: spaces[0].environments[0]: not valid Unicode text (a lone surrogate, such as \\ud800)"]


def test_a_lone_surrogate_in_a_handler_file_is_a_fault_at_its_line() -> None:
    text = ('server: https://octopus.example.com\napi_key: ${OCTOPUS_API_KEY}\nhandlers:\n'
            '  - name: "Ship\\udfff"\n    project: Web\n    on: {event: build-completed}\n'
            '    deploy: {to: [Test], release: 1.0.0}\n')
    with pytest.raises(HandlerFileError) as caught:
        parse_handler_file(text, name="handlers.yml", environ={"OCTOPUS_API_KEY": "API-X"})
    assert str(caught.value) == ("handlers.yml:4: handlers[0].name: not valid Unicode text "
                                 "(a lone surrogate, such as \\ud800)")


def test_names_longer_than_the_api_takes_are_faults_with_the_api_s_words() -> None:
    assert faults(ESTATE.format(environment="E" * 5000, project="P" * 201)) == [
        "estate.yml:3: spaces[0].environments[0].name: The name of the environment must be at most 50 characters "
        "long.",
        "estate.yml:5: spaces[0].projects[0].name: The name of the project must be at most 200 characters long.",
    ]


def test_names_the_api_takes_are_taken() -> None:
    estate = parse_estate(ESTATE.format(environment="E" * 50, project="P" * 200))
    assert estate.spaces[0].environments[0].name == "E" * 50


#: Run in a child, so that its peak memory is its own: the file of LIMITS.max_values + 1 values, read.
MILLION_AND_ONE = """\
from octorelease.sandbox.estate.file import LIMITS, EstateFileError, parse_estate
text = "spaces:\\n  - name: Default\\n    environments:\\n" + "      - e\\n" * (LIMITS.max_values + 1)
try:
    parse_estate(text, name="estate.yml")
except EstateFileError as error:
    print(error.lines[0])
# VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would count the forking test process's own
print(next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak is read from /proc/self/status")
def test_a_file_of_a_million_and_one_values_is_refused_before_a_tree_of_it_is_built() -> None:
    """Composing 1,000,001 values in Python took 39 s and 721 MiB before the bound refused them;
    counted first by libyaml, they are refused holding little more than the text (12 MB)."""
    process = spawn([sys.executable, "-c", MILLION_AND_ONE], stdout=-1, stderr=-1, text=True)
    out, err = finish(process, timeout=120)
    line, peak_mib = out.splitlines()
    assert line.startswith("estate.yml:") and line.endswith(
        f": more than {LIMITS.max_values:,} values once aliases are expanded "
        f"(an estate file may hold at most {LIMITS.max_values:,})"), (line, err)
    assert int(peak_mib) < 150, f"{peak_mib} MiB at its peak"  # 721 MiB when it was composed in Python


@pytest.mark.skipif(sys.platform == "win32", reason="a child process is simpler to bound here")
def test_the_sandbox_command_refuses_a_surrogate_in_an_estate_and_serves_nothing(tmp_path: Path) -> None:
    estate = tmp_path / "estate.yml"
    estate.write_text(ESTATE.format(environment='"Prod\\ud800"', project="Web"), encoding="utf-8")
    process = spawn([sys.executable, "-m", "octorelease.cli", "sandbox", "--seed", str(estate), "--port", "0"],
                    stdout=-1, stderr=-1, text=True)
    out, err = finish(process, timeout=30)
    assert process.returncode == 2, (out, err)
    assert "estate.yml:3: spaces[0].environments[0]: not valid Unicode text" in err and "Traceback" not in err

"""The feed's versions of a package searched by NuGet range, as clients check a version exists
before they create a release with it (``versionRange=[1.2.0]`` is exactly 1.2.0)."""

from __future__ import annotations

import pytest

from testing.sandbox import SandboxControl


@pytest.mark.parametrize(("version_range", "found"), [
    ("[1.1.0]", ["1.1.0"]),
    ("[9.9.9]", []),
    ("[1.1.0,1.3.0)", ["1.2.0", "1.1.0"]),
    ("(1.1.0,]", ["1.3.0", "1.2.0"]),
    ("1.2.0", ["1.3.0", "1.2.0"]),
])
def test_package_versions_are_searched_by_nuget_range(
    sandbox: SandboxControl, version_range: str, found: list[str]
) -> None:
    page = sandbox.get("/api/Spaces-1/feeds/feeds-builtin/packages/versions", packageId="Web",
                       versionRange=version_range)
    assert [item["Version"] for item in page["Items"]] == found


def test_a_malformed_range_is_refused(sandbox: SandboxControl) -> None:
    response = sandbox.call("GET", "/api/Spaces-1/feeds/feeds-builtin/packages/versions",
                            params={"packageId": "Web", "versionRange": "[1.0"})
    assert response.status_code == 400

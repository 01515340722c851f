"""Read the sandbox's pages (``/app``) as a test needs them: the grid's cells, from HTML or from a
browser, keyed as the dashboard API's items are, so that the two can be compared whole.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

#: (project id, environment id, tenant id or "") -> (release version, task state)
Cells = dict[tuple[str, str, str], tuple[str, str]]

#: What a browser page gives ``page.eval_on_selector_all("td.cell[data-state]", GRID_CELLS)``.
GRID_CELLS = ("cells => cells.map(c => [c.closest('tr').dataset.project, c.dataset.environment, "
              "c.closest('tr').dataset.tenant, c.dataset.version, c.dataset.state])")


def api_cells(dashboard: dict[str, Any]) -> Cells:
    """The current item of each project, environment and tenant in ``GET /api/{space}/dashboard``."""
    return {(i["ProjectId"], i["EnvironmentId"], i["TenantId"] or ""): (i["ReleaseVersion"], i["State"])
            for i in dashboard["Items"] if i["IsCurrent"]}


def browser_cells(rows: list[list[str]]) -> Cells:
    """``GRID_CELLS``'s answer as ``Cells``; a cell shown twice fails the test."""
    cells: Cells = {}
    for project, environment, tenant, version, state in rows:
        assert (project, environment, tenant) not in cells, f"{project} {environment} {tenant} is shown twice"
        cells[(project, environment, tenant)] = (version, state)
    return cells


class _Grid(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.row: dict[str, str | None] = {}
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr":
            self.row = found
        elif tag == "td" and "data-state" in found:
            self.rows.append([str(self.row.get("data-project") or ""), str(found.get("data-environment") or ""),
                              str(self.row.get("data-tenant") or ""), str(found.get("data-version") or ""),
                              str(found.get("data-state") or "")])


def html_cells(html: str) -> Cells:
    """The grid's cells in a dashboard page's HTML, as the server sent it."""
    parser = _Grid()
    parser.feed(html)
    return browser_cells(parser.rows)

"""Estates for tests about cost: the demo, and the demo widened with many more environments,
machines and tenants, so that a test can show that a command's requests do not grow with the
size of the space (only what is named is looked up).

The widened estate keeps the demo's projects, lifecycles and history exactly (same ids for
them), so a command that works on the demo works the same way on it; the bulk is added after.
"""

from __future__ import annotations

from dataclasses import dataclass
from octorelease.sandbox.estate import EnvironmentSpec, Estate, MachineSpec, TenantSpec, demo_path, load_estate


@dataclass(frozen=True)
class Width:
    """How much bulk the widened estate adds to the demo's default space."""

    environments: int = 300
    machines_per_environment: int = 3
    tenants: int = 100


def wide_estate(width: Width = Width()) -> Estate:
    """The demo plus ``width``'s environments (``Region 0001`` ...), their machines
    (``region-0001-web-1`` ..., role ``web``) and tenants (``Customer 0001`` ..., connected to
    no project), all after the demo's own."""
    estate = load_estate(demo_path())
    space = next(s for s in estate.spaces if s.default)
    regions = [f"Region {i:04d}" for i in range(1, width.environments + 1)]
    space.environments += [EnvironmentSpec(name=name) for name in regions]
    space.machines += [
        MachineSpec.model_validate(
            {"name": f"{name.lower().replace(' ', '-')}-web-{n}", "environments": [name], "roles": ["web"]}
        )
        for name in regions
        for n in range(1, width.machines_per_environment + 1)
    ]
    space.tenants += [TenantSpec(name=f"Customer {i:04d}") for i in range(1, width.tenants + 1)]
    return estate

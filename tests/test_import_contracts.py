"""The contract types ``lint-imports`` loads from tests/support (``.importlinter``):
each catches what it names on a small graph, and the house's own graph keeps them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.support.import_contracts import (
    cross_package_private_imports,
    feature_cycle_breakers,
    is_private_below,
    owner,
)

ROOT = Path(__file__).resolve().parents[1]


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        for module in (importer, imported):
            parts = module.split(".")
            for n in range(1, len(parts) + 1):
                graph.add_module(".".join(parts[:n]))
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_private_means_a_private_component_below_the_package() -> None:
    assert owner("app.intake.advisories._osv", "app") == "app.intake"
    assert owner("other.intake", "app") is None
    assert is_private_below("app.intake._format", "app")
    assert is_private_below("app.intake._format.deep", "app")
    assert is_private_below("app.intake.advisories._osv", "app")
    assert not is_private_below("app.intake.services", "app")
    assert not is_private_below("app.intake.__main__", "app")
    assert not is_private_below("app.intake", "app")


def test_cross_package_private_imports_are_found_and_own_package_ones_are_not() -> None:
    graph = _graph(
        ("app.triage.services", "app.intake._format"),  # a leak
        ("app.web.views", "app.intake.advisories._osv"),  # a leak, deeper
        ("app.intake.services", "app.intake.advisories._osv"),  # its own package: fine
        ("app.intake.services", "app.intake._format"),  # fine
        ("app.triage.services", "app.intake"),  # the public face: fine
    )
    assert cross_package_private_imports(graph, "app") == {
        ("app.triage.services", "app.intake._format"),
        ("app.web.views", "app.intake.advisories._osv"),
    }


def test_cycles_between_members_are_found_and_paths_through_others_are_not() -> None:
    members = {"app.intake", "app.triage", "app.matching"}
    cyclic = _graph(
        ("app.intake.services", "app.triage.services"),
        ("app.triage.services", "app.intake.models"),
        ("app.matching.services", "app.intake.models"),
    )
    breakers = feature_cycle_breakers(cyclic, "app", members)
    assert len(breakers) == 1 and breakers <= {
        ("app.intake.services", "app.triage.services"),
        ("app.triage.services", "app.intake.models"),
    }
    through_kernel = _graph(
        ("app.intake.services", "app.storage.registry"),
        ("app.storage.registry", "app.triage.models"),
        ("app.triage.services", "app.intake.models"),
    )
    assert feature_cycle_breakers(through_kernel, "app", members) == set()


def test_the_house_keeps_its_contracts() -> None:
    """Today's debt is listed in .importlinter; anything new breaks a contract."""
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "3 kept, 0 broken" in run.stdout

"""The one features list: every name it holds resolves, and every feature's routers, commands,
jobs and tables are in it (a module left out would silently drop its routes, jobs or tables)."""

from __future__ import annotations

from pathlib import Path

import typer
from fastapi import APIRouter

from clearinghouse import features
from clearinghouse.cli_help import TOP_LEVEL
from clearinghouse.feature import Feature, load

PACKAGE = Path(features.__file__).parent
HOUSE_COMMANDS = {"init", "serve", "worker", "version"}  # the root cli.py's own


def _modules(filename: str) -> set[str]:
    found = set()
    for path in PACKAGE.rglob(filename):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        found.add(".".join(relative.parts))
    return found


def test_every_name_in_the_list_resolves() -> None:
    for feature in features.FEATURES:
        assert isinstance(feature, Feature)
        for name in (*feature.api, *feature.routes):
            assert isinstance(load(name), APIRouter), name
        for name in (*feature.install, *feature.seed):
            assert callable(load(name)), name
        for command in feature.cli:
            target = load(command.target)
            assert isinstance(target, typer.Typer) or callable(target), command
        for name in (*feature.jobs, *feature.models):
            load(name)


def test_every_models_and_tasks_module_is_named_once() -> None:
    assert sorted(features.model_modules()) == sorted(_modules("models.py"))
    assert sorted(features.job_modules()) == sorted(_modules("tasks.py"))
    assert len(set(features.model_modules())) == len(features.model_modules())


def test_every_top_level_command_comes_from_one_feature_or_the_house() -> None:
    names = [command.name for command in features.commands()]
    assert len(names) == len(set(names))
    assert set(names) | HOUSE_COMMANDS == set(TOP_LEVEL)
    assert not set(names) & HOUSE_COMMANDS


def test_every_router_of_a_views_module_is_mounted() -> None:
    mounted = {id(router) for router in (*features.api_routers(), *features.root_routers())}
    for module_name in sorted(_modules("views.py") | _modules("feed_views.py")):
        if module_name.startswith("clearinghouse.web"):
            continue  # the console installs its pages itself (features.installers)
        module = load(module_name)
        routers = [value for value in vars(module).values() if isinstance(value, APIRouter)]
        top = [r for r in routers if id(r) in mounted]
        assert top, f"{module_name}: no router of it is in the features list"


def test_the_schema_and_the_seeders_come_from_the_list() -> None:
    tables = set(features.metadata().tables)
    assert {"jobs", "audit_events", "findings", "directives", "web_sessions"} <= tables
    assert any(feature.seed for feature in features.FEATURES)

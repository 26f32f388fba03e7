"""Every feature of the house, in one list: the API app, the CLI, the worker and the
migrations iterate it, so a feature is added by adding its ``feature.py`` here.

Each feature declares its routers, commands, jobs and models once, as names
(:class:`clearinghouse.feature.Feature`); nothing here imports a router, a command, a job or a
model until an entrypoint asks for it. The order is the order routes are mounted and
commands listed; the web console comes last, because it serves ``/``.

This module sits with the adapters (top layer): ``storage`` and ``runtime`` import no
feature, and Alembic's environment reads the schema from :func:`metadata`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import MetaData

from clearinghouse import runtime
from clearinghouse.access.feature import FEATURE as ACCESS
from clearinghouse.coordination.feature import FEATURE as COORDINATION
from clearinghouse.directives.feature import FEATURE as DIRECTIVES
from clearinghouse.enforcement.feature import FEATURE as ENFORCEMENT
from clearinghouse.feature import Command, Feature, load
from clearinghouse.frontier.feature import FEATURE as FRONTIER
from clearinghouse.intake.feature import FEATURE as INTAKE
from clearinghouse.jobs.feature import FEATURE as JOBS
from clearinghouse.ledger.feature import FEATURE as LEDGER
from clearinghouse.matching.feature import FEATURE as MATCHING
from clearinghouse.notifications.feature import FEATURE as NOTIFICATIONS
from clearinghouse.priority.feature import FEATURE as PRIORITY
from clearinghouse.programs.feature import FEATURE as PROGRAMS
from clearinghouse.repro.feature import FEATURE as REPRO
from clearinghouse.sharing.feature import FEATURE as SHARING
from clearinghouse.storage import UnitOfWorkFactory
from clearinghouse.triage.feature import FEATURE as TRIAGE
from clearinghouse.web.feature import FEATURE as WEB

FEATURES: tuple[Feature, ...] = (
    ACCESS,
    INTAKE,
    TRIAGE,
    COORDINATION,
    NOTIFICATIONS,
    MATCHING,
    PRIORITY,
    DIRECTIVES,
    SHARING,
    LEDGER,
    JOBS,
    ENFORCEMENT,
    PROGRAMS,
    FRONTIER,
    REPRO,
    WEB,
)


def api_routers() -> Iterator[Any]:
    """Every router mounted under ``/api/v1``, in the features' order."""
    for feature in FEATURES:
        yield from (load(name) for name in feature.api)


def root_routers() -> Iterator[Any]:
    """Every router mounted at the root under its own prefix (TAXII, OSV, CSAF)."""
    for feature in FEATURES:
        yield from (load(name) for name in feature.routes)


def installers() -> Iterator[Any]:
    """Every callable that installs pages on the app (the console), in the features' order."""
    for feature in FEATURES:
        yield from (load(name) for name in feature.install)


def commands() -> Iterator[Command]:
    """Every feature's top-level commands and groups, in the features' order."""
    for feature in FEATURES:
        yield from feature.cli


def job_modules() -> tuple[str, ...]:
    return tuple(name for feature in FEATURES for name in feature.jobs)


def model_modules() -> tuple[str, ...]:
    return tuple(name for feature in FEATURES for name in feature.models)


def load_jobs() -> None:
    """Import every feature's jobs modules, so every job is known by name."""
    for name in job_modules():
        load(name)


def metadata() -> MetaData:
    """The whole schema: every feature's models imported onto the one ``Base``."""
    from clearinghouse.storage import Base

    for name in model_modules():
        load(name)
    return Base.metadata


def seed(uow_factory: UnitOfWorkFactory) -> None:
    """Seed what an empty database starts with: every feature's seeders, in the features' order."""
    for feature in FEATURES:
        for name in feature.seed:
            load(name)(uow_factory)


# ``Runtime.migrate`` seeds through the features list, so the runtime names no feature.
runtime.on_migrate(seed)

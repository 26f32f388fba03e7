"""The shape every feature declares once (warehouse's ``includeme``, without a framework).

Each feature package names, in its ``feature.py``, what it brings to the house: its HTTP
routers, its command-line groups, the modules whose ``@job`` functions register, and the
modules that declare its tables. :mod:`clearinghouse.features` lists every feature; the
API app, the CLI, the worker and the migrations iterate that one list.

Names are strings (``"package.module:attribute"``) and are imported on first use, so
declaring a feature costs nothing: ``clearinghouse --help`` imports none of it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """A top-level ``clearinghouse`` command: a Typer group or a single command function."""

    name: str
    target: str  # "package.module:attribute"


@dataclass(frozen=True)
class Feature:
    """What one feature brings: every field is optional, every name a string."""

    name: str
    api: tuple[str, ...] = ()  # routers mounted under /api/v1, in this order
    routes: tuple[str, ...] = ()  # routers mounted at the root under their own prefix
    install: tuple[str, ...] = ()  # callables given the FastAPI app (the console's pages)
    cli: tuple[Command, ...] = ()  # top-level commands and groups
    jobs: tuple[str, ...] = ()  # modules whose @job functions register on import
    models: tuple[str, ...] = ()  # modules that declare tables
    seed: tuple[str, ...] = ()  # idempotent callables given the unit-of-work factory after migrations


def load(target: str) -> Any:
    """Import ``"package.module:attribute"`` (or a bare module) and return it."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module

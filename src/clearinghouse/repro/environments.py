"""Installed releases from the lab's content-addressed environment cache, for other features.

The frontier evaluation's real exploitation tasks use it: :func:`prepare` fetches (through the lab's
index settings and outbound checks, into the cache) and installs a release, then proves it loads
in the sandbox; :func:`lookup` finds an environment prepared before and never fetches, so nothing
is downloaded while a model is working. Both are plain functions with no database: call them
outside any transaction.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clearinghouse.repro._ecosystems import Environment, EnvironmentError_, adapter_for
from clearinghouse.repro._outbound import FetchError
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.sandbox import Mount, Sandbox


class EnvironmentUnavailable(Exception):
    """The release cannot be fetched, installed or loaded, or was never prepared."""


@dataclass(frozen=True)
class PreparedEnvironment:
    """An installed release and how a sandbox sees it (read-only mounts and variables)."""

    ecosystem: str
    name: str
    version: str
    path: Path
    artifact_sha256: str
    mounts: list[Mount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def cache_settings(
    cache_dir: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> ReproSettings:
    """The lab's settings for a cache folder, without a data folder: the index, registry and
    ``allow_internal`` come from ``CLEARINGHOUSE_REPRO_*`` as for the lab itself."""
    env = dict(os.environ if environ is None else environ)
    folder = cache_dir or env.get("CLEARINGHOUSE_REPRO_CACHE")
    if not folder:
        raise EnvironmentUnavailable("no cache folder: pass one or set CLEARINGHOUSE_REPRO_CACHE")
    base = ReproSettings(cache_dir=Path(folder).resolve())
    return ReproSettings(
        cache_dir=base.cache_dir,
        pypi_index=env.get("CLEARINGHOUSE_REPRO_PYPI_INDEX", base.pypi_index),
        pypi_json=env.get("CLEARINGHOUSE_REPRO_PYPI_JSON", base.pypi_json),
        npm_registry=env.get("CLEARINGHOUSE_REPRO_NPM_REGISTRY", base.npm_registry),
        allow_internal=env.get("CLEARINGHOUSE_REPRO_ALLOW_INTERNAL", "0") == "1",
    )


def _view(settings: ReproSettings, ecosystem: str, env: Environment) -> PreparedEnvironment:
    adapter = adapter_for(ecosystem, settings)
    assert adapter is not None
    mounts, variables = adapter.sandbox_view(env)
    return PreparedEnvironment(
        env.ecosystem, env.name, env.version, env.path, env.artifact_sha256, list(mounts), dict(variables)
    )


def lookup(settings: ReproSettings, ecosystem: str, name: str, version: str) -> PreparedEnvironment:
    """The environment prepared before for ``name`` at ``version``; never fetches or installs."""
    adapter = adapter_for(ecosystem, settings)
    if adapter is None:
        raise EnvironmentUnavailable(f"the lab has no adapter for {ecosystem}")
    env = adapter.cached(name, version)
    if env is None:
        raise EnvironmentUnavailable(
            f"{name} {version} is not in the cache {settings.cache_dir}: prepare it first"
        )
    return _view(settings, ecosystem, env)


def prepare(
    settings: ReproSettings, ecosystem: str, name: str, version: str, sandbox: Sandbox
) -> PreparedEnvironment:
    """Fetch (once) and install (once) ``name`` at ``version`` into the cache, then import it in
    ``sandbox``: a release that cannot be loaded there raises, with the installer's or
    interpreter's message."""
    adapter = adapter_for(ecosystem, settings)
    if adapter is None:
        raise EnvironmentUnavailable(f"the lab has no adapter for {ecosystem}")
    settings.ensure_cache()
    try:
        env = adapter.environment(name, version)
    except (EnvironmentError_, FetchError) as exc:
        raise EnvironmentUnavailable(f"cannot install {name} {version}: {exc}") from exc
    prepared = _view(settings, ecosystem, env)
    smoke = sandbox.run(adapter.smoke(env), mounts=prepared.mounts, env=prepared.env)
    if smoke.exit_code != 0:
        tail = (smoke.stderr or smoke.stdout)[-1500:].decode(errors="replace").strip()
        raise EnvironmentUnavailable(
            f"the installed {name} {version} cannot be loaded: {tail or smoke.exit_code}"
        )
    return prepared

"""The running system's wiring: settings, database, ledger, units of work, jobs.

Adapters (the HTTP app, the CLI, workers) open one :class:`Runtime` and hand
its parts to the services; nothing below this module reads the environment.
The runtime imports no feature: the entrypoints (``api.app``, ``cli``, which
also runs ``worker``) load every feature's jobs from :mod:`clearinghouse.features`,
which also hands the runtime what an empty database starts with (:func:`on_migrate`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from clearinghouse.config import NoDataFolder, Settings
from clearinghouse.envelope import Envelope
from clearinghouse.jobs import JobQueue, make_job_queue
from clearinghouse.ledger import Ledger, SigningKey, load_or_create_signing_key
from clearinghouse.storage import UnitOfWorkFactory, make_engine, migrate

# What an empty database starts with (the directive registry, ...): each seeder gets the
# unit-of-work factory after the migrations and is idempotent. Registered by the features
# list, so the runtime itself names no feature.
_seeders: list[Callable[[UnitOfWorkFactory], object]] = []


def on_migrate(seed: Callable[[UnitOfWorkFactory], object]) -> None:
    """Run ``seed(uow_factory)`` after every :meth:`Runtime.migrate` (registered once)."""
    if seed not in _seeders:
        _seeders.append(seed)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        settings.ensure_home()
        self.settings = settings
        # The request threads, the job worker and a nested unit of work or two.
        self.engine = make_engine(settings.database_url, connections=settings.request_threads + 4)
        self.signing_key: SigningKey = load_or_create_signing_key(settings.keys_dir)
        self.ledger = Ledger(self.signing_key)
        self.envelope = Envelope.from_keys_dir(settings.keys_dir)
        self.uow = UnitOfWorkFactory(self.engine, self.ledger)
        self.jobs: JobQueue = make_job_queue(self)
        # ``uow.enqueue`` writes through the job backend, in the unit of work's transaction.
        self.uow.enqueuer = self.jobs.enqueue_in

    @classmethod
    def from_env(cls) -> Runtime:
        """The runtime of the data folder the environment names; refuses one ``init`` has not made."""
        settings = Settings.from_env()
        if not settings.initialised:
            raise NoDataFolder(
                f"{settings.home} is not a Clearinghouse data folder yet (no ledger key in "
                f"{settings.keys_dir}). Run `clearinghouse init` to create it, or point CLEARINGHOUSE_HOME "
                "at an existing data folder."
            )
        return cls(settings)

    @classmethod
    def for_init(cls) -> Runtime:
        """The runtime ``init`` sets up: the configured data folder, else ``./var`` with a new
        ``clearinghouse.toml`` here naming it."""
        settings = Settings.from_env(home=Path.cwd() / "var")
        runtime = cls(settings)
        if settings.config_path is None and not os.environ.get("CLEARINGHOUSE_HOME"):
            settings.write_config(Path.cwd())
        return runtime

    def migrate(self) -> None:
        """Upgrade the schema, then seed what an empty database starts with (the directives:
        every feature's seeders, registered with :func:`on_migrate` by the features list)."""
        migrate(self.engine)
        for seed in list(_seeders):
            seed(self.uow)

    def close(self) -> None:
        self.jobs.stop()
        self.engine.dispose()

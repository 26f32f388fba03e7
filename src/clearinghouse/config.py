"""Settings, read once from the environment.

``CLEARINGHOUSE_HOME`` chooses the data folder (default ``./var``): the SQLite
database, the ledger signing key and the envelope-encryption keys live there.
``CLEARINGHOUSE_DATABASE_URL`` selects another database (PostgreSQL 15 for
scale); by default it is SQLite at ``$CLEARINGHOUSE_HOME/clearinghouse.db``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

JobBackendName = Literal["inprocess", "procrastinate"]


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    job_backend: JobBackendName
    max_request_bytes: int = 10 * 1024 * 1024
    max_batch_bytes: int = 512 * 1024 * 1024
    log_level: str = "INFO"
    # Addresses of reverse proxies whose X-Forwarded-For is believed (none by default):
    # from anyone else the header is ignored and the connecting address is the client.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("CLEARINGHOUSE_HOME", "./var")).resolve()
        url = env.get("CLEARINGHOUSE_DATABASE_URL") or f"sqlite:///{home / 'clearinghouse.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the one PostgreSQL driver the project ships.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        default_backend: JobBackendName = "procrastinate" if url.startswith("postgresql") else "inprocess"
        backend = env.get("CLEARINGHOUSE_JOB_BACKEND", default_backend)
        if backend not in ("inprocess", "procrastinate"):
            raise ValueError(
                f"CLEARINGHOUSE_JOB_BACKEND must be 'inprocess' or 'procrastinate', not {backend!r}"
            )
        if backend == "procrastinate" and not url.startswith("postgresql"):
            raise ValueError("the procrastinate job backend needs a PostgreSQL database")
        return cls(
            home=home,
            database_url=url,
            job_backend=backend,  # type: ignore[arg-type]
            max_request_bytes=int(env.get("CLEARINGHOUSE_MAX_REQUEST_BYTES", 10 * 1024 * 1024)),
            max_batch_bytes=int(env.get("CLEARINGHOUSE_MAX_BATCH_BYTES", 512 * 1024 * 1024)),
            log_level=env.get("CLEARINGHOUSE_LOG_LEVEL", "INFO"),
            trusted_proxies=tuple(
                p.strip() for p in env.get("CLEARINGHOUSE_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
        )

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)

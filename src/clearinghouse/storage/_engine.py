"""Engine construction and schema migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off so that BEGIN is
        # ours to emit (see the "begin" hook below and UnitOfWork).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock at BEGIN, so two writers queue on the
        # busy timeout instead of one failing with SQLITE_BUSY on upgrade.
        mode = connection.info.pop("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, connections: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the project's connection settings.

    ``connections``: how many connections the pool keeps open (for a server, at least its
    request threads plus the job worker). A pool smaller than the threads that use it opens
    and closes an overflow connection per use (with SQLite's pragmas each time) under load.
    """
    file_backed = not (url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"))
    if connections is not None and file_backed:
        kwargs.setdefault("pool_size", connections)
        kwargs.setdefault("max_overflow", connections)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (every branch's newest by default: a
    feature's migrations may branch from a common parent until a merge
    revision joins them)."""
    command.upgrade(alembic_config(engine), revision)

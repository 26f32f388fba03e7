"""The test databases: a migrated SQLite template copied per test, and PostgreSQL
databases made from a migrated template (``CREATE DATABASE ... TEMPLATE``) and dropped
in batches off the tests' path. One template of each kind per test process (each
pytest-xdist worker makes its own)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
import warnings
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from clearinghouse.storage import make_engine, migrate

PG_URL = os.environ.get("CLEARINGHOUSE_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("CLEARINGHOUSE_REQUIRE_POSTGRES") == "1"
_template_db: str | None = None
_sqlite_template_path: Path | None = None


def pg_admin_url() -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_pg_database() -> str:
    """A fresh, migrated PostgreSQL database (copied from a migrated template)."""
    global _template_db
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    base = make_url(pg_admin_url())
    try:
        with admin.connect() as conn:
            if _template_db is None:
                _template_db = f"ch_template_{uuid.uuid4().hex[:8]}"
                conn.execute(text(f'CREATE DATABASE "{_template_db}"'))
                template_engine = make_engine(
                    base.set(database=_template_db).render_as_string(hide_password=False)
                )
                migrate(template_engine)
                template_engine.dispose()
            name = f"ch_test_{uuid.uuid4().hex[:12]}"
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template_db}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a test database. An autovacuum worker (a superuser's process, which
    FORCE may not end for us) can hold it for a moment: retry, then leave it."""
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    try:
        for attempt in range(10):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                return
            except DBAPIError:
                time.sleep(0.2 * (attempt + 1))
        warnings.warn(f"could not drop the test database {name}", stacklevel=2)
    finally:
        admin.dispose()


def sqlite_template(basetemp: Path) -> Path:
    """A migrated SQLite database made once per test process (each xdist worker
    makes its own): checkpointed and switched out of WAL, so the one file holds
    everything and a plain file copy (about a millisecond) gives every test a
    fresh, migrated database. ``make_engine`` turns WAL back on when the copy
    is opened."""
    global _sqlite_template_path
    if _sqlite_template_path is None or not _sqlite_template_path.is_file():
        base = basetemp / "sqlite-template"
        base.mkdir(parents=True, exist_ok=True)
        path = base / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        assert not path.with_name("template.db-wal").exists()
        _sqlite_template_path = path
    return _sqlite_template_path


_undropped: list[str] = []
_dropping: list[threading.Thread] = []
DROP_BATCH = 16


def drop_pg_databases(urls: list[str]) -> None:
    """Drop these databases at once: PostgreSQL 15's DROP DATABASE waits for a forced
    checkpoint (seconds each on a loaded machine), and drops that wait together share it."""
    threads = [threading.Thread(target=drop_pg_database, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def drop_pg_database_later(url: str) -> None:
    """Drop a test database later, with others, in a background thread: no test waits
    for it. ``pytest_sessionfinish`` drops the rest and waits for them all."""
    _undropped.append(url)
    if len(_undropped) >= DROP_BATCH:
        batch = _undropped[:]
        _undropped.clear()
        thread = threading.Thread(target=drop_pg_databases, args=(batch,), daemon=True)
        thread.start()
        _dropping.append(thread)


def finish() -> None:
    """Drop what is left to drop, wait for the batches, then drop the PostgreSQL template."""
    global _template_db
    drop_pg_databases(_undropped)
    _undropped.clear()
    while _dropping:
        _dropping.pop().join()
    if _template_db is not None and PG_URL is not None:
        drop_pg_database(
            make_url(pg_admin_url()).set(database=_template_db).render_as_string(hide_password=False)
        )
        _template_db = None

"""Shared fixtures: a migrated runtime on SQLite and, where configured, on
PostgreSQL (``CLEARINGHOUSE_TEST_POSTGRES_URL``; ``scripts/test`` sets it and
``CLEARINGHOUSE_REQUIRE_POSTGRES=1``, which turns a missing server into a failure)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from clearinghouse.storage import make_engine, migrate

PG_URL = os.environ.get("CLEARINGHOUSE_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("CLEARINGHOUSE_REQUIRE_POSTGRES") == "1"
_template_db: str | None = None
_sqlite_template_path: Path | None = None


def _pg_admin_url() -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _create_pg_database() -> str:
    """A fresh, migrated PostgreSQL database (copied from a migrated template)."""
    global _template_db
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    base = make_url(_pg_admin_url())
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


def _drop_pg_database(url: str) -> None:
    """Drop a test database. An autovacuum worker (a superuser's process, which
    FORCE may not end for us) can hold it for a moment: retry, then leave it."""
    import time
    import warnings

    from sqlalchemy.exc import DBAPIError

    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
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


def _sqlite_template(config: pytest.Config) -> Path:
    """A migrated SQLite database made once per test process (each xdist worker
    makes its own): checkpointed and switched out of WAL, so the one file holds
    everything and a plain file copy (about a millisecond) gives every test a
    fresh, migrated database. ``make_engine`` turns WAL back on when the copy
    is opened."""
    global _sqlite_template_path
    if _sqlite_template_path is None or not _sqlite_template_path.is_file():
        base = config._tmp_path_factory.mktemp("sqlite-template")  # type: ignore[attr-defined]
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "clearinghouse.db"
        shutil.copyfile(_sqlite_template(request.config), path)
        yield f"sqlite:///{path}"
        return
    if PG_URL is None:
        if REQUIRE_PG:
            pytest.fail("CLEARINGHOUSE_REQUIRE_POSTGRES=1 but CLEARINGHOUSE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need CLEARINGHOUSE_TEST_POSTGRES_URL (scripts/test sets it)")
    url = _create_pg_database()
    yield url
    _drop_pg_database(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
            "CLEARINGHOUSE_DATABASE_URL": database_url,
            "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
        }
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


def corpus_root() -> Path:
    """The shared corpus of real public data (``CLEARINGHOUSE_CORPUS``, default ``../shared/corpus``)."""
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    return Path(os.environ.get("CLEARINGHOUSE_CORPUS", default))


@pytest.fixture(scope="session")
def corpus() -> Path:
    root = corpus_root()
    if not (root / "README.md").is_file():
        pytest.skip(f"the shared corpus is not at {root}; set CLEARINGHOUSE_CORPUS to run corpus-scale tests")
    return root


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests ran against PostgreSQL (CI must show they did)."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            when = getattr(report, "when", "call")
            # One count a test: its call, or the setup that skipped or broke it.
            counted = when == "call" or (when == "setup" and outcome != "passed")
            if counted and any(mark in nodeid for mark in ("postgresql", "workers_e2e", "procrastinate")):
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none collected"
    server = make_url(PG_URL).render_as_string(hide_password=True) if PG_URL else "no server configured"
    terminalreporter.write_line(f"PostgreSQL tests ({server}): {summary}")

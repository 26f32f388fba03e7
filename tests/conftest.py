"""Shared fixtures: a migrated runtime on SQLite and, where configured, on
PostgreSQL (``CLEARINGHOUSE_TEST_POSTGRES_URL``; ``scripts/test`` sets it and
``CLEARINGHOUSE_REQUIRE_POSTGRES=1``, which turns a missing server into a failure).

Markers, applied here so that a test file need not say them: ``postgres`` (a
test on the PostgreSQL side of ``database_url``, or one that needs the server),
``corpus`` (needs the shared corpus), ``browser`` (drives chromium), ``slow``
(end-to-end runs, worker processes, corpus-wide checks; see ``SLOW``). The quick
loop is ``uv run pytest -m "not slow and not browser and not corpus" -k sqlite -n 2``.

Hypothesis runs under the ``dev`` profile, or ``ci`` (no deadline, derandomized)
when ``CI`` is set or ``HYPOTHESIS_PROFILE=ci`` (``scripts/test`` sets it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
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


_undropped: list[str] = []
_dropping: list[threading.Thread] = []
DROP_BATCH = 16


def _drop_pg_databases(urls: list[str]) -> None:
    """Drop these databases at once: PostgreSQL 15's DROP DATABASE waits for a forced
    checkpoint (seconds each on a loaded machine), and drops that wait together share it."""
    threads = [threading.Thread(target=_drop_pg_database, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _drop_pg_database_later(url: str) -> None:
    """Drop a test database later, with others, in a background thread: no test waits
    for it. ``pytest_sessionfinish`` drops the rest and waits for them all."""
    _undropped.append(url)
    if len(_undropped) >= DROP_BATCH:
        batch = _undropped[:]
        _undropped.clear()
        thread = threading.Thread(target=_drop_pg_databases, args=(batch,), daemon=True)
        thread.start()
        _dropping.append(thread)


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
    _drop_pg_database_later(url)


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


REQUIRE_CORPUS = os.environ.get("CLEARINGHOUSE_REQUIRE_CORPUS") == "1"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus; a clone without it skips these tests, and
    ``CLEARINGHOUSE_REQUIRE_CORPUS=1`` (``scripts/test`` sets it) makes that a failure."""
    root = corpus_root()
    if not (root / "README.md").is_file():
        message = (
            f"the shared corpus of real public data is not at {root}: "
            "set CLEARINGHOUSE_CORPUS to its folder (default ../shared/corpus next to the repository)"
        )
        if REQUIRE_CORPUS:
            pytest.fail(f"CLEARINGHOUSE_REQUIRE_CORPUS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return root


# -- markers --------------------------------------------------------------------------------------

# Slow tests, by file: every test of the file (None) or the tests named. They stay in
# ``scripts/test``; the quick loop leaves them out.
SLOW: dict[str, frozenset[str] | None] = {
    "test_workers_e2e.py": None,  # `clearinghouse init` and two worker processes on PostgreSQL
    "test_intake_crash.py": None,  # a server process killed mid-batch and restarted
    "test_exports_corpus.py": None,  # every PyPA advisory through every export format
    "test_ranges_corpus.py": None,  # corpus-wide version range cross-check
    "test_queue_speed.py": None,  # a large seeded queue
    "test_api_fuzz.py": None,  # schemathesis over the whole API
    "test_frontier_fuzz.py": None,
    "test_frontier_eval_fuzz.py": None,
    "test_frontier_eval.py": frozenset(  # Inspect evaluations in worker subprocesses
        {
            "test_campaign_runs_reports_progress_and_records_provenance",
            "test_end_to_end_against_a_scripted_endpoint",
            "test_cli_registers_lists_and_reports",
        }
    ),
    "test_frontier_eval_reference.py": None,  # the reference suite run through Inspect
    "test_dedup.py": frozenset(
        {"test_flood_is_deterministic_with_ground_truth", "test_small_flood_precision_and_recall"}
    ),
    "test_exports.py": frozenset({"test_any_record_exports_valid_documents"}),
}
# Tests that need the PostgreSQL server whatever their parameters.
POSTGRES_FIXTURES = frozenset({"pg_home"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if params.get("database_url") == "postgresql" or fixtures & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if "corpus" in fixtures:
            item.add_marker(pytest.mark.corpus)
        module = item.path.name
        if module == "test_web_browser.py":
            item.add_marker(pytest.mark.browser)
        if module in SLOW:
            names = SLOW[module]
            if names is None or getattr(item, "originalname", item.name) in names:
                item.add_marker(pytest.mark.slow)


# -- hypothesis -----------------------------------------------------------------------------------

# CI: no deadline (a loaded machine is not a failing property) and derandomized, so
# that a verdict depends on the code alone and a CI failure replays as it is on any
# machine with HYPOTHESIS_PROFILE=ci; the dev profile keeps random exploration (and
# hypothesis's example database) for the inner loop.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=1000)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Finish the queued drops, then drop this process's PostgreSQL template (each
    xdist worker made its own)."""
    global _template_db
    _drop_pg_databases(_undropped)
    _undropped.clear()
    while _dropping:
        _dropping.pop().join()
    if _template_db is not None and PG_URL is not None:
        _drop_pg_database(
            make_url(_pg_admin_url()).set(database=_template_db).render_as_string(hide_password=False)
        )
        _template_db = None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests ran against PostgreSQL (CI must show they did). The
    ``postgres`` marker travels with each report, so this counts under xdist too."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            when = getattr(report, "when", "call")
            # One count a test: its call, or the setup that skipped or broke it.
            counted = when == "call" or (when == "setup" and outcome != "passed")
            if counted and "postgres" in getattr(report, "keywords", {}):
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none collected"
    server = make_url(PG_URL).render_as_string(hide_password=True) if PG_URL else "no server configured"
    terminalreporter.write_line(f"PostgreSQL tests ({server}): {summary}")

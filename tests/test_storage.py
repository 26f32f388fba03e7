"""Storage: connection settings, timestamps, and migrations that match the models."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from clearinghouse.access import Organization
from clearinghouse.config import NoDataFolder, Settings
from clearinghouse.features import metadata as schema
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, make_engine


def test_sqlite_connection_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x' / 'db.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    engine.dispose()


def test_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema())
    assert diff == []


def test_timestamps_are_utc_and_naive_ones_are_refused(runtime: Runtime) -> None:
    with runtime.uow(Actor.system("test")) as uow:
        org = Organization(
            name="Tz", kind="software_vendor", created_at=dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC)
        )
        uow.session.add(org)
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        loaded = uow.session.get(Organization, org.id)
        assert loaded is not None and loaded.created_at == dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC)
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.add(
            Organization(name="Naive", kind="software_vendor", created_at=dt.datetime(2026, 6, 2))
        )
        with pytest.raises(Exception, match="naive datetimes"):
            uow.flush()


def test_settings_from_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"CLEARINGHOUSE_HOME": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'clearinghouse.db'}"
    assert s.job_backend == "inprocess" and not s.is_postgres
    pg = Settings.from_env(
        {"CLEARINGHOUSE_HOME": str(tmp_path), "CLEARINGHOUSE_DATABASE_URL": "postgresql://u@h/d"}
    )
    assert pg.database_url == "postgresql+psycopg://u@h/d"
    assert pg.job_backend == "procrastinate" and pg.is_postgres
    with pytest.raises(ValueError, match="must be 'inprocess' or 'procrastinate'"):
        Settings.from_env({"CLEARINGHOUSE_HOME": str(tmp_path), "CLEARINGHOUSE_JOB_BACKEND": "celery"})
    with pytest.raises(NoDataFolder, match="CLEARINGHOUSE_HOME"):
        Settings.from_env({}, cwd=tmp_path)
    # init writes clearinghouse.toml; commands in that folder or below find the data folder by it.
    made = Settings.from_env(
        {"CLEARINGHOUSE_PUBLISHER_NAME": "Example CERT"}, cwd=tmp_path, home=tmp_path / "var"
    )
    made.write_config(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)
    found = Settings.from_env({}, cwd=tmp_path / "a" / "b")
    assert found.home == (tmp_path / "var").resolve() and found.config_path == tmp_path / "clearinghouse.toml"
    assert found.publisher.name == "Example CERT"
    assert found.publisher.namespace == "https://clearinghouse.example.gov"
    assert not found.initialised
    with pytest.raises(ValueError, match="publisher category"):
        Settings.from_env({"CLEARINGHOUSE_PUBLISHER_CATEGORY": "nobody"}, cwd=tmp_path)
    with pytest.raises(ValueError, match="namespace must be a URL"):
        Settings.from_env({"CLEARINGHOUSE_PUBLISHER_NAMESPACE": "example"}, cwd=tmp_path)

"""The command line as an operator uses it (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from clearinghouse.cli import app
from clearinghouse.config import Settings

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setenv("COLUMNS", "250")  # Rich tables are not cut short
    return settings


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_every_command_explains_itself() -> None:
    for command in [
        [],
        ["init"],
        ["serve"],
        ["worker"],
        ["org", "add"],
        ["org", "list"],
        ["user", "add"],
        ["token", "create"],
        ["token", "revoke"],
        ["audit", "verify"],
        ["audit", "log"],
    ]:
        out = run(*command, "--help")
        assert "Usage" in out
        assert len(out.splitlines()) > 3


def test_operator_workflow(cli_env: Settings) -> None:
    out = run("init")
    assert "Admin API token" in out
    assert "exists already" in run("init")
    assert "created organization Acme" in run("org", "add", "Acme", "--kind", "software_vendor")
    assert "exists organization Acme" in run("org", "add", "Acme", "--kind", "software_vendor")
    out = run("org", "add", "Acme", "--kind", "ai_developer", code=2)
    assert "already exists" in out
    out = run("user", "add", "alice", "--org", "Acme", "--role", "vendor_contact", "--clearance", "CUI")
    assert "created user alice" in out
    assert "Acme" in run("org", "list")
    assert "alice" in run("user", "list")
    token = json.loads(run("token", "create", "--user", "alice", "--scope", "read", "--json"))
    assert token["secret"].startswith("chs_") and token["scopes"] == ["read"]
    assert token["id"] in run("token", "list", "--user", "alice")
    _lists_in_every_format(token["id"])
    assert "revoked token" in run("token", "revoke", token["id"])
    assert "no user" in run("token", "create", "--user", "nobody", code=2)
    assert "not found" in run("token", "revoke", "nope", code=2)
    assert "ledger OK" in run("audit", "verify")
    assert "checkpoint at event" in run("audit", "checkpoint")
    lines = [json.loads(line) for line in run("audit", "log", "--limit", "3").splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert "0.1.0" in run("version")


def _lists_in_every_format(token_id: str) -> None:
    """org, user, token and jobs list: JSON for scripts (raw values), CSV with a header, and a table
    that, printed to a pipe (CliRunner is not a terminal), keeps every id and date whole."""
    orgs = json.loads(run("org", "list", "--format", "json"))
    acme = next(o for o in orgs if o["name"] == "Acme")
    assert acme["kind"] == "software_vendor" and set(acme) == {"id", "name", "kind"}
    assert acme["id"] in run("org", "list")  # the whole id, on one line
    users = json.loads(run("user", "list", "--format", "json"))
    alice = next(u for u in users if u["username"] == "alice")
    assert alice["roles"] == ["vendor_contact"] and alice["clearance"] == "CUI" and alice["org"] == acme["id"]
    assert alice["id"] in run("user", "list")
    assert run("user", "list", "--format", "csv").splitlines()[0] == "id,username,org,roles,clearance"
    tokens = json.loads(run("token", "list", "--user", "alice", "--format", "json"))
    (listed,) = [t for t in tokens if t["id"] == token_id]
    assert listed["scopes"] == ["read"] and listed["revoked"] is None
    expires = dt.datetime.fromisoformat(listed["expires"])  # raw ISO 8601, with its zone
    assert expires.tzinfo is not None and expires > dt.datetime.now(dt.UTC)
    table = run("token", "list", "--user", "alice", "--format", "table")
    assert token_id in table
    assert listed["expires"] in table and "…" not in table
    from clearinghouse.runtime import Runtime
    from clearinghouse.storage import Actor

    runtime = Runtime.from_env()
    try:
        with runtime.uow(Actor.system("test")) as uow:
            later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            job_id = uow.enqueue("matching.asset", {"asset_id": "none-yet"}, run_after=later)
            uow.commit()
    finally:
        runtime.close()
    jobs = json.loads(run("jobs", "list", "--format", "json"))
    (job,) = [j for j in jobs if j["id"] == job_id]
    assert job["name"] == "matching.asset" and job["attempts"] == 0 and isinstance(job["max_attempts"], int)
    created = dt.datetime.fromisoformat(job["created"])
    assert job_id in run("jobs", "list") and created.isoformat() in run("jobs", "list")
    assert run("jobs", "list", "--format", "csv").splitlines()[0].startswith("id,name,status,attempts")
    assert "xml" in run("org", "list", "--format", "xml", code=2)


def test_audit_verify_fails_naming_the_event(cli_env: Settings) -> None:
    run("init")
    run("org", "add", "Acme", "--kind", "software_vendor")
    from sqlalchemy import create_engine

    engine = create_engine(cli_env.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2"))
    engine.dispose()
    out = run("audit", "verify", code=1)
    assert re.search(r"FAILED.*at event 2", out)


def test_bad_settings_are_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "procrastinate")
    monkeypatch.delenv("CLEARINGHOUSE_DATABASE_URL", raising=False)
    assert "needs a PostgreSQL database" in run("org", "list", code=2)


def test_import_advisories_from_the_command_line(cli_env: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_checks import OSV

    run("init")
    (tmp_path / "adv").mkdir()
    (tmp_path / "adv" / "a.json").write_text(json.dumps(OSV))
    out = run("import", str(tmp_path / "adv"))
    assert "inserted" in out
    (tmp_path / "adv" / "bad.json").write_text('{"id": "X-1", "modified": 5}')
    out = run("import", str(tmp_path / "adv"), code=1)
    assert "bad.json" in out


def test_init_names_the_operating_office(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """init writes who runs the clearinghouse under which section ([operator] in clearinghouse.toml),
    defaults to the Treasury under §2(d) when not asked, and says so; the environment still overrides."""
    import os

    from clearinghouse.config import Settings

    for key in list(os.environ):
        if key.startswith("CLEARINGHOUSE_"):
            monkeypatch.delenv(key)
    for key in ("OFFICE", "SECTION"):
        monkeypatch.delenv(f"CLEARINGHOUSE_OPERATOR_{key}", raising=False)  # init sets them; undone after
    (tmp_path / "default").mkdir()
    monkeypatch.chdir(tmp_path / "default")
    out = run("init", "--no-ask")
    assert "Operated by the Department of the Treasury under EO 14409 §2(d)." in out
    config = (tmp_path / "default" / "clearinghouse.toml").read_text(encoding="utf-8")
    assert "[operator]" in config
    assert 'office = "Department of the Treasury"' in config and 'section = "EO 14409 §2(d)"' in config

    (tmp_path / "named").mkdir()
    monkeypatch.chdir(tmp_path / "named")
    office = "Office of Cybersecurity and Critical Infrastructure Protection"
    out = run("init", "--no-ask", "--office", office)
    assert "Operated by the Office of Cybersecurity and Critical Infrastructure Protection under" in out
    for key in ("OFFICE", "SECTION"):
        monkeypatch.delenv(f"CLEARINGHOUSE_OPERATOR_{key}", raising=False)
    settings = Settings.from_env()  # read back from the file alone
    assert settings.operator_office == "Office of Cybersecurity and Critical Infrastructure Protection"
    assert settings.operator_section == "EO 14409 §2(d)"
    monkeypatch.setenv("CLEARINGHOUSE_OPERATOR_SECTION", "EO 14409 §3(b)")
    assert Settings.from_env().identity.sentence == (
        "Operated by the Office of Cybersecurity and Critical Infrastructure Protection under EO 14409 §3(b)."
    )

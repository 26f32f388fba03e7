"""The command line as an operator uses it (SQLite and PostgreSQL)."""

from __future__ import annotations

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
    assert "revoked token" in run("token", "revoke", token["id"])
    assert "no user" in run("token", "create", "--user", "nobody", code=2)
    assert "not found" in run("token", "revoke", "nope", code=2)
    assert "ledger OK" in run("audit", "verify")
    assert "checkpoint at event" in run("audit", "checkpoint")
    lines = [json.loads(line) for line in run("audit", "log", "--limit", "3").splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert "0.1.0" in run("version")


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

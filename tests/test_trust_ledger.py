"""Issue 14, defect 8: a witness of the signed head finds a rolled-back tail,
and audited rows without an event are reported."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from clearinghouse.config import Settings
from tests.test_cli import cli_env, run

__all__ = ["cli_env"]


def _sql(settings: Settings, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_rolled_back_tail_fails_against_the_witness(cli_env: Settings, tmp_path: Path) -> None:
    run("init")
    run("org", "add", "Acme", "--kind", "software_vendor")
    # An "older backup": the signed head as it stood then.
    old_head = _sql(cli_env, "SELECT seq, hash, key_id, signature FROM ledger_head")[0]
    run("org", "add", "Globex", "--kind", "software_vendor")
    run("user", "add", "alice", "--org", "Globex", "--role", "vendor_contact")
    witness_file = tmp_path / "witness.json"
    assert "witness of the signed head" in run("audit", "checkpoint", "--out", str(witness_file))
    document = json.loads(witness_file.read_text())
    assert {"seq", "hash", "signature", "key_id"} <= set(document) and document["seq"] > old_head[0]
    assert "extends the witnessed head" in run("audit", "verify", "--witness", str(witness_file))

    # Roll the tail back: the newest events go, the older signed head comes back, and the
    # rows of the rolled-back work go too (as a restore of the older backup would leave it).
    _sql(cli_env, "DELETE FROM audit_events WHERE seq > :seq", seq=old_head[0])
    _sql(cli_env, "DELETE FROM ledger_checkpoints WHERE seq > :seq", seq=old_head[0])
    _sql(cli_env, "DELETE FROM users WHERE username = 'alice'")
    _sql(cli_env, "DELETE FROM organizations WHERE name = 'Globex'")
    _sql(
        cli_env,
        "UPDATE ledger_head SET seq = :seq, hash = :hash, key_id = :key_id, signature = :signature",
        seq=old_head[0],
        hash=old_head[1],
        key_id=old_head[2],
        signature=old_head[3],
    )
    assert "ledger OK" in run("audit", "verify")  # the chain alone cannot tell
    out = run("audit", "verify", "--witness", str(witness_file), code=1)
    assert "rolled back" in out

    # New work after the restore reaches the witnessed sequence number with other events.
    for name in ("Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"):
        run("org", "add", name, "--kind", "software_vendor")
    out = run("audit", "verify", "--witness", str(witness_file), code=1)
    assert "no longer extends the witnessed head" in out

    # A forged or malformed witness is not accepted either.
    forged = dict(document, hash="0" * 64)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert "does not verify" in run("audit", "verify", "--witness", str(tmp_path / "forged.json"), code=1)
    (tmp_path / "junk.json").write_text("[1]")
    assert "not a witness file" in run("audit", "verify", "--witness", str(tmp_path / "junk.json"), code=2)


def test_audited_rows_without_an_event_are_reported(cli_env: Settings) -> None:
    run("init")
    run("org", "add", "Acme", "--kind", "software_vendor")
    assert "ledger OK" in run("audit", "verify")
    _sql(
        cli_env,
        "INSERT INTO organizations (id, name, kind, created_at) "
        "VALUES ('11111111-1111-1111-1111-111111111111', 'Sneaky', 'software_vendor', CURRENT_TIMESTAMP)",
    )
    out = run("audit", "verify", code=1)
    assert "unrecorded" in out and "11111111-1111-1111-1111-111111111111" in out

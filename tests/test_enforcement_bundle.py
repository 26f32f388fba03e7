"""Evidence bundles without a database: what verification refuses, one problem at a time."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearinghouse.enforcement._bundle import BundleFile, build_bundle, format_time, verify_bundle
from clearinghouse.ledger import SigningKey, event_hash

KEY = SigningKey(Ed25519PrivateKey.generate())
WHEN = dt.datetime(2026, 6, 20, 9, 0, tzinfo=dt.UTC)
CONTENT = b"seized agent transcript\n" * 10


def event(seq: int, action: str, evidence_id: str, **detail: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "seq": seq,
        "occurred_at": format_time(WHEN),
        "actor": "user:u1",
        "action": action,
        "object_type": "evidence",
        "object_id": evidence_id,
        "state_digest": None,
        "detail": detail,
        "prev_hash": "0" * 64,
    }
    body["hash"] = event_hash(
        seq=seq,
        occurred_at=WHEN,
        actor="user:u1",
        action=action,
        object_type="evidence",
        object_id=evidence_id,
        state_digest=None,
        detail=detail,
        prev_hash="0" * 64,
    )
    return body


def bundle(custody: list[dict[str, Any]] | None = None, content: bytes = CONTENT) -> bytes:
    digest = hashlib.sha256(CONTENT).hexdigest()
    return build_bundle(
        incident={"id": "inc-1", "title": "t"},
        files=[BundleFile("ev-1", "log/../x.txt", "text/plain", WHEN, content)],
        custody=custody if custody is not None else [event(3, "evidence.received", "ev-1", sha256=digest)],
        export={"bundle_id": "b1", "by": "user:u1", "reason": "court"},
        ledger_head=None,
        signing_key=KEY,
    )


def repack(data: bytes, change: Callable[[dict[str, bytes]], object]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def resign(members: dict[str, bytes], edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the manifest and sign it again with the same key (a forger holding the key)."""
    from clearinghouse.enforcement._bundle import _manifest_message

    manifest = json.loads(members["manifest.json"])
    edit(manifest)
    manifest["signature"] = KEY.sign(_manifest_message(manifest))
    members["manifest.json"] = json.dumps(manifest).encode()


def problems(data: bytes) -> list[str]:
    report = verify_bundle(data, {KEY.key_id})
    assert not report.ok
    return report.problems


def test_a_good_bundle_verifies_and_names_its_signer() -> None:
    report = verify_bundle(bundle(), {KEY.key_id})
    assert report.ok and report.key_trusted and report.files == 1 and report.events == 1
    assert report.incident_id == "inc-1" and report.as_dict()["ok"]
    unchecked = verify_bundle(bundle())
    assert unchecked.ok and unchecked.key_trusted is None
    with zipfile.ZipFile(io.BytesIO(bundle())) as zf:
        assert "evidence/ev-1/log_.._x.txt" in zf.namelist()


def test_what_verification_refuses() -> None:
    good = bundle()
    path = "evidence/ev-1/log_.._x.txt"
    assert any("missing from the archive" in p for p in problems(repack(good, lambda m: m.pop(path))))
    assert any(
        "not in the manifest" in p for p in problems(repack(good, lambda m: m.update({"extra": b"x"})))
    )
    assert any(
        "custody.jsonl is missing" in p for p in problems(repack(good, lambda m: m.pop("custody.jsonl")))
    )
    assert any("manifest" in p for p in problems(repack(good, lambda m: m.update({"manifest.json": b"{}"}))))
    assert any("manifest" in p for p in problems(repack(good, lambda m: m.update({"manifest.json": b"[1"}))))
    assert any(
        "malformed" in p for p in problems(repack(good, lambda m: resign(m, lambda d: d.pop("signing_key"))))
    )
    # Hostile shapes are problems, never crashes.
    odd = problems(
        repack(good, lambda m: resign(m, lambda d: d.update(files=[1], custody_log="x", incident=[])))
    )
    assert any("files is not a list" in p for p in odd)
    # The custody log: a line that is not an event, or an event whose content does not match its hash.
    assert any("not a ledger event" in p for p in problems(bundle(custody=[{"seq": "x"}])))
    tampered = event(3, "evidence.received", "ev-1", sha256=hashlib.sha256(CONTENT).hexdigest())
    tampered["actor"] = "user:someone-else"
    assert any("ledger hash" in p for p in problems(bundle(custody=[tampered])))
    # No receipt for the file, or a receipt for other bytes.
    assert any("no receipt" in p for p in problems(bundle(custody=[event(3, "evidence.accessed", "ev-1")])))
    other = event(3, "evidence.received", "ev-1", sha256="0" * 64)
    assert any("recorded on receipt" in p for p in problems(bundle(custody=[other])))
    # Events out of ledger order.
    digest = hashlib.sha256(CONTENT).hexdigest()
    swapped = [event(9, "evidence.received", "ev-1", sha256=digest), event(4, "evidence.accessed", "ev-1")]
    assert any("ledger order" in p for p in problems(bundle(custody=swapped)))
    # An event dropped from the log, with the log's hash made to match: the count and signature disagree.
    two = bundle(
        custody=[event(3, "evidence.received", "ev-1", sha256=digest), event(4, "evidence.exported", "ev-1")]
    )

    def drop_last(members: dict[str, bytes]) -> None:
        members["custody.jsonl"] = members["custody.jsonl"].splitlines(keepends=True)[0]

    dropped = problems(repack(two, drop_last))
    assert any("SHA-256 differs" in p for p in dropped)

    def drop_and_resign(members: dict[str, bytes]) -> None:
        drop_last(members)
        new_hash = hashlib.sha256(members["custody.jsonl"]).hexdigest()
        resign(members, lambda d: d["custody_log"].update(sha256=new_hash))

    assert any("different number of events" in p for p in problems(repack(two, drop_and_resign)))


def test_oversized_archives_are_refused_before_unpacking(monkeypatch: Any) -> None:
    import pytest

    from clearinghouse.enforcement import _bundle

    monkeypatch.setattr(_bundle, "MAX_UNPACKED_BYTES", 10)
    with pytest.raises(_bundle.BundleRefused, match="expands to at most"):
        problems(bundle())

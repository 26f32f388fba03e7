"""Operating the service: JSON logs, background verification of the ledger, job records."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clearinghouse.api.app import create_app
from clearinghouse.ledger import AuditEvent
from clearinghouse.observability import configure_logging
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user


def test_logs_are_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    try:
        logging.getLogger("clearinghouse.test").info("hello", extra={"request_id": "abc", "status": 200})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("clearinghouse.test").exception("failed")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"] == "hello" and lines[0]["request_id"] == "abc" and lines[0]["status"] == 200
    assert lines[0]["level"] == "info" and lines[0]["logger"] == "clearinghouse.test"
    assert "ValueError: boom" in lines[1]["exception"]


def test_background_verification_records_its_outcome(runtime: Runtime) -> None:
    org = make_org(runtime, "Auditors", "government_agency")
    make_user(runtime, "aud", org, ["auditor"])
    make_user(runtime, "vendor", make_org(runtime, "Vendor"), ["vendor_contact"])
    auditor = {"Authorization": f"Bearer {make_token(runtime, 'aud', ['read', 'write'])}"}
    vendor = {"Authorization": f"Bearer {make_token(runtime, 'vendor')}"}
    with TestClient(create_app(runtime)) as client:
        queued = client.post("/api/v1/audit/verifications", headers=auditor)
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        assert client.post("/api/v1/audit/verifications", headers=vendor).status_code == 403
        assert runtime.jobs.run_pending() == 1
        job = client.get(f"/api/v1/jobs/{queued.json()['id']}", headers=auditor).json()
        assert job["status"] == "succeeded" and job["history"][0]["outcome"] == "succeeded"
        assert [j["id"] for j in client.get("/api/v1/jobs?name=ledger.verify", headers=auditor).json()] == [
            queued.json()["id"]
        ]
        assert client.get("/api/v1/jobs", headers=vendor).status_code == 403
        assert client.get("/api/v1/jobs/nope", headers=auditor).status_code == 404
    with runtime.uow(Actor.system("test"), write=False) as uow:
        verified = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verified")).one()
    assert verified.detail["ok"] is True and verified.detail["first_bad_event"] is None
    assert verified.object_id == queued.json()["id"]

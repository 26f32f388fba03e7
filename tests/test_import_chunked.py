"""Issue 14, defect 5: a large document import is chunked, retried when the database is busy,
reports per item, and never answers 500 with partial state; sending it again is safe."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from clearinghouse.api.app import create_app
from clearinghouse.intake import services
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user
from tests.test_submit import SARIF

RESULTS = 2_400


def big_sarif(n: int = RESULTS) -> dict[str, Any]:
    doc = copy.deepcopy(SARIF)
    template = doc["runs"][0]["results"][0]
    results = []
    for i in range(n):
        r = copy.deepcopy(template)
        r["message"] = {"text": f"This SQL query depends on a user-provided value (sink {i})."}
        r["locations"][0]["physicalLocation"]["region"]["startLine"] = i + 1
        r["partialFingerprints"] = {"primaryLocationLineHash": f"h{i}:1"}
        results.append(r)
    doc["runs"][0]["results"] = results
    return doc


@pytest.fixture
def scanner(runtime: Runtime) -> dict[str, str]:
    make_user(runtime, "scanner", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    return {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"}


URL = "/api/v1/findings:import?filename=big.sarif&package=pkg:pypi/example-app@1.0.0"


def _locked() -> OperationalError:
    return OperationalError("INSERT INTO findings", {}, Exception("database is locked"))


def test_a_busy_database_mid_import_is_reported_per_item_and_a_retry_completes_it(
    runtime: Runtime, scanner: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps(big_sarif())
    real = services._store_chunk_once
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> services.IntakeReport:
        calls["n"] += 1
        if calls["n"] >= 3:  # the third chunk on: the database stays locked
            raise _locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_store_chunk_once", flaky)
    monkeypatch.setattr(services, "BUSY_BACKOFF_SECONDS", 0.0)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        r = client.post(URL, content=body, headers=scanner)
        assert r.status_code == 200, r.text
        report = r.json()
        stored = {item["index"] for item in report["items"]}
        refused = {p["index"] for p in report["problems"]}
        assert report["received"] == RESULTS and report["created"] == len(stored) == 2 * services.CHUNK_SIZE
        assert stored | refused == set(range(RESULTS)) and not stored & refused
        assert all("not stored" in p["detail"] and "again" in p["detail"] for p in report["problems"])
        # What the answer calls stored is exactly what is stored.
        listed = client.get("/api/v1/findings?limit=500", headers=scanner).json()
        assert len(listed) == 500 and {f["id"] for f in listed} <= {i["id"] for i in report["items"]}

        monkeypatch.setattr(services, "_store_chunk_once", real)
        again = client.post(URL, content=body, headers=scanner).json()
        assert (again["created"], again["existing"], again["rejected"]) == (len(refused), len(stored), 0)
        ids = {i["index"]: i["id"] for i in again["items"]}
        assert all(ids[i["index"]] == i["id"] for i in report["items"])  # same findings, not copies
        assert all(f["case_id"] is not None or f["state"] == "checked" for f in listed)


def test_a_transient_lock_is_retried(
    runtime: Runtime, scanner: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services._store_chunk_once
    calls = {"n": 0}

    def once_locked(*args: Any, **kwargs: Any) -> services.IntakeReport:
        calls["n"] += 1
        if calls["n"] == 2:
            raise _locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_store_chunk_once", once_locked)
    monkeypatch.setattr(services, "BUSY_BACKOFF_SECONDS", 0.0)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        r = client.post(URL, content=json.dumps(big_sarif(1_200)), headers=scanner)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["rejected"]) == (1_200, 0)

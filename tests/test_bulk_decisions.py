"""Analysts confirm or split many proposed matches at once, each item answered with its reasons."""

from __future__ import annotations

from typing import Any

from tests.test_cases import env, overflow, run_jobs  # noqa: F401  (the fixture)


def test_bulk_confirm_and_split_report_per_item(env: dict[str, Any]) -> None:  # noqa: F811
    client, runtime = env["client"], env["runtime"]
    first = client.post("/api/v1/findings", json=overflow(), headers=env["alice"]).json()
    variant = overflow(
        title="Out-of-bounds write in parse_header through an oversized Set-Cookie attribute list",
        description="When more than 64 attributes follow a Set-Cookie value, parse_header writes past "
        "the end of its attribute table.",
        package={"purl": "pkg:pypi/fastparse@2.5.0"},
        cwe=["CWE-787"],
        generator={"tool": "other-tool"},
    )
    second = client.post("/api/v1/findings", json=variant, headers=env["bob"]).json()
    merged = client.post(
        "/api/v1/findings",
        json=overflow(
            title="Heap overflow in parse_header with long cookie values", generator={"tool": "t3"}
        ),
        headers=env["bob"],
    ).json()
    run_jobs(runtime)
    proposals = client.get("/api/v1/proposals", headers=env["ana"]).json()
    assert [p["finding_id"] for p in proposals] == [second["id"]]
    assert proposals[0]["reasons"] and proposals[0]["case_id"] == first["id"]
    assert client.get("/api/v1/proposals", headers=env["bob"]).json() == []  # no triage right

    body = {
        "items": [
            {"finding_id": second["id"], "decision": "confirm"},
            {"finding_id": merged["id"], "decision": "split"},
            {"finding_id": "no-such-finding", "decision": "confirm"},
            {"finding_id": first["id"], "decision": "split"},
        ]
    }
    r = client.post("/api/v1/proposals:decide", json=body, headers=env["ana"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["decided"], out["refused"]) == (2, 2)
    items = out["items"]
    assert [i["index"] for i in items] == [0, 1, 2, 3]
    assert items[0]["ok"] and items[0]["case_id"] == first["id"] and items[0]["reasons"]
    assert items[1]["ok"] and items[1]["case_id"] == merged["id"]
    assert not items[2]["ok"] and items[2]["pointer"] == "/items/2/finding_id"
    assert not items[3]["ok"] and items[3]["detail"]
    assert client.get(f"/api/v1/findings/{second['id']}", headers=env["ana"]).json()["case_id"] == first["id"]
    assert client.get("/api/v1/proposals", headers=env["ana"]).json() == []
    # A finder may not decide: every item is refused, nothing changes.
    refused = client.post("/api/v1/proposals:decide", json=body, headers=env["bob"]).json()
    assert refused["decided"] == 0
    bad = client.post("/api/v1/proposals:decide", json={"items": []}, headers=env["ana"])
    assert bad.status_code == 422

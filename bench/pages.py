"""Console page render time with 10,000 cases in the database.

    uv run python bench/pages.py [--cases 10000] [--rounds 20] [--database-url URL]

Fills a fresh database (SQLite in a temporary folder by default) with the given
number of cases, each led by one finding (a tenth of them with a second,
merged finding), spread over 40 finder pipelines, then times every main page
through the whole application in process (session cookie, policy, queries,
templates), signed in as a coordinator and as a finder whose organization
submitted 2% of the findings. The floor is ``GET /api/v1/health`` measured the
same way: the cost of the framework and one query. Prints the median and 95th
percentile per page in milliseconds and the ratio of the median to the floor's;
the target is under 300 ms per page. No assertion: a figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import re
import statistics
import tempfile
import time
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from clearinghouse.access import services as access
from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.intake.models import Finding
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, new_id, utcnow
from clearinghouse.triage.models import Case, FindingRelation, PipelineReputation

PASSWORD = "bench password 123"
CWES = ["CWE-79", "CWE-89", "CWE-22", "CWE-78", "CWE-787", "CWE-416", "CWE-502", "CWE-918"]
ECOSYSTEMS = ["pypi", "npm", "maven", "golang", "cargo", "gem", "nuget"]


def _user(runtime: Runtime, username: str, org: str, kind: str, roles: list[str]) -> str:
    with runtime.uow(Actor.system("bench")) as uow:
        found = access.find_organization(uow.session, org)
        org_id = found.id if found else access.create_organization(uow, access.OPERATOR, org, kind)[0].id
        access.create_user(
            uow,
            access.OPERATOR,
            access.NewUser(username=username, org=org_id, roles=roles, clearance="SECRET", password=PASSWORD),
        )
        uow.commit()
    return org_id


def seed(runtime: Runtime, cases: int) -> dict[str, str]:
    house = _user(runtime, "coord", "Clearinghouse", "government_agency", ["coordinator"])
    finder_org = _user(runtime, "finder", "Lab A", "ai_developer", ["partner"])
    other_org = _user(runtime, "other", "Lab B", "security_researcher", ["partner"])
    start = utcnow() - dt.timedelta(days=30)
    findings: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    for i in range(cases):
        org = finder_org if i % 50 == 0 else other_org
        eco = ECOSYSTEMS[i % len(ECOSYSTEMS)]
        cwe = [CWES[i % len(CWES)]]
        pipeline = f"scanner-{i % 40}|model-{i % 7}|lab"
        fid = new_id()
        when = start + dt.timedelta(seconds=i * 60)
        purl = f"pkg:{eco}/package-{i}@1.{i % 10}.0"
        marking = {
            "tlp": "AMBER+STRICT",
            "classification": "UNCLASSIFIED",
            "compartments": [],
            "owner_org_id": org,
            "sharing_group_ids": [],
        }
        doc = {
            "title": f"Finding {i}",
            "package": {"purl": purl},
            "cwe": cwe,
            "impact": {
                "claimed": "code_execution",
                "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            },
            "reproducer": {"steps": ["run the exploit"]},
            "generator": {"tool": f"scanner-{i % 40}"},
        }
        state = ("checked", "triaged", "validated", "rejected")[i % 4]
        findings.append(
            {
                "id": fid,
                "submitter_org_id": org,
                "idempotency_key": fid,
                "content_hash": fid.replace("-", "")[:64],
                "state": state,
                "queue": "main",
                "title": f"Injection number {i} in {eco} package {i}",
                "description": "A long enough description of the weakness and its reach.",
                "purl": purl,
                "package_type": eco,
                "package_name": f"package-{i}",
                "version": f"1.{i % 10}.0",
                "cwe": cwe,
                "generator_key": pipeline,
                "case_id": fid,
                "source_format": "native",
                "document": doc,
                "checks": [{"name": "schema_valid", "result": "pass", "reason": "valid"}],
                "received_at": when,
                "updated_at": when,
                **marking,
            }
        )
        members = 1
        if i % 10 == 0:
            dup = new_id()
            findings.append(
                {**findings[-1], "id": dup, "idempotency_key": dup, "case_id": fid, "state": "rejected"}
            )
            relations.append(
                {
                    "id": new_id(),
                    "finding_id": dup,
                    "target_finding_id": fid,
                    "case_id": fid,
                    "relation": "duplicate_of",
                    "confidence": 0.97,
                    "status": "merged",
                    "reasons": ["text=0.97"],
                    "decided_by": "dedup",
                    "created_at": when,
                    "updated_at": when,
                }
            )
            members = 2
        case_rows.append(
            {
                "id": fid,
                "title": f"Injection number {i} in {eco} package {i}",
                "purl": purl,
                "cwe": cwe,
                "member_count": members,
                "first_reporter_finding_id": fid,
                "first_reporter_org_id": org,
                "created_at": when,
                "updated_at": when,
                **marking,
            }
        )
    reputations = [
        {
            "generator_key": f"scanner-{p}|model-{p % 7}|lab",
            "validated": 30 + p,
            "rejected": 10,
            "received": 200,
        }
        for p in range(40)
    ]
    with runtime.uow(Actor.system("bench")) as uow:
        for table, rows in ((Finding, findings), (Case, case_rows), (FindingRelation, relations)):
            for at in range(0, len(rows), 2000):
                uow.session.execute(insert(table), rows[at : at + 2000])
        uow.session.execute(insert(PipelineReputation), reputations)
        uow.commit()
    return {"house": house, "case": case_rows[len(case_rows) // 2]["id"], "finding": findings[5]["id"]}


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    form = client.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]*)"', form)
    assert token is not None
    done = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client


def timed(client: TestClient, path: str, rounds: int) -> list[float]:
    client.get(path)  # warm caches and templates
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLEARINGHOUSE_HOME": tmp, "CLEARINGHOUSE_JOB_BACKEND": "inprocess"}
        if args.database_url:
            env["CLEARINGHOUSE_DATABASE_URL"] = args.database_url
        runtime = Runtime(Settings.from_env(env))
        runtime.migrate()
        with runtime.uow(Actor.system("bench")) as uow:
            access.bootstrap_admin(uow)
            uow.commit()
        began = time.perf_counter()
        ids = seed(runtime, args.cases)
        console.print(
            f"seeded {args.cases:,} cases in {time.perf_counter() - began:.1f} s "
            f"({runtime.engine.dialect.name})"
        )
        app = create_app(runtime)
        gc.freeze()  # as `clearinghouse serve` does once the app is built
        floor = statistics.median(timed(TestClient(app), "/api/v1/health", args.rounds))
        pages = [
            ("coord", "/"),
            ("coord", "/findings"),
            ("coord", "/findings?ecosystem=npm&cwe=CWE-89"),
            ("coord", f"/findings/{ids['finding']}"),
            ("coord", "/cases"),
            ("coord", f"/cases/{ids['case']}"),
            ("coord", "/campaigns"),
            ("coord", "/pipelines"),
            ("coord", "/assets"),
            ("coord", "/queue"),
            ("coord API", "/api/v1/queue"),
            ("coord", "/bod-26-04"),
            ("coord", "/threads"),
            ("coord", "/review"),
            ("finder", "/findings"),
            ("finder", "/cases"),
            (None, "/transparency"),
        ]
        with runtime.uow(Actor.system("bench")) as uow:
            token = access.issue_token(uow, access.OPERATOR, "coord").secret
            uow.commit()
        clients = {
            "coord": signed_in(app, "coord"),
            "finder": signed_in(app, "finder"),
            # The same service through the API, to tell the page's cost from the service's.
            "coord API": TestClient(app, headers={"Authorization": f"Bearer {token}"}),
            None: TestClient(app),
        }
        table = Table("viewer", "page", "median ms", "p95 ms", "x floor", "< 300 ms")
        for who, path in pages:
            samples = sorted(timed(clients[who], path, args.rounds))
            median = statistics.median(samples)
            p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
            table.add_row(
                who or "public",
                path,
                f"{median:.1f}",
                f"{p95:.1f}",
                f"{median / floor:.1f}",
                "yes" if p95 < 300 else "NO",
            )
        console.print(table)
        console.print(f"floor GET /api/v1/health: median {floor:.2f} ms")
        runtime.close()


if __name__ == "__main__":
    main()

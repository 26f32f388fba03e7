"""Listing findings reads batches sized to the page, yet gives exactly what reading every
finding through the policy and the filters gives: same items, same order, same pages."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import event, insert, select

from clearinghouse.access import Action, Subject, can
from clearinghouse.intake.models import Finding
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, new_id
from clearinghouse.triage.services import FindingFilter, finding_resource, list_findings
from tests.support.factories import make_org, make_user, subject_of
from tests.test_matches import _user_id

CWES = ["CWE-79", "CWE-89", "CWE-22"]


def seed(runtime: Runtime, owners: list[str], n: int, rng: random.Random) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        fid = new_id()
        owner = owners[0] if rng.random() < 0.05 else rng.choice(owners[1:])
        rows.append(
            {
                "id": fid,
                "submitter_org_id": owner,
                "idempotency_key": fid,
                "content_hash": fid.replace("-", ""),
                "state": rng.choice(["checked", "triaged", "validated", "rejected"]),
                "queue": "main",
                "title": f"Finding {i}",
                "description": "A long enough description of the weakness.",
                "purl": "pkg:pypi/p@1.0",
                "package_type": rng.choice(["pypi", "npm"]),
                "package_name": "p",
                "version": "1.0",
                "cwe": rng.sample(CWES, rng.randint(0, 2)),
                "generator_key": "scanner|model|lab",
                "case_id": None,
                "source_format": "native",
                "document": {"title": f"Finding {i}"},
                "checks": [],
                # Many findings share a moment: the order then falls back on the id.
                "received_at": start + dt.timedelta(seconds=i // 3),
                "updated_at": start,
                "tlp": "AMBER+STRICT",
                "classification": "UNCLASSIFIED",
                "compartments": [],
                "owner_org_id": owner,
                "sharing_group_ids": [],
            }
        )
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.execute(insert(Finding), rows)
        uow.commit()


def reference(runtime: Runtime, subject: Subject, filters: FindingFilter) -> list[str]:
    """Every finding the subject may read that the filters keep, newest first: read them all."""
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = list(
            uow.session.scalars(select(Finding).order_by(Finding.received_at.desc(), Finding.id.desc()))
        )
        out = [
            f
            for f in rows
            if can(subject, Action.READ, finding_resource(f))
            and (filters.state is None or f.state == filters.state)
            and (filters.package_type is None or f.package_type == filters.package_type)
            and (filters.cwe is None or filters.cwe.upper() in f.cwe)
        ]
        return [f.id for f in out]


def test_pages_are_those_of_a_full_read(runtime: Runtime) -> None:
    rng = random.Random(26)
    few = make_org(runtime, "Small Lab", "ai_developer")
    many = make_org(runtime, "Big Lab", "ai_developer")
    other = make_org(runtime, "Other Lab", "security_researcher")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "small", few, ["partner"])
    make_user(runtime, "big", many, ["partner"])
    make_user(runtime, "ana", house, ["analyst"])
    seed(runtime, [few, many, other], 600, rng)
    filters = [
        FindingFilter(),
        FindingFilter(cwe="cwe-89"),
        FindingFilter(state="validated", package_type="npm"),
        FindingFilter(state="no such state"),
    ]
    for username in ("ana", "big", "small"):
        subject = subject_of(runtime, _user_id(runtime, username))
        for chosen in filters:
            everything = reference(runtime, subject, chosen)
            for limit in (1, 7, 50):
                after: str | None = None
                seen: list[str] = []
                while True:
                    rest = everything[everything.index(after) + 1 :] if after else everything
                    expected = rest[:limit]
                    with runtime.uow(Actor.system("test"), write=False) as uow:
                        got = [
                            f.id
                            for f in list_findings(uow.session, subject, chosen, limit=limit, after=after)
                        ]
                    assert got == expected, (username, chosen, limit, after)
                    seen.extend(got)
                    if len(got) < limit or len(seen) > 120:
                        break
                    after = got[-1]
                assert len(seen) == len(set(seen))


def test_a_page_reads_about_what_it_shows(runtime: Runtime) -> None:
    lab = make_org(runtime, "Lab", "ai_developer")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "ana", house, ["analyst"])
    seed(runtime, [lab, lab], 1200, random.Random(1))
    ana = subject_of(runtime, _user_id(runtime, "ana"))
    statements: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", before)
    try:
        with runtime.uow(Actor.system("test"), write=False) as uow:
            page = list_findings(uow.session, ana, FindingFilter(), limit=50)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", before)
    assert len(page) == 50
    # Everything is readable: one light batch of the page's size, then the page's findings.
    scans = [(s, p) for s, p in statements if "LIMIT" in s.upper() and "findings" in s]
    assert len(scans) == 1
    params = scans[0][1]
    assert 50 in (params.values() if isinstance(params, dict) else params)

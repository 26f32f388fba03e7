"""What coordination reads from prioritization and matching: a case's stored
scores, its facts (KEV entry, SSVC decisions) and its stored matches, as plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clearinghouse.access import Subject
from clearinghouse.domain import Severity
from clearinghouse.matching import matches_for_case
from clearinghouse.priority import case_facts, case_scores

_OSV_TYPE = {"2.0": "CVSS_V2", "3.0": "CVSS_V3", "3.1": "CVSS_V3", "4.0": "CVSS_V4"}
# The SSVC table whose outcome (act, attend, track*, track) users filter notifications by.
SSVC_TABLE = "cisa_coordinator"


@dataclass(frozen=True)
class CaseFacts:
    kev_added: dt.datetime | None = None
    ssvc: str | None = None


@dataclass(frozen=True)
class MatchedProduct:
    vendor_org_id: str
    purl: str | None
    name: str
    version: str | None


def stored_severities(session: Session, subject: Subject, case_id: str) -> list[Severity]:
    """The case's stored CVSS scores, highest first, as OSV severities."""
    return [
        Severity(
            type=_OSV_TYPE.get(score.version, "CVSS_V3"),
            vector=score.vector,
            base_score=score.base_score,
            source=score.source,
        )
        for score in case_scores(session, subject, case_id)
    ]


def facts(session: Session, subject: Subject, case_id: str) -> CaseFacts:
    found = case_facts(session, subject, case_id)
    added = None
    if found.kev is not None:
        try:
            day = dt.date.fromisoformat(found.kev.date_added[:10])
            added = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        except ValueError:
            added = None
    decision = found.decisions.get(SSVC_TABLE)
    return CaseFacts(kev_added=added, ssvc=decision.outcome if decision is not None else None)


def matched_products(session: Session, subject: Subject, case_id: str) -> list[MatchedProduct]:
    return [
        MatchedProduct(
            vendor_org_id=m.owner_org_id,
            purl=m.component_purl,
            name=m.component_name,
            version=m.component_version,
        )
        for m in matches_for_case(session, subject, case_id)
    ]

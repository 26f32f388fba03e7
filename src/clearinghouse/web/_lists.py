"""Rows people can work from: each case with its state, severity, KEV flag and due date (for the
case list and the summary block at the top of the case page), read in bulk for a page of cases.
Only cases the viewer may read reach here (``triage.list_cases`` / ``get_case`` decided)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import Subject

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}


@dataclass
class CaseRow:
    case: Any
    state: str  # new | validated | coordinating | published
    severity: str | None
    cvss: float | None
    kev: bool
    kev_cves: list[str]
    due: dt.datetime | None
    due_what: str
    aliases: list[str]
    matched_assets: int

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity or "", -1)


def case_rows(session: Session, subject: Subject, cases: Sequence[Any], now: dt.datetime) -> list[CaseRow]:
    from clearinghouse.coordination import deadline_of
    from clearinghouse.coordination.models import CaseAlias, CaseCoordination
    from clearinghouse.intake.models import Finding, FindingState
    from clearinghouse.matching.models import CaseMatch
    from clearinghouse.priority import enrich_many
    from clearinghouse.priority.models import CaseScore

    ids = [c.id for c in cases]
    if not ids:
        return []
    validated = set(
        session.scalars(
            select(Finding.case_id).where(Finding.case_id.in_(ids), Finding.state == FindingState.VALIDATED)
        )
    )
    coordination = {
        r.id: r for r in session.scalars(select(CaseCoordination).where(CaseCoordination.id.in_(ids)))
    }
    aliases: dict[str, list[str]] = {i: [] for i in ids}
    for alias in session.scalars(select(CaseAlias).where(CaseAlias.case_id.in_(ids))):
        aliases[alias.case_id].append(alias.id)
    best: dict[str, Any] = {}
    for stored in session.scalars(select(CaseScore).where(CaseScore.case_id.in_(ids))):
        if stored.case_id not in best or stored.base_score > best[stored.case_id].base_score:
            best[stored.case_id] = stored
    matched = dict(
        session.execute(
            select(CaseMatch.case_id, func.count(func.distinct(CaseMatch.asset_id)))
            .where(CaseMatch.case_id.in_(ids))
            .group_by(CaseMatch.case_id)
        ).all()
    )
    found_aliases = {case_id: sorted(names) for case_id, names in aliases.items()}
    enrichment = enrich_many(session, found_aliases)
    out: list[CaseRow] = []
    for case in cases:
        row = coordination.get(case.id)
        if row is not None and row.state == "published":
            state = "published"
        elif row is not None:
            state = "coordinating"
        elif case.id in validated:
            state = "validated"
        else:
            state = "new"
        due, what = None, ""
        if row is not None and row.state != "published":
            candidates = [
                (d, w)
                for d, w in (
                    (deadline_of(session, subject, row), "disclosure"),
                    (row.embargo_end, "embargo end"),
                )
                if d
            ]
            if candidates:
                due, what = min(candidates, key=lambda c: c[0])
        score: Any = best.get(case.id)
        found = enrichment[case.id]
        out.append(
            CaseRow(
                case=case,
                state=state,
                severity=str(score.severity).lower() if score is not None else None,
                cvss=score.base_score if score is not None else None,
                kev=found.in_kev,
                kev_cves=[k.cve_id for k in found.kev],
                due=due,
                due_what=what,
                aliases=found_aliases[case.id],
                matched_assets=int(matched.get(case.id, 0)),
            )
        )
    return out


CASE_SORTS = ("reported", "severity", "due", "kev", "opened")


def sort_cases(rows: list[CaseRow], sort: str) -> list[CaseRow]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    keys = {
        "reported": lambda r: (-r.case.member_count, r.case.id),
        "severity": lambda r: (-r.severity_rank, -(r.cvss or 0.0), r.case.id),
        "due": lambda r: (r.due is None, r.due or far, r.case.id),
        "kev": lambda r: (not r.kev, -r.severity_rank, r.case.id),
        "opened": lambda r: (-_ts(r.case.created_at), r.case.id),
    }
    return sorted(rows, key=keys.get(sort, keys["reported"]))


def _ts(value: dt.datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()

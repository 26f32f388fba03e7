"""Prioritization use cases: refreshing KEV and EPSS, enriching cases; each case's stored
scores, SSVC inputs and facts, and the priority queue (``_casework``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Subject, authorize
from clearinghouse.intake.advisories import import_paths
from clearinghouse.intake.advisories.models import KevEntry
from clearinghouse.priority._casework import (
    CaseFacts,
    QueueItem,
    SsvcDecision,
    case_facts,
    case_scores,
    priority_queue,
    record_score,
    set_ssvc_inputs,
    ssvc_overrides,
    store_derived_scores,
)
from clearinghouse.priority._enrichment import Enrichment, bundled_epss, bundled_kev, enrich, load_epss
from clearinghouse.priority.models import EpssScore
from clearinghouse.storage import Actor, UnitOfWorkFactory

__all__ = [
    "CaseFacts",
    "QueueItem",
    "RefreshReport",
    "SsvcDecision",
    "case_facts",
    "case_scores",
    "enrichment_for",
    "load_bundled_if_empty",
    "priority_queue",
    "record_score",
    "refresh",
    "set_ssvc_inputs",
    "ssvc_overrides",
    "store_derived_scores",
]


@dataclass(frozen=True)
class RefreshReport:
    kev_entries: int | None
    epss_scores: int | None
    problems: list[str]


def refresh(
    uow_factory: UnitOfWorkFactory,
    subject: Subject,
    actor: Actor,
    *,
    kev: Path | None = None,
    epss: Path | None = None,
) -> RefreshReport:
    """Load a KEV catalog and/or an EPSS file (offline), replacing what is stored."""
    authorize(subject, Action.LOAD_REFERENCE_DATA)
    kev_count: int | None = None
    epss_count: int | None = None
    problems: list[str] = []
    if kev is not None:
        report = import_paths(uow_factory, [kev], actor=actor)
        kev_count = report.kev_entries
        problems.extend(str(issue) for issue in report.errors)
        if not report.kev_entries and not report.errors:
            problems.append(f"{kev}: no KEV entries found (is it known_exploited_vulnerabilities.json?)")
    if epss is not None:
        with uow_factory(actor) as uow:
            epss_count = load_epss(uow.session, epss)
            uow.record("epss.loaded", None, None, file=epss.name, scores=epss_count)
            uow.commit()
    return RefreshReport(kev_count, epss_count, problems)


def load_bundled_if_empty(
    uow_factory: UnitOfWorkFactory, subject: Subject, actor: Actor
) -> RefreshReport | None:
    """At first start, the snapshot shipped with the package (see ``clearinghouse/data``)."""
    with uow_factory(actor, write=False) as uow:
        kev_empty = not uow.session.scalar(select(func.count()).select_from(KevEntry))
        epss_empty = not uow.session.scalar(select(func.count()).select_from(EpssScore))
    if not kev_empty and not epss_empty:
        return None
    return refresh(
        uow_factory,
        subject,
        actor,
        kev=bundled_kev() if kev_empty else None,
        epss=bundled_epss() if epss_empty else None,
    )


def enrichment_for(session: Session, aliases: list[str]) -> Enrichment:
    return enrich(session, aliases)

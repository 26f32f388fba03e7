"""Determinations by the determination authority, and their separate releasability decision.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Classification,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    Subject,
    can,
)
from clearinghouse.errors import InvalidInput
from clearinghouse.frontier._recommendations import _load_recommendation
from clearinghouse.frontier._shared import _load_model, _readable, _require, determination_resource
from clearinghouse.frontier.models import (
    Designation,
    Determination,
    FrontierModel,
    Inquiry,
    InquiryStatus,
    Releasability,
)
from clearinghouse.storage import UnitOfWork, utcnow

# -- determinations --------------------------------------------------------------


@dataclass(frozen=True)
class DeterminationDraft:
    model_id: str
    outcome: Designation
    rationale: str
    recommendation_id: str | None = None
    classification: Classification = Classification.CUI
    compartments: frozenset[str] = frozenset()


def determine(uow: UnitOfWork, subject: Subject, draft: DeterminationDraft) -> Determination:
    """The determination authority records whether the model is covered. Not
    idempotent by design: each call is a new decision and the latest stands."""
    model = _load_model(uow.session, subject, draft.model_id)
    if not draft.rationale.strip():
        raise InvalidInput("give the rationale", "/rationale")
    if draft.recommendation_id is not None:
        try:
            _rec, rec_model = _load_recommendation(uow.session, subject, draft.recommendation_id)
        except NotFound:
            raise InvalidInput("no such recommendation", "/recommendation_id") from None
        if rec_model.id != model.id:
            raise InvalidInput("the recommendation is about another model", "/recommendation_id")
    if subject.org_id is None:
        raise Forbidden(Action.DETERMINE, "frontier_determination")
    marking = Marking(
        owner_org_id=subject.org_id,
        tlp=TLP.RED,
        classification=draft.classification,
        compartments=draft.compartments,
    )
    resource = Resource(kind="frontier_determination", id=None, markings=(marking, model.marking))
    if not can(subject, Action.DETERMINE, resource):
        raise Forbidden(Action.DETERMINE, "frontier_determination")
    det = Determination(
        model_id=model.id,
        outcome=draft.outcome,
        rationale=draft.rationale,
        recommendation_id=draft.recommendation_id,
        determined_by=subject.user_id,
        determined_at=utcnow(),
    )
    det.set_marking(marking)
    uow.session.add(det)
    uow.flush()
    return det


def _load_determination(
    session: Session, subject: Subject, det_id: str
) -> tuple[Determination, FrontierModel]:
    det = session.get(Determination, det_id)
    model = session.get(FrontierModel, det.model_id) if det is not None else None
    if det is None or model is None or not _readable(subject, determination_resource(det, model)):
        raise NotFound("frontier_determination", det_id)
    return det, model


def get_determination(session: Session, subject: Subject, det_id: str) -> Determination:
    return _load_determination(session, subject, det_id)[0]


def list_determinations(
    session: Session, subject: Subject, model_id: str | None = None
) -> list[Determination]:
    query = select(Determination, FrontierModel).join(
        FrontierModel, FrontierModel.id == Determination.model_id
    )
    if model_id is not None:
        query = query.where(Determination.model_id == model_id)
    rows = session.execute(query.order_by(Determination.determined_at.desc()))
    return [d for d, m in rows if _readable(subject, determination_resource(d, m))]


def decide_releasability(
    uow: UnitOfWork, subject: Subject, det_id: str, released: bool, reason: str = ""
) -> Determination:
    """Release the determination to the developer, or withhold it. Releasing
    answers the model's open inquiries with it."""
    det, model = _load_determination(uow.session, subject, det_id)
    _require(subject, Action.RELEASE_DETERMINATION, determination_resource(det, model))
    det.releasability = Releasability.RELEASED if released else Releasability.WITHHELD
    det.releasability_reason = reason
    det.releasability_decided_by = subject.user_id
    det.releasability_decided_at = utcnow()
    uow.audit_as(det, f"frontier_determination.{det.releasability}")
    if released:
        inquiries = uow.session.scalars(
            select(Inquiry).where(Inquiry.model_id == model.id, Inquiry.status == InquiryStatus.OPEN)
        )
        for inquiry in inquiries:
            inquiry.status = InquiryStatus.ANSWERED
            inquiry.closed_at = det.releasability_decided_at
            inquiry.determination_id = det.id
    uow.flush()
    return det


def _latest_determination(session: Session, model_id: str) -> Determination | None:
    return session.scalar(
        select(Determination)
        .where(Determination.model_id == model_id)
        .order_by(Determination.determined_at.desc(), Determination.id)
        .limit(1)
    )


def is_covered(session: Session, model_id: str) -> bool:
    """Whether the latest determination about the model says it is covered."""
    latest = _latest_determination(session, model_id)
    return latest is not None and latest.outcome == Designation.COVERED

"""Inquiries: a developer asks whether a model meets the designation; answers are due in 30 days.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    NotFound,
    Subject,
)
from clearinghouse.frontier._shared import (
    INQUIRY_ANSWER_TIME,
    _load_model,
    _now,
    _readable,
    _require,
    inquiry_resource,
    model_resource,
)
from clearinghouse.frontier.models import (
    FrontierModel,
    Inquiry,
    InquiryStatus,
)
from clearinghouse.storage import UnitOfWork, utcnow

# -- inquiries -------------------------------------------------------------------


def open_inquiry(
    uow: UnitOfWork, subject: Subject, model_id: str, question: str = "", *, now: dt.datetime | None = None
) -> tuple[Inquiry, bool]:
    """Ask whether the model meets the designation. One open inquiry per model:
    asking again returns it (``created`` False)."""
    model = _load_model(uow.session, subject, model_id)
    _require(subject, Action.REGISTER_MODEL, model_resource(model), "open an inquiry about")
    existing = uow.session.scalar(
        select(Inquiry).where(Inquiry.model_id == model.id, Inquiry.status == InquiryStatus.OPEN)
    )
    if existing is not None:
        return existing, False
    opened = _now(now)
    inquiry = Inquiry(
        model_id=model.id,
        question=question,
        opened_by=subject.user_id,
        opened_at=opened,
        due_at=opened + INQUIRY_ANSWER_TIME,
    )
    uow.session.add(inquiry)
    uow.flush()
    return inquiry, True


def _load_inquiry(session: Session, subject: Subject, inquiry_id: str) -> tuple[Inquiry, FrontierModel]:
    inquiry = session.get(Inquiry, inquiry_id)
    model = session.get(FrontierModel, inquiry.model_id) if inquiry is not None else None
    if inquiry is None or model is None or not _readable(subject, inquiry_resource(inquiry, model)):
        raise NotFound("frontier_inquiry", inquiry_id)
    return inquiry, model


def get_inquiry(session: Session, subject: Subject, inquiry_id: str) -> Inquiry:
    return _load_inquiry(session, subject, inquiry_id)[0]


def withdraw_inquiry(uow: UnitOfWork, subject: Subject, inquiry_id: str) -> Inquiry:
    inquiry, model = _load_inquiry(uow.session, subject, inquiry_id)
    _require(subject, Action.REGISTER_MODEL, inquiry_resource(inquiry, model), "withdraw")
    if inquiry.status == InquiryStatus.OPEN:
        inquiry.status = InquiryStatus.WITHDRAWN
        inquiry.closed_at = utcnow()
        uow.audit_as(inquiry, "frontier_inquiry.withdrawn")
        uow.flush()
    return inquiry


def list_inquiries(session: Session, subject: Subject, model_id: str | None = None) -> list[Inquiry]:
    query = select(Inquiry, FrontierModel).join(FrontierModel, FrontierModel.id == Inquiry.model_id)
    if model_id is not None:
        query = query.where(Inquiry.model_id == model_id)
    rows = session.execute(query.order_by(Inquiry.opened_at.desc()))
    return [i for i, m in rows if _readable(subject, inquiry_resource(i, m))]

"""What every frontier aggregate shares: the markings of models, the resources the policy is asked
about, and loading a model the subject may read.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Classification,
    Forbidden,
    NotFound,
    Resource,
    Subject,
    can,
)
from clearinghouse.frontier.models import (
    AccessGrant,
    DesignationPolicy,
    Determination,
    FrontierModel,
    Inquiry,
    PartnerGrant,
    PartnerStatus,
    Recommendation,
    Releasability,
)
from clearinghouse.storage import utcnow

ACCESS_LEAD = dt.timedelta(days=30)
"""An access window starts no earlier than this before the planned release to trusted partners."""
INQUIRY_ANSWER_TIME = dt.timedelta(days=30)
"""The government answers an inquiry (releases a determination) within this."""
MODEL_MARKING_TLP = TLP.RED
MODEL_CLASSIFICATION = Classification.CUI
TERM_KEYS = (
    "confidentiality",
    "cybersecurity",
    "insider_risk",
    "intellectual_property",
    "use",
    "nondisclosure",
)
ENDPOINT_USED = "frontier.endpoint.used"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else utcnow()


# -- resources -------------------------------------------------------------------


def model_resource(model: FrontierModel) -> Resource:
    return Resource(kind="frontier_model", id=model.id, markings=(model.marking,))


def inquiry_resource(inquiry: Inquiry, model: FrontierModel) -> Resource:
    return Resource(kind="frontier_inquiry", id=inquiry.id, markings=(model.marking,))


def grant_resource(grant: AccessGrant, model: FrontierModel) -> Resource:
    return Resource(
        kind="frontier_grant",
        id=grant.id,
        markings=(model.marking,),
        need_to_know=frozenset(grant.need_to_know),
    )


def policy_resource(policy: DesignationPolicy) -> Resource:
    return Resource(kind="frontier_policy", id=policy.id, markings=(policy.marking,))


def recommendation_resource(rec: Recommendation, model: FrontierModel) -> Resource:
    return Resource(kind="frontier_recommendation", id=rec.id, markings=(rec.marking, model.marking))


def determination_resource(det: Determination, model: FrontierModel) -> Resource:
    released = frozenset({model.owner_org_id}) if det.releasability == Releasability.RELEASED else frozenset()
    return Resource(
        kind="frontier_determination",
        id=det.id,
        markings=(det.marking, model.marking),
        released_to=released,
    )


def partner_resource(partner: PartnerGrant, model: FrontierModel) -> Resource:
    agreed = partner.status is PartnerStatus.AGREED
    return Resource(
        kind="frontier_partner_grant",
        id=partner.id,
        markings=(model.marking,),
        released_to=frozenset({partner.partner_org_id}) if agreed else frozenset(),
    )


def _readable(subject: Subject, resource: Resource) -> bool:
    return can(subject, Action.READ_FRONTIER, resource)


def _require(subject: Subject, action: Action, resource: Resource, doing: str | None = None) -> None:
    """NotFound where the subject may not read the object; Forbidden where it
    may read it but not do ``action``."""
    if not _readable(subject, resource):
        raise NotFound(resource.kind, resource.id)
    if not can(subject, action, resource):
        raise Forbidden(action, resource.kind, doing)


def _load_model(session: Session, subject: Subject, model_id: str) -> FrontierModel:
    model = session.get(FrontierModel, model_id)
    if model is None or not _readable(subject, model_resource(model)):
        raise NotFound("frontier_model", model_id)
    return model

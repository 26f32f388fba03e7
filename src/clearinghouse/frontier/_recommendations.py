"""Recommendations: a policy applied to metrics, given or read from an evaluation campaign.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    Subject,
    can,
)
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import _cel
from clearinghouse.frontier._policies import get_policy, policy_thresholds
from clearinghouse.frontier._shared import _load_model, _readable, recommendation_resource
from clearinghouse.frontier.models import (
    DesignationPolicy,
    FrontierModel,
    Recommendation,
)
from clearinghouse.storage import UnitOfWork

# -- recommendations -------------------------------------------------------------


def recommend(
    uow: UnitOfWork, subject: Subject, policy_id: str, campaign_id: str, model_id: str | None = None
) -> Recommendation:
    """Apply a policy to a campaign's metrics (from the evaluation part). The
    model is the one the campaign ran against; ``model_id``, if given, must be it."""
    from clearinghouse.frontier.evaluation import campaign_metrics, get_campaign
    from clearinghouse.frontier.evaluation.services import incomplete_reason

    policy = get_policy(uow.session, subject, policy_id)
    try:
        campaign = get_campaign(uow.session, subject, campaign_id)
    except NotFound:
        raise InvalidInput("no such campaign", "/campaign_id") from None
    if campaign.model_id is None:
        raise Conflict("the campaign has not reached a model yet: it has no results", "/campaign_id")
    if model_id is not None and model_id != campaign.model_id:
        raise InvalidInput("the campaign ran against another model", "/model_id")
    model = _load_model(uow.session, subject, campaign.model_id)
    metrics = campaign_metrics(uow.session, subject, campaign_id)
    rec = recommend_from_metrics(uow, subject, policy, model, campaign_id, metrics)
    incomplete = incomplete_reason(campaign)
    if incomplete is not None:  # a failed or stopped campaign's metrics are no measurement
        rec.evaluations = [
            *rec.evaluations,
            {
                "name": "campaign",
                "expression": "",
                "result": None,
                "values": {},
                "missing": [],
                "error": incomplete,
            },
        ]
        uow.flush()
    return rec


def recommend_from_metrics(
    uow: UnitOfWork,
    subject: Subject,
    policy: DesignationPolicy,
    model: FrontierModel,
    campaign_id: str,
    metrics: Mapping[str, float],
) -> Recommendation:
    """Record what ``policy`` recommends for ``model`` given ``metrics``."""
    if subject.org_id is None:
        raise Forbidden(Action.RECOMMEND, "frontier_recommendation")
    pm = policy.marking
    marking = Marking(
        owner_org_id=subject.org_id,
        tlp=TLP.RED,
        classification=pm.classification,
        compartments=pm.compartments,
    )
    resource = Resource(kind="frontier_recommendation", id=None, markings=(marking, pm, model.marking))
    if not can(subject, Action.RECOMMEND, resource):
        raise Forbidden(Action.RECOMMEND, "frontier_recommendation")
    outcome = _cel.evaluate(policy_thresholds(policy), metrics)
    rec = Recommendation(
        model_id=model.id,
        policy_id=policy.id,
        campaign_id=campaign_id,
        covered=outcome.covered,
        evaluations=[r.as_dict() for r in outcome.results],
        metrics={k: float(v) for k, v in metrics.items() if math.isfinite(v)},
        created_by=subject.user_id,
    )
    rec.set_marking(marking)
    uow.session.add(rec)
    uow.flush()
    return rec


def _load_recommendation(
    session: Session, subject: Subject, rec_id: str
) -> tuple[Recommendation, FrontierModel]:
    rec = session.get(Recommendation, rec_id)
    model = session.get(FrontierModel, rec.model_id) if rec is not None else None
    if rec is None or model is None or not _readable(subject, recommendation_resource(rec, model)):
        raise NotFound("frontier_recommendation", rec_id)
    return rec, model


def get_recommendation(session: Session, subject: Subject, rec_id: str) -> Recommendation:
    return _load_recommendation(session, subject, rec_id)[0]


def list_recommendations(
    session: Session, subject: Subject, model_id: str | None = None
) -> list[Recommendation]:
    query = select(Recommendation, FrontierModel).join(
        FrontierModel, FrontierModel.id == Recommendation.model_id
    )
    if model_id is not None:
        query = query.where(Recommendation.model_id == model_id)
    rows = session.execute(query.order_by(Recommendation.created_at.desc()))
    return [r for r, m in rows if _readable(subject, recommendation_resource(r, m))]

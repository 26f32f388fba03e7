"""Model review pages: models, inquiries, access windows with days left,
evaluation campaigns with live progress (htmx polling), results per suite and
tier, recommendations with the expressions that decided them, and the
determination form, shown only to the determination authority."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from sqlalchemy import select

from clearinghouse.access import TLP, Action, Classification, Marking, NotFound, Resource, can
from clearinghouse.frontier import services as frontier
from clearinghouse.frontier.evaluation import services as evaluation
from clearinghouse.frontier.evaluation.models import CampaignStatus, EvalTask
from clearinghouse.frontier.models import Designation
from clearinghouse.storage import utcnow
from clearinghouse.web._deps import Viewer, check_csrf
from clearinghouse.web._render import Page, redirect

router = APIRouter()


def _can_determine(page: Page, model: Any) -> bool:
    """Whether the policy would let this viewer record a determination on the model
    (the same resource ``frontier.services.determine`` asks about, at its lowest marking)."""
    if page.subject.org_id is None:
        return False
    marking = Marking(owner_org_id=page.subject.org_id, tlp=TLP.RED, classification=Classification.CUI)
    resource = Resource(kind="frontier_determination", id=None, markings=(marking, model.marking))
    return can(page.subject, Action.DETERMINE, resource)


@router.get("/review")
def review_home(page: Viewer) -> Response:
    with page.reading() as uow:
        models = frontier.list_models(uow.session, page.subject)
        clocks = frontier.clocks(uow.session, page.subject)
        campaigns = evaluation.list_campaigns(uow.session, page.subject, limit=50)
        policies = frontier.list_policies(uow.session, page.subject)
    return page.render("review.html", models=models, clocks=clocks, campaigns=campaigns, policies=policies)


@router.get("/review/models/{model_id}")
def model_page(model_id: str, page: Viewer) -> Response:
    now = utcnow()
    with page.reading() as uow:
        model = frontier.get_model(uow.session, page.subject, model_id)
        inquiries = frontier.list_inquiries(uow.session, page.subject, model.id)
        grants = frontier.list_grants(uow.session, page.subject, model.id)
        recommendations = frontier.list_recommendations(uow.session, page.subject, model.id)
        determinations = frontier.list_determinations(uow.session, page.subject, model.id)
        partners = frontier.list_partners(uow.session, page.subject, model.id)
    return page.render(
        "review_model.html",
        model=model,
        inquiries=inquiries,
        grants=[(g, g.status_at(now).value, frontier.days_left(g.ends_at, now)) for g in grants],
        recommendations=recommendations,
        determinations=determinations,
        partners=partners,
        can_determine=_can_determine(page, model),
        outcomes=[d.value for d in Designation],
        inquiry_days={i.id: frontier.days_left(i.due_at, now) for i in inquiries},
    )


@router.post("/review/models/{model_id}/determination")
def record_determination(
    model_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    outcome: Annotated[Designation, Form()],
    rationale: Annotated[str, Form(max_length=20_000)],
    recommendation_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    check_csrf(page, csrf)
    draft = frontier.DeterminationDraft(
        model_id=model_id, outcome=outcome, rationale=rationale, recommendation_id=recommendation_id or None
    )
    with page.writing() as uow:
        frontier.determine(uow, page.subject, draft)
        uow.commit()
    return redirect(f"/review/models/{model_id}#determinations")


def _campaign_context(page: Page, campaign_id: str) -> dict[str, Any]:
    with page.reading() as uow:
        campaign = evaluation.get_campaign(uow.session, page.subject, campaign_id)
        progress = evaluation.campaign_progress(campaign, page.runtime.settings.home)
        results = evaluation.list_results(uow.session, page.subject, campaign)
        metrics = evaluation.campaign_metrics(uow.session, page.subject, campaign.id) if results else {}
        task_ids = sorted({r.task_id for r in results})
        tasks = (
            {t.id: t for t in uow.session.scalars(select(EvalTask).where(EvalTask.id.in_(task_ids)))}
            if task_ids
            else {}
        )
        suites = {}
        for suite_id in campaign.suite_ids:
            with contextlib.suppress(NotFound):
                suites[suite_id] = evaluation.get_suite(uow.session, page.subject, suite_id)
        recommendations = [
            r
            for r in (
                frontier.list_recommendations(uow.session, page.subject, campaign.model_id)
                if campaign.model_id
                else []
            )
            if r.campaign_id == campaign.id
        ]
        policies = frontier.list_policies(uow.session, page.subject)
        model = None
        if campaign.model_id:
            with contextlib.suppress(NotFound):
                model = frontier.get_model(uow.session, page.subject, campaign.model_id)
    # Results per suite, then tier (untiered tasks last).
    by_suite: dict[str, list[Any]] = defaultdict(list)
    for result in results:
        task = tasks.get(result.task_id)
        by_suite[result.suite_id].append((task.tier if task else None, task, result))
    for rows in by_suite.values():
        rows.sort(key=lambda row: (row[0] is None, row[0] or 0, row[1].name if row[1] else ""))
    can_recommend = False
    if page.subject.org_id is not None and policies and model is not None:
        # The resource ``frontier.services.recommend_from_metrics`` asks about.
        own = Marking(
            owner_org_id=page.subject.org_id, tlp=TLP.RED, classification=policies[0].marking.classification
        )
        resource = Resource(
            kind="frontier_recommendation", id=None, markings=(own, policies[0].marking, model.marking)
        )
        can_recommend = can(page.subject, Action.RECOMMEND, resource)
    return {
        "can_recommend": can_recommend,
        "campaign": campaign,
        "progress": progress,
        "running": progress.status in (CampaignStatus.QUEUED, CampaignStatus.RUNNING),
        "by_suite": dict(by_suite),
        "suites": suites,
        "metrics": metrics,
        "recommendations": recommendations,
        "policies": policies,
    }


@router.get("/review/campaigns/{campaign_id}")
def campaign_page(campaign_id: str, page: Viewer) -> Response:
    return page.render("review_campaign.html", **_campaign_context(page, campaign_id))


@router.get("/review/campaigns/{campaign_id}/progress")
def campaign_progress(campaign_id: str, page: Viewer) -> Response:
    """The progress block alone, which the campaign page polls while the campaign runs."""
    return page.render("_campaign_progress.html", **_campaign_context(page, campaign_id))


@router.post("/review/campaigns")
def start_campaign(
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(min_length=1, max_length=300)],
    grant_id: Annotated[str, Form(max_length=36)],
    suite_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(page, csrf)
    draft = evaluation.CampaignDraft(name=name, grant_id=grant_id, suite_ids=suite_ids or [])
    with page.writing() as uow:
        campaign, _created = evaluation.create_campaign(uow, page.subject, draft)
        uow.commit()
    return redirect(f"/review/campaigns/{campaign.id}")


@router.get("/review/campaigns")
def new_campaign(page: Viewer) -> Response:
    now = utcnow()
    with page.reading() as uow:
        grants = [
            g
            for m in frontier.list_models(uow.session, page.subject)
            for g in frontier.list_grants(uow.session, page.subject, m.id)
            if g.status_at(now).value == "active" and page.subject.user_id in g.need_to_know
        ]
        suites = evaluation.list_suites(uow.session, page.subject)
        campaigns = evaluation.list_campaigns(uow.session, page.subject, limit=100)
    return page.render("review_campaigns.html", grants=grants, suites=suites, campaigns=campaigns)


@router.post("/review/campaigns/{campaign_id}/recommendation")
def recommend(
    campaign_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    policy_id: Annotated[str, Form(max_length=36)],
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        frontier.recommend(uow, page.subject, policy_id, campaign_id)
        uow.commit()
    return redirect(f"/review/campaigns/{campaign_id}#recommendations")

"""HTTP routes of the frontier model review under ``/api/v1/frontier``: models,
inquiries, access grants, designation policies, recommendations,
determinations, trusted partners and clocks. No route approves, blocks or
delays a release."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from clearinghouse.access import Classification
from clearinghouse.access.schemas import MarkingIn, MarkingOut
from clearinghouse.domain import VOLUNTARY_NOTICE
from clearinghouse.frontier import services
from clearinghouse.frontier._cel import MAX_EXPRESSION_LENGTH, Threshold
from clearinghouse.frontier.models import (
    AccessGrant,
    Designation,
    DesignationPolicy,
    Determination,
    FrontierModel,
    GrantStatus,
    Inquiry,
    PartnerGrant,
    Recommendation,
)
from clearinghouse.http_deps import SignedIn
from clearinghouse.storage import utcnow

router = APIRouter(prefix="/frontier", tags=["frontier model review"])

_strict = ConfigDict(extra="forbid")
Id = Annotated[str, StringConstraints(max_length=36)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


# -- models ----------------------------------------------------------------------


class ModelIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=20_000)
    planned_partner_release_at: AwareDatetime = Field(
        description="When the developer plans to release the model to trusted partners"
    )
    planned_public_release_at: AwareDatetime | None = None


class ModelPatch(BaseModel):
    model_config = _strict
    description: str | None = Field(None, max_length=20_000)
    planned_partner_release_at: AwareDatetime | None = None
    planned_public_release_at: AwareDatetime | None = None


class ModelOut(BaseModel):
    id: str
    name: str
    version: str
    description: str
    planned_partner_release_at: dt.datetime
    planned_public_release_at: dt.datetime | None
    earliest_access_start: dt.datetime = Field(
        description="An access window may start no earlier than this (30 days before the partner release)"
    )
    created_at: dt.datetime
    marking: MarkingOut

    @classmethod
    def of(cls, m: FrontierModel) -> ModelOut:
        return cls(
            id=m.id,
            name=m.name,
            version=m.version,
            description=m.description,
            planned_partner_release_at=m.planned_partner_release_at,
            planned_public_release_at=m.planned_public_release_at,
            earliest_access_start=m.planned_partner_release_at - services.ACCESS_LEAD,
            created_at=m.created_at,
            marking=MarkingOut.of(m),
        )


class FindingsOut(BaseModel):
    total: int
    validated: int
    rejected: int
    pending: int
    validated_share: float | None = Field(description="validated / (validated + rejected)")
    by_state: dict[str, int]
    version_unspecified: int = Field(description="Findings naming the model without a version")
    finding_ids: list[str] = Field(description="Those the caller may read")


@router.post("/models", status_code=201, summary="Register a model under development (developer)")
def register_model(body: ModelIn, context: SignedIn, response: Response) -> ModelOut:
    draft = services.ModelDraft(
        name=body.name,
        version=body.version,
        description=body.description,
        planned_partner_release_at=body.planned_partner_release_at,
        planned_public_release_at=body.planned_public_release_at,
    )
    with context.writing() as uow:
        model, created = services.register_model(uow, context.subject, draft)
        uow.commit()
    _created(response, created)
    return ModelOut.of(model)


@router.get("/models", summary="Models the caller may see")
def list_models(context: SignedIn) -> list[ModelOut]:
    with context.reading() as uow:
        return [ModelOut.of(m) for m in services.list_models(uow.session, context.subject)]


@router.get("/models/{model_id}", summary="One model")
def get_model(model_id: str, context: SignedIn) -> ModelOut:
    with context.reading() as uow:
        return ModelOut.of(services.get_model(uow.session, context.subject, model_id))


@router.patch("/models/{model_id}", summary="Change the description or planned dates (developer only)")
def update_model(model_id: str, body: ModelPatch, context: SignedIn) -> ModelOut:
    changes = services.ModelChanges(
        description=body.description,
        planned_partner_release_at=body.planned_partner_release_at,
        planned_public_release_at=body.planned_public_release_at,
    )
    with context.writing() as uow:
        model = services.update_model(uow, context.subject, model_id, changes)
        uow.commit()
    return ModelOut.of(model)


@router.get(
    "/models/{model_id}/findings", summary="What was found with the model, and how much was validated"
)
def model_findings(model_id: str, context: SignedIn) -> FindingsOut:
    with context.reading() as uow:
        s = services.model_findings(uow.session, context.subject, model_id)
    return FindingsOut(
        total=s.total,
        validated=s.validated,
        rejected=s.rejected,
        pending=s.pending,
        validated_share=s.validated_share,
        by_state=s.by_state,
        version_unspecified=s.version_unspecified,
        finding_ids=s.visible_finding_ids,
    )


# -- inquiries -------------------------------------------------------------------


class InquiryIn(BaseModel):
    model_config = _strict
    model_id: Id
    question: str = Field("", max_length=20_000)


class InquiryOut(BaseModel):
    id: str
    model_id: str
    question: str
    status: str
    opened_at: dt.datetime
    due_at: dt.datetime
    days_left: int | None = Field(description="Whole days until the answer is due, while open")
    closed_at: dt.datetime | None
    determination_id: str | None = Field(description="The released determination that answered it")

    @classmethod
    def of(cls, i: Inquiry) -> InquiryOut:
        open_ = i.status == "open"
        return cls(
            id=i.id,
            model_id=i.model_id,
            question=i.question,
            status=i.status,
            opened_at=i.opened_at,
            due_at=i.due_at,
            days_left=services.days_left(i.due_at, utcnow()) if open_ else None,
            closed_at=i.closed_at,
            determination_id=i.determination_id,
        )


@router.post("/inquiries", status_code=201, summary="Ask whether a model meets the designation (developer)")
def open_inquiry(body: InquiryIn, context: SignedIn, response: Response) -> InquiryOut:
    with context.writing() as uow:
        inquiry, created = services.open_inquiry(uow, context.subject, body.model_id, body.question)
        uow.commit()
    _created(response, created)
    return InquiryOut.of(inquiry)


@router.get("/inquiries", summary="Inquiries the caller may see")
def list_inquiries(context: SignedIn, model_id: str | None = Query(None, max_length=36)) -> list[InquiryOut]:
    with context.reading() as uow:
        return [InquiryOut.of(i) for i in services.list_inquiries(uow.session, context.subject, model_id)]


@router.get("/inquiries/{inquiry_id}", summary="One inquiry")
def get_inquiry(inquiry_id: str, context: SignedIn) -> InquiryOut:
    with context.reading() as uow:
        return InquiryOut.of(services.get_inquiry(uow.session, context.subject, inquiry_id))


@router.post("/inquiries/{inquiry_id}:withdraw", summary="Withdraw an open inquiry (developer)")
def withdraw_inquiry(inquiry_id: str, context: SignedIn) -> InquiryOut:
    with context.writing() as uow:
        inquiry = services.withdraw_inquiry(uow, context.subject, inquiry_id)
        uow.commit()
    return InquiryOut.of(inquiry)


# -- access grants ---------------------------------------------------------------


class TermsIn(BaseModel):
    model_config = _strict
    confidentiality: ShortText
    cybersecurity: ShortText
    insider_risk: ShortText
    intellectual_property: ShortText
    use: ShortText
    nondisclosure: ShortText


class EndpointIn(BaseModel):
    model_config = _strict
    base_url: str = Field(
        min_length=1, max_length=2000, description="OpenAI-compatible base URL, e.g. https://host/v1"
    )
    api_key: str = Field(min_length=1, max_length=4000, description="Stored encrypted; never shown again")
    model_name: str = Field(min_length=1, max_length=200, description="The model name the endpoint serves")


class GrantIn(BaseModel):
    model_config = _strict
    model_id: Id
    starts_at: AwareDatetime = Field(description="No earlier than 30 days before the planned partner release")
    ends_at: AwareDatetime = Field(description="No later than the planned partner release")
    terms: TermsIn
    endpoint: EndpointIn
    need_to_know: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200, description="Government users (ids or usernames)"
    )
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)


class AcceptIn(BaseModel):
    model_config = _strict
    terms_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The digest of the terms accepted")
    need_to_know: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        None, max_length=200, description="Replaces the list proposed with the grant"
    )


class WithdrawIn(BaseModel):
    model_config = _strict
    reason: str = Field("", max_length=20_000)


class GrantOut(BaseModel):
    id: str
    model_id: str
    status: GrantStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    days_left: int | None = Field(description="Whole days until the window closes, until it has")
    terms: dict[str, str]
    terms_sha256: str
    need_to_know: list[str]
    notice: str = Field(
        VOLUNTARY_NOTICE,
        description="EO 14409 §5(c): voluntary; creates no enforceable right",
    )
    endpoint_configured: bool = Field(description="The endpoint and its key are stored encrypted")
    developer_accepted_at: dt.datetime
    government_accepted_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None

    @classmethod
    def of(cls, g: AccessGrant) -> GrantOut:
        now = utcnow()
        status = g.status_at(now)
        running = status not in (GrantStatus.WITHDRAWN, GrantStatus.ENDED)
        return cls(
            id=g.id,
            model_id=g.model_id,
            status=status,
            starts_at=g.starts_at,
            ends_at=g.ends_at,
            days_left=services.days_left(g.ends_at, now) if running else None,
            terms=g.terms,
            terms_sha256=g.terms_sha256,
            need_to_know=g.need_to_know,
            endpoint_configured=bool(g.endpoint_ciphertext),
            developer_accepted_at=g.developer_accepted_at,
            government_accepted_at=g.government_accepted_at,
            withdrawn_at=g.withdrawn_at,
            withdrawal_reason=g.withdrawal_reason,
        )


class UseOut(BaseModel):
    seq: int
    occurred_at: dt.datetime
    actor: str
    user_id: str | None
    purpose: str


@router.post("/grants", status_code=201, summary="Give the government access to a model (developer)")
def grant_access(body: GrantIn, context: SignedIn, response: Response) -> GrantOut:
    draft = services.GrantDraft(
        model_id=body.model_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        terms=body.terms.model_dump(),
        endpoint=services.EndpointDraft(
            body.endpoint.base_url, body.endpoint.api_key, body.endpoint.model_name
        ),
        need_to_know=body.need_to_know,
        idempotency_key=body.idempotency_key,
    )
    with context.writing() as uow:
        made, created = services.grant_access(uow, context.subject, context.runtime.envelope, draft)
        uow.commit()
    _created(response, created)
    return GrantOut.of(made)


@router.get("/grants", summary="Access grants the caller may see")
def list_grants(context: SignedIn, model_id: str | None = Query(None, max_length=36)) -> list[GrantOut]:
    with context.reading() as uow:
        return [GrantOut.of(g) for g in services.list_grants(uow.session, context.subject, model_id)]


@router.get("/grants/{grant_id}", summary="One access grant")
def get_grant(grant_id: str, context: SignedIn) -> GrantOut:
    with context.reading() as uow:
        return GrantOut.of(services.get_grant(uow.session, context.subject, grant_id))


@router.post("/grants/{grant_id}:accept", summary="Accept the offered terms (government)")
def accept_grant(grant_id: str, body: AcceptIn, context: SignedIn) -> GrantOut:
    with context.writing() as uow:
        made = services.accept_grant(uow, context.subject, grant_id, body.terms_sha256, body.need_to_know)
        uow.commit()
    return GrantOut.of(made)


@router.post("/grants/{grant_id}:withdraw", summary="Withdraw access, at any time (developer)")
def withdraw_grant(grant_id: str, body: WithdrawIn, context: SignedIn) -> GrantOut:
    with context.writing() as uow:
        made = services.withdraw_grant(uow, context.subject, grant_id, body.reason)
        uow.commit()
    return GrantOut.of(made)


@router.get("/grants/{grant_id}/uses", summary="Every use of the grant's credential, from the ledger")
def grant_uses(grant_id: str, context: SignedIn) -> list[UseOut]:
    with context.reading() as uow:
        uses = services.endpoint_uses(uow.session, context.subject, grant_id)
    return [UseOut(**u.__dict__) for u in uses]


# -- designation policies ----------------------------------------------------------


class ThresholdIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=200)
    expression: str = Field(
        min_length=1,
        max_length=MAX_EXPRESSION_LENGTH,
        description="CEL over suite metrics, e.g. `ctf.tier3.pass_at_10 >= 0.3 || vuln_id.f1 >= 0.9`",
    )


class PolicyIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    thresholds: list[ThresholdIn] = Field(min_length=1, max_length=100)
    marking: MarkingIn = Field(default_factory=lambda: MarkingIn(classification=Classification.SECRET))


class PolicyOut(BaseModel):
    id: str
    name: str
    version: int
    description: str
    thresholds: list[dict[str, str]]
    created_at: dt.datetime
    marking: MarkingOut

    @classmethod
    def of(cls, p: DesignationPolicy) -> PolicyOut:
        return cls(
            id=p.id,
            name=p.name,
            version=p.version,
            description=p.description,
            thresholds=p.thresholds,
            created_at=p.created_at,
            marking=MarkingOut.of(p),
        )


@router.post("/policies", status_code=201, summary="Store the next version of a designation policy")
def define_policy(body: PolicyIn, context: SignedIn, response: Response) -> PolicyOut:
    draft = services.PolicyDraft(
        name=body.name,
        description=body.description,
        thresholds=[Threshold(t.name, t.expression) for t in body.thresholds],
        marking=body.marking.to_marking(context.subject),
    )
    with context.writing() as uow:
        policy, created = services.define_policy(uow, context.subject, draft)
        uow.commit()
    _created(response, created)
    return PolicyOut.of(policy)


@router.get("/policies", summary="Designation policies the caller is cleared to see")
def list_policies(context: SignedIn) -> list[PolicyOut]:
    with context.reading() as uow:
        return [PolicyOut.of(p) for p in services.list_policies(uow.session, context.subject)]


@router.get("/policies/{policy_id}", summary="One policy version")
def get_policy(policy_id: str, context: SignedIn) -> PolicyOut:
    with context.reading() as uow:
        return PolicyOut.of(services.get_policy(uow.session, context.subject, policy_id))


# -- recommendations -------------------------------------------------------------


class RecommendIn(BaseModel):
    model_config = _strict
    policy_id: Id
    campaign_id: Id
    model_id: Id | None = Field(None, description="Checked against the campaign's model, if given")


class RecommendationOut(BaseModel):
    id: str
    model_id: str
    policy_id: str
    campaign_id: str
    covered: bool = Field(description="Whether any threshold held")
    complete: bool = Field(description="Whether every threshold could be evaluated")
    evaluations: list[dict[str, Any]] = Field(
        description="Each threshold: expression, result, the metric values that decided it, error"
    )
    metrics: dict[str, float]
    created_at: dt.datetime
    marking: MarkingOut

    @classmethod
    def of(cls, r: Recommendation) -> RecommendationOut:
        return cls(
            id=r.id,
            model_id=r.model_id,
            policy_id=r.policy_id,
            campaign_id=r.campaign_id,
            covered=r.covered,
            complete=all(e.get("result") is not None for e in r.evaluations),
            evaluations=r.evaluations,
            metrics=r.metrics,
            created_at=r.created_at,
            marking=MarkingOut.of(r),
        )


@router.post("/recommendations", status_code=201, summary="Apply a policy to a campaign's results")
def recommend(body: RecommendIn, context: SignedIn) -> RecommendationOut:
    with context.writing() as uow:
        rec = services.recommend(uow, context.subject, body.policy_id, body.campaign_id, body.model_id)
        uow.commit()
    return RecommendationOut.of(rec)


@router.get("/recommendations", summary="Recommendations the caller is cleared to see")
def list_recommendations(
    context: SignedIn, model_id: str | None = Query(None, max_length=36)
) -> list[RecommendationOut]:
    with context.reading() as uow:
        recs = services.list_recommendations(uow.session, context.subject, model_id)
        return [RecommendationOut.of(r) for r in recs]


@router.get("/recommendations/{recommendation_id}", summary="One recommendation")
def get_recommendation(recommendation_id: str, context: SignedIn) -> RecommendationOut:
    with context.reading() as uow:
        return RecommendationOut.of(
            services.get_recommendation(uow.session, context.subject, recommendation_id)
        )


# -- determinations --------------------------------------------------------------


class DeterminationIn(BaseModel):
    model_config = _strict
    model_id: Id
    outcome: Designation
    rationale: str = Field(min_length=1, max_length=50_000)
    recommendation_id: Id | None = None
    classification: Classification = Classification.CUI
    compartments: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class ReleaseIn(BaseModel):
    model_config = _strict
    released: bool = Field(description="true: release to the developer; false: withhold")
    reason: str = Field("", max_length=20_000)


class DeterminationOut(BaseModel):
    id: str
    model_id: str
    outcome: Designation
    rationale: str
    recommendation_id: str | None
    determined_at: dt.datetime
    releasability: str
    releasability_reason: str | None
    releasability_decided_at: dt.datetime | None
    marking: MarkingOut

    @classmethod
    def of(cls, d: Determination) -> DeterminationOut:
        return cls(
            id=d.id,
            model_id=d.model_id,
            outcome=Designation(d.outcome),
            rationale=d.rationale,
            recommendation_id=d.recommendation_id,
            determined_at=d.determined_at,
            releasability=d.releasability,
            releasability_reason=d.releasability_reason,
            releasability_decided_at=d.releasability_decided_at,
            marking=MarkingOut.of(d),
        )


@router.post("/determinations", status_code=201, summary="Record a determination (determination authority)")
def determine(body: DeterminationIn, context: SignedIn) -> DeterminationOut:
    draft = services.DeterminationDraft(
        model_id=body.model_id,
        outcome=body.outcome,
        rationale=body.rationale,
        recommendation_id=body.recommendation_id,
        classification=body.classification,
        compartments=frozenset(c.strip().upper() for c in body.compartments),
    )
    with context.writing() as uow:
        det = services.determine(uow, context.subject, draft)
        uow.commit()
    return DeterminationOut.of(det)


@router.get("/determinations", summary="Determinations the caller may see (a developer: once released)")
def list_determinations(
    context: SignedIn, model_id: str | None = Query(None, max_length=36)
) -> list[DeterminationOut]:
    with context.reading() as uow:
        dets = services.list_determinations(uow.session, context.subject, model_id)
        return [DeterminationOut.of(d) for d in dets]


@router.get("/determinations/{determination_id}", summary="One determination")
def get_determination(determination_id: str, context: SignedIn) -> DeterminationOut:
    with context.reading() as uow:
        return DeterminationOut.of(services.get_determination(uow.session, context.subject, determination_id))


@router.post(
    "/determinations/{determination_id}:releasability",
    summary="Decide whether the developer may see the determination (determination authority)",
)
def decide_releasability(determination_id: str, body: ReleaseIn, context: SignedIn) -> DeterminationOut:
    with context.writing() as uow:
        det = services.decide_releasability(
            uow, context.subject, determination_id, body.released, body.reason
        )
        uow.commit()
    return DeterminationOut.of(det)


# -- trusted partners ------------------------------------------------------------


class PartnerIn(BaseModel):
    model_config = _strict
    model_id: Id
    partner_org: str = Field(min_length=1, max_length=200, description="Organization id or name")
    purpose: str = Field(min_length=1, max_length=20_000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    obligations: list[Annotated[str, StringConstraints(min_length=1, max_length=5000)]] = Field(
        min_length=1, max_length=100
    )


class PartnerOut(BaseModel):
    id: str
    model_id: str
    partner_org_id: str
    purpose: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    obligations: list[str]
    status: str
    developer_agreed_at: dt.datetime | None
    government_agreed_at: dt.datetime | None
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, p: PartnerGrant) -> PartnerOut:
        return cls(
            id=p.id,
            model_id=p.model_id,
            partner_org_id=p.partner_org_id,
            purpose=p.purpose,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            obligations=p.obligations,
            status=p.status.value,
            developer_agreed_at=p.developer_agreed_at,
            government_agreed_at=p.government_agreed_at,
            withdrawn_at=p.withdrawn_at,
        )


@router.post("/partners", status_code=201, summary="Propose early access for a trusted partner (either side)")
def propose_partner(body: PartnerIn, context: SignedIn, response: Response) -> PartnerOut:
    draft = services.PartnerDraft(
        model_id=body.model_id,
        partner_org=body.partner_org,
        purpose=body.purpose,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        obligations=body.obligations,
    )
    with context.writing() as uow:
        partner, created = services.propose_partner(uow, context.subject, draft)
        uow.commit()
    _created(response, created)
    return PartnerOut.of(partner)


@router.get("/partners", summary="Trusted-partner grants the caller may see")
def list_partners(context: SignedIn, model_id: str | None = Query(None, max_length=36)) -> list[PartnerOut]:
    with context.reading() as uow:
        return [PartnerOut.of(p) for p in services.list_partners(uow.session, context.subject, model_id)]


@router.get("/partners/{partner_id}", summary="One trusted-partner grant")
def get_partner(partner_id: str, context: SignedIn) -> PartnerOut:
    with context.reading() as uow:
        return PartnerOut.of(services.get_partner(uow.session, context.subject, partner_id))


@router.post("/partners/{partner_id}:agree", summary="The caller's side agrees to the partner's early access")
def agree_partner(partner_id: str, context: SignedIn) -> PartnerOut:
    with context.writing() as uow:
        partner = services.agree_partner(uow, context.subject, partner_id)
        uow.commit()
    return PartnerOut.of(partner)


@router.post("/partners/{partner_id}:withdraw", summary="Withdraw a partner's early access (either side)")
def withdraw_partner(partner_id: str, context: SignedIn) -> PartnerOut:
    with context.writing() as uow:
        partner = services.withdraw_partner(uow, context.subject, partner_id)
        uow.commit()
    return PartnerOut.of(partner)


# -- clocks ----------------------------------------------------------------------


class ClockOut(BaseModel):
    kind: str = Field(description="access_window (due: its end) or inquiry (due: 30 days after opening)")
    object_id: str
    model_id: str
    model_name: str
    model_version: str
    status: str
    due_at: dt.datetime
    days_left: int
    overdue: bool


@router.get("/clocks", summary="Running access windows and open inquiries, soonest due first")
def clocks(
    context: SignedIn,
    within_days: int | None = Query(None, ge=-3650, le=3650, description="Only those due within this"),
) -> list[ClockOut]:
    with context.reading() as uow:
        items = services.clocks(uow.session, context.subject, within_days=within_days)
    return [ClockOut(**c.__dict__, overdue=c.overdue) for c in items]

"""Use cases of the frontier model review: registering models, inquiries,
access grants and the endpoint behind them, designation policies,
recommendations, determinations and their releasability, trusted partners,
the findings made with a model, and the clocks.

Every read and write asks the one policy (``access/_policy.py``, the
"frontier model review" block). Nothing here approves, blocks or delays a
model's release: the developer's planned dates are the developer's alone, and
an access window simply ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Classification,
    Forbidden,
    Marking,
    NotFound,
    Organization,
    OrgKind,
    Resource,
    Subject,
    User,
    can,
)
from clearinghouse.access import services as access_services
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import _cel
from clearinghouse.frontier.models import (
    AccessGrant,
    Designation,
    DesignationPolicy,
    Determination,
    FrontierModel,
    GrantStatus,
    Inquiry,
    InquiryStatus,
    PartnerGrant,
    PartnerStatus,
    Recommendation,
    Releasability,
)
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.storage import UnitOfWork, new_id, utcnow

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


# -- models ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelDraft:
    name: str
    version: str
    planned_partner_release_at: dt.datetime
    planned_public_release_at: dt.datetime | None = None
    description: str = ""


PLAUSIBLE_YEARS = range(2000, 2201)


def _check_dates(partner: dt.datetime, public: dt.datetime | None) -> None:
    for value, pointer in ((partner, "/planned_partner_release_at"), (public, "/planned_public_release_at")):
        if value is not None and value.year not in PLAUSIBLE_YEARS:
            raise InvalidInput("a planned release falls between the years 2000 and 2200", pointer)
    if public is not None and public < partner:
        raise InvalidInput(
            "the planned public release comes no earlier than the planned release to trusted partners",
            "/planned_public_release_at",
        )


def register_model(uow: UnitOfWork, subject: Subject, draft: ModelDraft) -> tuple[FrontierModel, bool]:
    """Register a model under development for the subject's (AI developer)
    organization. The same name and version again returns the stored model
    (``created`` False) when nothing differs, else a conflict."""
    if subject.org_id is None:
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    marking = Marking(owner_org_id=subject.org_id, tlp=MODEL_MARKING_TLP, classification=MODEL_CLASSIFICATION)
    if not can(subject, Action.REGISTER_MODEL, Resource.marked("frontier_model", None, marking)):
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    org = uow.session.get(Organization, subject.org_id)
    if org is None or org.kind != OrgKind.AI_DEVELOPER:
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    _check_dates(draft.planned_partner_release_at, draft.planned_public_release_at)
    existing = uow.session.scalar(
        select(FrontierModel).where(
            FrontierModel.owner_org_id == subject.org_id,
            FrontierModel.name == draft.name,
            FrontierModel.version == draft.version,
        )
    )
    if existing is not None:
        same = (
            existing.description == draft.description
            and existing.planned_partner_release_at == draft.planned_partner_release_at
            and existing.planned_public_release_at == draft.planned_public_release_at
        )
        if not same:
            raise Conflict(
                f"model {draft.name} {draft.version} is registered already (id {existing.id}); "
                "change its details with PATCH",
                "/version",
            )
        return existing, False
    model = FrontierModel(
        name=draft.name,
        version=draft.version,
        description=draft.description,
        planned_partner_release_at=draft.planned_partner_release_at,
        planned_public_release_at=draft.planned_public_release_at,
        registered_by=subject.user_id,
    )
    model.set_marking(marking)
    uow.session.add(model)
    uow.flush()
    return model, True


@dataclass(frozen=True)
class ModelChanges:
    description: str | None = None
    planned_partner_release_at: dt.datetime | None = None
    planned_public_release_at: dt.datetime | None = None


def update_model(uow: UnitOfWork, subject: Subject, model_id: str, changes: ModelChanges) -> FrontierModel:
    """The developer changes its model's description or planned dates. Only the
    developer: the government has no action that moves a release."""
    model = _load_model(uow.session, subject, model_id)
    _require(subject, Action.REGISTER_MODEL, model_resource(model), "change")
    partner = changes.planned_partner_release_at or model.planned_partner_release_at
    public = changes.planned_public_release_at or model.planned_public_release_at
    _check_dates(partner, public)
    if changes.description is not None:
        model.description = changes.description
    earlier = partner < model.planned_partner_release_at
    model.planned_partner_release_at = partner
    model.planned_public_release_at = public
    if earlier:
        _fit_grants_to_release(uow, subject, model)
    uow.flush()
    return model


def _fit_grants_to_release(uow: UnitOfWork, subject: Subject, model: FrontierModel) -> None:
    """An access window ends no later than the planned release to trusted partners:
    when that moves earlier, every grant still running past it ends there (a grant
    that would start at or after it is withdrawn), each an audited change."""
    planned = model.planned_partner_release_at
    grants = uow.session.scalars(
        select(AccessGrant).where(
            AccessGrant.model_id == model.id,
            AccessGrant.withdrawn_at.is_(None),
            AccessGrant.ends_at > planned,
        )
    )
    for grant in grants:
        if grant.starts_at >= planned:
            grant.withdrawn_at = utcnow()
            grant.withdrawn_by = subject.user_id
            grant.withdrawal_reason = "the planned release to trusted partners moved before the window"
            uow.audit_as(grant, "frontier_grant.withdrawn", planned_partner_release_at=planned.isoformat())
        else:
            previous = grant.ends_at
            grant.ends_at = planned
            uow.audit_as(
                grant,
                "frontier_grant.shortened",
                previous_ends_at=previous.isoformat(),
                ends_at=planned.isoformat(),
            )


def get_model(session: Session, subject: Subject, model_id: str) -> FrontierModel:
    return _load_model(session, subject, model_id)


def list_models(session: Session, subject: Subject) -> list[FrontierModel]:
    models = session.scalars(select(FrontierModel).order_by(FrontierModel.created_at.desc()))
    return [m for m in models if _readable(subject, model_resource(m))]


def model_exists(session: Session, model_id: str) -> bool:
    """Whether a model with this id is registered (for other parts of the system;
    no subject: it says nothing about the model)."""
    return session.get(FrontierModel, model_id) is not None


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


# -- access grants ---------------------------------------------------------------


@dataclass(frozen=True)
class EndpointDraft:
    base_url: str
    api_key: str
    model_name: str


@dataclass(frozen=True)
class GrantDraft:
    model_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    terms: Mapping[str, str]
    endpoint: EndpointDraft
    need_to_know: Sequence[str] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class EndpointCredential:
    """A granted model's OpenAI-compatible endpoint, decrypted for one use."""

    base_url: str
    api_key: str = field(repr=False)
    model_name: str
    grant_id: str
    model_id: str


def _grant_context(grant_id: str) -> bytes:
    return f"frontier_grant:{grant_id}".encode()


def terms_digest(terms: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(terms), sort_keys=True).encode()).hexdigest()


def _check_terms(terms: Mapping[str, str]) -> dict[str, str]:
    for key in terms:
        if key not in TERM_KEYS:
            raise InvalidInput(
                f"unknown term {key!r}; the terms are: {', '.join(TERM_KEYS)}", f"/terms/{key}"
            )
    for key in TERM_KEYS:
        if not str(terms.get(key, "")).strip():
            raise InvalidInput(f"the {key.replace('_', ' ')} term is required", f"/terms/{key}")
    return {key: str(terms[key]) for key in TERM_KEYS}


def _check_endpoint(endpoint: EndpointDraft) -> None:
    parts = urlsplit(endpoint.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("the endpoint is an http(s) URL, e.g. https://host/v1", "/endpoint/base_url")
    if not endpoint.api_key:
        raise InvalidInput("the endpoint's API key is required", "/endpoint/api_key")
    if not endpoint.model_name.strip():
        raise InvalidInput("the model name the endpoint serves is required", "/endpoint/model_name")


def _resolve_need_to_know(
    session: Session, model: FrontierModel, names: Sequence[str], pointer: str
) -> list[str]:
    """User ids, by id or username, of users the policy would let use a granted
    endpoint of ``model`` once on its need-to-know list."""
    ids: list[str] = []
    for i, name in enumerate(names):
        user = session.get(User, name) or session.scalar(select(User).where(User.username == name))
        if user is None or not user.active:
            raise InvalidInput(f"no active user {name!r}", f"{pointer}/{i}")
        listed = Resource(kind="frontier_grant", markings=(model.marking,), need_to_know=frozenset({user.id}))
        if not can(access_services.subject_for(session, user), Action.USE_ENDPOINT, listed):
            raise InvalidInput(
                f"user {name!r} may not use a granted endpoint of this model: it needs a government "
                "role (evaluator, determination_authority, admin) and clearance for the model's marking",
                f"{pointer}/{i}",
            )
        if user.id not in ids:
            ids.append(user.id)
    return ids


def describe_span(span: dt.timedelta) -> str:
    """A duration in words, exactly: 30 days and 1 second is not "31 days"."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    if span.microseconds:
        parts.append(f"{span.microseconds} microsecond{'' if span.microseconds == 1 else 's'}")
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _check_window(
    model: FrontierModel, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> None:
    planned = model.planned_partner_release_at
    earliest = planned - ACCESS_LEAD
    if starts_at < earliest:
        raise InvalidInput(
            f"an access window starts no earlier than {ACCESS_LEAD.days} days before the planned release "
            f"to trusted partners ({planned.isoformat()}), so no earlier than {earliest.isoformat()}; "
            f"this one starts {describe_span(planned - starts_at)} before it",
            "/starts_at",
        )
    if ends_at > planned:
        raise InvalidInput(
            f"an access window ends no later than the planned release to trusted partners "
            f"({planned.isoformat()})",
            "/ends_at",
        )
    if ends_at <= starts_at:
        raise InvalidInput("the window ends after it starts", "/ends_at")
    if ends_at <= now:
        raise InvalidInput("the window would already be closed", "/ends_at")


def grant_access(
    uow: UnitOfWork,
    subject: Subject,
    envelope: Envelope,
    draft: GrantDraft,
    *,
    now: dt.datetime | None = None,
) -> tuple[AccessGrant, bool]:
    """The developer offers the government access to its model under terms it
    accepts by offering them. The same idempotency key (by default, a digest
    of the request) returns the stored grant (``created`` False)."""
    current = _now(now)
    model = _load_model(uow.session, subject, draft.model_id)
    _require(subject, Action.GRANT_ACCESS, model_resource(model))
    _check_window(model, draft.starts_at, draft.ends_at, current)
    terms = _check_terms(draft.terms)
    _check_endpoint(draft.endpoint)
    need_to_know = _resolve_need_to_know(uow.session, model, draft.need_to_know, "/need_to_know")
    key = (
        draft.idempotency_key
        or hashlib.sha256(
            json.dumps(
                [
                    draft.starts_at.isoformat(),
                    draft.ends_at.isoformat(),
                    terms,
                    draft.endpoint.base_url,
                    draft.endpoint.model_name,
                    hashlib.sha256(draft.endpoint.api_key.encode()).hexdigest(),
                    need_to_know,
                ],
                sort_keys=True,
            ).encode()
        ).hexdigest()
    )
    existing = uow.session.scalar(
        select(AccessGrant).where(AccessGrant.model_id == model.id, AccessGrant.idempotency_key == key)
    )
    if existing is not None:
        return existing, False
    grant = AccessGrant(
        id=new_id(),  # known before sealing: the endpoint is sealed to it
        model_id=model.id,
        idempotency_key=key,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        terms=terms,
        terms_sha256=terms_digest(terms),
        need_to_know=need_to_know,
        developer_accepted_by=subject.user_id,
        developer_accepted_at=current,
        endpoint_ciphertext=b"",
        endpoint_wrapped_key=b"",
    )
    secret = json.dumps(
        {
            "base_url": draft.endpoint.base_url,
            "api_key": draft.endpoint.api_key,
            "model_name": draft.endpoint.model_name,
        }
    ).encode()
    sealed = envelope.seal(secret, _grant_context(grant.id))
    grant.endpoint_ciphertext = sealed.ciphertext
    grant.endpoint_wrapped_key = sealed.wrapped_key
    uow.session.add(grant)
    uow.flush()
    return grant, True


def _load_grant(session: Session, subject: Subject, grant_id: str) -> tuple[AccessGrant, FrontierModel]:
    grant = session.get(AccessGrant, grant_id)
    model = session.get(FrontierModel, grant.model_id) if grant is not None else None
    if grant is None or model is None or not _readable(subject, grant_resource(grant, model)):
        raise NotFound("frontier_grant", grant_id)
    return grant, model


def get_grant(session: Session, subject: Subject, grant_id: str) -> AccessGrant:
    return _load_grant(session, subject, grant_id)[0]


def list_grants(session: Session, subject: Subject, model_id: str | None = None) -> list[AccessGrant]:
    query = select(AccessGrant, FrontierModel).join(FrontierModel, FrontierModel.id == AccessGrant.model_id)
    if model_id is not None:
        query = query.where(AccessGrant.model_id == model_id)
    rows = session.execute(query.order_by(AccessGrant.starts_at.desc()))
    return [g for g, m in rows if _readable(subject, grant_resource(g, m))]


def accept_grant(
    uow: UnitOfWork,
    subject: Subject,
    grant_id: str,
    terms_sha256: str,
    need_to_know: Sequence[str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> AccessGrant:
    """The government accepts the terms it was offered (named by their digest,
    so it accepts exactly what the developer offered) and names who in
    government needs to know."""
    current = _now(now)
    grant, model = _load_grant(uow.session, subject, grant_id)
    _require(subject, Action.ACCEPT_GRANT, grant_resource(grant, model))
    if terms_sha256 != grant.terms_sha256:
        raise Conflict("these are not the terms offered (their SHA-256 differs)", "/terms_sha256")
    status = grant.status_at(current)
    if status in (GrantStatus.WITHDRAWN, GrantStatus.ENDED):
        raise Conflict(f"the grant is {status.value}; there is nothing to accept", "/")
    if status is not GrantStatus.PROPOSED:
        # Accepted already: the same answer again changes nothing; another list is not ignored.
        if need_to_know is not None:
            wanted = _resolve_need_to_know(uow.session, model, need_to_know, "/need_to_know")
            if sorted(wanted) != sorted(grant.need_to_know):
                raise Conflict(
                    "the grant was accepted already with another need-to-know list; it is not changed "
                    "by accepting again",
                    "/need_to_know",
                )
        return grant
    if need_to_know is not None:
        grant.need_to_know = _resolve_need_to_know(uow.session, model, need_to_know, "/need_to_know")
    if not grant.need_to_know:
        raise InvalidInput("name at least one government user who needs to know", "/need_to_know")
    grant.government_accepted_by = subject.user_id
    grant.government_accepted_at = current
    uow.audit_as(grant, "frontier_grant.accepted", terms_sha256=terms_sha256)
    uow.flush()
    return grant


def withdraw_grant(
    uow: UnitOfWork, subject: Subject, grant_id: str, reason: str = "", *, now: dt.datetime | None = None
) -> AccessGrant:
    """The developer withdraws access, at any time; withdrawing again changes nothing."""
    grant, model = _load_grant(uow.session, subject, grant_id)
    _require(subject, Action.GRANT_ACCESS, grant_resource(grant, model), "withdraw")
    if grant.withdrawn_at is None:
        grant.withdrawn_at = _now(now)
        grant.withdrawn_by = subject.user_id
        grant.withdrawal_reason = reason
        uow.audit_as(grant, "frontier_grant.withdrawn")
        from clearinghouse.frontier.evaluation.services import stop_grant_campaigns

        stop_grant_campaigns(uow, grant.id, f"the grant was withdrawn: {reason}".rstrip(": "))
        uow.flush()
    return grant


def model_for_grant(
    session: Session, subject: Subject, grant_id: str, *, now: dt.datetime | None = None
) -> FrontierModel:
    """The model a grant gives access to, if the subject may read the grant and the
    grant can still be used (not withdrawn, not ended): work planned on a grant that
    can never open its endpoint is refused now, not failed later."""
    grant, model = _load_grant(session, subject, grant_id)
    status = grant.status_at(_now(now))
    if status in (GrantStatus.WITHDRAWN, GrantStatus.ENDED):
        raise Conflict(f"the grant is {status.value}: nothing can use it any more", "/grant_id")
    return model


def open_endpoint(
    uow: UnitOfWork,
    subject: Subject,
    grant_id: str,
    purpose: str,
    *,
    envelope: Envelope,
    now: dt.datetime | None = None,
) -> EndpointCredential:
    """The decrypted endpoint of an active grant, for a user on its need-to-know
    list. The use (who, why) is recorded in ``uow``'s ledger events: commit the
    unit of work before using the credential, so no use goes unrecorded."""
    grant, model = _load_grant(uow.session, subject, grant_id)
    _require(subject, Action.USE_ENDPOINT, grant_resource(grant, model))
    if not purpose.strip():
        raise InvalidInput("say what the endpoint is used for", "/purpose")
    status = grant.status_at(_now(now))
    if status is not GrantStatus.ACTIVE:
        raise Conflict(f"the grant is {status.value}, not active: its endpoint cannot be used", "/grant_id")
    sealed = Sealed(grant.endpoint_ciphertext, grant.endpoint_wrapped_key)
    secret = json.loads(envelope.open(sealed, _grant_context(grant.id)))
    uow.record(
        ENDPOINT_USED,
        "frontier_grant",
        grant.id,
        model_id=model.id,
        user_id=subject.user_id,
        purpose=purpose[:1000],
    )
    return EndpointCredential(
        base_url=secret["base_url"],
        api_key=secret["api_key"],
        model_name=secret["model_name"],
        grant_id=grant.id,
        model_id=model.id,
    )


@dataclass(frozen=True)
class EndpointUse:
    seq: int
    occurred_at: dt.datetime
    actor: str
    user_id: str | None
    purpose: str


def endpoint_uses(session: Session, subject: Subject, grant_id: str) -> list[EndpointUse]:
    """Every use of a grant's credential, from the ledger."""
    from clearinghouse.ledger import AuditEvent

    grant, _model = _load_grant(session, subject, grant_id)
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == ENDPOINT_USED,
            AuditEvent.object_type == "frontier_grant",
            AuditEvent.object_id == grant.id,
        )
        .order_by(AuditEvent.seq)
    )
    return [
        EndpointUse(
            e.seq, e.occurred_at, e.actor, e.detail.get("user_id"), _purpose_for(session, subject, e.detail)
        )
        for e in events
    ]


_CAMPAIGN_PURPOSE = re.compile(r"evaluation campaign ([0-9a-fA-F-]{36})")


def _purpose_for(session: Session, subject: Subject, detail: Mapping[str, Any]) -> str:
    """A use's purpose as the reader may see it: a campaign it may not read (its
    compartments, or a developer reading its grant's log) is named only as a campaign."""
    purpose = str(detail.get("purpose", ""))

    def shown(match: re.Match[str]) -> str:
        from clearinghouse.frontier.evaluation.services import get_campaign

        try:
            get_campaign(session, subject, match.group(1))
        except NotFound:
            return "evaluation campaign (not shown)"
        return match.group(0)

    return _CAMPAIGN_PURPOSE.sub(shown, purpose)


# -- designation policies ----------------------------------------------------------


@dataclass(frozen=True)
class PolicyDraft:
    name: str
    thresholds: Sequence[_cel.Threshold]
    marking: Marking
    description: str = ""


def define_policy(uow: UnitOfWork, subject: Subject, draft: PolicyDraft) -> tuple[DesignationPolicy, bool]:
    """Store the next version of a policy. Identical to the latest version of
    the same name: that version is returned (``created`` False)."""
    if not draft.thresholds:
        raise InvalidInput("a policy holds at least one threshold", "/thresholds")
    names: set[str] = set()
    for i, threshold in enumerate(draft.thresholds):
        if not threshold.name.strip() or threshold.name in names:
            raise InvalidInput("each threshold has a distinct, non-empty name", f"/thresholds/{i}/name")
        names.add(threshold.name)
        try:
            _cel.check_expression(threshold.expression)
        except _cel.ExpressionError as exc:
            raise InvalidInput(f"not a valid CEL expression: {exc}", f"/thresholds/{i}/expression") from None
    if not can(subject, Action.DEFINE_POLICY, Resource.marked("frontier_policy", None, draft.marking)):
        raise Forbidden(Action.DEFINE_POLICY, "frontier_policy")
    thresholds = [{"name": t.name, "expression": t.expression} for t in draft.thresholds]
    latest = uow.session.scalar(
        select(DesignationPolicy)
        .where(DesignationPolicy.name == draft.name)
        .order_by(DesignationPolicy.version.desc())
        .limit(1)
    )
    if (
        latest is not None
        and latest.thresholds == thresholds
        and latest.description == draft.description
        and latest.marking == draft.marking
    ):
        return latest, False
    policy = DesignationPolicy(
        name=draft.name,
        version=(latest.version + 1) if latest is not None else 1,
        description=draft.description,
        thresholds=thresholds,
        created_by=subject.user_id,
    )
    policy.set_marking(draft.marking)
    uow.session.add(policy)
    try:
        uow.flush()
    except IntegrityError:
        raise Conflict("another version of this policy was stored meanwhile; try again", "/name") from None
    return policy, True


def get_policy(session: Session, subject: Subject, policy_id: str) -> DesignationPolicy:
    policy = session.get(DesignationPolicy, policy_id)
    if policy is None or not _readable(subject, policy_resource(policy)):
        raise NotFound("frontier_policy", policy_id)
    return policy


def list_policies(session: Session, subject: Subject) -> list[DesignationPolicy]:
    query = select(DesignationPolicy).order_by(DesignationPolicy.name, DesignationPolicy.version.desc())
    return [p for p in session.scalars(query) if _readable(subject, policy_resource(p))]


def policy_thresholds(policy: DesignationPolicy) -> list[_cel.Threshold]:
    return [_cel.Threshold(t["name"], t["expression"]) for t in policy.thresholds]


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


# -- trusted partners ------------------------------------------------------------


@dataclass(frozen=True)
class PartnerDraft:
    model_id: str
    partner_org: str
    purpose: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    obligations: Sequence[str]


def propose_partner(uow: UnitOfWork, subject: Subject, draft: PartnerDraft) -> tuple[PartnerGrant, bool]:
    """One side (developer or government) proposes early access for a partner
    organization, agreeing to it by proposing; the other side agrees with
    :func:`agree_partner`. Only for a model whose covered determination was
    released to its developer. The same partner and start returns the stored one."""
    model = _load_model(uow.session, subject, draft.model_id)
    _require(subject, Action.APPROVE_PARTNER, model_resource(model))
    latest = _latest_determination(uow.session, model.id)
    if (
        latest is None
        or latest.outcome != Designation.COVERED
        or latest.releasability != Releasability.RELEASED
    ):
        raise Conflict(
            "trusted partners are selected for a model whose covered determination was released to "
            "its developer",
            "/model_id",
        )
    org = uow.session.get(Organization, draft.partner_org) or uow.session.scalar(
        select(Organization).where(Organization.name == draft.partner_org)
    )
    if org is None:
        raise InvalidInput(f"no organization {draft.partner_org!r}", "/partner_org")
    if org.id == model.owner_org_id:
        raise InvalidInput("the developer is not its own trusted partner", "/partner_org")
    if not draft.purpose.strip():
        raise InvalidInput("state the purpose of the early access", "/purpose")
    if draft.ends_at <= draft.starts_at:
        raise InvalidInput("the access ends after it starts", "/ends_at")
    if draft.ends_at <= utcnow():
        raise InvalidInput("the access would already have ended", "/ends_at")
    obligations = [o.strip() for o in draft.obligations]
    if not obligations or any(not o for o in obligations):
        raise InvalidInput("list the partner's obligations, none empty", "/obligations")
    existing = uow.session.scalar(
        select(PartnerGrant).where(
            PartnerGrant.model_id == model.id,
            PartnerGrant.partner_org_id == org.id,
            PartnerGrant.starts_at == draft.starts_at,
        )
    )
    if existing is not None:
        return existing, False
    now = utcnow()
    partner = PartnerGrant(
        model_id=model.id,
        partner_org_id=org.id,
        purpose=draft.purpose,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        obligations=obligations,
        proposed_by=subject.user_id,
    )
    _agree_side(partner, subject, model, now)
    uow.session.add(partner)
    uow.flush()
    return partner, True


def _agree_side(partner: PartnerGrant, subject: Subject, model: FrontierModel, now: dt.datetime) -> bool:
    # The developer's side is whoever may act for the owning developer organization.
    if can(subject, Action.REGISTER_MODEL, model_resource(model)):
        if partner.developer_agreed_at is not None:
            return False
        partner.developer_agreed_by, partner.developer_agreed_at = subject.user_id, now
    else:
        if partner.government_agreed_at is not None:
            return False
        partner.government_agreed_by, partner.government_agreed_at = subject.user_id, now
    return True


def _load_partner(session: Session, subject: Subject, partner_id: str) -> tuple[PartnerGrant, FrontierModel]:
    partner = session.get(PartnerGrant, partner_id)
    model = session.get(FrontierModel, partner.model_id) if partner is not None else None
    if partner is None or model is None or not _readable(subject, partner_resource(partner, model)):
        raise NotFound("frontier_partner_grant", partner_id)
    return partner, model


def get_partner(session: Session, subject: Subject, partner_id: str) -> PartnerGrant:
    return _load_partner(session, subject, partner_id)[0]


def list_partners(session: Session, subject: Subject, model_id: str | None = None) -> list[PartnerGrant]:
    query = select(PartnerGrant, FrontierModel).join(FrontierModel, FrontierModel.id == PartnerGrant.model_id)
    if model_id is not None:
        query = query.where(PartnerGrant.model_id == model_id)
    rows = session.execute(query.order_by(PartnerGrant.starts_at.desc()))
    return [p for p, m in rows if _readable(subject, partner_resource(p, m))]


def agree_partner(uow: UnitOfWork, subject: Subject, partner_id: str) -> PartnerGrant:
    """The subject's side agrees; agreeing again changes nothing."""
    partner, model = _load_partner(uow.session, subject, partner_id)
    _require(subject, Action.APPROVE_PARTNER, partner_resource(partner, model), "agree to")
    if partner.withdrawn_at is not None:
        raise Conflict("the partner grant was withdrawn", "/")
    if partner.ends_at <= utcnow():
        raise Conflict("the partner grant has ended; there is nothing to agree to", "/")
    if _agree_side(partner, subject, model, utcnow()):
        uow.audit_as(partner, "frontier_partner_grant.agreed")
        uow.flush()
    return partner


def withdraw_partner(uow: UnitOfWork, subject: Subject, partner_id: str) -> PartnerGrant:
    """Either side withdraws; withdrawing again changes nothing."""
    partner, model = _load_partner(uow.session, subject, partner_id)
    _require(subject, Action.APPROVE_PARTNER, partner_resource(partner, model), "withdraw")
    if partner.withdrawn_at is None:
        partner.withdrawn_at = utcnow()
        partner.withdrawn_by = subject.user_id
        uow.audit_as(partner, "frontier_partner_grant.withdrawn")
        uow.flush()
    return partner


def trusted_partner_agreed(
    session: Session, model_id: str, partner_org_id: str, at: dt.datetime | None = None
) -> bool:
    """Whether both sides agreed early access of ``partner_org_id`` to the model,
    not withdrawn, with ``at`` (default now) inside its dates."""
    when = _now(at)
    grants = session.scalars(
        select(PartnerGrant).where(
            PartnerGrant.model_id == model_id,
            PartnerGrant.partner_org_id == partner_org_id,
            PartnerGrant.withdrawn_at.is_(None),
            PartnerGrant.developer_agreed_at.is_not(None),
            PartnerGrant.government_agreed_at.is_not(None),
        )
    )
    return any(g.starts_at <= when < g.ends_at for g in grants)


# -- findings made with a model --------------------------------------------------


@dataclass(frozen=True)
class FindingsSummary:
    total: int
    validated: int
    rejected: int
    pending: int
    by_state: dict[str, int]
    version_unspecified: int
    visible_finding_ids: list[str]

    @property
    def validated_share(self) -> float | None:
        decided = self.validated + self.rejected
        return self.validated / decided if decided else None


def model_findings(session: Session, subject: Subject, model_id: str) -> FindingsSummary:
    """What was found with the model: findings whose ``generator.model`` names it
    (case-insensitive) and whose ``generator.model_version`` is its version or
    absent. Counts are given to whoever may read the model; the findings
    themselves only as far as the subject may read them."""
    from clearinghouse.access import visible

    model = _load_model(session, subject, model_id)
    wanted = model.name.lower()
    candidates = session.scalars(
        select(Finding).where(Finding.generator_key.contains(f"|{wanted}|", autoescape=True))
    )
    by_state: dict[str, int] = {}
    unspecified = 0
    matched: list[Finding] = []
    for finding in candidates:
        generator = finding.document.get("generator") or {}
        if str(generator.get("model") or "").lower() != wanted:
            continue
        version = generator.get("model_version")
        if version is None:
            unspecified += 1
        elif str(version).lower() != model.version.lower():
            continue
        matched.append(finding)
        by_state[finding.state] = by_state.get(finding.state, 0) + 1
    validated = by_state.get(FindingState.VALIDATED, 0)
    rejected = by_state.get(FindingState.REJECTED, 0)
    seen = visible(subject, matched, lambda f: Resource.marked("finding", f.id, f.marking))
    return FindingsSummary(
        total=len(matched),
        validated=validated,
        rejected=rejected,
        pending=len(matched) - validated - rejected,
        by_state=dict(sorted(by_state.items())),
        version_unspecified=unspecified,
        visible_finding_ids=[f.id for f in seen],
    )


# -- clocks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    kind: str  # "access_window" or "inquiry"
    object_id: str
    model_id: str
    model_name: str
    model_version: str
    status: str
    due_at: dt.datetime
    days_left: int  # whole days left; negative once overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def days_left(due: dt.datetime, now: dt.datetime) -> int:
    return math.floor((due - now).total_seconds() / 86400)


def clocks(
    session: Session, subject: Subject, *, within_days: int | None = None, now: dt.datetime | None = None
) -> list[Clock]:
    """Running clocks the subject may see, soonest due first: each access window
    not yet ended or withdrawn (due: its end) and each open inquiry (due: 30
    days after it was opened)."""
    current = _now(now)
    items: list[Clock] = []
    for grant, model in _rows(session, AccessGrant, AccessGrant.ends_at > current):
        status = grant.status_at(current)
        if status in (GrantStatus.WITHDRAWN, GrantStatus.ENDED):
            continue
        if _readable(subject, grant_resource(grant, model)):
            items.append(_clock("access_window", grant.id, model, status.value, grant.ends_at, current))
    for inquiry, model in _rows(session, Inquiry, Inquiry.status == InquiryStatus.OPEN):
        if _readable(subject, inquiry_resource(inquiry, model)):
            items.append(_clock("inquiry", inquiry.id, model, inquiry.status, inquiry.due_at, current))
    if within_days is not None:
        items = [c for c in items if c.days_left <= within_days]
    return sorted(items, key=lambda c: (c.due_at, c.object_id))


def _rows(session: Session, kind: Any, condition: Any) -> Iterable[tuple[Any, FrontierModel]]:
    query = (
        select(kind, FrontierModel).join(FrontierModel, FrontierModel.id == kind.model_id).where(condition)
    )
    for row in session.execute(query):
        yield row[0], row[1]


def _clock(
    kind: str, object_id: str, model: FrontierModel, status: str, due: dt.datetime, now: dt.datetime
) -> Clock:
    return Clock(kind, object_id, model.id, model.name, model.version, status, due, days_left(due, now))

"""Access grants: terms, need-to-know, the access window, accepting and withdrawing (which stops the
grant's campaigns), and the log of endpoint uses.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    NotFound,
    Resource,
    Subject,
    User,
    can,
)
from clearinghouse.access import services as access_services
from clearinghouse.envelope import Envelope
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier._endpoint import _grant_context, _load_grant
from clearinghouse.frontier._shared import (
    ACCESS_LEAD,
    ENDPOINT_USED,
    TERM_KEYS,
    _load_model,
    _now,
    _readable,
    _require,
    grant_resource,
    model_resource,
)
from clearinghouse.frontier.models import (
    AccessGrant,
    FrontierModel,
    GrantStatus,
)
from clearinghouse.storage import UnitOfWork, new_id

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

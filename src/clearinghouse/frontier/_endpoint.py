"""A grant's endpoint: the model a usable grant opens, and the decrypted credential for a user on its
need-to-know list (each use a ledger event).

Imports nothing from the evaluation part, which uses it to run campaigns against a grant.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    NotFound,
    Subject,
)
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier._shared import ENDPOINT_USED, _now, _readable, _require, grant_resource
from clearinghouse.frontier.models import (
    AccessGrant,
    FrontierModel,
    GrantStatus,
)
from clearinghouse.storage import UnitOfWork


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


def _load_grant(session: Session, subject: Subject, grant_id: str) -> tuple[AccessGrant, FrontierModel]:
    grant = session.get(AccessGrant, grant_id)
    model = session.get(FrontierModel, grant.model_id) if grant is not None else None
    if grant is None or model is None or not _readable(subject, grant_resource(grant, model)):
        raise NotFound("frontier_grant", grant_id)
    return grant, model


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

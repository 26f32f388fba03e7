"""HTTP routes of the coordination workflow: vendor threads, statuses and VEX,
messages, the disclosure clock, aliases, publishing and deadlines.

Every instant is given in UTC and in the viewer's local time: the ``tz`` query
parameter (an IANA name) or, without it, the time zone stored in the viewer's
notification preferences (UTC by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clearinghouse.access import TLP
from clearinghouse.coordination import _clock, _workflow
from clearinghouse.coordination._snapshot import record_to_json
from clearinghouse.coordination._vex import VexFormat
from clearinghouse.coordination.models import AdvisoryRevision, ThreadMessage, ThreadProduct, VendorThread
from clearinghouse.domain import ProductStatus, VexJustification
from clearinghouse.errors import InvalidInput
from clearinghouse.http_deps import SignedIn
from clearinghouse.notifications.services import user_timezone

router = APIRouter(tags=["coordination"])


def viewer_zone(
    context: SignedIn,
    tz: str | None = Query(
        None, max_length=64, description="IANA time zone for local times, e.g. Europe/Berlin"
    ),
) -> ZoneInfo:
    name = tz
    if name is None:
        with context.reading() as uow:
            name = user_timezone(uow.session, context.subject.user_id)
    try:
        return _clock.zone(name)
    except ValueError as exc:
        raise InvalidInput(str(exc), "/tz") from None


Zone = Annotated[ZoneInfo, Depends(viewer_zone)]


class Instant(BaseModel):
    utc: dt.datetime
    local: dt.datetime
    tz: str

    @classmethod
    def of(cls, when: dt.datetime | None, tz: ZoneInfo) -> Instant | None:
        if when is None:
            return None
        return cls(utc=when.astimezone(dt.UTC), local=when.astimezone(tz), tz=tz.key)


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purl: str | None = Field(None, max_length=1000)
    name: str | None = Field(None, max_length=500)
    version: str | None = Field(None, max_length=200)


class NotifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vendor: str = Field(min_length=1, max_length=200, description="The vendor organization's id or name")
    products: list[ProductIn] = Field(default_factory=list, max_length=500)
    brief: str | None = Field(None, max_length=20_000, description="What of the case the vendor is told")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: ProductIn
    status: ProductStatus
    justification: VexJustification | None = None
    fixed_versions: list[str] = Field(default_factory=list, max_length=100)
    impact_statement: str | None = Field(None, max_length=20_000)
    action_statement: str | None = Field(None, max_length=20_000)


class StatusesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statuses: list[StatusIn] = Field(min_length=1, max_length=1000)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=50_000)


class DisclosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    embargo_end: AwareDatetime | None = None
    clear_embargo: bool = False
    disclosure_days: int | None = Field(None, ge=1, le=_clock.MAX_DISCLOSURE_DAYS)
    exploited: bool | None = Field(None, description="Known to be exploited in the wild")
    summary: str | None = Field(None, max_length=2000)


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alias: str = Field(min_length=3, max_length=100)


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1, max_length=2000, description="What this revision changed")
    tlp: TLP = TLP.CLEAR
    sharing_group_ids: list[str] = Field(default_factory=list, max_length=50)
    lift_embargo: bool = False


class ProductOut(BaseModel):
    product_id: str
    product_name: str
    purl: str | None
    version: str | None
    status: str
    justification: str | None
    fixed_versions: list[str]
    impact_statement: str | None
    action_statement: str | None
    source: str
    updated_at: Instant | None

    @classmethod
    def of(cls, p: ThreadProduct, tz: ZoneInfo) -> ProductOut:
        return cls(
            product_id=p.product_id,
            product_name=p.product_name,
            purl=p.purl,
            version=p.version,
            status=p.status,
            justification=p.justification,
            fixed_versions=list(p.fixed_versions),
            impact_statement=p.impact_statement,
            action_statement=p.action_statement,
            source=p.source,
            updated_at=Instant.of(p.updated_at, tz),
        )


class MessageOut(BaseModel):
    id: str
    author_user_id: str | None
    author_org_id: str | None
    body: str
    created_at: Instant | None

    @classmethod
    def of(cls, m: ThreadMessage, tz: ZoneInfo) -> MessageOut:
        return cls(
            id=m.id,
            author_user_id=m.author_user_id,
            author_org_id=m.author_org_id,
            body=m.body,
            created_at=Instant.of(m.created_at, tz),
        )


class ThreadOut(BaseModel):
    id: str
    case_id: str
    vendor_org_id: str
    source: str
    title: str
    brief: str
    notified_at: Instant | None
    first_response_at: Instant | None
    response_due: Instant | None
    products: list[ProductOut]
    messages: list[MessageOut]

    @classmethod
    def of(cls, session: Session, t: VendorThread, tz: ZoneInfo) -> ThreadOut:
        return cls(
            id=t.id,
            case_id=t.case_id,
            vendor_org_id=t.vendor_org_id,
            source=t.source,
            title=t.brief_title,
            brief=t.brief,
            notified_at=Instant.of(t.notified_at, tz),
            first_response_at=Instant.of(t.first_response_at, tz),
            response_due=Instant.of(_clock.vendor_response_due(t.notified_at), tz),
            products=[ProductOut.of(p, tz) for p in _workflow.thread_products(session, t)],
            messages=[MessageOut.of(m, tz) for m in _workflow.thread_messages(session, t)],
        )


class CoordinationOut(BaseModel):
    case_id: str
    title: str
    validated: bool
    state: str
    aliases: list[str]
    disclosure_days: int
    first_vendor_contact_at: Instant | None
    exploited_since: Instant | None
    deadline: Instant | None
    embargo_end: Instant | None
    summary: str
    threads: list[ThreadOut]

    @classmethod
    def of(cls, session: Session, v: _workflow.CoordinationView, tz: ZoneInfo) -> CoordinationOut:
        return cls(
            case_id=v.case_id,
            title=v.title,
            validated=v.validated,
            state=v.state,
            aliases=v.aliases,
            disclosure_days=v.disclosure_days,
            first_vendor_contact_at=Instant.of(v.first_vendor_contact_at, tz),
            exploited_since=Instant.of(v.exploited_since, tz),
            deadline=Instant.of(v.deadline, tz),
            embargo_end=Instant.of(v.embargo_end, tz),
            summary=v.summary,
            threads=[ThreadOut.of(session, t, tz) for t in v.threads],
        )


class RevisionOut(BaseModel):
    id: str
    case_id: str
    number: int
    summary: str
    tlp: str
    published_at: Instant | None
    advisory_id: str

    @classmethod
    def of(cls, r: AdvisoryRevision, tz: ZoneInfo) -> RevisionOut:
        return cls(
            id=r.id,
            case_id=r.case_id,
            number=r.number,
            summary=r.summary,
            tlp=r.tlp,
            published_at=Instant.of(r.published_at, tz),
            advisory_id=str(r.record.get("id", "")),
        )


class DeadlineOut(BaseModel):
    case_id: str
    kind: str
    state: str
    due: Instant | None
    vendor_org_id: str | None
    thread_id: str | None


def _product(p: ProductIn) -> _workflow.ProductRef:
    return _workflow.ProductRef(name=p.name, purl=p.purl, version=p.version)


def _coordination(context: SignedIn, case_id: str, tz: ZoneInfo) -> CoordinationOut:
    with context.reading() as uow:
        view = _workflow.coordination_of(uow.session, context.subject, case_id)
        return CoordinationOut.of(uow.session, view, tz)


@router.get("/cases/{case_id}/coordination", summary="A case's coordination as the caller may see it")
def get_coordination(case_id: str, context: SignedIn, tz: Zone) -> CoordinationOut:
    return _coordination(context, case_id, tz)


@router.post("/cases/{case_id}/coordination/vendors", summary="Notify a vendor (idempotent per vendor)")
def notify_vendor(case_id: str, body: NotifyIn, context: SignedIn, tz: Zone) -> ThreadOut:
    with context.writing() as uow:
        thread, _ = _workflow.notify_vendor(
            uow, context.subject, case_id, body.vendor, [_product(p) for p in body.products], brief=body.brief
        )
        out = ThreadOut.of(uow.session, thread, tz)
        uow.commit()
    return out


@router.post(
    "/cases/{case_id}/coordination/vendors:from-matching",
    summary="Notify every software vendor whose registered products the case matches",
)
def notify_from_matching(case_id: str, context: SignedIn, tz: Zone) -> list[ThreadOut]:
    with context.writing() as uow:
        threads = _workflow.notify_from_matching(uow, context.subject, case_id)
        out = [ThreadOut.of(uow.session, t, tz) for t in threads]
        uow.commit()
    return out


@router.put("/cases/{case_id}/coordination/disclosure", summary="Embargo end, disclosure days, exploitation")
def set_disclosure(case_id: str, body: DisclosureIn, context: SignedIn, tz: Zone) -> CoordinationOut:
    change = _workflow.DisclosureChange(
        embargo_end=body.embargo_end,
        clear_embargo=body.clear_embargo,
        disclosure_days=body.disclosure_days,
        exploited=body.exploited,
        summary=body.summary,
    )
    with context.writing() as uow:
        _workflow.set_disclosure(uow, context.subject, case_id, change)
        uow.commit()
    return _coordination(context, case_id, tz)


@router.post("/cases/{case_id}/coordination/aliases", summary="Assign an alias (CVE, GHSA, ...)")
def assign_alias(case_id: str, body: AliasIn, context: SignedIn) -> dict[str, str]:
    with context.writing() as uow:
        row = _workflow.assign_alias(uow, context.subject, case_id, body.alias)
        out = {"alias": row.id, "case_id": row.case_id}
        uow.commit()
    return out


@router.post("/cases/{case_id}/coordination/publish", status_code=201, summary="Publish the next revision")
def publish(case_id: str, body: PublishIn, context: SignedIn, tz: Zone) -> RevisionOut:
    with context.writing() as uow:
        revision = _workflow.publish(
            uow,
            context.subject,
            case_id,
            body.summary,
            tlp=body.tlp,
            sharing_group_ids=body.sharing_group_ids,
            lift_embargo=body.lift_embargo,
        )
        out = RevisionOut.of(revision, tz)
        uow.commit()
    return out


@router.get("/cases/{case_id}/coordination/revisions", summary="The advisory's revision history")
def revisions(case_id: str, context: SignedIn, tz: Zone) -> list[RevisionOut]:
    with context.reading() as uow:
        return [RevisionOut.of(r, tz) for r in _workflow.revisions_of(uow.session, context.subject, case_id)]


@router.get(
    "/cases/{case_id}/coordination/advisory",
    summary="The advisory record: latest published revision, else the draft (case readers)",
)
def advisory(case_id: str, context: SignedIn) -> dict[str, Any]:
    with context.reading() as uow:
        return record_to_json(_workflow.record_for_case(uow.session, context.subject, case_id))


@router.get("/coordination/threads", summary="The vendor threads the caller may see")
def list_threads(
    context: SignedIn, tz: Zone, case_id: str | None = Query(None, max_length=36)
) -> list[ThreadOut]:
    with context.reading() as uow:
        threads = _workflow.visible_threads(uow.session, context.subject, case_id)
        return [ThreadOut.of(uow.session, t, tz) for t in threads]


@router.get("/coordination/threads/{thread_id}", summary="One vendor thread")
def get_thread(thread_id: str, context: SignedIn, tz: Zone) -> ThreadOut:
    with context.reading() as uow:
        return ThreadOut.of(uow.session, _workflow.get_thread(uow.session, context.subject, thread_id), tz)


@router.post("/coordination/threads/{thread_id}/statuses", summary="Set product statuses on a thread")
def set_statuses(thread_id: str, body: StatusesIn, context: SignedIn, tz: Zone) -> ThreadOut:
    updates = [
        _workflow.StatusUpdate(
            product=_product(s.product),
            status=s.status,
            justification=s.justification,
            fixed_versions=tuple(s.fixed_versions),
            impact_statement=s.impact_statement,
            action_statement=s.action_statement,
        )
        for s in body.statuses
    ]
    with context.writing() as uow:
        _workflow.set_statuses(uow, context.subject, thread_id, updates)
        uow.commit()
    return get_thread(thread_id, context, tz)


@router.post(
    "/coordination/threads/{thread_id}/vex",
    summary="Answer with a VEX document (CycloneDX VEX JSON, OpenVEX or CSAF 2.0 VEX)",
)
def upload_vex(
    thread_id: str,
    context: SignedIn,
    tz: Zone,
    document: Annotated[dict[str, Any], Body(description="The VEX document as JSON")],
    format: Annotated[VexFormat | None, Query(description="Default: detected from the document")] = None,
) -> ThreadOut:
    with context.writing() as uow:
        _workflow.apply_vex(uow, context.subject, thread_id, document, format)
        uow.commit()
    return get_thread(thread_id, context, tz)


@router.post("/coordination/threads/{thread_id}/messages", status_code=201, summary="Post a message")
def post_message(thread_id: str, body: MessageIn, context: SignedIn, tz: Zone) -> MessageOut:
    with context.writing() as uow:
        message = _workflow.post_message(uow, context.subject, thread_id, body.body)
        out = MessageOut.of(message, tz)
        uow.commit()
    return out


@router.get(
    "/coordination/deadlines",
    summary="Disclosure deadlines, embargo ends and vendor response SLAs: upcoming, due soon, breached",
)
def deadlines(
    context: SignedIn,
    tz: Zone,
    state: Annotated[
        _clock.DeadlineState | None, Query(description="Only this state (breached: the SLA breaches)")
    ] = None,
) -> list[DeadlineOut]:
    with context.reading() as uow:
        items = _workflow.deadlines(uow.session, context.subject)
    return [
        DeadlineOut(
            case_id=i.case_id,
            kind=i.kind.value,
            state=i.state.value,
            due=Instant.of(i.due_at, tz),
            vendor_org_id=i.vendor_org_id,
            thread_id=i.thread_id,
        )
        for i in items
        if state is None or i.state is state
    ]

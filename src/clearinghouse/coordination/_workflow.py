"""Coordinating a validated case with its vendors, and publishing its advisory.

* A **vendor thread** is one vendor organization's part of a case, marked
  TLP:AMBER+STRICT for that organization: the vendor and clearinghouse staff
  read it, nobody else (another vendor gets 404). Threads are opened from the
  case's stored matches (assets owned by ``software_vendor`` organizations) or
  by a coordinator; opening one is idempotent (one thread per case and vendor).
* Each thread holds the vendor's **status per product**, created ``unknown``
  (silence is never ``not_affected``); ``not_affected`` needs a VEX
  justification and ``fixed`` the fixed versions. Vendors answer per product or
  with a VEX document (``_vex``). Every change is audited with its old and new
  status.
* The case's **disclosure clock** (``_clock``): deadline after first contact,
  earlier when exploited or in KEV; an embargo end; aliases.
* **Publishing** snapshots the case as an ``AdvisoryRecord`` into a new
  revision (1, 2, ...) with its summary and the TLP chosen at publication.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Action, Marking, NotFound, Resource, Subject, authorize, can, visible
from clearinghouse.access.models import Organization
from clearinghouse.access.services import find_organization
from clearinghouse.coordination import _clock
from clearinghouse.coordination._aliases import (
    ALIAS,
    RECORD_PREFIX,
    aliases_of,
    canonical_alias,
    case_id_for_alias,
)
from clearinghouse.coordination._snapshot import record_from_json, record_to_json
from clearinghouse.coordination._vex import VexFormat, VexStatement, detect, parse, split_purl
from clearinghouse.coordination.models import (
    AdvisoryRevision,
    CaseAlias,
    CaseCoordination,
    CoordinationState,
    ThreadMessage,
    ThreadProduct,
    VendorThread,
)
from clearinghouse.domain import AdvisoryRecord, ProductStatus, VexJustification
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.notifications import Event, EventKind, emit
from clearinghouse.storage import UnitOfWork, utcnow
from clearinghouse.triage.models import Case
from clearinghouse.triage.services import case_resource

REMINDER_JOB = "coordination.reminder"
DISTRIBUTE_JOB = "sharing.distribute"  # ``sharing._distribute``


def thread_resource(thread: VendorThread) -> Resource:
    return Resource.marked("vendor_thread", thread.id, thread.marking)


def revision_resource(revision: AdvisoryRevision) -> Resource:
    return Resource.marked("advisory", revision.id, revision.marking)


# -- reading a case ----------------------------------------------------------------


def resolve_case_id(session: Session, case_id_or_alias: str) -> str | None:
    """The case a case id, an advisory id (``CH-<case>``) or an alias names."""
    if session.get(Case, case_id_or_alias) is not None:
        return case_id_or_alias
    if case_id_or_alias.startswith(RECORD_PREFIX):
        inner = case_id_or_alias.removeprefix(RECORD_PREFIX)
        if session.get(Case, inner) is not None:
            return inner
    return case_id_for_alias(session, case_id_or_alias)


def is_validated(session: Session, case_id: str) -> bool:
    found = session.scalar(
        select(Finding.id).where(Finding.case_id == case_id, Finding.state == FindingState.VALIDATED).limit(1)
    )
    return found is not None


def _readable_case(session: Session, subject: Subject, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    authorize(subject, Action.READ, case_resource(case))
    return case


def _coordinated_case(session: Session, subject: Subject, case_id: str, action: Action) -> Case:
    case = _readable_case(session, subject, case_id)
    authorize(subject, action, case_resource(case))
    if not is_validated(session, case.id):
        raise Conflict("only a validated case is coordinated: validate one of its findings first", "/case_id")
    return case


def _ensure_coordination(uow: UnitOfWork, case: Case) -> CaseCoordination:
    row = uow.session.get(CaseCoordination, case.id)
    if row is None:
        row = CaseCoordination(id=case.id, disclosure_days=_clock.DEFAULT_DISCLOSURE_DAYS, summary="")
        uow.session.add(row)
        # The validated findings' own aliases (CVE, GHSA, ...) name the case from now on.
        for finding in _validated_findings(uow.session, case.id):
            for alias in finding.document.get("aliases", []):
                key = canonical_alias(str(alias))
                if ALIAS.match(key) and uow.session.get(CaseAlias, key) is None:
                    uow.session.add(CaseAlias(id=key, case_id=case.id))
        uow.flush()
    return row


def _validated_findings(session: Session, case_id: str) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.case_id == case_id, Finding.state == FindingState.VALIDATED)
            .order_by(Finding.received_at, Finding.id)
        )
    )


# -- vendor threads ------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRef:
    name: str | None = None
    purl: str | None = None
    version: str | None = None


def _product_key(ref: ProductRef, pointer: str) -> tuple[str, str, str | None, str | None]:
    """(product id, name, purl without version, version) of a product reference."""
    if ref.purl:
        try:
            base, version = split_purl(ref.purl)
        except ValueError as exc:
            raise InvalidInput(f"not a valid purl: {exc}", f"{pointer}/purl") from None
        return base, ref.name or base, base, ref.version or version
    if not ref.name or not ref.name.strip():
        raise InvalidInput("a product has a purl or a name", f"{pointer}/name")
    name = ref.name.strip()
    return name, name, None, ref.version


def _brief(session: Session, case: Case) -> str:
    findings = _validated_findings(session, case.id)
    lines = [case.title, "", f"Package: {case.purl}"]
    if case.cwe:
        lines.append(f"Weakness: {', '.join(case.cwe)}")
    if findings:
        description = findings[0].description.strip()
        if description:
            lines += ["", description[:5000]]
    return "\n".join(lines)


def notify_vendor(
    uow: UnitOfWork,
    subject: Subject,
    case_id: str,
    vendor: str,
    products: Sequence[ProductRef] = (),
    *,
    source: str = "coordinator",
    brief: str | None = None,
) -> tuple[VendorThread, bool]:
    """Open (or extend) the vendor's thread on a validated case; (thread, created)."""
    session = uow.session
    case = _coordinated_case(session, subject, case_id, Action.COORDINATE)
    org = find_organization(session, vendor)
    if org is None:
        raise InvalidInput(f"no organization {vendor!r}", "/vendor")
    for i, ref in enumerate(products):
        _product_key(ref, f"/products/{i}")  # refuse a bad product before anything changes
    coordination = _ensure_coordination(uow, case)
    thread = session.scalar(
        select(VendorThread).where(VendorThread.case_id == case.id, VendorThread.vendor_org_id == org.id)
    )
    created = thread is None
    now = utcnow()
    if thread is None:
        thread = VendorThread(
            case_id=case.id,
            vendor_org_id=org.id,
            source=source,
            brief_title=case.title,
            brief=brief if brief is not None else _brief(session, case),
            notified_at=now,
            notified_by=subject.user_id,
        )
        thread.set_marking(Marking(owner_org_id=org.id, tlp=TLP.AMBER_STRICT))
        session.add(thread)
        uow.flush()
    elif brief is not None:
        thread.brief = brief
    for i, ref in enumerate(products):
        _product_row(uow, thread, ref, f"/products/{i}", subject)
    if coordination.first_vendor_contact_at is None:
        coordination.first_vendor_contact_at = now
    uow.flush()
    if created:
        uow.audit_as(thread, "vendor_thread.notified", vendor_org_id=org.id, source=source)
        severity, ssvc = event_labels(session, subject, case)
        emit(
            uow,
            Event(
                kind=EventKind.VENDOR_NOTIFIED,
                title=f"Vulnerability report for {org.name}: {case.title}",
                resource=thread_resource(thread),
                case_id=case.id,
                severity=severity,
                ssvc=ssvc,
                payload={"thread_id": thread.id, "vendor_org_id": org.id, "vendor": org.name},
            ),
        )
        _queue_reminders(uow, case.id, coordination)
    return thread, created


def _product_row(
    uow: UnitOfWork, thread: VendorThread, ref: ProductRef, pointer: str, subject: Subject
) -> ThreadProduct:
    product_id, name, purl, version = _product_key(ref, pointer)
    row = uow.session.scalar(
        select(ThreadProduct).where(
            ThreadProduct.thread_id == thread.id, ThreadProduct.product_id == product_id
        )
    )
    if row is None:
        row = ThreadProduct(
            thread_id=thread.id,
            product_id=product_id,
            product_name=name,
            purl=purl,
            version=version,
            status=ProductStatus.UNKNOWN,
            fixed_versions=[],
            updated_by=subject.user_id,
        )
        uow.session.add(row)
        uow.flush()
    return row


def notify_from_matching(uow: UnitOfWork, subject: Subject, case_id: str) -> list[VendorThread]:
    """Open a thread for every software vendor whose registered products the case matches."""
    from clearinghouse.access import OrgKind
    from clearinghouse.coordination._priority import matched_products

    session = uow.session
    case = _coordinated_case(session, subject, case_id, Action.COORDINATE)
    by_vendor: dict[str, list[ProductRef]] = {}
    for product in matched_products(session, subject, case.id):
        org = session.get(Organization, product.vendor_org_id)
        if org is None or org.kind != OrgKind.SOFTWARE_VENDOR:
            continue
        by_vendor.setdefault(org.id, []).append(
            ProductRef(name=product.name, purl=product.purl, version=product.version)
        )
    threads = []
    for org_id, products in sorted(by_vendor.items()):
        thread, _ = notify_vendor(uow, subject, case.id, org_id, products, source="matching")
        threads.append(thread)
    return threads


def get_thread(session: Session, subject: Subject, thread_id: str) -> VendorThread:
    thread = session.get(VendorThread, thread_id)
    if thread is None:
        raise NotFound("vendor_thread", thread_id)
    authorize(subject, Action.READ, thread_resource(thread))
    return thread


def case_threads(session: Session, subject: Subject, case_id: str) -> list[VendorThread]:
    rows = session.scalars(
        select(VendorThread)
        .where(VendorThread.case_id == case_id)
        .order_by(VendorThread.notified_at, VendorThread.id)
    )
    return list(visible(subject, rows, thread_resource))


def visible_threads(session: Session, subject: Subject, case_id: str | None = None) -> list[VendorThread]:
    """Every thread the subject may read (a vendor's inbox; staff see all), newest first."""
    query = select(VendorThread).order_by(VendorThread.notified_at.desc(), VendorThread.id)
    if case_id is not None:
        query = query.where(VendorThread.case_id == case_id)
    return list(visible(subject, session.scalars(query.limit(10_000)), thread_resource))


def thread_products(session: Session, thread: VendorThread) -> list[ThreadProduct]:
    return list(
        session.scalars(
            select(ThreadProduct)
            .where(ThreadProduct.thread_id == thread.id)
            .order_by(ThreadProduct.product_id)
        )
    )


def thread_messages(session: Session, thread: VendorThread) -> list[ThreadMessage]:
    return list(
        session.scalars(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id == thread.id)
            .order_by(ThreadMessage.created_at, ThreadMessage.id)
        )
    )


def post_message(uow: UnitOfWork, subject: Subject, thread_id: str, body: str) -> ThreadMessage:
    thread = get_thread(uow.session, subject, thread_id)
    authorize(subject, Action.VENDOR_RESPOND, thread_resource(thread))
    text = body.strip()
    if not text or len(text) > 50_000:
        raise InvalidInput("a message is 1-50000 characters", "/body")
    message = ThreadMessage(
        thread_id=thread.id, author_user_id=subject.user_id, author_org_id=subject.org_id, body=text
    )
    uow.session.add(message)
    _responded(thread, subject)
    uow.flush()
    return message


def _responded(thread: VendorThread, subject: Subject) -> None:
    if thread.first_response_at is None and subject.org_id == thread.vendor_org_id:
        thread.first_response_at = utcnow()


# -- statuses ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusUpdate:
    product: ProductRef
    status: ProductStatus
    justification: VexJustification | None = None
    fixed_versions: tuple[str, ...] = ()
    impact_statement: str | None = None
    action_statement: str | None = None


def _check_update(update: StatusUpdate, pointer: str) -> None:
    if update.status is ProductStatus.NOT_AFFECTED and update.justification is None:
        raise InvalidInput("not_affected needs a VEX justification", f"{pointer}/justification")
    if update.status is not ProductStatus.NOT_AFFECTED and update.justification is not None:
        raise InvalidInput("a justification is given only for not_affected", f"{pointer}/justification")
    if update.status is ProductStatus.FIXED and not [v for v in update.fixed_versions if v.strip()]:
        raise InvalidInput("fixed needs the fixed versions", f"{pointer}/fixed_versions")
    if update.status is not ProductStatus.FIXED and update.fixed_versions:
        raise InvalidInput("fixed versions are given only for fixed", f"{pointer}/fixed_versions")


def set_statuses(
    uow: UnitOfWork,
    subject: Subject,
    thread_id: str,
    updates: Sequence[StatusUpdate],
    *,
    source: str = "api",
    pointer: str = "/statuses",
) -> list[ThreadProduct]:
    """Record the vendor's status for each product; all or nothing (a bad item names its pointer)."""
    session = uow.session
    thread = get_thread(session, subject, thread_id)
    authorize(subject, Action.VENDOR_RESPOND, thread_resource(thread))
    if not updates:
        raise InvalidInput("give at least one product status", pointer)
    for i, update in enumerate(updates):
        _check_update(update, f"{pointer}/{i}")
        _product_key(update.product, f"{pointer}/{i}/product")
    case = session.get(Case, thread.case_id)
    assert case is not None
    changed: list[ThreadProduct] = []
    for i, update in enumerate(updates):
        row = _product_row(uow, thread, update.product, f"{pointer}/{i}/product", subject)
        before = (row.status, row.justification, list(row.fixed_versions))
        after = (
            update.status.value,
            update.justification.value if update.justification else None,
            sorted({v.strip() for v in update.fixed_versions}),
        )
        if before == after and (row.impact_statement, row.action_statement) == (
            update.impact_statement,
            update.action_statement,
        ):
            changed.append(row)
            continue
        row.status, row.justification, row.fixed_versions = after
        row.impact_statement = update.impact_statement
        row.action_statement = update.action_statement
        row.source = source
        row.updated_by = subject.user_id
        row.updated_at = utcnow()
        uow.audit_as(
            row,
            "vendor_thread_product.status_changed",
            previous=before[0],
            status=row.status,
            fixed_versions=row.fixed_versions,
            source=source,
        )
        changed.append(row)
        severity, ssvc = event_labels(session, subject, case)
        emit(
            uow,
            Event(
                kind=EventKind.STATUS_CHANGED,
                title=f"{row.product_name}: {before[0]} -> {row.status} ({case.title})",
                resource=thread_resource(thread),
                case_id=case.id,
                severity=severity,
                ssvc=ssvc,
                payload={
                    "thread_id": thread.id,
                    "vendor_org_id": thread.vendor_org_id,
                    "product_id": row.product_id,
                    "previous": before[0],
                    "status": row.status,
                    "fixed_versions": ", ".join(row.fixed_versions),
                },
            ),
        )
    _responded(thread, subject)
    uow.flush()
    return changed


def case_ids_of(session: Session, case: Case) -> set[str]:
    """Every name a VEX document may use for the case: its id, advisory id and aliases."""
    names = {case.id.upper(), f"{RECORD_PREFIX}{case.id}".upper()}
    names |= {a.upper() for a in aliases_of(session, case.id)}
    for finding in _validated_findings(session, case.id):
        names |= {str(a).upper() for a in finding.document.get("aliases", [])}
    return names


def apply_vex(
    uow: UnitOfWork,
    subject: Subject,
    thread_id: str,
    document: bytes | str | dict[str, Any],
    fmt: VexFormat | None = None,
) -> list[ThreadProduct]:
    """Read a vendor's VEX document and record its statements about this case on the thread.

    Statements about other vulnerabilities are refused (422 naming the statement):
    a document answers for this case only, under any of its names.
    """
    thread = get_thread(uow.session, subject, thread_id)
    authorize(subject, Action.VENDOR_RESPOND, thread_resource(thread))
    statements = parse(document, fmt)
    case = uow.session.get(Case, thread.case_id)
    assert case is not None
    names = case_ids_of(uow.session, case)
    for st in statements:
        if not {v.upper() for v in st.vulnerabilities} & names:
            raise InvalidInput(
                f"this statement is about {', '.join(st.vulnerabilities)}, not this case "
                f"(known as {', '.join(sorted(names))})",
                st.pointer,
            )
    if fmt is None:
        fmt = detect(document if isinstance(document, dict) else json.loads(document))
    updates = [_update_of(st) for st in statements]
    return set_statuses(uow, subject, thread.id, updates, source=fmt.value, pointer="")


def _update_of(st: VexStatement) -> StatusUpdate:
    return StatusUpdate(
        product=ProductRef(
            name=st.product_name,
            purl=st.purl,
            version=None if st.status is ProductStatus.FIXED else st.version,
        ),
        status=st.status,
        justification=st.justification,
        fixed_versions=st.fixed_versions,
        impact_statement=st.impact_statement,
        action_statement=st.action_statement,
    )


# -- disclosure ------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureChange:
    embargo_end: dt.datetime | None = None
    clear_embargo: bool = False
    disclosure_days: int | None = None
    exploited: bool | None = None
    summary: str | None = None


def set_disclosure(
    uow: UnitOfWork, subject: Subject, case_id: str, change: DisclosureChange
) -> CaseCoordination:
    case = _coordinated_case(uow.session, subject, case_id, Action.COORDINATE)
    row = _ensure_coordination(uow, case)
    if change.embargo_end is not None:
        if change.embargo_end.tzinfo is None:
            raise InvalidInput("the embargo end is an instant with its UTC offset", "/embargo_end")
        row.embargo_end = change.embargo_end.astimezone(dt.UTC)
    elif change.clear_embargo:
        row.embargo_end = None
    if change.disclosure_days is not None:
        if not 1 <= change.disclosure_days <= _clock.MAX_DISCLOSURE_DAYS:
            raise InvalidInput(f"1-{_clock.MAX_DISCLOSURE_DAYS} days", "/disclosure_days")
        row.disclosure_days = change.disclosure_days
    if change.exploited is not None:
        row.exploited_since = (row.exploited_since or utcnow()) if change.exploited else None
    if change.summary is not None:
        row.summary = change.summary.strip()
    uow.audit_as(row, "case_coordination.disclosure_set")
    uow.flush()
    _queue_reminders(uow, case.id, row)
    return row


def effective_exploited_since(
    session: Session, subject: Subject, row: CaseCoordination
) -> dt.datetime | None:
    """When exploitation became known: the coordinator's word, or the KEV entry's date."""
    candidates = [t for t in (row.exploited_since, kev_added(session, subject, row.id)) if t is not None]
    return min(candidates) if candidates else None


def kev_added(session: Session, subject: Subject, case_id: str) -> dt.datetime | None:
    from clearinghouse.coordination._priority import facts

    try:
        return facts(session, subject, case_id).kev_added
    except NotFound:
        return None


def deadline_of(session: Session, subject: Subject, row: CaseCoordination) -> dt.datetime | None:
    return _clock.disclosure_deadline(
        row.first_vendor_contact_at, row.disclosure_days, effective_exploited_since(session, subject, row)
    )


def _queue_reminders(uow: UnitOfWork, case_id: str, row: CaseCoordination) -> None:
    now = utcnow()
    dues = [
        d
        for d in (
            row.embargo_end,
            _clock.disclosure_deadline(row.first_vendor_contact_at, row.disclosure_days, row.exploited_since),
        )
        if d
    ]
    for due in dues:
        for days, at in _clock.reminder_times(due):
            if at > now:
                uow.enqueue(
                    REMINDER_JOB,
                    {"case_id": case_id, "due_at": due.isoformat(), "days": days},
                    idempotency_key=f"reminder:{case_id}:{due.isoformat()}:{days}",
                    run_after=at,
                )


def send_reminder(uow: UnitOfWork, subject: Subject, case_id: str, due_at: str, days: int) -> bool:
    """A reminder job: emit a reminder if the deadline it was queued for still stands."""
    session = uow.session
    row = session.get(CaseCoordination, case_id)
    case = session.get(Case, case_id)
    if row is None or case is None or row.state == CoordinationState.PUBLISHED:
        return False
    due = dt.datetime.fromisoformat(due_at)
    current = {d for d in (row.embargo_end, deadline_of(session, subject, row)) if d}
    if due not in current:
        return False
    kind = "embargo end" if due == row.embargo_end else "disclosure deadline"
    threads = list(session.scalars(select(VendorThread).where(VendorThread.case_id == case_id)))
    markings = tuple(t.marking for t in threads) or (case.marking,)
    severity, ssvc = event_labels(session, subject, case)
    emit(
        uow,
        Event(
            kind=EventKind.REMINDER,
            title=f"{kind.capitalize()} in {days} day{'s' if days != 1 else ''}: {case.title}",
            # The case's staff and each notified vendor hear of it.
            resource=Resource(kind="case", id=case.id, any_of=(case.marking, *markings)),
            case_id=case.id,
            severity=severity,
            ssvc=ssvc,
            payload={"deadline": kind, "due_at": due.isoformat(), "days_left": days},
        ),
    )
    return True


@dataclass(frozen=True)
class CoordinationView:
    case_id: str
    title: str
    validated: bool
    state: str
    aliases: list[str]
    first_vendor_contact_at: dt.datetime | None
    disclosure_days: int
    exploited_since: dt.datetime | None
    deadline: dt.datetime | None
    embargo_end: dt.datetime | None
    summary: str
    full: bool  # the subject reads the case itself (staff), not only its own threads
    threads: list[VendorThread] = field(default_factory=list)

    @property
    def deadline_basis(self) -> str | None:
        """The clock that set ``deadline``, in words (90 days after contact, or 7 after exploitation)."""
        return _clock.deadline_basis(self.first_vendor_contact_at, self.disclosure_days, self.exploited_since)


def coordination_of(session: Session, subject: Subject, case_id: str) -> CoordinationView:
    """What the subject may see of a case's coordination: all of it for those who
    read the case; for a vendor, its own threads and the case's clock. Anyone
    else gets NotFound, as for a missing case."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    full = can(subject, Action.READ, case_resource(case))
    threads = case_threads(session, subject, case.id)
    if not full and not threads:
        raise NotFound("case", case_id)
    row = session.get(CaseCoordination, case.id)
    title = case.title if full else threads[0].brief_title
    if row is None:
        return CoordinationView(
            case.id,
            title,
            is_validated(session, case.id),
            CoordinationState.OPEN,
            aliases_of(session, case.id),
            None,
            _clock.DEFAULT_DISCLOSURE_DAYS,
            None,
            None,
            None,
            "",
            full,
            threads,
        )
    return CoordinationView(
        case_id=case.id,
        title=title,
        validated=is_validated(session, case.id),
        state=row.state,
        aliases=aliases_of(session, case.id),
        first_vendor_contact_at=row.first_vendor_contact_at,
        disclosure_days=row.disclosure_days,
        exploited_since=effective_exploited_since(session, subject, row),
        deadline=deadline_of(session, subject, row),
        embargo_end=row.embargo_end,
        summary=row.summary if full else "",
        full=full,
        threads=threads,
    )


def deadlines(
    session: Session, subject: Subject, *, now: dt.datetime | None = None, include_published: bool = False
) -> list[_clock.DeadlineItem]:
    """Every deadline the subject may see, soonest first: disclosure deadlines and
    embargo ends of open cases, and vendors' first-response SLAs. Each is
    upcoming, in its reminder window, or breached."""
    now = now or utcnow()
    items: list[_clock.DeadlineItem] = []
    rows = session.scalars(select(CaseCoordination).order_by(CaseCoordination.id))
    for row in rows:
        if row.state == CoordinationState.PUBLISHED and not include_published:
            continue
        case = session.get(Case, row.id)
        if case is None:
            continue
        full = can(subject, Action.READ, case_resource(case))
        threads = case_threads(session, subject, case.id)
        if not full and not threads:
            continue
        for kind, due in (
            (_clock.DeadlineKind.DISCLOSURE, deadline_of(session, subject, row)),
            (_clock.DeadlineKind.EMBARGO, row.embargo_end),
        ):
            if due is not None:
                items.append(_clock.DeadlineItem(case.id, kind, due, _clock.state_of(due, now)))
        for thread in threads:
            if thread.first_response_at is None:
                due = _clock.vendor_response_due(thread.notified_at)
                items.append(
                    _clock.DeadlineItem(
                        case.id,
                        _clock.DeadlineKind.VENDOR_RESPONSE,
                        due,
                        _clock.state_of(due, now),
                        vendor_org_id=thread.vendor_org_id,
                        thread_id=thread.id,
                    )
                )
    return sorted(items, key=lambda item: (item.due_at, item.case_id, item.kind))


def assign_alias(uow: UnitOfWork, subject: Subject, case_id: str, alias: str) -> CaseAlias:
    """Give the case an alias (CVE, GHSA, ...); idempotent; an alias names one case only."""
    case = _coordinated_case(uow.session, subject, case_id, Action.COORDINATE)
    key = canonical_alias(alias)
    if not ALIAS.match(key):
        raise InvalidInput("an alias looks like CVE-2026-12345, GHSA-xxxx-xxxx-xxxx or PREFIX-id", "/alias")
    _ensure_coordination(uow, case)
    existing = uow.session.get(CaseAlias, key)
    if existing is not None:
        if existing.case_id != case.id:
            raise Conflict(f"{key} already names another case", "/alias")
        return existing
    row = CaseAlias(id=key, case_id=case.id, assigned_by=subject.user_id)
    uow.session.add(row)
    uow.flush()
    return row


# -- advisories ------------------------------------------------------------------------


def event_labels(session: Session, subject: Subject, case: Case) -> tuple[str | None, str | None]:
    """(severity label, SSVC decision) of a case, for recipients' filters. Read
    with the operator's view whoever acts, so every recipient filters on the same labels."""
    from clearinghouse.access.services import OPERATOR
    from clearinghouse.coordination._advisory import severities_of
    from clearinghouse.coordination._priority import facts

    scores = [s.base_score for s in severities_of(session, OPERATOR, case) if s.base_score is not None]
    label = None
    if scores:
        top = max(scores)
        label = (
            "none"
            if top == 0
            else "low"
            if top < 4
            else "medium"
            if top < 7
            else "high"
            if top < 9
            else "critical"
        )
    try:
        ssvc = facts(session, OPERATOR, case.id).ssvc
    except NotFound:
        ssvc = None
    return label, ssvc


def draft_record(
    session: Session, subject: Subject, case: Case, *, tlp: TLP = TLP.AMBER_STRICT
) -> AdvisoryRecord:
    from clearinghouse.coordination._advisory import build_record

    # One rule for revisions everywhere: the draft's history holds only the published
    # revisions the reader may read (a TLP:RED revision not naming it stays hidden).
    revisions = revisions_of(session, subject, case.id)
    return build_record(session, subject, case, revisions, tlp=tlp)


def publish(
    uow: UnitOfWork,
    subject: Subject,
    case_id: str,
    summary: str,
    *,
    tlp: TLP = TLP.CLEAR,
    sharing_group_ids: Sequence[str] = (),
    lift_embargo: bool = False,
) -> AdvisoryRevision:
    """Publish the case as the next revision of its advisory."""
    from clearinghouse.coordination._advisory import build_record, next_revision

    session = uow.session
    case = _coordinated_case(session, subject, case_id, Action.PUBLISH_ADVISORY)
    text = summary.strip()
    if not text or len(text) > 2000:
        raise InvalidInput("each revision says what it changed: a summary of 1-2000 characters", "/summary")
    row = _ensure_coordination(uow, case)
    now = utcnow()
    public = tlp in (TLP.CLEAR, TLP.GREEN)
    if public and row.embargo_end is not None and row.embargo_end > now:
        if not lift_embargo:
            raise Conflict(
                f"the case is under embargo until {row.embargo_end.isoformat()}; "
                "publish it TLP:AMBER or RED, or lift the embargo",
                "/tlp",
            )
        row.embargo_end = now
    revisions = list(
        session.scalars(
            select(AdvisoryRevision)
            .where(AdvisoryRevision.case_id == case.id)
            .order_by(AdvisoryRevision.number)
        )
    )
    number = next_revision(revisions)
    record = build_record(session, subject, case, revisions, tlp=tlp, new_revision=(number, now, text))
    revision = AdvisoryRevision(
        case_id=case.id,
        number=number,
        summary=text,
        record=record_to_json(record),
        published_by=subject.user_id,
        published_at=now,
    )
    revision.set_marking(
        Marking(owner_org_id=case.owner_org_id, tlp=tlp, sharing_group_ids=frozenset(sharing_group_ids))
    )
    session.add(revision)
    row.state = CoordinationState.PUBLISHED
    uow.flush()
    uow.audit_as(revision, "advisory.published", number=number, tlp=tlp.value)
    # TAXII collections configured for this TLP, the CSAF provider and the OSV API: one job, this
    # transaction (``sharing._distribute``).
    uow.enqueue(DISTRIBUTE_JOB, {"revision_id": revision.id}, idempotency_key=f"distribute:{revision.id}")
    severity, ssvc = event_labels(session, subject, case)
    emit(
        uow,
        Event(
            kind=EventKind.CASE_PUBLISHED,
            title=f"Advisory {record.id} revision {number}: {record.title}",
            resource=revision_resource(revision),
            case_id=case.id,
            severity=severity,
            ssvc=ssvc,
            payload={"advisory_id": record.id, "revision": number, "summary": text, "tlp": tlp.value},
        ),
    )
    return revision


def latest_revisions(session: Session) -> list[AdvisoryRevision]:
    newest = (
        select(AdvisoryRevision.case_id, func.max(AdvisoryRevision.number).label("number"))
        .group_by(AdvisoryRevision.case_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(AdvisoryRevision)
            .join(
                newest,
                (AdvisoryRevision.case_id == newest.c.case_id) & (AdvisoryRevision.number == newest.c.number),
            )
            .order_by(AdvisoryRevision.published_at, AdvisoryRevision.case_id)
        )
    )


def revisions_of(session: Session, subject: Subject, case_id: str) -> list[AdvisoryRevision]:
    rows = session.scalars(
        select(AdvisoryRevision).where(AdvisoryRevision.case_id == case_id).order_by(AdvisoryRevision.number)
    )
    return list(visible(subject, rows, revision_resource))


def record_for_case(session: Session, subject: Subject, case_id_or_alias: str) -> AdvisoryRecord:
    """The advisory of a case named by id, advisory id or alias: its latest
    published revision the subject may read, else the current draft for those
    who read the case; otherwise the policy's NotFound."""
    case_id = resolve_case_id(session, case_id_or_alias)
    if case_id is None:
        raise NotFound("advisory", case_id_or_alias)
    published = revisions_of(session, subject, case_id)
    if published:
        return record_from_json(published[-1].record)
    case = session.get(Case, case_id)
    if case is None or not can(subject, Action.READ, case_resource(case)):
        raise NotFound("advisory", case_id_or_alias)
    return draft_record(session, subject, case)


def published_records(session: Session, subject: Subject) -> list[AdvisoryRecord]:
    """The latest revision of every published advisory the subject may read
    (if the latest is hidden from it, the latest it may read)."""
    out = []
    for latest in latest_revisions(session):
        if can(subject, Action.READ, revision_resource(latest)):
            out.append(record_from_json(latest.record))
            continue
        readable = revisions_of(session, subject, latest.case_id)
        if readable:
            out.append(record_from_json(readable[-1].record))
    return out

"""Directive use cases: the registry of who owes what by when, and BOD 26-04 compliance per agency.

Every function that depends on the time takes it (``today``, ``now``): the adapters pass the
clock, and tests pass whatever moment they need.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, NotFound, Organization, OrgKind, Subject, authorize, visible
from clearinghouse.directives.models import Bod2604Notice, Directive, DirectiveStatus
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.intake.advisories.models import KevEntry
from clearinghouse.matching.models import Asset, CaseMatch
from clearinghouse.matching.services import match_resource
from clearinghouse.priority import Bod2604Timeline, bod_26_04_deadline, facts_for_cases, is_overdue
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, new_id

SEED_FILE = "directives/eo14409.json"


# -- the registry ----------------------------------------------------------------------------


def seed_document() -> dict[str, Any]:
    """The package's pre-loaded directives (``clearinghouse/data/directives/eo14409.json``)."""
    text = resources.files("clearinghouse.data").joinpath(SEED_FILE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _date(value: Any, pointer: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", pointer) from None


@dataclass
class DirectiveDraft:
    """A directive as an administrator (or the seed file) gives it."""

    key: str
    instrument: str
    title: str
    actor: str
    section: str = ""
    acting_through: str = ""
    consulted: list[str] = field(default_factory=list)
    leads: list[dict[str, str]] = field(default_factory=list)
    replaces: str = ""
    signed_on: dt.date | None = None
    due_days: int | None = None
    due_on: dt.date | None = None
    standing: bool = False
    status: str | None = None
    deliverable: str = ""
    note: str = ""


_EDITABLE = (
    "instrument",
    "section",
    "title",
    "actor",
    "acting_through",
    "consulted",
    "leads",
    "signed_on",
    "due_days",
    "due_on",
    "standing",
    "status",
    "deliverable",
    "note",
)


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """Validate directive fields (any subset); each problem is named by JSON pointer."""
    out = dict(values)
    for name in ("instrument", "title", "actor"):
        if name in out:
            text = str(out[name] or "").strip()
            if not text:
                raise InvalidInput(f"{name} cannot be empty", f"/{name}")
            out[name] = text
    if "status" in out and out["status"] is not None:
        try:
            out["status"] = DirectiveStatus(out["status"]).value
        except ValueError:
            allowed = ", ".join(s.value for s in DirectiveStatus)
            raise InvalidInput(f"{out['status']!r} is not one of: {allowed}", "/status") from None
    if "due_days" in out and out["due_days"] is not None:
        days = out["due_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
            raise InvalidInput("due_days is a whole number of days from 0 to 3650", "/due_days")
    for name in ("signed_on", "due_on"):
        if name in out:
            out[name] = _date(out[name], f"/{name}")
    if "consulted" in out:
        out["consulted"] = [str(c).strip() for c in out["consulted"] or [] if str(c).strip()]
    if "leads" in out and out["leads"] is not None:
        out["leads"] = _leads(out["leads"])
    return out


def _leads(value: Any) -> list[dict[str, str]]:
    """Leads as ``[{"office", "acting_through"}]``; each problem named by JSON pointer."""
    if not isinstance(value, list) or len(value) > 20:
        raise InvalidInput("leads is a list of at most 20 {office, acting_through} objects", "/leads")
    leads: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput("a lead is an object {office, acting_through}", f"/leads/{i}")
        office = str(item.get("office") or "").strip()
        if not office:
            raise InvalidInput("a lead names its office", f"/leads/{i}/office")
        unknown = sorted(set(item) - {"office", "acting_through"})
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a field of a lead", f"/leads/{i}/{unknown[0]}")
        leads.append({"office": office, "acting_through": str(item.get("acting_through") or "").strip()})
    return leads


def _align_leads(values: dict[str, Any], current: Directive | None = None) -> None:
    """Keep ``actor``/``acting_through`` and ``leads`` telling the same story: given leads set the
    first lead's office as the actor; a lone actor (no leads given) becomes the only lead."""
    if values.get("leads"):
        first = values["leads"][0]
        values["actor"] = first["office"]
        values["acting_through"] = first["acting_through"]
    elif "actor" in values or "acting_through" in values or (current is None and "leads" in values):
        actor = values.get("actor", current.actor if current is not None else "")
        through = values.get("acting_through", current.acting_through if current is not None else "")
        if actor:
            values["leads"] = [{"office": actor, "acting_through": through or ""}]


def _view_check(directive: Directive) -> None:
    if directive.due_days is not None and directive.due_on is None and directive.signed_on is None:
        raise InvalidInput("a due date in days needs the signing date (signed_on)", "/signed_on")


def _add(uow: UnitOfWork, draft: DirectiveDraft) -> Directive:
    fields = {name: getattr(draft, name) for name in _EDITABLE}
    if not str(fields["actor"] or "").strip() and isinstance(draft.leads, list) and draft.leads:
        first = draft.leads[0]
        fields["actor"] = first.get("office", "") if isinstance(first, dict) else ""
    values = _check(fields)
    _align_leads(values)
    key = draft.key.strip()
    if not key or len(key) > 120:
        raise InvalidInput("a key is 1-120 characters", "/key")
    status = values.pop("status") or (
        DirectiveStatus.STANDING.value if draft.standing else DirectiveStatus.OPEN.value
    )
    directive = Directive(id=new_id(), key=key, status=status, **values)
    _view_check(directive)
    uow.session.add(directive)
    uow.flush()
    return directive


def _seed_drafts() -> list[DirectiveDraft]:
    document = seed_document()
    signed = _date(document.get("signed_on"), "/signed_on")
    drafts = []
    for item in document["directives"]:
        fields = {k: v for k, v in item.items() if k in _EDITABLE or k in ("key", "replaces")}
        fields.setdefault("signed_on", signed)
        drafts.append(DirectiveDraft(**fields))
    return drafts


def ensure_seeded(uow: UnitOfWork) -> int:
    """Load the package's directives into an empty registry (never over what is there).
    Called where the schema is prepared (``seed_registry``, from ``Runtime.migrate``), never
    on a read. Returns how many were loaded.

    A registry seeded by an earlier release (rows without ``leads``: migration 0024 fills them only
    for rows the seed file does not know) is corrected once: the row of an entry's key, or of the
    key it ``replaces``, is rewritten (same id, an audited ``directive.corrected`` event naming
    the source), and entries new to the file are added. Rows administrators added are never
    touched."""
    drafts = _seed_drafts()
    if not uow.session.scalar(select(func.count()).select_from(Directive)):
        for draft in drafts:
            _add(uow, draft)
        uow.record("directives.seeded", None, None, source=SEED_FILE, count=len(drafts))
        return len(drafts)
    changed = 0
    for draft in drafts:
        old = uow.session.scalar(select(Directive).where(Directive.key == draft.key))
        if old is None and draft.replaces:
            old = uow.session.scalar(select(Directive).where(Directive.key == draft.replaces))
        if old is not None and old.leads:
            continue  # already of this file's shape, perhaps edited since: left alone
        if old is None:
            _add(uow, draft)
        else:
            values = _check({name: getattr(draft, name) for name in _EDITABLE})
            _align_leads(values)
            values["status"] = values["status"] or (
                DirectiveStatus.STANDING.value if draft.standing else DirectiveStatus.OPEN.value
            )
            old.key = draft.key
            for name, value in values.items():
                setattr(old, name, value)
            uow.audit_as(old, "directive.corrected", replaces=draft.replaces, source=SEED_FILE)
        changed += 1
    if changed:
        uow.flush()
        uow.record("directives.reconciled", None, None, source=SEED_FILE, count=changed)
    return changed


def _order(directive: Directive) -> tuple[Any, ...]:
    due = directive.due_date
    return (due is None, due or dt.date.max, directive.instrument, directive.key)


def seed_registry(uow_factory: UnitOfWorkFactory) -> int:
    """Seed an empty registry with the package's directives in a unit of work of its own, as the
    system (``Runtime.migrate`` calls it after upgrading the schema, so ``clearinghouse init``
    does). A registry that has any directive is left alone. Returns how many were loaded."""
    with uow_factory(Actor.system("directives.seed")) as uow:
        loaded = ensure_seeded(uow)
        uow.commit()
    return loaded


def list_directives(session: Session, subject: Subject) -> list[Directive]:
    """Every directive, the soonest due first (standing ones last). A read: it writes nothing
    (the registry is seeded where the schema is prepared)."""
    authorize(subject, Action.READ_DIRECTIVES)
    return sorted(session.scalars(select(Directive)), key=_order)


def get_directive(session: Session, subject: Subject, directive_id: str) -> Directive:
    authorize(subject, Action.READ_DIRECTIVES)
    directive = session.get(Directive, directive_id)
    if directive is None:
        directive = session.scalar(select(Directive).where(Directive.key == directive_id))
    if directive is None:
        raise NotFound("directive", directive_id)
    return directive


def create_directive(uow: UnitOfWork, subject: Subject, draft: DirectiveDraft) -> tuple[Directive, bool]:
    """Add an instrument's directive (admins). The same key with the same content again is a
    no-op; with different content, a conflict."""
    authorize(subject, Action.MANAGE_DIRECTIVES)
    ensure_seeded(uow)
    existing = uow.session.scalar(select(Directive).where(Directive.key == draft.key.strip()))
    if existing is not None:
        values = _check({name: getattr(draft, name) for name in _EDITABLE})
        _align_leads(values)
        if values.get("status") is None:
            values.pop("status")
        if all(getattr(existing, k) == v for k, v in values.items()):
            return existing, False
        raise Conflict(f"a directive with the key {draft.key!r} exists with other content", "/key")
    return _add(uow, draft), True


def update_directive(
    uow: UnitOfWork, subject: Subject, directive_id: str, changes: dict[str, Any]
) -> Directive:
    """Change some of a directive's fields (admins)."""
    authorize(subject, Action.MANAGE_DIRECTIVES)
    directive = get_directive(uow.session, subject, directive_id)
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise InvalidInput(f"{unknown[0]!r} cannot be changed", f"/{unknown[0]}")
    values = _check(changes)
    if values.get("status", "") is None:
        raise InvalidInput("status cannot be empty", "/status")
    for name in ("instrument", "title", "actor", "standing"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name} cannot be empty", f"/{name}")
    for name in ("section", "acting_through", "deliverable", "note"):
        if name in values and values[name] is None:
            values[name] = ""
    if "leads" in values and values["leads"] is None:
        raise InvalidInput("leads cannot be empty", "/leads")
    _align_leads(values, directive)
    for name, value in values.items():
        setattr(directive, name, value)
    _view_check(directive)
    uow.flush()
    return directive


# -- BOD 26-04 compliance --------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceItem:
    """One KEV-listed case on one agency asset, with its BOD 26-04 clock."""

    match_id: str
    case_id: str | None
    case_title: str
    cve_ids: list[str]
    asset_id: str
    asset_name: str
    component: str
    in_kev: str
    publicly_exposed: str
    automatable: str
    technical_impact: str
    outcome: Bod2604Timeline
    notified_at: dt.datetime
    notified_explicitly: bool
    due_at: dt.datetime | None
    forensic_triage: bool
    overdue: bool
    advisory_id: str | None = None
    owner_org_id: str = ""


@dataclass(frozen=True)
class AgencyCompliance:
    org_id: str
    name: str
    items: list[ComplianceItem]

    @property
    def overdue(self) -> list[ComplianceItem]:
        return [i for i in self.items if i.overdue]

    @property
    def due(self) -> list[ComplianceItem]:
        """Not yet overdue, with a calendar deadline."""
        return [i for i in self.items if not i.overdue and i.due_at is not None]

    @property
    def at_upgrade(self) -> list[ComplianceItem]:
        return [i for i in self.items if i.due_at is None]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _automatable(vector: str | None) -> str:
    from clearinghouse.priority import automatable_from

    return "yes" if vector and automatable_from([vector]) else "no"


def _technical_impact(vector: str | None) -> str:
    """``total`` when the CVSS vector says confidentiality and integrity are lost entirely."""
    if not vector:
        return "partial"
    metrics = dict(part.split(":", 1) for part in vector.split("/") if ":" in part)
    if metrics.get("C", metrics.get("VC")) == "H" and metrics.get("I", metrics.get("VI")) == "H":
        return "total"
    if metrics.get("C") == "C" and metrics.get("I") == "C":  # CVSS v2 "complete"
        return "total"
    return "partial"


def _agencies(session: Session) -> dict[str, Organization]:
    return {
        o.id: o
        for o in session.scalars(
            select(Organization).where(Organization.kind == OrgKind.GOVERNMENT_AGENCY.value)
        )
    }


def _advisory_items(
    session: Session,
    subject: Subject,
    agencies: dict[str, Organization],
    now: dt.datetime,
    match_ids: set[str] | None,
) -> list[ComplianceItem]:
    """KEV-listed public advisories matched (affected, open) on agency assets."""
    from clearinghouse.matching.models import AdvisoryMatch, MatchStatus
    from clearinghouse.matching.services import advisory_match_resource
    from clearinghouse.priority import cve_ids

    query = (
        select(AdvisoryMatch)
        .where(
            AdvisoryMatch.owner_org_id.in_(list(agencies)),
            AdvisoryMatch.affected.is_(True),
            AdvisoryMatch.status != MatchStatus.FIXED.value,
            AdvisoryMatch.status != MatchStatus.NOT_AFFECTED.value,
        )
        .order_by(AdvisoryMatch.owner_org_id, AdvisoryMatch.created_at, AdvisoryMatch.id)
    )
    if match_ids is not None:
        query = query.where(AdvisoryMatch.id.in_(sorted(match_ids)))
    matches = list(visible(subject, session.scalars(query), advisory_match_resource))
    wanted = sorted({c for m in matches for c in cve_ids(m.vulnerability_ids)})
    kev_cves: set[str] = set()
    for start in range(0, len(wanted), 5000):
        kev_cves.update(
            session.scalars(select(KevEntry.cve_id).where(KevEntry.cve_id.in_(wanted[start : start + 5000])))
        )
    assets = {
        a.id: a
        for a in session.scalars(select(Asset).where(Asset.id.in_(sorted({m.asset_id for m in matches}))))
    }
    out: list[ComplianceItem] = []
    for m in matches:
        listed = sorted(c for c in cve_ids(m.vulnerability_ids) if c in kev_cves)
        asset = assets.get(m.asset_id)
        if not listed or asset is None:
            continue
        exposed = _yes(asset.internet_exposed)
        automatable, impact = _automatable(m.cvss_vector), _technical_impact(m.cvss_vector)
        deadline = bod_26_04_deadline(
            in_kev="yes",
            publicly_exposed=exposed,
            automatable=automatable,
            technical_impact=impact,
            notified_at=m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=dt.UTC),
        )
        out.append(
            ComplianceItem(
                match_id=m.id,
                case_id=None,
                case_title=f"{m.advisory_id}: {m.summary}" if m.summary else m.advisory_id,
                cve_ids=listed,
                asset_id=asset.id,
                asset_name=asset.name,
                component=m.component_purl or f"{m.component_name}@{m.component_version or '?'}",
                in_kev="yes",
                publicly_exposed=exposed,
                automatable=automatable,
                technical_impact=impact,
                outcome=deadline.outcome,
                notified_at=deadline.notified_at,
                notified_explicitly=False,
                due_at=deadline.due_at,
                forensic_triage=deadline.forensic_triage,
                overdue=is_overdue(deadline, now),
                advisory_id=m.advisory_id,
                owner_org_id=m.owner_org_id,
            )
        )
    return out


def _case_items(
    session: Session,
    subject: Subject,
    agencies: dict[str, Organization],
    now: dt.datetime,
    match_ids: set[str] | None,
) -> list[ComplianceItem]:
    from clearinghouse.matching.models import MatchStatus

    query = (
        select(CaseMatch)
        .where(
            CaseMatch.owner_org_id.in_(list(agencies)),
            CaseMatch.affected.is_(True),
            CaseMatch.status != MatchStatus.FIXED.value,
            CaseMatch.status != MatchStatus.NOT_AFFECTED.value,
        )
        .order_by(CaseMatch.owner_org_id, CaseMatch.created_at, CaseMatch.id)
    )
    if match_ids is not None:
        query = query.where(CaseMatch.id.in_(sorted(match_ids)))
    matches = list(visible(subject, session.scalars(query), match_resource))
    facts = facts_for_cases(session, sorted({m.case_id for m in matches}))
    kev_cves = set(
        session.scalars(
            select(KevEntry.cve_id).where(
                KevEntry.cve_id.in_(sorted({c for f in facts.values() for c in f.cves}))
            )
        )
    )
    assets = {
        a.id: a
        for a in session.scalars(select(Asset).where(Asset.id.in_(sorted({m.asset_id for m in matches}))))
    }
    notices = {
        n.match_id: n
        for n in session.scalars(
            select(Bod2604Notice).where(Bod2604Notice.match_id.in_([m.id for m in matches]))
        )
    }
    out: list[ComplianceItem] = []
    for m in matches:
        case_facts = facts.get(m.case_id)
        asset = assets.get(m.asset_id)
        if case_facts is None or asset is None:
            continue
        listed = sorted(c for c in case_facts.cves if c in kev_cves)
        if not listed:
            continue
        notice = notices.get(m.id)
        notified = notice.notified_at if notice is not None else m.created_at
        exposed = _yes(asset.internet_exposed)
        automatable = case_facts.inputs["automatable"]
        impact = case_facts.inputs["technical_impact"]
        deadline = bod_26_04_deadline(
            in_kev="yes",
            publicly_exposed=exposed,
            automatable=automatable,
            technical_impact=impact,
            notified_at=notified,
        )
        out.append(
            ComplianceItem(
                match_id=m.id,
                case_id=m.case_id,
                case_title=case_facts.title,
                cve_ids=listed,
                asset_id=asset.id,
                asset_name=asset.name,
                component=m.component_purl or f"{m.component_name}@{m.component_version or '?'}",
                in_kev="yes",
                publicly_exposed=exposed,
                automatable=automatable,
                technical_impact=impact,
                outcome=deadline.outcome,
                notified_at=deadline.notified_at,
                notified_explicitly=notice is not None,
                due_at=deadline.due_at,
                forensic_triage=deadline.forensic_triage,
                overdue=is_overdue(deadline, now),
                owner_org_id=m.owner_org_id,
            )
        )
    return out


def advisory_match_due(session: Session, match: Any) -> dt.datetime | None:
    """The earliest deadline of one advisory match, for the jobs (no subject: they act for the
    system): BOD 26-04's when the asset is an agency's, else the KEV catalog's due date (the
    earliest of its CVEs')."""
    from clearinghouse.priority import cve_ids

    cves = cve_ids(match.vulnerability_ids)
    if not cves:
        return None
    entries = list(session.scalars(select(KevEntry).where(KevEntry.cve_id.in_(cves))))
    if not entries:
        return None
    dues: list[dt.datetime] = [
        dt.datetime.combine(e.due_date, dt.time(23, 59, 59), dt.UTC) for e in entries if e.due_date
    ]
    owner = session.get(Organization, match.owner_org_id)
    asset = session.get(Asset, match.asset_id)
    if owner is not None and owner.kind == OrgKind.GOVERNMENT_AGENCY.value and asset is not None:
        created = match.created_at if match.created_at.tzinfo else match.created_at.replace(tzinfo=dt.UTC)
        deadline = bod_26_04_deadline(
            in_kev="yes",
            publicly_exposed=_yes(asset.internet_exposed),
            automatable=_automatable(match.cvss_vector),
            technical_impact=_technical_impact(match.cvss_vector),
            notified_at=created,
        )
        return deadline.due_at  # an agency's clock is BOD 26-04's (None: fix on system upgrade)
    return min(dues) if dues else None


def bod_26_04_compliance(session: Session, subject: Subject, now: dt.datetime) -> list[AgencyCompliance]:
    """Per agency (organizations of kind government_agency), each KEV-listed case or public
    advisory affecting one of its assets (and not marked fixed or not affected), with the
    table's outcome from the four inputs and the deadline from when the agency was notified;
    ``overdue`` is judged at ``now``. Staff see every agency; an agency's own members see their
    agency (the matches' policy decides)."""
    authorize(subject, Action.READ_DIRECTIVES)
    agencies = _agencies(session)
    if not agencies:
        return []
    per_agency: dict[str, list[ComplianceItem]] = {}
    items = [
        *_case_items(session, subject, agencies, now, None),
        *_advisory_items(session, subject, agencies, now, None),
    ]
    for item in items:
        per_agency.setdefault(item.owner_org_id, []).append(item)
    return [
        AgencyCompliance(org_id, agencies[org_id].name, found)
        for org_id, found in sorted(per_agency.items(), key=lambda kv: agencies[kv[0]].name)
    ]


def bod_26_04_items(
    session: Session, subject: Subject, now: dt.datetime, *, match_ids: set[str]
) -> dict[str, dt.datetime | None]:
    """The BOD 26-04 due time of each of ``match_ids`` that is on an agency asset and KEV-listed."""
    agencies = _agencies(session)
    if not agencies or not match_ids:
        return {}
    items = [
        *_case_items(session, subject, agencies, now, match_ids),
        *_advisory_items(session, subject, agencies, now, match_ids),
    ]
    return {i.match_id: i.due_at for i in items}


def record_notice(
    uow: UnitOfWork, subject: Subject, match_id: str, notified_at: dt.datetime, note: str = ""
) -> Bod2604Notice:
    """Record when the agency was notified of a match (staff), which starts its BOD 26-04 clock."""
    match = uow.session.get(CaseMatch, match_id)
    if match is None:
        raise NotFound("match", match_id)
    authorize(subject, Action.PRIORITIZE, match_resource(match))
    if notified_at.tzinfo is None or notified_at.utcoffset() is None:
        raise InvalidInput("notified_at needs a time zone (e.g. 2026-06-02T12:00:00Z)", "/notified_at")
    notice = uow.session.get(Bod2604Notice, match.id)
    if notice is None:
        notice = Bod2604Notice(
            match_id=match.id, notified_at=notified_at, note=note, recorded_by=subject.user_id
        )
        uow.session.add(notice)
    elif notice.notified_at != notified_at or notice.note != note:
        notice.notified_at, notice.note, notice.recorded_by = notified_at, note, subject.user_id
    uow.flush()
    return notice

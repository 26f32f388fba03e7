"""Enforcement use cases: reporting AI-facilitated crime, evidence under chain
of custody, and the referral of an incident to law enforcement.

Every function asks the one policy (``access/_policy.py``) first. A read that
is refused answers :class:`NotFound` exactly as a missing incident would.

Writes are idempotent where repeating means the same thing: a report with the
same idempotency key, the same evidence bytes, a move to the current state, a
transfer to the current custodian, sharing with groups already named. A report
without a key is new each time (two victims may describe the same events in
the same words), and each access and export is a new custody event by design.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    SharingGroup,
    Subject,
    authorize,
    can,
)
from clearinghouse.access.services import find_organization
from clearinghouse.enforcement._atlas import CASE_STUDY_ID, TECHNIQUE_ID, atlas
from clearinghouse.enforcement._bundle import BundleFile, build_bundle, format_time
from clearinghouse.enforcement._report import IncidentReport, PersonalData
from clearinghouse.enforcement.models import Evidence, Incident, IncidentState
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.ledger import AuditEvent, LedgerHead, SigningKey
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, canonical_json, new_id, utcnow

# Evidence travels in one request body; the API's body limit (10 MiB by default) bounds it too.
MAX_EVIDENCE_BYTES = 8 * 1024 * 1024
MAX_REASON = 2000

# The referral: reported → under review → referred to law enforcement → closed.
# A report found to need no referral is closed from review.
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.REPORTED: frozenset({IncidentState.UNDER_REVIEW}),
    IncidentState.UNDER_REVIEW: frozenset({IncidentState.REFERRED, IncidentState.CLOSED}),
    IncidentState.REFERRED: frozenset({IncidentState.CLOSED}),
    IncidentState.CLOSED: frozenset(),
}


def actor_of(subject: Subject) -> Actor:
    return Actor.user(subject.user_id) if subject.user_id else Actor.system("enforcement")


def incident_resource(incident: Incident) -> Resource:
    return Resource.marked("incident", incident.id, incident.marking)


def _require(subject: Subject, action: Action, incident: Incident) -> None:
    """The subject can read the incident (else it was already NotFound) but may it do this?"""
    if not can(subject, action, incident_resource(incident)):
        raise Forbidden(action, "incident")


def _reason(reason: str | None, pointer: str = "/reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("say why: a reason is required and is kept in the custody log", pointer)
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters", pointer)
    return text


# -- incidents ---------------------------------------------------------------


def _check_tags(report: IncidentReport) -> None:
    data = atlas()
    for i, technique in enumerate(report.atlas_techniques):
        if not TECHNIQUE_ID.match(technique) or technique not in data.techniques:
            raise InvalidInput(
                f"{technique!r} is not a technique of MITRE ATLAS {data.version}", f"/atlas_techniques/{i}"
            )
    for i, study in enumerate(report.atlas_case_studies):
        if not CASE_STUDY_ID.match(study) or study not in data.case_studies:
            raise InvalidInput(
                f"{study!r} is not a case study of MITRE ATLAS {data.version}", f"/atlas_case_studies/{i}"
            )


def _check_links(session: Session, subject: Subject, report: IncidentReport) -> None:
    from clearinghouse.triage.models import Case
    from clearinghouse.triage.services import case_resource

    for i, case_id in enumerate(report.cases):
        case = session.get(Case, case_id)
        if case is None or not can(subject, Action.READ, case_resource(case)):
            raise InvalidInput(f"no case {case_id!r} that you can read", f"/cases/{i}")
    if report.registered_models:
        from clearinghouse.frontier import model_exists  # frontier review owns the model registry

        for i, model_id in enumerate(report.registered_models):
            if not model_exists(session, model_id):
                raise InvalidInput(f"no registered model {model_id!r}", f"/registered_models/{i}")


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def report_incident(
    uow: UnitOfWork, envelope: Envelope, subject: Subject, report: IncidentReport
) -> tuple[Incident, bool]:
    """File an incident, or return the one filed with the same idempotency key (``created`` False)."""
    session = uow.session
    org_id = subject.org_id
    if report.reporter_org is not None:
        org = find_organization(session, report.reporter_org)
        if org is None:
            raise InvalidInput(f"no organization {report.reporter_org!r}", "/reporter_org")
        org_id = org.id
    if org_id is None:
        raise InvalidInput("name the reporting organization", "/reporter_org")
    marking = Marking(owner_org_id=org_id, tlp=TLP.RED)
    authorize(subject, Action.REPORT_INCIDENT, Resource.marked("incident", None, marking))
    if report.idempotency_key is not None:
        existing = session.scalar(
            select(Incident).where(
                Incident.owner_org_id == org_id, Incident.idempotency_key == report.idempotency_key
            )
        )
        if existing is not None:
            return existing, False
    _check_tags(report)
    if report.occurred_at and report.detected_at and report.detected_at < report.occurred_at:
        raise InvalidInput("detected before it occurred", "/detected_at")
    _check_links(session, subject, report)

    incident = Incident(
        id=new_id(),
        idempotency_key=report.idempotency_key,
        title=report.title.strip(),
        reporter_kind=report.reporter_kind.value,
        reported_by=subject.user_id or "system",
        affected_system=report.affected_system,
        occurred_at=report.occurred_at,
        detected_at=report.detected_at,
        impacts=_dedupe([i.value for i in report.impacts]),
        impact_description=report.impact_description,
        indicators=[i.model_dump(mode="json") for i in report.indicators],
        ai_involvement=_dedupe([a.value for a in report.ai_involvement]),
        ai_description=report.ai_description,
        model_identifiers=_dedupe([m.strip() for m in report.model_identifiers]),
        registered_model_ids=_dedupe(report.registered_models),
        statutes=sorted(set(s.value for s in report.statutes)),
        atlas_techniques=_dedupe(report.atlas_techniques),
        atlas_case_studies=_dedupe(report.atlas_case_studies),
        case_ids=_dedupe(report.cases),
        state=IncidentState.REPORTED,
    )
    incident.set_marking(marking)
    _seal_personal(envelope, incident, report.personal)
    session.add(incident)
    uow.audit_as(
        incident,
        "incident.reported",
        reporter_org=org_id,
        statutes=incident.statutes,
        ai_involvement=incident.ai_involvement,
        personal_fields=incident.personal_fields,
    )
    uow.flush()
    return incident, True


def _personal_context(incident: Incident) -> bytes:
    return f"incident:{incident.id}:personal".encode()


def _seal_personal(envelope: Envelope, incident: Incident, personal: PersonalData | None) -> None:
    fields = personal.present_fields() if personal is not None else []
    if personal is None or not fields:
        return
    body = canonical_json(personal.model_dump(mode="json", include=set(fields)))
    sealed = envelope.seal(body.encode(), _personal_context(incident))
    incident.personal_fields = fields
    incident.personal_ciphertext = sealed.ciphertext
    incident.personal_wrapped_key = sealed.wrapped_key


def personal_data(envelope: Envelope, subject: Subject, incident: Incident) -> dict[str, Any] | None:
    """The incident's personal data for those who need it; None (redacted) for others."""
    if not can(subject, Action.READ_INCIDENT_PERSONAL, incident_resource(incident)):
        return None
    if incident.personal_ciphertext is None or incident.personal_wrapped_key is None:
        return {}
    opened = envelope.open(
        Sealed(incident.personal_ciphertext, incident.personal_wrapped_key), _personal_context(incident)
    )
    data: dict[str, Any] = json.loads(opened)
    return data


def get_incident(session: Session, subject: Subject, incident_id: str) -> Incident:
    """The incident, if the subject may read it; otherwise :class:`NotFound`, as if it did not exist."""
    incident = session.get(Incident, incident_id)
    # Refused exactly as a missing incident is, whatever the reason.
    if incident is None or not can(subject, Action.READ_INCIDENT, incident_resource(incident)):
        raise NotFound("incident", incident_id)
    return incident


def list_incidents(
    session: Session, subject: Subject, *, state: str | None = None, limit: int = 50
) -> list[Incident]:
    """Incidents the subject may read, newest first."""
    query = select(Incident).order_by(Incident.created_at.desc(), Incident.id)
    if state is not None:
        query = query.where(Incident.state == _state(state))
    page: list[Incident] = []
    for incident in session.scalars(query.execution_options(yield_per=500)):
        if can(subject, Action.READ_INCIDENT, incident_resource(incident)):
            page.append(incident)
            if len(page) >= limit:
                break
    return page


def _state(value: str, pointer: str = "/state") -> IncidentState:
    try:
        return IncidentState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in IncidentState)
        raise InvalidInput(f"{value!r} is not one of: {allowed}", pointer) from None


@dataclass(frozen=True)
class Move:
    state: str
    office: str | None = None
    reference: str | None = None
    referred_at: dt.datetime | None = None
    note: str = ""


def move_incident(uow: UnitOfWork, subject: Subject, incident_id: str, move: Move) -> Incident:
    """Advance the referral. Moving to the state it is in changes nothing."""
    incident = get_incident(uow.session, subject, incident_id)
    _require(subject, Action.REVIEW_INCIDENT, incident)
    target = _state(move.state)
    current = IncidentState(incident.state)
    if target == current:
        return incident
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is closed)"
        raise Conflict(f"a {current.value} incident can move to {allowed}, not {target.value}", "/state")
    now = utcnow()
    detail: dict[str, Any] = {"from": current.value, "note": move.note}
    if target is IncidentState.REFERRED:
        office = (move.office or "").strip()
        if not office:
            raise InvalidInput("name the law-enforcement office it is referred to", "/office")
        when = move.referred_at or now
        if when.tzinfo is None:
            raise InvalidInput("give the referral time with its time zone", "/referred_at")
        if when > now + dt.timedelta(minutes=5):
            raise InvalidInput("the referral cannot be in the future", "/referred_at")
        incident.referral_office = office
        incident.referral_reference = (move.reference or "").strip() or None
        incident.referred_at = when
        detail.update(office=office, referred_at=when, reference=incident.referral_reference)
    if target is IncidentState.CLOSED:
        if not move.note.strip():
            raise InvalidInput("say why the incident is closed", "/note")
        incident.closed_at = now
    incident.state = target
    incident.state_note = move.note
    uow.audit_as(incident, f"incident.{target.value}", **detail)
    uow.flush()
    return incident


def share_incident(uow: UnitOfWork, subject: Subject, incident_id: str, group_ids: Sequence[str]) -> Incident:
    """Extend the incident's marking to sharing groups (they read it, without personal data)."""
    incident = get_incident(uow.session, subject, incident_id)
    _require(subject, Action.SHARE_INCIDENT, incident)
    marking = incident.marking
    wider = Marking(
        owner_org_id=marking.owner_org_id,
        tlp=marking.tlp,
        classification=marking.classification,
        compartments=marking.compartments,
        sharing_group_ids=marking.sharing_group_ids | frozenset(group_ids),
    )
    for i, group_id in enumerate(group_ids):
        if uow.session.get(SharingGroup, group_id) is None:
            raise InvalidInput(f"no sharing group {group_id!r}", f"/sharing_groups/{i}")
    if wider == marking:
        return incident
    incident.set_marking(wider)
    added = sorted(frozenset(group_ids) - marking.sharing_group_ids)
    uow.audit_as(incident, "incident.shared", sharing_groups=added)
    uow.flush()
    return incident


# -- evidence ----------------------------------------------------------------


def _clean_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    if not base or base in (".", ".."):
        raise InvalidInput("the evidence file needs a name", "/filename")
    if len(base) > 255:
        raise InvalidInput("the file name is longer than 255 characters", "/filename")
    return base


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    content: bytes
    media_type: str = "application/octet-stream"
    description: str = ""


def _context(evidence: Evidence) -> bytes:
    return f"evidence:{evidence.id}:{evidence.sha256}".encode()


def add_evidence(
    uow: UnitOfWork, envelope: Envelope, subject: Subject, incident_id: str, file: EvidenceFile
) -> tuple[Evidence, bool]:
    """Receive an evidence file: hashed, sealed, recorded. The same file again is the same evidence."""
    incident = get_incident(uow.session, subject, incident_id)
    _require(subject, Action.ADD_EVIDENCE, incident)
    filename = _clean_filename(file.filename)
    if not file.content:
        raise InvalidInput("the evidence file is empty", "/content")
    if len(file.content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(f"evidence files are at most {MAX_EVIDENCE_BYTES} bytes", "/content")
    if len(file.media_type) > 200 or len(file.description) > 10_000:
        raise InvalidInput("the media type or description is too long", "/media_type")
    digest = hashlib.sha256(file.content).hexdigest()
    existing = uow.session.scalar(
        select(Evidence).where(Evidence.incident_id == incident.id, Evidence.sha256 == digest)
    )
    if existing is not None:
        return existing, False
    if incident.state == IncidentState.CLOSED:
        raise Conflict("the incident is closed", "/state")
    evidence = Evidence(
        id=new_id(),
        incident_id=incident.id,
        filename=filename,
        media_type=file.media_type or "application/octet-stream",
        description=file.description,
        size=len(file.content),
        sha256=digest,
        received_by=subject.user_id or "system",
        received_at=utcnow(),
        custodian=subject.user_id or "system",
        ciphertext=b"",
        wrapped_key=b"",
    )
    sealed = envelope.seal(file.content, _context(evidence))
    evidence.ciphertext, evidence.wrapped_key = sealed.ciphertext, sealed.wrapped_key
    uow.session.add(evidence)
    uow.audit_as(
        evidence,
        "evidence.received",
        incident_id=incident.id,
        sha256=digest,
        size=len(file.content),
        filename=filename,
        org=subject.org_id,
    )
    uow.flush()
    return evidence, True


def list_evidence(session: Session, subject: Subject, incident_id: str) -> list[Evidence]:
    """What evidence an incident holds (names, sizes, hashes, custodian), first received first."""
    incident = get_incident(session, subject, incident_id)
    rows = session.scalars(
        select(Evidence)
        .where(Evidence.incident_id == incident.id)
        .order_by(Evidence.received_at, Evidence.id)
    )
    return list(rows)


def _evidence(
    session: Session, subject: Subject, incident_id: str, evidence_id: str
) -> tuple[Incident, Evidence]:
    incident = get_incident(session, subject, incident_id)
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.incident_id != incident.id:
        raise NotFound("evidence", evidence_id)
    return incident, evidence


def _open(envelope: Envelope, evidence: Evidence) -> bytes:
    content = envelope.open(Sealed(evidence.ciphertext, evidence.wrapped_key), _context(evidence))
    if hashlib.sha256(content).hexdigest() != evidence.sha256:  # pragma: no cover - GCM already authenticates
        raise Conflict(f"evidence {evidence.id} does not match its SHA-256 on receipt", "/evidence_id")
    return content


def read_evidence(
    uow: UnitOfWork, envelope: Envelope, subject: Subject, incident_id: str, evidence_id: str, reason: str
) -> tuple[Evidence, bytes]:
    """The evidence file, decrypted; the access and its reason go to the ledger."""
    incident, evidence = _evidence(uow.session, subject, incident_id, evidence_id)
    _require(subject, Action.ACCESS_EVIDENCE, incident)
    why = _reason(reason)
    content = _open(envelope, evidence)
    uow.record(
        "evidence.accessed",
        "evidence",
        evidence.id,
        incident_id=incident.id,
        sha256=evidence.sha256,
        reason=why,
    )
    return evidence, content


def transfer_evidence(
    uow: UnitOfWork, subject: Subject, incident_id: str, evidence_id: str, to: str, reason: str
) -> Evidence:
    """Hand the evidence to another custodian (a person or an office), with the reason."""
    incident, evidence = _evidence(uow.session, subject, incident_id, evidence_id)
    _require(subject, Action.TRANSFER_EVIDENCE, incident)
    why = _reason(reason)
    target = to.strip()
    if not target or len(target) > 300:
        raise InvalidInput("name the new custodian (1 to 300 characters)", "/to")
    if target == evidence.custodian:
        return evidence
    previous = evidence.custodian
    evidence.custodian = target
    uow.audit_as(
        evidence,
        "evidence.transferred",
        incident_id=incident.id,
        sha256=evidence.sha256,
        from_custodian=previous,
        to_custodian=target,
        reason=why,
    )
    uow.flush()
    return evidence


@dataclass(frozen=True)
class ExportedBundle:
    bundle_id: str
    incident_id: str
    data: bytes
    files: int
    events: int

    @property
    def filename(self) -> str:
        return f"evidence-{self.incident_id}-{self.bundle_id}.zip"


def _event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": format_time(event.occurred_at),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "state_digest": event.state_digest,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_evidence(
    uow_factory: UnitOfWorkFactory,
    envelope: Envelope,
    signing_key: SigningKey,
    subject: Subject,
    incident_id: str,
    reason: str,
    evidence_ids: Sequence[str] = (),
) -> ExportedBundle:
    """A signed bundle of the incident's evidence (all, or those named) with its custody log.

    The export is recorded first, one ledger event per item naming who, why and
    the bundle's id, so the bundle's custody log ends with its own export."""
    bundle_id = new_id()
    actor = actor_of(subject)
    with uow_factory(actor) as uow:
        incident = get_incident(uow.session, subject, incident_id)
        _require(subject, Action.ACCESS_EVIDENCE, incident)
        why = _reason(reason)
        items = list_evidence(uow.session, subject, incident_id)
        if evidence_ids:
            by_id = {e.id: e for e in items}
            for i, evidence_id in enumerate(evidence_ids):
                if evidence_id not in by_id:
                    raise InvalidInput(
                        f"the incident holds no evidence {evidence_id!r}", f"/evidence_ids/{i}"
                    )
            items = [by_id[e] for e in dict.fromkeys(evidence_ids)]
        if not items:
            raise Conflict("the incident holds no evidence to export", "/evidence_ids")
        files = [BundleFile(e.id, e.filename, e.media_type, e.received_at, _open(envelope, e)) for e in items]
        for e in items:
            uow.record(
                "evidence.exported",
                "evidence",
                e.id,
                incident_id=incident.id,
                sha256=e.sha256,
                bundle_id=bundle_id,
                reason=why,
            )
        summary = {
            "id": incident.id,
            "title": incident.title,
            "state": incident.state,
            "reporter_org": incident.owner_org_id,
            "statutes": incident.statutes,
            "referral_office": incident.referral_office,
        }
        uow.commit()
    with uow_factory(actor, write=False) as uow:
        ids = [e.id for e in items]
        events = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "evidence", AuditEvent.object_id.in_(ids))
            .order_by(AuditEvent.seq)
        ).all()
        head = uow.session.get(LedgerHead, 1)
        head_info = (
            {"seq": head.seq, "hash": head.hash, "key_id": head.key_id, "signature": head.signature}
            if head is not None
            else None
        )
        custody = [_event_dict(e) for e in events]
    data = build_bundle(
        incident=summary,
        files=files,
        custody=custody,
        export={
            "bundle_id": bundle_id,
            "by": actor.ref,
            "org": subject.org_id,
            "reason": why,
            "at": format_time(utcnow()),
        },
        ledger_head=head_info,
        signing_key=signing_key,
    )
    return ExportedBundle(bundle_id, incident.id, data, len(files), len(custody))

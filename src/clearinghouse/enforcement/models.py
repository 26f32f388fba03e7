"""Enforcement tables: AI-facilitated crime incidents and their evidence.

An incident is marked TLP:RED, owned by the reporting organization; the
policy (``Action.READ_INCIDENT``) also admits law-enforcement liaisons and the
sharing groups named on the marking. Its personal data (the victim's contact,
prompts or transcripts) is kept sealed with the runtime envelope, apart from
the rest of the report, and opened only for those ``Action.READ_INCIDENT_PERSONAL``
admits.

Evidence rows are written once: the file's ciphertext, wrapped key, size and
SHA-256 never change. Only the current custodian moves, by a transfer, and
every receipt, access, export and transfer is a ledger event.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class IncidentState(enum.StrEnum):
    REPORTED = "reported"
    UNDER_REVIEW = "under_review"
    REFERRED = "referred"
    CLOSED = "closed"


class ReporterKind(enum.StrEnum):
    VICTIM = "victim"
    PARTNER = "partner"
    AGENCY = "agency"


class AIInvolvement(enum.StrEnum):
    AI_GENERATED_EXPLOIT = "ai_generated_exploit"
    AUTONOMOUS_AGENT = "autonomous_agent"
    AI_ASSISTED_FRAUD = "ai_assisted_fraud"
    AI_IMPERSONATION = "ai_impersonation"
    OTHER = "other"


class Impact(enum.StrEnum):
    DATA_ACCESSED = "data_accessed"
    DATA_EXFILTRATED = "data_exfiltrated"
    DATA_ALTERED = "data_altered"
    SYSTEM_DAMAGED = "system_damaged"
    SERVICE_DISRUPTED = "service_disrupted"
    FUNDS_STOLEN = "funds_stolen"
    IDENTITY_MISUSED = "identity_misused"
    OTHER = "other"


class Statute(enum.StrEnum):
    """The statutes §4 of the order puts first."""

    IDENTITY_FRAUD = "18 U.S.C. 1028"
    COMPUTER_FRAUD = "18 U.S.C. 1030"
    WIRE_FRAUD = "18 U.S.C. 1343"


class Incident(MarkedMixin, Base):
    __tablename__ = "enforcement_incidents"
    __audit_type__ = "incident"
    __table_args__ = (UniqueConstraint("owner_org_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    reporter_kind: Mapped[str] = mapped_column(String(20))
    reported_by: Mapped[str] = mapped_column(String(36))
    affected_system: Mapped[str] = mapped_column(String(1000))
    occurred_at: Mapped[dt.datetime | None]
    detected_at: Mapped[dt.datetime | None]
    impacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    impact_description: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    ai_involvement: Mapped[list[str]] = mapped_column(JSON, default=list)
    ai_description: Mapped[str] = mapped_column(Text, default="")
    # Model or agent names as the reporter saw them, and models registered with frontier review.
    model_identifiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_model_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    statutes: Mapped[list[str]] = mapped_column(JSON, default=list)
    atlas_techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    atlas_case_studies: Mapped[list[str]] = mapped_column(JSON, default=list)
    case_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Personal data (victim contact, prompts or transcripts), sealed with the envelope.
    personal_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    personal_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    personal_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), default=IncidentState.REPORTED, index=True)
    referral_office: Mapped[str | None] = mapped_column(String(300))
    referral_reference: Mapped[str | None] = mapped_column(String(200))
    referred_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    state_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Evidence(Base):
    """One evidence file, sealed with its own data key. Never modified."""

    __tablename__ = "enforcement_evidence"
    __audit_type__ = "evidence"
    __table_args__ = (UniqueConstraint("incident_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("enforcement_incidents.id", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    received_by: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Who holds it now: a user id, or the office it was transferred to.
    custodian: Mapped[str] = mapped_column(String(300))

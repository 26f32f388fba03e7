"""Findings as stored, and their encrypted proof-of-concept attachments."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class FindingState(enum.StrEnum):
    RECEIVED = "received"
    CHECKED = "checked"
    TRIAGED = "triaged"
    VALIDATED = "validated"
    REJECTED = "rejected"


class RejectionReason(enum.StrEnum):
    NOT_A_VULNERABILITY = "not_a_vulnerability"
    OUTSIDE_THREAT_MODEL = "outside_threat_model"
    DUPLICATE = "duplicate"
    CANNOT_REPRODUCE = "cannot_reproduce"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    SPAM = "spam"


class Finding(MarkedMixin, Base):
    """One submitted candidate vulnerability. Its marking defaults to
    TLP:AMBER+STRICT owned by the submitting organization: the submitter and
    clearinghouse staff see it, nobody else."""

    __tablename__ = "findings"
    __audit_type__ = "finding"
    __table_args__ = (
        UniqueConstraint("submitter_org_id", "idempotency_key", name="uq_findings_submitter_key"),
        Index("ix_findings_package", "package_type", "package_name"),
        Index("ix_findings_state_queue", "state", "queue"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submitter_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    submitter_user_id: Mapped[str | None] = mapped_column(String(36))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), default=FindingState.RECEIVED)
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    state_reason: Mapped[str | None] = mapped_column(Text)
    queue: Mapped[str] = mapped_column(String(8), default="main")
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    purl: Mapped[str] = mapped_column(String(1000))
    package_type: Mapped[str] = mapped_column(String(50))
    package_name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(200))
    vers: Mapped[str | None] = mapped_column(String(2000))
    cwe: Mapped[list[str]] = mapped_column(JSON, default=list)
    generator_key: Mapped[str] = mapped_column(String(600), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    source_format: Mapped[str] = mapped_column(String(10), default="native")
    # The submission as received, less the proof of concept's content (stored encrypted).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Attachment(Base):
    """A proof of concept, encrypted with its own data key (see ``clearinghouse.envelope``)."""

    __tablename__ = "finding_attachments"
    __audit_type__ = "attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

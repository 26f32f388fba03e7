"""What triage keeps beside the findings: cases, the relations deduplication
found, and each finder pipeline's track record."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class PipelineReputation(Base):
    """Counts for one finder pipeline (generator key: tool | model | operating organization)."""

    __tablename__ = "pipeline_reputation"
    __audit_type__ = "pipeline_reputation"

    generator_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    validated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    # Intake in the current UTC day, against the pipeline's budget.
    day: Mapped[dt.date] = mapped_column(default=lambda: utcnow().date())
    received_today: Mapped[int] = mapped_column(Integer, default=0)
    cold_today: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def id(self) -> str:
        # The ledger names objects by ``id``.
        return self.generator_key


class Case(MarkedMixin, Base):
    """One vulnerability, however many findings report it. A case is named by
    its canonical (first) finding's id, as the deduplication index names it.
    Its marking is TLP:AMBER+STRICT owned by the first reporter's organization:
    staff work it; the first reporter sees that it exists."""

    __tablename__ = "cases"
    __audit_type__ = "case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    purl: Mapped[str] = mapped_column(String(1000))
    cwe: Mapped[list[str]] = mapped_column(JSON, default=list)
    member_count: Mapped[int] = mapped_column(Integer, default=1)
    # Credit goes to the earliest report by ledger order (the event's sequence number).
    first_reporter_finding_id: Mapped[str] = mapped_column(String(36))
    first_reporter_org_id: Mapped[str] = mapped_column(String(36))
    first_reported_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RelationStatus(enum.StrEnum):
    MERGED = "merged"  # high confidence: joined the case automatically
    PROPOSED = "proposed"  # lower confidence: an analyst confirms or splits
    CONFIRMED = "confirmed"
    SPLIT = "split"


class FindingRelation(Base):
    """What deduplication found between a finding and an earlier one."""

    __tablename__ = "finding_relations"
    __audit_type__ = "finding_relation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    target_finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    relation: Mapped[str] = mapped_column(String(20))  # duplicate_of, variant_of, related
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

"""Frontier model review: models under development, inquiries, access grants,
designation policies, recommendations, determinations and trusted partners.

A model carries its developer's marking (TLP:RED, CUI, owned by the developer
organization); the records about it (inquiries, grants, partner grants) take
the model's marking. Government work (policies, recommendations,
determinations) carries its own marking, owned by the government organization.

None of these tables holds an approval, clearance or permit of a release:
there is no such state (see ``docs/frontier.md``, "No release gate").
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class InquiryStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class GrantStatus(enum.StrEnum):
    """Where an access grant stands, computed from its dates, acceptance and withdrawal."""

    PROPOSED = "proposed"  # the developer offered it; the government has not accepted the terms
    SCHEDULED = "scheduled"  # both accepted; the window has not opened
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"  # the window closed


class Designation(enum.StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not_covered"


class Releasability(enum.StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    WITHHELD = "withheld"


class PartnerStatus(enum.StrEnum):
    PROPOSED = "proposed"  # one side agreed
    AGREED = "agreed"  # both sides agreed
    WITHDRAWN = "withdrawn"


class FrontierModel(MarkedMixin, Base):
    """An AI model under development, registered by its developer."""

    __tablename__ = "frontier_models"
    __audit_type__ = "frontier_model"
    __table_args__ = (UniqueConstraint("owner_org_id", "name", "version", name="uq_frontier_models_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    planned_partner_release_at: Mapped[dt.datetime]
    planned_public_release_at: Mapped[dt.datetime | None]
    registered_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Inquiry(Base):
    """A developer's question: does this model meet the designation?"""

    __tablename__ = "frontier_inquiries"
    __audit_type__ = "frontier_inquiry"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("frontier_models.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=InquiryStatus.OPEN)
    opened_by: Mapped[str | None] = mapped_column(String(36))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    determination_id: Mapped[str | None] = mapped_column(String(36))


class AccessGrant(Base):
    """Pre-release access the developer gives the government, for a window
    ending no later than the planned release to trusted partners. The
    endpoint (URL, model name, API key) is stored envelope-encrypted."""

    __tablename__ = "frontier_grants"
    __audit_type__ = "frontier_grant"
    __table_args__ = (UniqueConstraint("model_id", "idempotency_key", name="uq_frontier_grants_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("frontier_models.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    terms_sha256: Mapped[str] = mapped_column(String(64))
    need_to_know: Mapped[list[str]] = mapped_column(JSON, default=list)
    endpoint_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    endpoint_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    developer_accepted_by: Mapped[str | None] = mapped_column(String(36))
    developer_accepted_at: Mapped[dt.datetime]
    government_accepted_by: Mapped[str | None] = mapped_column(String(36))
    government_accepted_at: Mapped[dt.datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def status_at(self, now: dt.datetime) -> GrantStatus:
        if self.withdrawn_at is not None:
            return GrantStatus.WITHDRAWN
        if now >= self.ends_at:
            return GrantStatus.ENDED
        if self.government_accepted_at is None:
            return GrantStatus.PROPOSED
        if now < self.starts_at:
            return GrantStatus.SCHEDULED
        return GrantStatus.ACTIVE


class DesignationPolicy(MarkedMixin, Base):
    """One version of a designation policy: named thresholds as CEL expressions
    over suite metrics. A model is recommended as covered when any threshold holds."""

    __tablename__ = "frontier_policies"
    __audit_type__ = "frontier_policy"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_frontier_policies_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    thresholds: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Recommendation(MarkedMixin, Base):
    """A policy applied to one campaign's metrics: each threshold, its result
    and the metric values that decided it."""

    __tablename__ = "frontier_recommendations"
    __audit_type__ = "frontier_recommendation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("frontier_models.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("frontier_policies.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    covered: Mapped[bool] = mapped_column(Boolean)
    evaluations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Determination(MarkedMixin, Base):
    """The determination authority's decision (covered or not), and the
    separate decision whether it is released to the developer."""

    __tablename__ = "frontier_determinations"
    __audit_type__ = "frontier_determination"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("frontier_models.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text)
    recommendation_id: Mapped[str | None] = mapped_column(ForeignKey("frontier_recommendations.id"))
    determined_by: Mapped[str | None] = mapped_column(String(36))
    determined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    releasability: Mapped[str] = mapped_column(String(16), default=Releasability.PENDING)
    releasability_reason: Mapped[str | None] = mapped_column(Text)
    releasability_decided_by: Mapped[str | None] = mapped_column(String(36))
    releasability_decided_at: Mapped[dt.datetime | None]


class PartnerGrant(Base):
    """Early access for a trusted partner organization to a covered model,
    agreed by the developer and by the government."""

    __tablename__ = "frontier_partner_grants"
    __audit_type__ = "frontier_partner_grant"
    __table_args__ = (
        UniqueConstraint("model_id", "partner_org_id", "starts_at", name="uq_frontier_partner_grants_window"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("frontier_models.id", ondelete="CASCADE"), index=True)
    partner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    obligations: Mapped[list[str]] = mapped_column(JSON)
    proposed_by: Mapped[str | None] = mapped_column(String(36))
    developer_agreed_by: Mapped[str | None] = mapped_column(String(36))
    developer_agreed_at: Mapped[dt.datetime | None]
    government_agreed_by: Mapped[str | None] = mapped_column(String(36))
    government_agreed_at: Mapped[dt.datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))
    withdrawn_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def status(self) -> PartnerStatus:
        if self.withdrawn_at is not None:
            return PartnerStatus.WITHDRAWN
        if self.developer_agreed_at is not None and self.government_agreed_at is not None:
            return PartnerStatus.AGREED
        return PartnerStatus.PROPOSED

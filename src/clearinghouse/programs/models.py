"""Defensive-tool access programs, applications, grants and usage reports.

A program is TLP:GREEN (every participant may find it and apply), owned by
its operating organization. Applications and grants are TLP:AMBER+STRICT for
the applying organization. The facts eligibility is judged on that the
organization directory does not hold (sector, size) are recorded on the
application, with the organization's kind at the time.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class Sector(enum.StrEnum):
    """CISA's sixteen critical-infrastructure sectors (PPD-21), and state or local government."""

    CHEMICAL = "chemical"
    COMMERCIAL_FACILITIES = "commercial_facilities"
    COMMUNICATIONS = "communications"
    CRITICAL_MANUFACTURING = "critical_manufacturing"
    DAMS = "dams"
    DEFENSE_INDUSTRIAL_BASE = "defense_industrial_base"
    EMERGENCY_SERVICES = "emergency_services"
    ENERGY = "energy"
    FINANCIAL_SERVICES = "financial_services"
    FOOD_AND_AGRICULTURE = "food_and_agriculture"
    GOVERNMENT_FACILITIES = "government_facilities"
    HEALTHCARE = "healthcare"  # Healthcare and Public Health
    INFORMATION_TECHNOLOGY = "information_technology"
    NUCLEAR = "nuclear"
    TRANSPORTATION = "transportation"
    WATER = "water"  # Water and Wastewater Systems
    STATE_LOCAL_GOVERNMENT = "state_local_government"


class OrgSize(enum.StrEnum):
    """Small: under 100 staff (a rural hospital, a community bank, a local utility);
    medium: 100 to 999; large: 1,000 or more."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Program(MarkedMixin, Base):
    __tablename__ = "programs"
    __audit_type__ = "program"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Exactly one of: a tool, or a model registered with frontier review.
    tool_name: Mapped[str | None] = mapped_column(String(300))
    model_id: Mapped[str | None] = mapped_column(String(36), index=True)
    eligible_org_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligible_sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligible_sizes: Mapped[list[str]] = mapped_column(JSON, default=list)
    terms: Mapped[str] = mapped_column(Text)
    capacity: Mapped[int] = mapped_column(Integer)
    grant_days: Mapped[int] = mapped_column(Integer, default=365)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Application(MarkedMixin, Base):
    __tablename__ = "program_applications"
    __audit_type__ = "program_application"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), index=True)
    applicant_user_id: Mapped[str] = mapped_column(String(36))
    org_kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(40))
    size: Mapped[str] = mapped_column(String(10))
    justification: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=ApplicationStatus.PENDING, index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Grant(MarkedMixin, Base):
    """Access for one organization, from ``starts_at`` until ``ends_at`` or revocation.
    Whether it is active is read from the clock each time, never set by a job."""

    __tablename__ = "program_grants"
    __audit_type__ = "program_grant"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("program_applications.id"), unique=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(36))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def active_at(self, when: dt.datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= when < self.ends_at


class UsageReport(Base):
    __tablename__ = "program_usage_reports"
    __audit_type__ = "program_usage_report"
    __table_args__ = (UniqueConstraint("grant_id", "period_start", "period_end"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    grant_id: Mapped[str] = mapped_column(ForeignKey("program_grants.id"), index=True)
    period_start: Mapped[dt.datetime]
    period_end: Mapped[dt.datetime]
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(36))
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ModelOfferConsent(Base):
    """The developer's consent to offer its model in one organization's programs,
    to the participant organizations it names (issue 14, defect 7). A program
    offering a model exists, is seen and grants access only under a live consent."""

    __tablename__ = "program_model_consents"
    __audit_type__ = "program_model_consent"
    __table_args__ = (UniqueConstraint("model_id", "operator_org_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(String(36), index=True)
    developer_org_id: Mapped[str] = mapped_column(String(36))
    operator_org_id: Mapped[str] = mapped_column(String(36), index=True)
    participant_org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    consented_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))

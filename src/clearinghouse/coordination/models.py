"""Scan campaigns and the overlaps found between them; vendor coordination:
each case's disclosure clock, aliases, vendor threads with per-product
statuses and messages, and published advisory revisions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class ScanCampaign(MarkedMixin, Base):
    """A participant's announced scanning: which targets, when, with what."""

    __tablename__ = "scan_campaigns"
    __audit_type__ = "scan_campaign"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    targets: Mapped[list[str]] = mapped_column(JSON)  # purls or repository URLs, as given
    target_keys: Mapped[list[str]] = mapped_column(JSON)  # normalized, for overlap
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    tool: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CampaignConflict(Base):
    """Two campaigns that scan the same targets in overlapping windows."""

    __tablename__ = "campaign_conflicts"
    __audit_type__ = "campaign_conflict"
    __table_args__ = (UniqueConstraint("campaign_id", "other_campaign_id", name="uq_campaign_conflict_pair"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("scan_campaigns.id", ondelete="CASCADE"), index=True)
    other_campaign_id: Mapped[str] = mapped_column(
        ForeignKey("scan_campaigns.id", ondelete="CASCADE"), index=True
    )
    overlapping_targets: Mapped[list[str]] = mapped_column(JSON)
    window_start: Mapped[dt.datetime]
    window_end: Mapped[dt.datetime]
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- vendor coordination -------------------------------------------------------


class CoordinationState(enum.StrEnum):
    OPEN = "open"  # vendors being worked with, nothing public
    PUBLISHED = "published"  # at least one advisory revision published


class CaseCoordination(Base):
    """The coordination record of one validated case: its disclosure clock and
    embargo. Read and changed only through the case's own marking (the policy
    sees the case); vendors see their threads, never this row as such."""

    __tablename__ = "case_coordination"
    __audit_type__ = "case_coordination"

    id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default=CoordinationState.OPEN)
    disclosure_days: Mapped[int] = mapped_column(Integer, default=90)
    first_vendor_contact_at: Mapped[dt.datetime | None]
    embargo_end: Mapped[dt.datetime | None]
    # When the case became known to be exploited in the wild (coordinator's word or KEV).
    exploited_since: Mapped[dt.datetime | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseAlias(Base):
    """An identifier a coordinator assigned to a case (CVE, GHSA, ...). One alias names one case."""

    __tablename__ = "case_aliases"
    __audit_type__ = "case_alias"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the alias itself
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class VendorThread(MarkedMixin, Base):
    """One vendor's part of a case: marked TLP:AMBER+STRICT for the vendor
    organization, so the vendor and clearinghouse staff read it, nobody else.
    ``brief`` is what of the case is shared with this vendor."""

    __tablename__ = "vendor_threads"
    __audit_type__ = "vendor_thread"
    __table_args__ = (UniqueConstraint("case_id", "vendor_org_id", name="uq_vendor_threads_case_vendor"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    vendor_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # matching | coordinator
    brief_title: Mapped[str] = mapped_column(String(500))
    brief: Mapped[str] = mapped_column(Text, default="")
    notified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_by: Mapped[str | None] = mapped_column(String(36))
    first_response_at: Mapped[dt.datetime | None]


class ThreadProduct(Base):
    """A vendor's status for one product on its thread. Created ``unknown``:
    silence is never shown as ``not_affected``."""

    __tablename__ = "vendor_thread_products"
    __audit_type__ = "vendor_thread_product"
    __table_args__ = (UniqueConstraint("thread_id", "product_id", name="uq_vendor_thread_products_product"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    thread_id: Mapped[str] = mapped_column(ForeignKey("vendor_threads.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(String(1000))  # a purl where there is one
    product_name: Mapped[str] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24), default="unknown")
    justification: Mapped[str | None] = mapped_column(String(60))
    impact_statement: Mapped[str | None] = mapped_column(Text)
    action_statement: Mapped[str | None] = mapped_column(Text)
    fixed_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="coordinator")  # api, cyclonedx, openvex, csaf
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ThreadMessage(Base):
    """A message on a vendor thread (read with the thread's marking)."""

    __tablename__ = "vendor_thread_messages"
    __audit_type__ = "vendor_thread_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    thread_id: Mapped[str] = mapped_column(ForeignKey("vendor_threads.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[str | None] = mapped_column(String(36))
    author_org_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AdvisoryRevision(MarkedMixin, Base):
    """One published revision of a case's advisory: an ``AdvisoryRecord``
    snapshot as JSON, marked with the TLP chosen at publication."""

    __tablename__ = "advisory_revisions"
    __audit_type__ = "advisory_revision"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_advisory_revisions_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by: Mapped[str | None] = mapped_column(String(36))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

"""Scan campaigns and the overlaps found between them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage._base import Base, new_id, utcnow


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

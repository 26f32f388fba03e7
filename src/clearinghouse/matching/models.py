"""Registered assets (inventories), their components, and the stored matches of cases against them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, synonym

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class Criticality(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Asset(MarkedMixin, Base):
    """A participant's system, described by an SBOM. Marked TLP:AMBER+STRICT for its
    owner: what an organization runs is its own business and the clearinghouse's."""

    __tablename__ = "assets"
    __audit_type__ = "asset"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    internet_exposed: Mapped[bool] = mapped_column(Boolean, default=False)
    criticality: Mapped[str] = mapped_column(String(10), default=Criticality.MEDIUM)
    sbom_format: Mapped[str] = mapped_column(String(20))
    sbom_spec_version: Mapped[str | None] = mapped_column(String(10))
    sbom_sha256: Mapped[str] = mapped_column(String(64))
    component_count: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssetComponent(Base):
    """One component of an asset's SBOM. Bulk rows: the asset's own ledger event
    carries the SBOM's digest and component count instead of one event each."""

    __tablename__ = "asset_components"
    __table_args__ = (Index("ix_asset_components_package", "ecosystem", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    purl: Mapped[str | None] = mapped_column(String(1000))
    ecosystem: Mapped[str | None] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(200))
    cpe: Mapped[str | None] = mapped_column(String(500))
    bom_ref: Mapped[str | None] = mapped_column(String(500))
    pointer: Mapped[str] = mapped_column(String(500))
    # ``ecosystem/key`` of the package as the matcher names it (lower-cased), and the Go ``/vN``
    # module path an SBOM left out; the advisory matcher loads only the components it names.
    # NULL: registered before these were kept (the asset job fills them in).
    package_key: Mapped[str | None] = mapped_column(String(600), index=True)
    alias_key: Mapped[str | None] = mapped_column(String(600), index=True)


class MatchStatus(enum.StrEnum):
    """Where an operator's remediation of a match stands."""

    OPEN = "open"
    FIXED = "fixed"
    MITIGATED = "mitigated"
    ACCEPTED_RISK = "accepted_risk"
    NOT_AFFECTED = "not_affected"


class RemediationMixin:
    """An operator's answer to a match: fixed, mitigated, accepted risk (with reason and expiry),
    not affected (with a VEX justification); an upgrade seen in a newer SBOM closes it as fixed
    with ``evidence``. Changes are audited (``match.status_changed``)."""

    status: Mapped[str] = mapped_column(String(20), default=MatchStatus.OPEN.value, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    vex_justification: Mapped[str | None] = mapped_column(String(60), default=None)
    evidence: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    status_changed_by: Mapped[str | None] = mapped_column(String(36), default=None)


class CaseMatch(RemediationMixin, MarkedMixin, Base):
    """A validated case that affects one component of one asset, and why.

    Marked as the asset is (TLP:AMBER+STRICT for the asset's owner): the owner and
    staff read it. ``key`` is the natural key (case, asset, component), so the
    matching jobs can run again and leave the same rows; ``created_at`` is kept
    across re-runs (BOD 26-04 clocks start from it unless a notice says otherwise).
    """

    __tablename__ = "matches"
    __audit_type__ = "match"
    __table_args__ = (Index("ix_matches_case_asset", "case_id", "asset_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    component_purl: Mapped[str | None] = mapped_column(String(1000))
    component_name: Mapped[str] = mapped_column(String(500))
    component_version: Mapped[str | None] = mapped_column(String(200))
    component_pointer: Mapped[str] = mapped_column(String(500))
    package: Mapped[str] = mapped_column(String(600))  # the case's package ("PyPI/django")
    package_pointer: Mapped[str] = mapped_column(String(100))  # which finding's package ("/package/0")
    matched_range: Mapped[str] = mapped_column(String(2000))
    rule: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    affected: Mapped[bool | None] = mapped_column(Boolean)
    explanation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The asset owner's organization (the marking's owner), usable in queries too.
    asset_owner_org_id: Mapped[str] = synonym("owner_org_id")


class AdvisoryMatch(RemediationMixin, MarkedMixin, Base):
    """A public advisory (OSV, GHSA, PyPA, ... as imported) that affects one component of one
    asset, and why; marked as the asset is. ``key`` is the natural key (advisory, asset,
    component), so the jobs leave the same rows when run again. ``vulnerability_ids`` are the
    advisory's id and aliases (CVE, GHSA, ...), ``fixed_version`` the first version that fixes
    the installed one, and ``severity`` / ``cvss_vector`` what the advisory says."""

    __tablename__ = "advisory_matches"
    __audit_type__ = "advisory_match"
    # Rows are inserted in bulk by the matching jobs and recorded by batch events naming their ids
    # (``matching.tasks.record_new_rows``); later changes are audited one event each.
    __audit_batch__ = "advisory_match.batch_created"
    __table_args__ = (Index("ix_advisory_matches_asset_advisory", "asset_id", "advisory_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    advisory_id: Mapped[str] = mapped_column(String(200), index=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    component_purl: Mapped[str | None] = mapped_column(String(1000))
    component_name: Mapped[str] = mapped_column(String(500))
    component_version: Mapped[str | None] = mapped_column(String(200))
    component_pointer: Mapped[str] = mapped_column(String(500))
    package: Mapped[str] = mapped_column(String(600))
    package_pointer: Mapped[str] = mapped_column(String(100))
    matched_range: Mapped[str] = mapped_column(String(2000))
    rule: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    affected: Mapped[bool | None] = mapped_column(Boolean)
    explanation: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    vulnerability_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str | None] = mapped_column(String(10))
    cvss_vector: Mapped[str | None] = mapped_column(String(300))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    fixed_version: Mapped[str | None] = mapped_column(String(200))
    fixed_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    asset_owner_org_id: Mapped[str] = synonym("owner_org_id")

"""What prioritization keeps: EPSS scores by CVE (KEV entries live with the advisory data),
each case's CVSS scores with their source, and analysts' SSVC inputs per case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage import Base, new_id, utcnow


class EpssScore(Base):
    """FIRST's Exploit Prediction Scoring System: the probability of exploitation in
    the next 30 days, and its percentile among all scored CVEs."""

    __tablename__ = "epss_scores"

    cve_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    score_date: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseScore(Base):
    """One CVSS score of a case and who gave it (``source``: finder, vendor, coordinator,
    imported). ``origin`` names where it came from (``finding:<id>``, ``advisory:<id>``,
    ``user:<id>``). ``key`` (case, source, origin, vector) makes recording it again a no-op.
    Read as the case is read (the policy asks about the case)."""

    __tablename__ = "case_scores"
    __audit_type__ = "case_score"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(5))
    vector: Mapped[str] = mapped_column(String(300))
    base_score: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10))
    temporal_score: Mapped[float | None] = mapped_column(Float)
    environmental_score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SsvcInputs(Base):
    """An analyst's SSVC inputs for a case, overriding what is derived from the case's facts
    (``values``: decision point parameter -> value, e.g. ``{"automatable": "yes"}``)."""

    __tablename__ = "case_ssvc_inputs"
    __audit_type__ = "ssvc_inputs"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def id(self) -> str:
        # The ledger names objects by ``id``.
        return self.case_id

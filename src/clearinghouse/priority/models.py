"""What prioritization keeps: EPSS scores by CVE (KEV entries live with the advisory data)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage._base import Base, utcnow


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

"""What triage keeps beside the findings: each finder pipeline's track record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage._base import Base, utcnow


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

"""The reproduction lab's tables: jobs, runs per version (logs encrypted), bisections, watched packages.

Every row is read through its finding: whoever may read the finding may read its reproductions, no
one else (see ``services``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage import Base, new_id, utcnow


class ReproJob(Base):
    """One request to reproduce a finding: queued, running, done."""

    __tablename__ = "repro_jobs"
    __audit_type__ = "reproduction"
    __table_args__ = (Index("ix_repro_jobs_status_priority", "status", "priority"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    trigger: Mapped[str] = mapped_column(String(20), default="request")
    requested_by: Mapped[str] = mapped_column(String(80))
    spec_sha256: Mapped[str] = mapped_column(String(64))
    claimed_version: Mapped[str | None] = mapped_column(String(200))
    fix_version: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str | None] = mapped_column(String(20))
    fix_verified: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class ReproRun(Base):
    """One version tried N times: the verdict, and the runs' log encrypted like a proof of concept."""

    __tablename__ = "repro_runs"
    __audit_type__ = "reproduction_run"
    __table_args__ = (
        Index("ix_repro_runs_dedup", "case_key", "package_type", "package_name", "version", "spec_sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("repro_jobs.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[str] = mapped_column(String(36), index=True)
    case_key: Mapped[str] = mapped_column(String(36))  # the case, or the finding while it has none
    package_type: Mapped[str] = mapped_column(String(50))
    package_name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # claimed, fixed, bisect
    spec_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(20))
    reproduced: Mapped[bool | None] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    log_sha256: Mapped[str | None] = mapped_column(String(64))
    log_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    log_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    reused_from: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReproBisection(Base):
    """Earliest affected and first fixed versions found by running, against the claimed and public ranges."""

    __tablename__ = "repro_bisections"
    __audit_type__ = "reproduction_bisection"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("repro_jobs.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[str] = mapped_column(String(36), index=True)
    first_affected: Mapped[str | None] = mapped_column(String(200))
    first_fixed: Mapped[str | None] = mapped_column(String(200))
    last_affected: Mapped[str | None] = mapped_column(String(200))
    first_affected_exact: Mapped[bool] = mapped_column(Boolean, default=False)
    agrees: Mapped[bool | None] = mapped_column(Boolean)
    comparisons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    probes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReproWatch(Base):
    """A package whose newest release the recheck looks at."""

    __tablename__ = "repro_watch"
    __audit_type__ = "reproduction_watch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    package_type: Mapped[str] = mapped_column(String(50))
    package_name: Mapped[str] = mapped_column(String(500))
    newest_version: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ux_repro_watch_package", "package_type", "package_name", unique=True),)

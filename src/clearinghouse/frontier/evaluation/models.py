"""Benchmark suites, their tasks, evaluation campaigns and per-task results.

Suites and tasks carry the classification marking from their manifest;
a campaign carries the most restrictive marking of the suites it runs; a result
carries its task's. All are read through ``access/_policy.py`` (frontier
evaluation rules).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class CampaignStatus(enum.StrEnum):
    QUEUED = "queued"  # created; the launch job has not started the worker
    RUNNING = "running"  # the worker subprocess is running Inspect
    SUCCEEDED = "succeeded"  # results read back from the logs
    FAILED = "failed"  # the worker failed, or too many samples errored (the reason in ``error``)
    STOPPED = "stopped"  # the grant was withdrawn or ended while it ran: the worker was ended


class EvalSuite(MarkedMixin, Base):
    """A versioned set of Inspect tasks, registered from a folder with a ``suite.yaml``."""

    __tablename__ = "frontier_eval_suites"
    __audit_type__ = "eval_suite"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_frontier_eval_suites_name_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    storage_path: Mapped[str] = mapped_column(String(500))  # under the runtime home
    registered_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvalTask(MarkedMixin, Base):
    """One Inspect task of a suite, with its tier, epochs, limits and metrics."""

    __tablename__ = "frontier_eval_tasks"
    __audit_type__ = "eval_task"
    __table_args__ = (UniqueConstraint("suite_id", "name", name="uq_frontier_eval_tasks_suite_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    suite_id: Mapped[str] = mapped_column(
        ForeignKey("frontier_eval_suites.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    metric_group: Mapped[str] = mapped_column(String(100))
    tier: Mapped[int | None] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(300))
    function: Mapped[str] = mapped_column(String(100))
    file_sha256: Mapped[str] = mapped_column(String(64))
    epochs: Mapped[int] = mapped_column(Integer)
    pass_at: Mapped[list[int]] = mapped_column(JSON)
    metrics: Mapped[list[str]] = mapped_column(JSON)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")


class EvalCampaign(MarkedMixin, Base):
    """Chosen suites run against one granted model endpoint."""

    __tablename__ = "frontier_eval_campaigns"
    __audit_type__ = "eval_campaign"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key", name="uq_frontier_eval_campaigns_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    model_id: Mapped[str | None] = mapped_column(String(36), index=True)  # from the endpoint, at launch
    suite_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[CampaignStatus] = mapped_column(String(20), default=CampaignStatus.QUEUED)
    samples_total: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(36))
    log_dir: Mapped[str | None] = mapped_column(String(500))  # under the runtime home
    error: Mapped[str | None] = mapped_column(Text)
    # generation settings (temperature, seed, max_tokens), max_error_rate
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    worker_dir: Mapped[str | None] = mapped_column(String(1000))  # absolute: to stop the worker
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class EvalResult(MarkedMixin, Base):
    """What one task scored in one campaign, read back from its Inspect log."""

    __tablename__ = "frontier_eval_results"
    __audit_type__ = "eval_result"
    __table_args__ = (UniqueConstraint("campaign_id", "task_id", name="uq_frontier_eval_results_task"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("frontier_eval_campaigns.id", ondelete="CASCADE"), index=True
    )
    suite_id: Mapped[str] = mapped_column(ForeignKey("frontier_eval_suites.id"), index=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("frontier_eval_tasks.id"), index=True)
    eval_id: Mapped[str] = mapped_column(String(100))
    task_version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # Inspect's: success, error, cancelled
    samples: Mapped[int] = mapped_column(Integer)
    epochs: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    tallies: Mapped[dict[str, Any]] = mapped_column(JSON)  # counts to pool tasks into tiers and groups
    log_file: Mapped[str] = mapped_column(String(500))  # under the campaign's log folder
    log_sha256: Mapped[str] = mapped_column(String(64))
    packages: Mapped[dict[str, str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # model, endpoint model name, generation settings, seeds, epochs, suite and task versions, log hash
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)

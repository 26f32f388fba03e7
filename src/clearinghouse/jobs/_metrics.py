"""Prometheus counters for background jobs, labelled by job name."""

from __future__ import annotations

from prometheus_client import Counter

JOBS_ENQUEUED = Counter("clearinghouse_jobs_enqueued", "Jobs enqueued (new rows only).", ["job"])
JOBS_SUCCEEDED = Counter("clearinghouse_jobs_succeeded", "Jobs whose effects committed.", ["job"])
JOBS_FAILED = Counter("clearinghouse_jobs_failed", "Jobs that failed their last attempt.", ["job"])
JOBS_RETRIED = Counter(
    "clearinghouse_jobs_retried", "Attempts that failed or were lost and will be tried again.", ["job"]
)

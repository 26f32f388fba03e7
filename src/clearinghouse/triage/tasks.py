"""Background triage: deduplicating newly checked findings into cases."""

from __future__ import annotations

from clearinghouse.domain import DEDUP_JOB as DEDUP_JOB
from clearinghouse.jobs import JobContext, job
from clearinghouse.triage._cases import BATCH, deduplicate_pending


@job(DEDUP_JOB, retries=5, retry_delay_seconds=5)
def deduplicate(ctx: JobContext) -> None:
    """Place every checked finding that has no case yet, a batch at a time; a
    full batch queues the next run so no job holds the lock for long."""
    placed = deduplicate_pending(ctx.uow, BATCH)
    if placed >= BATCH:
        ctx.uow.enqueue(DEDUP_JOB, {})

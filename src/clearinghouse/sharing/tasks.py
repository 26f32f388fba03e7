"""Background sharing: a published advisory revision into every feed configured for its TLP."""

from __future__ import annotations

from clearinghouse.jobs import JobContext, job
from clearinghouse.sharing._distribute import DISTRIBUTE_JOB, distribute


@job(DISTRIBUTE_JOB, retries=5, retry_delay_seconds=10)
def distribute_job(ctx: JobContext, revision_id: str) -> None:
    """Add the revision to its TAXII collections, note its CSAF and OSV places, tell matched owners."""
    distribute(ctx.uow, revision_id)

"""Background work on the ledger: scheduled integrity checks."""

from __future__ import annotations

from clearinghouse.jobs import JobContext, job
from clearinghouse.ledger._verify import verify_ledger

VERIFY_JOB = "ledger.verify"


@job(VERIFY_JOB, retries=2, retry_delay_seconds=30)
def verify_ledger_job(ctx: JobContext) -> None:
    """Verify the whole chain and record the outcome in the ledger itself, so an
    auditor sees when the chain was last checked and what was found."""
    report = verify_ledger(ctx.uow.session, ctx.settings.keys_dir)
    first = report.first_problem
    ctx.uow.record(
        "audit.verified",
        "job",
        ctx.job_id,
        ok=report.ok,
        events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked,
        first_bad_event=first.seq if first else None,
        problem=first.message if first else None,
    )

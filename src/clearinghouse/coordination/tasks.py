"""Background coordination: reminders before embargo ends and disclosure deadlines."""

from __future__ import annotations

from clearinghouse.access.services import OPERATOR
from clearinghouse.coordination._workflow import REMINDER_JOB, send_reminder
from clearinghouse.jobs import JobContext, job


@job(REMINDER_JOB, retries=3, retry_delay_seconds=60)
def reminder(ctx: JobContext, case_id: str, due_at: str, days: int) -> None:
    """Emit the reminder it was queued for, unless the deadline moved or the case was published."""
    send_reminder(ctx.uow, OPERATOR, case_id, due_at, days)

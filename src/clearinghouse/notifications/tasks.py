"""Background delivery: fan-out, webhook posts, e-mails and daily digests.

The jobs themselves never fail on a delivery error: each attempt is stored and
the next one queued with back-off (see ``_delivery``), so a job raising means a
bug or a database problem, which the job system retries as usual.
"""

from __future__ import annotations

from clearinghouse.envelope import Envelope
from clearinghouse.jobs import JobContext, job
from clearinghouse.notifications._delivery import (
    DIGEST_JOB,
    EMAIL_JOB,
    WEBHOOK_JOB,
    deliver_webhook,
    fan_out,
    send_digest,
    send_email,
)
from clearinghouse.notifications._events import FANOUT_JOB


@job(FANOUT_JOB, retries=5, retry_delay_seconds=5)
def fanout(ctx: JobContext, event_id: str) -> None:
    fan_out(ctx.uow, event_id)


@job(WEBHOOK_JOB, retries=2, retry_delay_seconds=5)
def webhook(ctx: JobContext, delivery_id: str) -> None:
    deliver_webhook(ctx.uow, Envelope.from_keys_dir(ctx.settings.keys_dir), delivery_id)


@job(EMAIL_JOB, retries=2, retry_delay_seconds=5)
def email(ctx: JobContext, email_id: str) -> None:
    send_email(ctx.uow, email_id)


@job(DIGEST_JOB, retries=3, retry_delay_seconds=30)
def digest(ctx: JobContext, user_id: str) -> None:
    send_digest(ctx.uow, user_id)

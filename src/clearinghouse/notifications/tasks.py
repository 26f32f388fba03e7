"""Background delivery: fan-out, webhook posts, e-mails and daily digests.

The jobs themselves never fail on a delivery error: each attempt is stored and
the next one queued with back-off (see ``_delivery``), so a job raising means a
bug or a database problem, which the job system retries as usual.

Webhook and e-mail jobs are phased: no database transaction is open while they
talk to the network. They read what to send in a short unit of work, send it
(with timeouts and a total deadline), and record the outcome in the job's
``finish`` transaction, which commits together with the job's "succeeded" mark.
"""

from __future__ import annotations

from clearinghouse.envelope import Envelope
from clearinghouse.jobs import JobContext, PhasedJobContext, job
from clearinghouse.notifications._delivery import (
    DIGEST_JOB,
    EMAIL_JOB,
    WEBHOOK_JOB,
    fan_out,
    prepare_email,
    prepare_webhook,
    record_email,
    record_webhook,
    send_digest,
    send_prepared_email,
    send_webhook,
)
from clearinghouse.notifications._events import FANOUT_JOB
from clearinghouse.outbound import OutboundPolicy


@job(FANOUT_JOB, retries=5, retry_delay_seconds=5)
def fanout(ctx: JobContext, event_id: str) -> None:
    fan_out(ctx.uow, event_id)


@job(WEBHOOK_JOB, retries=2, retry_delay_seconds=5, phased=True)
def webhook(ctx: PhasedJobContext, delivery_id: str) -> None:
    envelope = Envelope.from_keys_dir(ctx.settings.keys_dir)
    with ctx.read() as uow:
        plan = prepare_webhook(uow.session, envelope, delivery_id)
    if plan.skip:
        return
    outcome = None if plan.problem else send_webhook(plan, OutboundPolicy.from_settings(ctx.settings))
    with ctx.finish() as uow:
        record_webhook(uow, plan, outcome)


@job(EMAIL_JOB, retries=2, retry_delay_seconds=5, phased=True)
def email(ctx: PhasedJobContext, email_id: str) -> None:
    with ctx.read() as uow:
        plan = prepare_email(uow.session, email_id)
    if plan.skip:
        return
    outcome = send_prepared_email(plan, OutboundPolicy.from_settings(ctx.settings))
    with ctx.finish() as uow:
        record_email(uow, plan, outcome)


@job(DIGEST_JOB, retries=3, retry_delay_seconds=30)
def digest(ctx: JobContext, user_id: str) -> None:
    send_digest(ctx.uow, user_id)

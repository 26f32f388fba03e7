"""Background jobs of evaluation campaigns: launch the worker subprocess, then
poll it and read its results back. Neither job runs Inspect itself, so no job
holds its transaction (nor SQLite's write lock) for the length of a campaign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from clearinghouse.access import Subject
from clearinghouse.frontier.evaluation import services
from clearinghouse.jobs import JobContext, job
from clearinghouse.storage import UnitOfWork, utcnow


@job(services.LAUNCH_JOB, retries=2, retry_delay_seconds=5)
def launch_campaign(ctx: JobContext, campaign_id: str, user_id: str, scopes: Sequence[str]) -> None:
    """Open the endpoint (logged in the ledger) and start the worker once that is committed."""
    from clearinghouse.envelope import Envelope
    from clearinghouse.frontier._endpoint import EndpointCredential, open_endpoint

    envelope = Envelope.from_keys_dir(ctx.settings.keys_dir)

    def opener(uow: UnitOfWork, subject: Subject, grant_id: str, purpose: str) -> EndpointCredential:
        return open_endpoint(uow, subject, grant_id, purpose, envelope=envelope)

    start = services.launch(ctx.uow, ctx.settings.home, campaign_id, user_id, scopes, opener)
    if start is not None:
        ctx.uow.after_commit(start)
        ctx.uow.enqueue(
            services.COLLECT_JOB,
            {"campaign_id": campaign_id},
            run_after=utcnow() + dt.timedelta(seconds=services.POLL_SECONDS),
        )


@job(services.COLLECT_JOB, retries=3, retry_delay_seconds=5)
def collect_campaign(ctx: JobContext, campaign_id: str) -> None:
    """Read the results back if the worker is done; otherwise look again shortly."""
    if not services.collect(ctx.uow, ctx.settings.home, campaign_id):
        ctx.uow.enqueue(
            services.COLLECT_JOB,
            {"campaign_id": campaign_id},
            run_after=utcnow() + dt.timedelta(seconds=services.POLL_SECONDS),
        )

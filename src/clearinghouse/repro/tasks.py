"""Background jobs of the reproduction lab."""

from __future__ import annotations

import datetime as dt

from clearinghouse.jobs import JobContext, job
from clearinghouse.repro import _worker, services
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.storage import utcnow

RECHECK_EVERY = dt.timedelta(hours=6)


@job(services.REPRO_JOB, retries=2, retry_delay_seconds=5)
def run_reproduction(ctx: JobContext, repro_job_id: str) -> None:
    """Wake a drainer once this commits; the drainer takes queued reproductions by priority."""
    settings = ctx.settings
    ctx.uow.after_commit(lambda: _worker.wake(settings))


@job(services.RECHECK_JOB, retries=2, retry_delay_seconds=60)
def recheck(ctx: JobContext) -> None:
    """Poll for new releases of reproduced packages (after this commits), then look again later."""
    settings = ctx.settings

    def after() -> None:
        factory, _envelope = _worker.wiring(settings)
        if services.recheck(factory, ReproSettings.from_env(settings)):
            _worker.wake(settings)

    ctx.uow.after_commit(after)
    at = utcnow() + RECHECK_EVERY
    ctx.enqueue(services.RECHECK_JOB, {}, run_after=at, idempotency_key=f"repro.recheck:{at:%Y-%m-%dT%H}")

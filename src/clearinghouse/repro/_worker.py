"""Runs queued reproductions: claim, perform outside any transaction, record.

The ``repro.run`` job only wakes this up once its transaction commits (a job's own unit of work
holds a write transaction for the whole job, and a reproduction fetches and runs for seconds to
minutes). At most ``CLEARINGHOUSE_REPRO_WORKERS`` (default: the cores) drainers run per process,
each taking the highest-priority queued reproduction next."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from clearinghouse.config import Settings
from clearinghouse.envelope import Envelope
from clearinghouse.repro import services
from clearinghouse.repro._lab import AttemptResult, Lab
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.sandbox import Sandbox, SandboxLimits, SandboxUnavailable
from clearinghouse.storage import UnitOfWorkFactory

log = logging.getLogger("clearinghouse.repro")

_lock = threading.Lock()
_wiring: dict[str, tuple[UnitOfWorkFactory, Envelope]] = {}
_drainers = 0


def wiring(settings: Settings) -> tuple[UnitOfWorkFactory, Envelope]:
    """A unit-of-work factory (wired to the job queue, so recording a verdict can queue its
    follow-ups through ``uow.enqueue``) and the envelope for this data folder, one per process."""
    from clearinghouse.runtime import Runtime

    key = f"{settings.database_url}|{settings.home}"
    with _lock:
        if key not in _wiring:
            runtime = Runtime(settings)
            _wiring[key] = (runtime.uow, runtime.envelope)
        return _wiring[key]


def make_lab(
    settings: Settings, repro: ReproSettings, on_attempt: Callable[[str, AttemptResult], None] | None = None
) -> Lab:
    repro.ensure_cache()
    sandbox = Sandbox(
        SandboxLimits(memory_bytes=4 << 30, processes=128, wall_seconds=600.0, cpu_seconds=600),
        protected=[settings.home],
    )
    return Lab(sandbox, workers=repro.workers, on_attempt=on_attempt)


def execute_next(
    factory: UnitOfWorkFactory,
    envelope: Envelope,
    settings: Settings,
    repro: ReproSettings,
    *,
    job_id: str | None = None,
    lab: Lab | None = None,
) -> str | None:
    """Claim and run one queued reproduction; its id, or None when nothing is queued."""
    work = services.claim_next(factory, envelope, job_id=job_id)
    if work is None:
        return None
    try:
        outcome = services.perform(work, lab or make_lab(settings, repro), repro)
    except SandboxUnavailable as exc:
        services.fail(factory, work, f"the sandbox is unavailable: {exc}")
        return work.job_id
    except Exception as exc:  # the job ends in error with the reason instead of staying "running"
        log.exception("reproduction failed", extra={"repro_job_id": work.job_id})
        services.fail(factory, work, f"the lab failed: {exc.__class__.__name__}: {exc}")
        return work.job_id
    services.record(factory, envelope, work, outcome, repro)
    return work.job_id


def drain(settings: Settings) -> int:
    """Run queued reproductions until none is left; how many ran."""
    factory, envelope = wiring(settings)
    repro = ReproSettings.from_env(settings)
    done = 0
    while execute_next(factory, envelope, settings, repro) is not None:
        done += 1
    return done


def wake(settings: Settings) -> None:
    """Start a drainer thread unless as many as the lab may use are running."""
    global _drainers
    repro = ReproSettings.from_env(settings)
    with _lock:
        if _drainers >= repro.workers:
            return
        _drainers += 1

    def run() -> None:
        global _drainers
        try:
            drain(settings)
        except Exception:
            log.exception("the reproduction drainer stopped")
        finally:
            with _lock:
                _drainers -= 1

    threading.Thread(target=run, name="repro-drainer", daemon=True).start()

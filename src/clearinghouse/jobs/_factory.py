"""Choosing the backend for a runtime, and readying its database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clearinghouse.jobs._inprocess import InProcessJobQueue
from clearinghouse.jobs._procrastinate import ProcrastinateJobQueue, apply_schema, libpq_url
from clearinghouse.jobs._protocol import JobQueue

if TYPE_CHECKING:
    from clearinghouse.jobs._host import JobHost


def make_job_queue(runtime: JobHost) -> JobQueue:
    """The queue ``runtime.settings.job_backend`` names: ``inprocess`` or ``procrastinate``."""
    if runtime.settings.job_backend == "procrastinate":
        return ProcrastinateJobQueue(runtime)
    return InProcessJobQueue(runtime)


def prepare_backend(runtime: JobHost) -> None:
    """Create what the backend keeps outside our migrations (procrastinate's schema); idempotent.

    For ``clearinghouse init`` after ``migrate``; workers and the first enqueue
    also call it, so forgetting it costs nothing but a first-use delay.
    """
    if runtime.settings.job_backend == "procrastinate":
        apply_schema(libpq_url(runtime.settings.database_url))

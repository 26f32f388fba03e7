"""What a running job is given: who it is, and the one unit of work it writes through."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clearinghouse.config import Settings
from clearinghouse.jobs._errors import JobCommitError
from clearinghouse.jobs._protocol import JobQueue
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory


class JobUnitOfWork(UnitOfWork):
    """The unit of work a job runs in. Only the runner commits it.

    The runner marks the job succeeded in this same transaction and commits
    once, so the job's effects and its "succeeded" mark land together or not at
    all. A job that commits by itself would break that, so ``commit`` raises.
    """

    _runner_may_commit = False

    def commit(self) -> None:
        if not self._runner_may_commit:
            raise JobCommitError("a job must not commit ctx.uow; the runner commits it once the job returns")
        super().commit()

    def commit_for_runner(self) -> None:
        self._runner_may_commit = True
        try:
            self.commit()
        finally:
            self._runner_may_commit = False


@dataclass(frozen=True)
class JobContext:
    """Handed to every job function as its first argument.

    ``uow`` is open for the whole run, attributed to ``system:job:<name>``; do
    all database work through ``uow.session`` (changes to audited models are
    recorded in the ledger as usual) and do not commit: the runner does.
    Follow-up jobs queued with :meth:`enqueue` join the same transaction, so
    they exist only if this attempt's effects commit.
    """

    job_id: str
    name: str
    attempt: int
    max_attempts: int
    worker: str
    settings: Settings
    uow: JobUnitOfWork
    jobs: JobQueue

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Queue a follow-up job in this attempt's transaction (``ctx.uow.enqueue``)."""
        return self.uow.enqueue(name, payload, idempotency_key=idempotency_key, run_after=run_after)

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """The ``clearinghouse.jobs`` logger with this job's id, name and attempt in ``extra``."""
        return logging.LoggerAdapter(
            logging.getLogger("clearinghouse.jobs"),
            {"job_id": self.job_id, "job_name": self.name, "attempt": self.attempt},
        )


FinishTransaction = Callable[[], contextlib.AbstractContextManager[JobUnitOfWork]]
"""Opens the job's last unit of work: claim checked, the mark committed with the block's changes."""


@dataclass
class PhasedJobContext:
    """What a ``phased`` job gets: no transaction is open while it runs.

    It reads what it needs in a short unit of work (:meth:`read`), does its
    network I/O with no transaction open, and records the outcome in
    :meth:`finish`, the last short transaction, which also marks the job
    succeeded; both commit together, so the recorded outcome lands once. A
    :meth:`write` unit of work commits on its own (the job commits it); use it
    only for idempotent bookkeeping before the I/O. A phased job that returns
    without calling :meth:`finish` is marked succeeded in a transaction of its own.
    """

    job_id: str
    name: str
    attempt: int
    max_attempts: int
    worker: str
    settings: Settings
    uow_factory: UnitOfWorkFactory
    _finish: FinishTransaction = field(repr=False)
    finished: bool = False

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    @property
    def actor(self) -> Actor:
        return Actor.system(f"job:{self.name}")

    def read(self) -> UnitOfWork:
        """A read-only unit of work (it takes no write lock on SQLite); keep it short."""
        return self.uow_factory(self.actor, write=False)

    def write(self) -> UnitOfWork:
        """A unit of work the job commits itself, before its I/O (not tied to the job's mark)."""
        return self.uow_factory(self.actor)

    @contextlib.contextmanager
    def finish(self) -> Iterator[JobUnitOfWork]:
        """The last transaction: its changes and the "succeeded" mark commit together on leaving the block.

        Raises :class:`~clearinghouse.jobs.JobFencedError` (and commits nothing)
        if this attempt's claim has passed to another worker meanwhile.
        """
        if self.finished:
            raise RuntimeError("a phased job finishes once")
        with self._finish() as uow:
            yield uow
        self.finished = True

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return logging.LoggerAdapter(
            logging.getLogger("clearinghouse.jobs"),
            {"job_id": self.job_id, "job_name": self.name, "attempt": self.attempt},
        )

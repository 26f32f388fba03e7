"""What a job backend needs from the running system, and no more.

The backends take a :class:`JobHost` (the runtime is one), so ``jobs`` never imports
``clearinghouse.runtime``: the runtime builds the queue and hands itself over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine

from clearinghouse.config import Settings
from clearinghouse.storage import UnitOfWorkFactory

if TYPE_CHECKING:
    from clearinghouse.jobs._protocol import JobQueue


class JobHost(Protocol):
    """Settings (the backend, the database URL), the engine, the unit-of-work factory every
    attempt writes through, and the queue jobs may hand on to their context."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def uow(self) -> UnitOfWorkFactory: ...

    @property
    def jobs(self) -> JobQueue: ...

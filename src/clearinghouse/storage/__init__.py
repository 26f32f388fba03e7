"""Storage: the database engine, the ORM base, migrations and the unit of work.

SQLite (WAL, foreign keys, busy timeout) by default; PostgreSQL 15 when
``CLEARINGHOUSE_DATABASE_URL`` names one. Every feature's models derive from
:class:`Base`; every use case runs inside one :class:`UnitOfWork`, which also
hands each state change to the audit ledger before it commits.
"""

from clearinghouse.storage._base import Base, new_id, utcnow
from clearinghouse.storage._engine import make_engine, migrate
from clearinghouse.storage._uow import (
    Actor,
    Enqueuer,
    LedgerWriter,
    NoJobQueueError,
    PendingEvent,
    UnitOfWork,
    UnitOfWorkFactory,
    canonical_json,
)

__all__ = [
    "Actor",
    "Base",
    "Enqueuer",
    "LedgerWriter",
    "NoJobQueueError",
    "PendingEvent",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "canonical_json",
    "make_engine",
    "migrate",
    "new_id",
    "utcnow",
]

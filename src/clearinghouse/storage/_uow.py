"""The unit of work: one transaction per use case, audited on commit.

Every object whose class sets ``__audit_type__`` is watched: each one created,
changed or deleted inside the unit of work becomes one ledger event, appended
in the same transaction as the change itself, so the data and its record can
never disagree. A service may name the action (``uow.audit_as``) or add an
event that changes no row (``uow.record``); nothing has to remember to call
the ledger for a plain change.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event, inspect
from sqlalchemy.orm import Session

from clearinghouse.storage._engine import SQLITE_BUSY_TIMEOUT_MS


@dataclass(frozen=True)
class Actor:
    """Who a change is attributed to in the ledger."""

    kind: str  # "user", "system"
    id: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls("system", component)

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls("user", user_id)


@dataclass
class PendingEvent:
    action: str
    object_type: str | None
    object_id: str | None
    state: dict[str, Any] | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def state_digest(self) -> str | None:
        if self.state is None:
            return None
        return hashlib.sha256(canonical_json(self.state).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def object_state(obj: Any) -> dict[str, Any]:
    """The column values of a mapped object, as stored."""
    mapper = inspect(obj).mapper
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


class LedgerWriter(Protocol):
    """What the unit of work needs of the audit ledger (``clearinghouse.ledger``)."""

    def append(self, session: Session, actor: Actor, events: list[PendingEvent]) -> None: ...


class Enqueuer(Protocol):
    """The job backend's hook: write job ``name`` in ``uow``'s transaction; return its id.

    Set on the :class:`UnitOfWorkFactory` by the runtime's wiring (the job
    queue), so storage does not depend on the job system.
    """

    def __call__(
        self,
        uow: UnitOfWork,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str: ...


class NoJobQueueError(RuntimeError):
    """``uow.enqueue`` was called on a unit of work whose factory has no job backend wired."""


_WRITE_LOCKS: dict[int, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> threading.RLock:
    """The lock this process's writers of ``engine`` queue on (one per engine)."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(id(engine), threading.RLock())


class UnitOfWork:
    """One database transaction for one use case, attributed to ``actor``.

    ``write=True`` takes SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``) so
    concurrent writers wait for each other instead of failing.
    """

    def __init__(
        self,
        engine: Engine,
        ledger: LedgerWriter,
        actor: Actor,
        *,
        write: bool = True,
        enqueuer: Enqueuer | None = None,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.actor = actor
        self.write = write
        self.enqueuer = enqueuer
        self._conn: Connection | None = None
        self._session: Session | None = None
        self._watched: dict[int, tuple[Any, str]] = {}
        self._named: dict[int, tuple[str, dict[str, Any]]] = {}
        self._extra: list[PendingEvent] = []
        self._after_commit: list[Callable[[], None]] = []
        self._write_lock: threading.RLock | None = None
        self.committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self.engine.dialect.name == "sqlite" and self.write:
            # Writers of this process queue on a lock before asking SQLite for its write
            # lock: SQLite's busy handler polls with sleeps of up to 100 ms, so under
            # load a waiting writer could lose the race again and again (seconds of tail
            # latency). Re-entrant, and bounded by the busy timeout, after which SQLite's
            # own waiting applies as before.
            self._write_lock = _sqlite_write_lock(self.engine)
            if not self._write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                self._write_lock = None
        self._conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite" and self.write:
            self._conn.info["sqlite_begin"] = "IMMEDIATE"
        self._conn.begin()
        self._session = Session(bind=self._conn, expire_on_commit=False)
        event.listen(self._session, "before_flush", self._before_flush)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing (not rolling back) the session first keeps what was loaded
        # readable after the block; the connection's rollback then undoes any
        # uncommitted writes.
        try:
            if self._session is not None:
                self._session.close()
        finally:
            try:
                if self._conn is not None:
                    if self._conn.in_transaction():
                        self._conn.rollback()
                    self._conn.close()
            finally:
                self._session = None
                self._conn = None
                if self._write_lock is not None:
                    self._write_lock.release()
                    self._write_lock = None
        if self.committed and exc is None:
            for callback in self._after_commit:
                callback()

    # -- audit -----------------------------------------------------------

    def _before_flush(self, session: Session, _ctx: Any, _instances: Any) -> None:
        for obj in session.new:
            self._watch(obj, "created")
        for obj in session.dirty:
            if session.is_modified(obj, include_collections=False):
                self._watch(obj, "updated")
        for obj in session.deleted:
            self._watch(obj, "deleted")

    def _watch(self, obj: Any, change: str) -> None:
        if getattr(obj, "__audit_type__", None) is None:
            return
        previous = self._watched.get(id(obj))
        if previous is not None and previous[1] == "created" and change == "updated":
            return  # still one "created" event, with the final state
        self._watched[id(obj)] = (obj, change)

    def audit_as(self, obj: Any, action: str, **detail: Any) -> None:
        """Name the ledger action for a change to ``obj`` (default: ``<type>.<change>``)."""
        self._named[id(obj)] = (action, detail)
        self._watch(obj, "updated" if inspect(obj).persistent else "created")

    def record(
        self,
        action: str,
        object_type: str | None = None,
        object_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Add a ledger event that changes no watched row (an access, an export)."""
        self._extra.append(PendingEvent(action, object_type, object_id, None, detail))

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    # -- jobs ------------------------------------------------------------

    def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Queue background job ``name`` in this transaction; return its id.

        The job exists if and only if this unit of work commits, and it is
        deliverable the moment it does, on either backend (the ``jobs`` row is a
        transactional outbox; procrastinate's delivery row is inserted on this
        same connection). A second enqueue with the same ``idempotency_key``
        returns the first job's id and queues nothing.
        """
        if self.enqueuer is None:
            raise NoJobQueueError("this unit of work has no job queue wired (see Runtime)")
        return self.enqueuer(self, name, payload, idempotency_key=idempotency_key, run_after=run_after)

    def pending_events(self) -> Iterator[PendingEvent]:
        for key, (obj, change) in self._watched.items():
            audit_type: str = obj.__audit_type__
            action, detail = self._named.get(key, (f"{audit_type}.{change}", {}))
            state = None if change == "deleted" else object_state(obj)
            yield PendingEvent(action, audit_type, str(obj.id), state, detail)
        yield from self._extra

    # -- transaction -----------------------------------------------------

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.flush()
        events = list(self.pending_events())
        if events:
            self.ledger.append(self.session, self.actor, events)
            self.session.flush()
        assert self._conn is not None
        self._conn.commit()
        self.committed = True

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()


class UnitOfWorkFactory:
    """Opens units of work on one engine; what services receive.

    ``enqueuer`` is the job backend's hook behind :meth:`UnitOfWork.enqueue`;
    the runtime sets it once the job queue exists.
    """

    def __init__(self, engine: Engine, ledger: LedgerWriter, *, enqueuer: Enqueuer | None = None) -> None:
        self.engine = engine
        self.ledger = ledger
        self.enqueuer = enqueuer

    def __call__(self, actor: Actor, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.engine, self.ledger, actor, write=write, enqueuer=self.enqueuer)

"""Signing in to the console: passwords, server-side sessions, CSRF tokens and
the sign-in rate limit.

A session is a random 256-bit secret in an HttpOnly, SameSite=Lax cookie
(Secure when served over TLS); the database keeps only its SHA-256. It yields
the same :class:`Subject` as an API token of the same user with the ``read``
and ``write`` scopes, so pages and API answer to one policy. Each session has
its own CSRF token, which every form sends back; the sign-in form, which comes
before any session, uses a double-submit cookie instead.

Sign-in attempts are limited per username and per client address (failures in
a sliding window, kept in this process: with several API hosts an attacker
gets at most that many times the limit). Outcomes are counted in ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Scope, Subject, authorize
from clearinghouse.access.models import User
from clearinghouse.access.services import (
    ADMIN_USERNAME,
    dummy_password_hash,
    find_user,
    hash_password,
    password_matches,
    subject_for,
)
from clearinghouse.errors import InvalidInput
from clearinghouse.storage import UnitOfWork, utcnow
from clearinghouse.web.models import SignInCounter, WebSession

SESSION_COOKIE = "ch_session"
SIGNIN_CSRF_COOKIE = "ch_signin_csrf"
SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(hours=1)
# last_seen_at is written at most this often, so reading pages stays read-only.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
SESSION_SCOPES = frozenset({Scope.READ, Scope.WRITE})
MIN_PASSWORD_LENGTH = 12

SIGNINS = Counter(
    "clearinghouse_web_signins_total",
    "Console sign-in attempts by outcome",
    ["outcome"],  # ok, bad_credentials, rate_limited, bad_csrf
)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class RateLimiter:
    """At most ``limit`` failures per key in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked_for(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window - now)

    def fail(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of usernames
                for stale in [k for k, v in self._failures.items() if not v][:50_000]:
                    del self._failures[stale]

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass(frozen=True)
class SignInLimits:
    """Sign-in throttling, counted in the database (``signin_counters``) so that it
    survives a restart and is shared by every server process.

    * an account from one client (``pair``): ``pair_limit`` failures in ``window``
      block that pair — the ordinary guessing limit, which hurts nobody else;
    * one client (``client``): ``client_limit`` failures in ``window`` over any
      accounts block the client (a password spray);
    * one account from anywhere (``account``): after ``account_limit`` failures in
      ``window`` the account is slowed, not locked: only clients that signed in to
      it successfully before (within ``known_good_for``) may still try, so a
      stranger guessing from many addresses cannot lock its owner out.
    """

    window: dt.timedelta = dt.timedelta(minutes=15)
    pair_limit: int = 5
    client_limit: int = 20
    account_limit: int = 10
    known_good_for: dt.timedelta = dt.timedelta(days=90)

    @classmethod
    def default(cls) -> SignInLimits:
        return cls()


def _key(kind: str, *parts: str) -> str:
    # Keys are digests: a sprayed username or address cannot overflow the column.
    return f"{kind}:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _counter(session: Session, key: str) -> SignInCounter | None:
    return session.get(SignInCounter, key, with_for_update=True)


def _wait(session: Session, key: str, limit: int, window: dt.timedelta, now: dt.datetime) -> float:
    """Seconds until ``key`` may try again (0 when it may now)."""
    row = _counter(session, key)
    if row is None or row.failures < limit or row.window_start + window <= now:
        return 0.0
    return (row.window_start + window - now).total_seconds()


def _count_failure(session: Session, key: str, window: dt.timedelta, now: dt.datetime) -> None:
    row = _counter(session, key)
    if row is None:
        session.add(SignInCounter(key=key, failures=1, window_start=now))
    elif row.window_start + window <= now:
        row.failures, row.window_start = 1, now
    else:
        row.failures += 1


def _known_good(session: Session, key: str, limits: SignInLimits, now: dt.datetime) -> bool:
    row = session.get(SignInCounter, key)
    return row is not None and row.window_start + limits.known_good_for > now


def client_address(host: str | None, forwarded_for: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """The client a request comes from. ``X-Forwarded-For`` is believed only from a
    configured proxy (``CLEARINGHOUSE_TRUSTED_PROXIES``; none by default), and then
    only up to the first address that is not itself a trusted proxy."""
    address = host or "unknown"
    if address not in trusted_proxies or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted_proxies:
            return hop[:100]
    return address


def _minutes(wait: float) -> int:
    return max(1, round(wait / 60))


class SignInRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class StartedSession:
    secret: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    user: User
    expires_at: dt.datetime


def sign_in(
    uow: UnitOfWork,
    limits: SignInLimits,
    username: str,
    password: str,
    *,
    client: str,
    user_agent: str = "",
) -> StartedSession:
    """Check a username and password and start a session, or refuse with
    :class:`SignInRefused` (the same message for an unknown user and a wrong
    password)."""
    username = username.strip()
    account = username.lower()
    session, now = uow.session, utcnow()
    pair_key, client_key = _key("pair", account, client), _key("client", client)
    account_key, good_key = _key("account", account), _key("good", account, client)
    wait = max(
        _wait(session, pair_key, limits.pair_limit, limits.window, now),
        _wait(session, client_key, limits.client_limit, limits.window, now),
    )
    if wait > 0:
        SIGNINS.labels(outcome="rate_limited").inc()
        uow.rollback()
        raise SignInRefused(f"Too many failed sign-ins. Try again in about {_minutes(wait)} minutes.", 429)
    slowed = _wait(session, account_key, limits.account_limit, limits.window, now)
    if slowed > 0 and not _known_good(session, good_key, limits, now):
        SIGNINS.labels(outcome="rate_limited").inc()
        uow.rollback()
        raise SignInRefused(
            "Too many failed sign-ins for this account. Try again in about "
            f"{_minutes(slowed)} minutes, or from a device you have signed in from before.",
            429,
        )
    user = find_user(session, username) if username else None
    stored = user.password_hash if user is not None and user.active else None
    ok = password_matches(stored or dummy_password_hash(), password) and stored is not None
    if not ok or user is None:
        for key in (pair_key, client_key, account_key):
            _count_failure(session, key, limits.window, now)
        SIGNINS.labels(outcome="bad_credentials").inc()
        uow.record("session.sign_in_failed", "user", user.id if user else None, client=client)
        uow.commit()
        raise SignInRefused("Wrong username or password.", 401)
    pair = session.get(SignInCounter, pair_key)
    if pair is not None:
        session.delete(pair)
    good = session.get(SignInCounter, good_key)
    if good is None:
        session.add(SignInCounter(key=good_key, failures=0, window_start=now))
    else:
        good.window_start = now
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        id=secret_digest(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        client=client[:100],
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    uow.session.add(row)
    # Expired sessions are swept whenever someone signs in.
    uow.session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    # Counters whose window (or known-good period) is long past are swept too.
    stale = now - max(limits.window, limits.known_good_for)
    uow.session.execute(delete(SignInCounter).where(SignInCounter.window_start <= stale))
    uow.record("session.signed_in", "user", user.id, client=client)
    uow.commit()
    SIGNINS.labels(outcome="ok").inc()
    return StartedSession(secret, row.csrf_token, user, row.expires_at)


@dataclass(frozen=True)
class ActiveSession:
    id: str
    csrf_token: str
    user: User
    subject: Subject
    needs_touch: bool


def resume(session: Session, secret: str | None) -> ActiveSession | None:
    """The live session a cookie names, or None (unknown, expired, idle too
    long, or its user disabled)."""
    if not secret:
        return None
    row = session.get(WebSession, secret_digest(secret))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return ActiveSession(
        id=row.id,
        csrf_token=row.csrf_token,
        user=user,
        subject=subject_for(session, user, SESSION_SCOPES),
        needs_touch=row.last_seen_at + TOUCH_INTERVAL <= now,
    )


def touch(uow: UnitOfWork, session_id: str) -> None:
    row = uow.session.get(WebSession, session_id)
    if row is not None:
        row.last_seen_at = utcnow()
        uow.commit()


def sign_out(uow: UnitOfWork, secret: str | None) -> None:
    if not secret:
        return
    row = uow.session.get(WebSession, secret_digest(secret))
    if row is None:
        return
    uow.record("session.signed_out", "user", row.user_id)
    uow.session.delete(row)
    uow.commit()


def set_password(uow: UnitOfWork, subject: Subject, user_ref: str, password: str) -> User:
    """Set a user's console password (admins); every session of theirs ends."""
    authorize(subject, Action.MANAGE_USERS)
    user = find_user(uow.session, user_ref)
    if user is None:
        raise InvalidInput(f"no user {user_ref!r}", "/user")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters", "/password")
    user.password_hash = hash_password(password)
    uow.audit_as(user, "user.password_set")
    uow.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def ensure_admin_password(uow: UnitOfWork) -> str | None:
    """Give the bootstrap admin a random password if it has none, and return it
    (to be shown once); None when it has one already or does not exist."""
    admin = uow.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    if admin is None or admin.password_hash is not None:
        return None
    password = secrets.token_urlsafe(15)
    admin.password_hash = hash_password(password)
    uow.audit_as(admin, "user.password_set")
    return password

"""The console's sign-in sessions.

A session row is keyed by the SHA-256 of the cookie's secret, so the table
never holds a usable credential. Rows change on every request a user makes
(``last_seen_at``), so they are not audited row by row; signing in and out
are recorded in the ledger as events instead.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage import Base, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's secret
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(100), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class SignInCounter(Base):
    """Failed sign-ins counted in the database, so the limits hold across restarts
    and are shared by every server process (issue 14, defect 9). ``key`` names what
    is counted: ``pair:`` an account from one client, ``client:`` one client,
    ``account:`` one account from anywhere, ``good:`` a client that signed in to an
    account successfully (``window_start`` is when)."""

    __tablename__ = "signin_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[dt.datetime] = mapped_column(index=True)

"""What the directive tracker keeps: directives (who owes what by when) and, for BOD 26-04,
when an agency was notified of a vulnerable asset (where it differs from the match's time)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage import Base, new_id, utcnow


class DirectiveStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    STANDING = "standing"


class Directive(Base):
    """One thing an instrument (the order, a BOD) requires of someone, and by when.

    The due date is ``due_on`` when set, else ``signed_on`` plus ``due_days``; a
    standing directive has none."""

    __tablename__ = "directives"
    __audit_type__ = "directive"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    instrument: Mapped[str] = mapped_column(String(100))
    section: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(300))
    acting_through: Mapped[str] = mapped_column(String(300), default="")
    consulted: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Every lead, in the order's order: [{"office": ..., "acting_through": ...}]. ``actor`` and
    # ``acting_through`` repeat the first, for readers that show one.
    leads: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    standing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=DirectiveStatus.OPEN)
    deliverable: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def due_date(self) -> dt.date | None:
        if self.standing:
            return None
        if self.due_on is not None:
            return self.due_on
        if self.signed_on is not None and self.due_days is not None:
            return self.signed_on + dt.timedelta(days=self.due_days)
        return None

    def is_overdue(self, today: dt.date) -> bool:
        due = self.due_date
        return due is not None and today > due and self.status != DirectiveStatus.DONE


class Bod2604Notice(Base):
    """When an agency was notified of a match (a KEV-listed case on one of its assets), set
    explicitly by staff; without one, the notice time is when the match was stored."""

    __tablename__ = "bod2604_notices"
    __audit_type__ = "bod2604_notice"

    match_id: Mapped[str] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True)
    notified_at: Mapped[dt.datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def id(self) -> str:
        # The ledger names objects by ``id``.
        return self.match_id

"""What notifications keep: events, subscriptions, preferences, deliveries and
every delivery attempt, and the mail-server settings."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.storage import Base, new_id, utcnow


class EventKind(enum.StrEnum):
    VENDOR_NOTIFIED = "vendor_notified"
    STATUS_CHANGED = "status_changed"
    REMINDER = "reminder"  # an embargo end or disclosure deadline is near
    DEADLINE_BREACHED = "deadline_breached"
    CASE_PUBLISHED = "case_published"
    NEW_MATCH = "new_match"  # a case or public advisory newly matches an asset
    DEADLINE_NEAR = "deadline_near"  # a match's BOD 26-04 or KEV due date is N days away
    ADVISORY_PUBLISHED = "advisory_published"  # an advisory for the org's product was published or revised
    TEST = "test"  # a subscription's test delivery


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class EmailMode(enum.StrEnum):
    OFF = "off"
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class NotificationEvent(Base):
    """Something happened that someone may want to hear about. ``markings``
    (and ``any_of``) are the resource's markings: a recipient hears of the
    event only if the policy lets it read that resource."""

    __tablename__ = "notification_events"
    __audit_type__ = "notification_event"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str | None] = mapped_column(String(10))  # none, low, medium, high, critical
    ssvc: Mapped[str | None] = mapped_column(String(20))  # e.g. act, attend, track*, track
    resource_kind: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(36))
    markings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    any_of: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class WebhookSubscription(Base):
    """A URL that receives signed events. It belongs to a user; with ``org_id``
    it speaks for that user's organization. Its secret is stored encrypted
    (``clearinghouse.envelope``) and shown once, when the subscription is made."""

    __tablename__ = "webhook_subscriptions"
    __audit_type__ = "webhook_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    secret_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    """One user's choices: time zone for displayed times, e-mail immediately or
    as a daily digest (or not at all), and the filters an event must pass."""

    __tablename__ = "notification_preferences"
    __audit_type__ = "notification_preference"

    id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    email_mode: Mapped[str] = mapped_column(String(12), default=EmailMode.OFF)
    min_severity: Mapped[str | None] = mapped_column(String(10))
    ssvc_decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)  # local hour the digest goes out
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event to one subscription, across all its attempts."""

    __tablename__ = "webhook_deliveries"
    __audit_type__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_pair"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("notification_events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EmailDelivery(Base):
    """One e-mail: a single event, or a digest of several."""

    __tablename__ = "email_deliveries"
    __audit_type__ = "email_delivery"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DigestItem(Base):
    """An event waiting for a user's next daily digest."""

    __tablename__ = "digest_items"
    __audit_type__ = "digest_item"
    __table_args__ = (UniqueConstraint("user_id", "event_id", name="uq_digest_items_pair"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"))
    email_id: Mapped[str | None] = mapped_column(String(36))  # the digest it went out in
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """Every try at delivering a webhook or an e-mail, whatever came of it."""

    __tablename__ = "delivery_attempts"
    __audit_type__ = "delivery_attempt"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10))  # webhook | email
    delivery_id: Mapped[str] = mapped_column(String(36), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliverySetting(Base):
    """Platform settings for delivery, by name (``smtp``: host, port, from)."""

    __tablename__ = "notification_settings"
    __audit_type__ = "notification_setting"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

"""Notification use cases: webhook subscriptions, each user's preferences, mail settings."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse import outbound
from clearinghouse.access import Action, NotFound, Resource, Subject, authorize, can
from clearinghouse.access.models import User
from clearinghouse.access.services import find_user
from clearinghouse.envelope import Envelope
from clearinghouse.errors import InvalidInput
from clearinghouse.notifications._delivery import SMTP_SETTING, WEBHOOK_JOB
from clearinghouse.notifications._events import SEVERITY_ORDER
from clearinghouse.notifications.models import (
    DeliveryAttempt,
    DeliverySetting,
    EmailMode,
    EventKind,
    NotificationEvent,
    NotificationPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from clearinghouse.outbound import OutboundPolicy
from clearinghouse.storage import UnitOfWork, new_id, utcnow

MAX_SUBSCRIPTIONS_PER_USER = 50
SSVC_DECISIONS = ("act", "attend", "track*", "track", "immediate", "out-of-cycle", "scheduled", "defer")


def subscription_resource(sub: WebhookSubscription) -> Resource:
    return Resource(kind="webhook_subscription", id=sub.id, owner_user_id=sub.owner_user_id)


def check_url(url: str, policy: OutboundPolicy) -> str:
    """A webhook URL: http(s) with a host, not naming or resolving to an internal address
    (unless the operator's allow-list admits it). Checked again at every delivery."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("a webhook URL is http:// or https:// with a host", "/url")
    try:
        return outbound.screen(url, policy)
    except outbound.OutboundRefused as exc:
        raise InvalidInput(str(exc), "/url") from None


@dataclass(frozen=True)
class NewWebhook:
    url: str
    events: Sequence[str] = ()
    org_wide: bool = False
    owner: str | None = None  # user id or name; default: the caller
    secret: str | None = None  # default: a new random secret


def create_webhook(
    uow: UnitOfWork, subject: Subject, envelope: Envelope, new: NewWebhook, policy: OutboundPolicy
) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL; returns the subscription and its secret (shown this once)."""
    session = uow.session
    owner = find_user(session, new.owner) if new.owner else session.get(User, subject.user_id or "")
    if owner is None:
        raise InvalidInput(f"no user {new.owner!r}", "/owner")
    authorize(
        subject, Action.MANAGE_SUBSCRIPTION, Resource(kind="webhook_subscription", owner_user_id=owner.id)
    )
    url = check_url(new.url, policy)
    kinds = []
    for i, kind in enumerate(new.events):
        try:
            kinds.append(EventKind(kind).value)
        except ValueError:
            allowed = ", ".join(k.value for k in EventKind)
            raise InvalidInput(f"{kind!r} is not one of: {allowed}", f"/events/{i}") from None
    secret = new.secret or "whsec_" + secrets.token_urlsafe(32)
    if len(secret) < 16 or len(secret) > 200:
        raise InvalidInput("a webhook secret is 16-200 characters", "/secret")
    count = len(
        list(
            session.scalars(
                select(WebhookSubscription.id).where(WebhookSubscription.owner_user_id == owner.id)
            )
        )
    )
    if count >= MAX_SUBSCRIPTIONS_PER_USER:
        raise InvalidInput(f"at most {MAX_SUBSCRIPTIONS_PER_USER} subscriptions per user", "/url")
    sub = WebhookSubscription(
        id=new_id(),
        owner_user_id=owner.id,
        org_id=owner.org_id if new.org_wide else None,
        url=url,
        events=sorted(set(kinds)),
    )
    sealed = envelope.seal(secret.encode(), f"webhook:{sub.id}".encode())
    sub.secret_ciphertext, sub.secret_wrapped_key = sealed.ciphertext, sealed.wrapped_key
    session.add(sub)
    uow.flush()
    return sub, secret


def _visible_subscription(subject: Subject, sub: WebhookSubscription) -> bool:
    return can(subject, Action.READ_SUBSCRIPTION, subscription_resource(sub))


def get_webhook(session: Session, subject: Subject, sub_id: str) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or not _visible_subscription(subject, sub):
        raise NotFound("webhook_subscription", sub_id)
    return sub


def list_webhooks(session: Session, subject: Subject) -> list[WebhookSubscription]:
    rows = session.scalars(
        select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return [s for s in rows if _visible_subscription(subject, s)]


def deactivate_webhook(uow: UnitOfWork, subject: Subject, sub_id: str) -> WebhookSubscription:
    """Stop deliveries to a subscription; its deliveries and attempts stay on record."""
    sub = get_webhook(uow.session, subject, sub_id)
    authorize(subject, Action.MANAGE_SUBSCRIPTION, subscription_resource(sub))
    sub.active = False
    uow.flush()
    return sub


def webhook_deliveries(
    session: Session, subject: Subject, sub_id: str, limit: int = 100
) -> list[tuple[WebhookDelivery, list[DeliveryAttempt]]]:
    sub = get_webhook(session, subject, sub_id)
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    )
    out = []
    for delivery in rows:
        attempts = session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.channel == "webhook", DeliveryAttempt.delivery_id == delivery.id)
            .order_by(DeliveryAttempt.attempt)
        )
        out.append((delivery, list(attempts)))
    return out


def ping_webhook(uow: UnitOfWork, subject: Subject, sub_id: str) -> WebhookDelivery:
    """Send a signed test event to this subscription only."""
    sub = get_webhook(uow.session, subject, sub_id)
    authorize(subject, Action.MANAGE_SUBSCRIPTION, subscription_resource(sub))
    event = NotificationEvent(
        kind=EventKind.TEST,
        title="Test delivery from Clearinghouse",
        resource_kind="webhook_subscription",
        resource_id=sub.id,
        markings=[],
        any_of=[],
        payload={"subscription_id": sub.id},
    )
    uow.session.add(event)
    uow.flush()
    delivery = WebhookDelivery(subscription_id=sub.id, event_id=event.id, next_attempt_at=utcnow())
    uow.session.add(delivery)
    uow.flush()
    uow.enqueue(WEBHOOK_JOB, {"delivery_id": delivery.id}, idempotency_key=f"webhook:{delivery.id}:1")
    return delivery


# -- preferences -------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceChange:
    timezone: str | None = None
    email_mode: str | None = None
    min_severity: str | None = None
    clear_min_severity: bool = False
    ssvc_decisions: Sequence[str] | None = None
    digest_hour: int | None = None


def preferences(session: Session, subject: Subject) -> NotificationPreference:
    """The caller's preferences (defaults when none are stored; not saved)."""
    if subject.user_id is None:
        raise NotFound("notification_preference")
    row = session.get(NotificationPreference, subject.user_id)
    if row is None:
        return NotificationPreference(
            id=subject.user_id,
            timezone="UTC",
            email_mode=EmailMode.OFF,
            min_severity=None,
            ssvc_decisions=[],
            digest_hour=8,
        )
    return row


def user_timezone(session: Session, user_id: str | None) -> str:
    row = session.get(NotificationPreference, user_id) if user_id else None
    return row.timezone if row is not None else "UTC"


def set_preferences(uow: UnitOfWork, subject: Subject, change: PreferenceChange) -> NotificationPreference:
    from clearinghouse.domain import zone

    if subject.user_id is None:
        raise NotFound("notification_preference")
    authorize(
        subject,
        Action.MANAGE_SUBSCRIPTION,
        Resource(kind="notification_preference", owner_user_id=subject.user_id),
    )
    row = uow.session.get(NotificationPreference, subject.user_id)
    if row is None:
        row = NotificationPreference(
            id=subject.user_id,
            timezone="UTC",
            email_mode=EmailMode.OFF,
            ssvc_decisions=[],
            digest_hour=8,
        )
        uow.session.add(row)
    if change.timezone is not None:
        try:
            zone(change.timezone)
        except ValueError as exc:
            raise InvalidInput(str(exc), "/timezone") from None
        row.timezone = change.timezone
    if change.email_mode is not None:
        try:
            row.email_mode = EmailMode(change.email_mode).value
        except ValueError:
            raise InvalidInput("email_mode is off, immediate or digest", "/email_mode") from None
    if change.min_severity is not None:
        if change.min_severity not in SEVERITY_ORDER:
            raise InvalidInput(f"min_severity is one of: {', '.join(SEVERITY_ORDER)}", "/min_severity")
        row.min_severity = change.min_severity
    elif change.clear_min_severity:
        row.min_severity = None
    if change.ssvc_decisions is not None:
        for i, decision in enumerate(change.ssvc_decisions):
            if decision.lower() not in SSVC_DECISIONS:
                raise InvalidInput(
                    f"an SSVC decision is one of: {', '.join(SSVC_DECISIONS)}", f"/ssvc_decisions/{i}"
                )
        row.ssvc_decisions = sorted({d.lower() for d in change.ssvc_decisions})
    if change.digest_hour is not None:
        if not 0 <= change.digest_hour <= 23:
            raise InvalidInput("digest_hour is 0-23 (the user's local time)", "/digest_hour")
        row.digest_hour = change.digest_hour
    uow.flush()
    return row


# -- mail ------------------------------------------------------------------------


def configure_smtp(
    uow: UnitOfWork, subject: Subject, *, host: str, port: int, sender: str, starttls: bool = False
) -> DeliverySetting:
    """Set the SMTP server e-mail goes through (admin)."""
    authorize(subject, Action.CONFIGURE_DELIVERY)
    if not host.strip() or len(host) > 255:
        raise InvalidInput("the SMTP host name", "/host")
    if not 1 <= port <= 65535:
        raise InvalidInput("a TCP port, 1-65535", "/port")
    if "@" not in sender or len(sender) > 320:
        raise InvalidInput("the From address, e.g. clearinghouse@agency.gov", "/from")
    value = {"host": host.strip(), "port": port, "from": sender.strip(), "starttls": starttls}
    row = uow.session.get(DeliverySetting, SMTP_SETTING)
    if row is None:
        row = DeliverySetting(id=SMTP_SETTING, value=value)
        uow.session.add(row)
    else:
        row.value = value
    uow.flush()
    return row

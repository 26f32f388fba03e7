"""Delivering events: fan-out to recipients, webhook posts, e-mail and digests.

Each function runs inside one background job's unit of work (``tasks.py``).
A failed attempt is not an exception: it is stored (``delivery_attempts``),
logged, and the next attempt is queued as a new job after an exponential
back-off (:func:`backoff`), all in the same transaction, so every attempt is
kept whatever happens to the next one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Subject, can
from clearinghouse.access.models import User
from clearinghouse.access.services import subject_for
from clearinghouse.domain import notice_footer
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.notifications._events import event_resource, passes, queue
from clearinghouse.notifications._signing import signed_headers
from clearinghouse.notifications.models import (
    DeliveryAttempt,
    DeliverySetting,
    DeliveryStatus,
    DigestItem,
    EmailDelivery,
    EmailMode,
    EventKind,
    NotificationEvent,
    NotificationPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from clearinghouse.storage import UnitOfWork, utcnow

logger = logging.getLogger("clearinghouse.notifications")

WEBHOOK_JOB = "notifications.webhook"
EMAIL_JOB = "notifications.email"
DIGEST_JOB = "notifications.digest"
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
HTTP_TIMEOUT_SECONDS = 10.0
SMTP_SETTING = "smtp"


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt ``attempt`` (1-based): 30 s, 1 min, 2 min, ... capped at 1 h."""
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_CAP_SECONDS))


def event_body(event: NotificationEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "created_at": event.created_at.astimezone(dt.UTC).isoformat(),
        "case_id": event.case_id,
        "title": event.title,
        "severity": event.severity,
        "ssvc": event.ssvc,
        "data": event.payload,
    }


def _subject(session: Session, user_id: str) -> Subject | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return subject_for(session, user)


# -- fan-out ---------------------------------------------------------------------


def fan_out(uow: UnitOfWork, event_id: str) -> int:
    """Create one delivery per subscriber and recipient allowed to read the event; return how many."""
    session = uow.session
    event = session.get(NotificationEvent, event_id)
    if event is None:
        return 0
    resource = event_resource(event)
    made = 0
    subscriptions = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.id)
    )
    for sub in subscriptions:
        if sub.events and event.kind not in sub.events:
            continue
        subject = _subject(session, sub.owner_user_id)
        if subject is None or not can(subject, Action.READ, resource):
            continue
        exists = session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.event_id == event.id
            )
        )
        if exists is not None:
            continue
        delivery = WebhookDelivery(subscription_id=sub.id, event_id=event.id, next_attempt_at=utcnow())
        session.add(delivery)
        uow.flush()
        queue(uow, WEBHOOK_JOB, {"delivery_id": delivery.id}, idempotency_key=f"webhook:{delivery.id}:1")
        made += 1
    users = session.scalars(
        select(User).where(User.active.is_(True), User.email.is_not(None)).order_by(User.id)
    )
    for user in users:
        pref = session.get(NotificationPreference, user.id)
        subject = subject_for(session, user)
        if not can(subject, Action.READ, resource):
            continue
        mode = _mode_for(pref, event, subject)
        if mode is EmailMode.OFF:
            continue
        filters = pref is not None and not _own_notice(event, subject)
        if (
            filters
            and pref is not None
            and not passes(event.severity, event.ssvc, pref.min_severity, pref.ssvc_decisions)
        ):
            continue
        if mode is EmailMode.DIGEST:
            _add_to_digest(uow, user, pref, event)
        else:
            _immediate_email(uow, user, event)
        made += 1
    return made


def _own_notice(event: NotificationEvent, subject: Subject) -> bool:
    """The formal notice to a vendor, seen by one of the vendor's own users."""
    vendor_org = event.payload.get("vendor_org_id")
    return event.kind == EventKind.VENDOR_NOTIFIED and vendor_org is not None and vendor_org == subject.org_id


def _mode_for(pref: NotificationPreference | None, event: NotificationEvent, subject: Subject) -> EmailMode:
    """A user's e-mail mode for an event: the stored preference (off by default),
    except that a vendor's formal notice always reaches the vendor's own users
    (immediately, unless they chose the digest), whatever their filters."""
    mode = EmailMode(pref.email_mode) if pref is not None else EmailMode.OFF
    if mode is EmailMode.OFF and _own_notice(event, subject):
        return EmailMode.IMMEDIATE
    return mode


def _describe(event: NotificationEvent) -> str:
    lines = [event.title, "", f"Event: {event.kind}"]
    if event.case_id:
        lines.append(f"Case: {event.case_id}")
    if event.severity:
        lines.append(f"Severity: {event.severity}")
    if event.ssvc:
        lines.append(f"SSVC: {event.ssvc}")
    for key, value in sorted(event.payload.items()):
        if isinstance(value, (str, int, float)):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    lines.append(f"At: {event.created_at.astimezone(dt.UTC).isoformat()}")
    return "\n".join(lines)


def _immediate_email(uow: UnitOfWork, user: User, event: NotificationEvent) -> None:
    assert user.email is not None
    mail = EmailDelivery(
        user_id=user.id,
        to_address=user.email,
        subject=f"[Clearinghouse] {event.title}"[:500],
        body=_describe(event) + "\n\n" + notice_footer(),
        event_ids=[event.id],
        next_attempt_at=utcnow(),
    )
    uow.session.add(mail)
    uow.flush()
    queue(uow, EMAIL_JOB, {"email_id": mail.id}, idempotency_key=f"email:{mail.id}:1")


def next_digest_time(now: dt.datetime, tz_name: str, hour: int) -> dt.datetime:
    """The next ``hour`` o'clock in the user's zone, as a UTC instant."""
    from clearinghouse.coordination._clock import zone

    try:
        tz = zone(tz_name)
    except ValueError:
        tz = zone("UTC")
    local = now.astimezone(tz)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at = (local + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at.astimezone(dt.UTC)


def _add_to_digest(
    uow: UnitOfWork, user: User, pref: NotificationPreference | None, event: NotificationEvent
) -> None:
    session = uow.session
    exists = session.scalar(
        select(DigestItem.id).where(DigestItem.user_id == user.id, DigestItem.event_id == event.id)
    )
    if exists is not None:
        return
    session.add(DigestItem(user_id=user.id, event_id=event.id))
    tz_name = pref.timezone if pref else "UTC"
    hour = pref.digest_hour if pref else 8
    run_at = next_digest_time(utcnow(), tz_name, hour)
    queue(
        uow,
        DIGEST_JOB,
        {"user_id": user.id},
        idempotency_key=f"digest:{user.id}:{run_at.isoformat()}",
        run_after=run_at,
    )


def send_digest(uow: UnitOfWork, user_id: str) -> EmailDelivery | None:
    """Bundle every waiting digest item of a user into one e-mail and queue it."""
    session = uow.session
    user = session.get(User, user_id)
    items = list(
        session.scalars(
            select(DigestItem)
            .where(DigestItem.user_id == user_id, DigestItem.email_id.is_(None))
            .order_by(DigestItem.created_at, DigestItem.id)
        )
    )
    if user is None or user.email is None or not items:
        return None
    events = [session.get(NotificationEvent, item.event_id) for item in items]
    present = [e for e in events if e is not None]
    sections = [_describe(e) for e in present]
    mail = EmailDelivery(
        user_id=user.id,
        to_address=user.email,
        subject=f"[Clearinghouse] Daily digest: {len(present)} update{'s' if len(present) != 1 else ''}",
        body="\n\n---\n\n".join(sections) + "\n\n" + notice_footer(),
        event_ids=[e.id for e in present],
        digest=True,
        next_attempt_at=utcnow(),
    )
    session.add(mail)
    uow.flush()
    for item in items:
        item.email_id = mail.id
    queue(uow, EMAIL_JOB, {"email_id": mail.id}, idempotency_key=f"email:{mail.id}:1")
    return mail


# -- attempts --------------------------------------------------------------------


def _record_attempt(
    uow: UnitOfWork,
    channel: str,
    delivery: WebhookDelivery | EmailDelivery,
    *,
    ok: bool,
    started: float,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    delivery.attempts += 1
    duration = int((time.monotonic() - started) * 1000)
    uow.session.add(
        DeliveryAttempt(
            channel=channel,
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            ok=ok,
            status_code=status_code,
            error=error,
            duration_ms=duration,
        )
    )
    extra = {
        "delivery_id": delivery.id,
        "channel": channel,
        "attempt": delivery.attempts,
        "status_code": status_code,
    }
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        delivery.last_error = None
        logger.info("notification delivered", extra=extra)
        return
    delivery.last_error = error
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        logger.error("notification delivery failed; giving up", extra={**extra, "error": error})
        return
    delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
    job = WEBHOOK_JOB if channel == "webhook" else EMAIL_JOB
    key = "delivery_id" if channel == "webhook" else "email_id"
    queue(
        uow,
        job,
        {key: delivery.id},
        idempotency_key=f"{channel}:{delivery.id}:{delivery.attempts + 1}",
        run_after=delivery.next_attempt_at,
    )
    logger.warning(
        "notification delivery attempt failed; will retry",
        extra={**extra, "error": error, "run_after": delivery.next_attempt_at.isoformat()},
    )


def deliver_webhook(uow: UnitOfWork, envelope: Envelope, delivery_id: str) -> WebhookDelivery | None:
    session = uow.session
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery
    sub = session.get(WebhookSubscription, delivery.subscription_id)
    event = session.get(NotificationEvent, delivery.event_id)
    if sub is None or event is None or not sub.active:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "the subscription was removed or deactivated"
        return delivery
    secret = envelope.open(
        Sealed(sub.secret_ciphertext, sub.secret_wrapped_key), f"webhook:{sub.id}".encode()
    ).decode()
    body = json.dumps(event_body(event), sort_keys=True, separators=(",", ":")).encode()
    headers = signed_headers(secret, body, event=event.kind, delivery_id=delivery.id)
    started = time.monotonic()
    try:
        response = httpx.post(sub.url, content=body, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        _record_attempt(
            uow, "webhook", delivery, ok=False, started=started, error=f"{type(exc).__name__}: {exc}"
        )
        return delivery
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    _record_attempt(
        uow, "webhook", delivery, ok=ok, started=started, status_code=response.status_code, error=error
    )
    if ok:
        delivery.delivered_at = utcnow()
    return delivery


def smtp_settings(session: Session) -> dict[str, Any] | None:
    row = session.get(DeliverySetting, SMTP_SETTING)
    return None if row is None else dict(row.value)


def send_email(uow: UnitOfWork, email_id: str) -> EmailDelivery | None:
    session = uow.session
    mail = session.get(EmailDelivery, email_id)
    if mail is None or mail.status != DeliveryStatus.PENDING:
        return mail
    started = time.monotonic()
    config = smtp_settings(session)
    if config is None:
        _record_attempt(uow, "email", mail, ok=False, started=started, error="no SMTP server is configured")
        return mail
    message = EmailMessage()
    message["From"] = config["from"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.id}@clearinghouse>"
    message.set_content(mail.body)
    try:
        with smtplib.SMTP(config["host"], int(config["port"]), timeout=HTTP_TIMEOUT_SECONDS) as smtp:
            if config.get("starttls"):
                smtp.starttls()
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        _record_attempt(uow, "email", mail, ok=False, started=started, error=f"{type(exc).__name__}: {exc}")
        return mail
    _record_attempt(uow, "email", mail, ok=True, started=started)
    mail.sent_at = utcnow()
    return mail

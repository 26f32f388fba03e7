"""Delivering events: fan-out to recipients, webhook posts, e-mail and digests.

Fan-out and digests run inside one background job's unit of work (``tasks.py``).
A webhook or e-mail attempt is phased: read what to send, send it with no
transaction open, record the outcome. A failed attempt is not an exception: it
is stored (``delivery_attempts``), logged, and the next attempt is queued as a
new job after an exponential back-off (:func:`backoff`) in the transaction that
records it, so every attempt is kept whatever happens to the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import smtplib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse import outbound
from clearinghouse.access import Action, Subject, can
from clearinghouse.access.models import User
from clearinghouse.access.services import subject_for
from clearinghouse.domain import notice_footer
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.notifications._events import event_resource, passes
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
from clearinghouse.outbound import OutboundPolicy
from clearinghouse.storage import UnitOfWork, utcnow

logger = logging.getLogger("clearinghouse.notifications")

WEBHOOK_JOB = "notifications.webhook"
EMAIL_JOB = "notifications.email"
DIGEST_JOB = "notifications.digest"
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
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
        uow.enqueue(WEBHOOK_JOB, {"delivery_id": delivery.id}, idempotency_key=f"webhook:{delivery.id}:1")
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
    uow.enqueue(EMAIL_JOB, {"email_id": mail.id}, idempotency_key=f"email:{mail.id}:1")


def next_digest_time(now: dt.datetime, tz_name: str, hour: int) -> dt.datetime:
    """The next ``hour`` o'clock in the user's zone, as a UTC instant."""
    from clearinghouse.domain import zone

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
    uow.enqueue(
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
    uow.enqueue(EMAIL_JOB, {"email_id": mail.id}, idempotency_key=f"email:{mail.id}:1")
    return mail


# -- attempts --------------------------------------------------------------------
#
# An attempt is three steps, and only the first and last touch the database:
# read what to send (a short read-only unit of work), send it with no
# transaction open (timeouts and a total deadline, see ``clearinghouse.outbound``),
# then record the outcome and queue the retry in one short transaction (the
# job's ``finish``). A slow receiver therefore holds no lock that writers wait on.


@dataclass(frozen=True)
class Outcome:
    """How one send went. ``error`` is what the subscriber may see: never the receiver's body."""

    ok: bool
    duration_ms: int
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class WebhookPlan:
    """What a webhook attempt will send, read in a short transaction."""

    delivery_id: str
    url: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # the delivery fails at once, nothing is sent
    skip: bool = False  # nothing to do (already delivered or failed)


@dataclass(frozen=True)
class EmailPlan:
    """What an e-mail attempt will send, read in a short transaction."""

    email_id: str
    message: EmailMessage | None = None
    smtp: dict[str, Any] | None = None
    problem: str | None = None  # the attempt fails at once (counted, retried)
    skip: bool = False


def _record_attempt(
    uow: UnitOfWork,
    channel: str,
    delivery: WebhookDelivery | EmailDelivery,
    outcome: Outcome,
) -> None:
    delivery.attempts += 1
    uow.session.add(
        DeliveryAttempt(
            channel=channel,
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    extra = {
        "delivery_id": delivery.id,
        "channel": channel,
        "attempt": delivery.attempts,
        "status_code": outcome.status_code,
    }
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        delivery.last_error = None
        logger.info("notification delivered", extra=extra)
        return
    error = outcome.error
    delivery.last_error = error
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        logger.error("notification delivery failed; giving up", extra={**extra, "error": error})
        return
    delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
    job = WEBHOOK_JOB if channel == "webhook" else EMAIL_JOB
    key = "delivery_id" if channel == "webhook" else "email_id"
    uow.enqueue(
        job,
        {key: delivery.id},
        idempotency_key=f"{channel}:{delivery.id}:{delivery.attempts + 1}",
        run_after=delivery.next_attempt_at,
    )
    logger.warning(
        "notification delivery attempt failed; will retry",
        extra={**extra, "error": error, "run_after": delivery.next_attempt_at.isoformat()},
    )


def prepare_webhook(session: Session, envelope: Envelope, delivery_id: str) -> WebhookPlan:
    """Read what to send for one webhook delivery (no network, no writes)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return WebhookPlan(delivery_id, skip=True)
    sub = session.get(WebhookSubscription, delivery.subscription_id)
    event = session.get(NotificationEvent, delivery.event_id)
    if sub is None or event is None or not sub.active:
        return WebhookPlan(delivery_id, problem="the subscription was removed or deactivated")
    secret = envelope.open(
        Sealed(sub.secret_ciphertext, sub.secret_wrapped_key), f"webhook:{sub.id}".encode()
    ).decode()
    body = json.dumps(event_body(event), sort_keys=True, separators=(",", ":")).encode()
    headers = signed_headers(secret, body, event=event.kind, delivery_id=delivery.id)
    headers.setdefault("Content-Type", "application/json")
    return WebhookPlan(delivery_id, url=sub.url, body=body, headers=headers)


def send_webhook(plan: WebhookPlan, policy: OutboundPolicy) -> Outcome:
    """POST a planned webhook; call it with no transaction open. The answer's body is never read."""
    started = time.monotonic()
    try:
        response = outbound.post(plan.url, plan.body, plan.headers, policy)
    except outbound.OutboundRefused as exc:
        return Outcome(False, _ms(started), error=f"refused: {exc}")
    except outbound.OutboundFailed as exc:
        return Outcome(False, _ms(started), error=f"no answer: {exc}")
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}"
    return Outcome(ok, _ms(started), status_code=response.status_code, error=error)


def record_webhook(uow: UnitOfWork, plan: WebhookPlan, outcome: Outcome | None) -> WebhookDelivery | None:
    """Record a webhook attempt's outcome (and queue the retry) in ``uow``; ``None``: nothing was sent."""
    delivery = uow.session.get(WebhookDelivery, plan.delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery
    if plan.problem is not None:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = plan.problem
        return delivery
    assert outcome is not None
    _record_attempt(uow, "webhook", delivery, outcome)
    if outcome.ok:
        delivery.delivered_at = utcnow()
    return delivery


def smtp_settings(session: Session) -> dict[str, Any] | None:
    row = session.get(DeliverySetting, SMTP_SETTING)
    return None if row is None else dict(row.value)


def prepare_email(session: Session, email_id: str) -> EmailPlan:
    """Read what to send for one e-mail (no network, no writes)."""
    mail = session.get(EmailDelivery, email_id)
    if mail is None or mail.status != DeliveryStatus.PENDING:
        return EmailPlan(email_id, skip=True)
    config = smtp_settings(session)
    if config is None:
        return EmailPlan(email_id, problem="no SMTP server is configured")
    message = EmailMessage()
    message["From"] = config["from"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.id}@clearinghouse>"
    message.set_content(mail.body)
    return EmailPlan(email_id, message=message, smtp=config)


def send_prepared_email(plan: EmailPlan, policy: OutboundPolicy) -> Outcome:
    """Hand a planned e-mail to the SMTP server; call it with no transaction open.

    The server is the one an admin configured. Every socket operation has the
    read timeout, and a watchdog shuts the connection down at the total deadline.
    """
    started = time.monotonic()
    if plan.problem is not None or plan.message is None or plan.smtp is None:
        return Outcome(False, _ms(started), error=plan.problem)
    config = plan.smtp
    timeout = max(policy.connect_timeout, policy.read_timeout)
    try:
        with smtplib.SMTP(config["host"], int(config["port"]), timeout=timeout) as smtp:
            watchdog = threading.Timer(policy.total_timeout, _shutdown, args=(smtp,))
            watchdog.daemon = True
            watchdog.start()
            try:
                if config.get("starttls"):
                    smtp.starttls()
                smtp.send_message(plan.message)
            finally:
                watchdog.cancel()
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(True, _ms(started))


def _shutdown(smtp: smtplib.SMTP) -> None:
    sock = smtp.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def record_email(uow: UnitOfWork, plan: EmailPlan, outcome: Outcome) -> EmailDelivery | None:
    """Record an e-mail attempt's outcome (and queue the retry) in ``uow``."""
    mail = uow.session.get(EmailDelivery, plan.email_id)
    if mail is None or mail.status != DeliveryStatus.PENDING:
        return mail
    _record_attempt(uow, "email", mail, outcome)
    if outcome.ok:
        mail.sent_at = utcnow()
    return mail


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

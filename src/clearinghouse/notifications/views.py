"""HTTP routes for webhook subscriptions, preferences and mail settings."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from clearinghouse.http_deps import SignedIn
from clearinghouse.notifications import services
from clearinghouse.notifications.models import (
    DeliveryAttempt,
    EventKind,
    NotificationPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from clearinghouse.outbound import OutboundPolicy

router = APIRouter(prefix="/notifications", tags=["notifications"])

SeverityName = Literal["none", "low", "medium", "high", "critical"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives signed POSTs")
    events: list[EventKind] = Field(default_factory=list, max_length=10, description="Empty: every kind")
    org_wide: bool = Field(False, description="Speak for the caller's organization")
    secret: str | None = Field(None, min_length=16, max_length=200, description="Default: a new random one")


class WebhookOut(BaseModel):
    id: str
    owner_user_id: str
    org_id: str | None
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, s: WebhookSubscription) -> WebhookOut:
        return cls(
            id=s.id,
            owner_user_id=s.owner_user_id,
            org_id=s.org_id,
            url=s.url,
            events=s.events,
            active=s.active,
            created_at=s.created_at,
        )


class WebhookCreatedOut(BaseModel):
    subscription: WebhookOut
    secret: str = Field(description="Shown once: verify X-Clearinghouse-Signature with it")


def subscriber_error(error: str | None) -> str | None:
    """An attempt's error as the subscriber sees it: an HTTP answer by its status only (rows
    recorded before bodies were dropped kept up to 200 bytes of the receiver's answer)."""
    if error is not None and error.startswith("HTTP "):
        return error.split(":", 1)[0]
    return error


class AttemptOut(BaseModel):
    attempt: int
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: dt.datetime

    @classmethod
    def of(cls, a: DeliveryAttempt) -> AttemptOut:
        return cls(
            attempt=a.attempt,
            ok=a.ok,
            status_code=a.status_code,
            error=subscriber_error(a.error),
            duration_ms=a.duration_ms,
            attempted_at=a.attempted_at,
        )


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_error: str | None
    history: list[AttemptOut]

    @classmethod
    def of(cls, d: WebhookDelivery, attempts: list[DeliveryAttempt]) -> DeliveryOut:
        return cls(
            id=d.id,
            event_id=d.event_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            last_error=subscriber_error(d.last_error),
            history=[AttemptOut.of(a) for a in attempts],
        )


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str | None = Field(None, max_length=64, description="IANA name, e.g. Europe/Berlin")
    email_mode: Literal["off", "immediate", "digest"] | None = None
    min_severity: SeverityName | None = None
    clear_min_severity: bool = False
    ssvc_decisions: list[str] | None = Field(None, max_length=8)
    digest_hour: int | None = Field(None, ge=0, le=23)


class PreferencesOut(BaseModel):
    timezone: str
    email_mode: str
    min_severity: str | None
    ssvc_decisions: list[str]
    digest_hour: int

    @classmethod
    def of(cls, p: NotificationPreference) -> PreferencesOut:
        return cls(
            timezone=p.timezone,
            email_mode=p.email_mode,
            min_severity=p.min_severity,
            ssvc_decisions=list(p.ssvc_decisions or []),
            digest_hour=p.digest_hour,
        )


class SmtpIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    sender: str = Field(alias="from", min_length=3, max_length=320)
    starttls: bool = False


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to signed event deliveries")
def create_webhook(body: WebhookIn, context: SignedIn) -> WebhookCreatedOut:
    new = services.NewWebhook(
        url=body.url, events=[e.value for e in body.events], org_wide=body.org_wide, secret=body.secret
    )
    with context.writing() as uow:
        policy = OutboundPolicy.from_settings(context.runtime.settings)
        sub, secret = services.create_webhook(uow, context.subject, context.runtime.envelope, new, policy)
        out = WebhookCreatedOut(subscription=WebhookOut.of(sub), secret=secret)
        uow.commit()
    return out


@router.get("/webhooks", summary="The caller's subscriptions (every one, for an admin)")
def list_webhooks(context: SignedIn) -> list[WebhookOut]:
    with context.reading() as uow:
        return [WebhookOut.of(s) for s in services.list_webhooks(uow.session, context.subject)]


@router.get("/webhooks/{sub_id}", summary="One subscription")
def get_webhook(sub_id: str, context: SignedIn) -> WebhookOut:
    with context.reading() as uow:
        return WebhookOut.of(services.get_webhook(uow.session, context.subject, sub_id))


@router.delete("/webhooks/{sub_id}", summary="Stop deliveries (history is kept)")
def deactivate_webhook(sub_id: str, context: SignedIn) -> WebhookOut:
    with context.writing() as uow:
        out = WebhookOut.of(services.deactivate_webhook(uow, context.subject, sub_id))
        uow.commit()
    return out


@router.get("/webhooks/{sub_id}/deliveries", summary="Deliveries to a subscription, every attempt")
def webhook_deliveries(
    sub_id: str, context: SignedIn, limit: int = Query(100, ge=1, le=1000)
) -> list[DeliveryOut]:
    with context.reading() as uow:
        rows = services.webhook_deliveries(uow.session, context.subject, sub_id, limit)
        return [DeliveryOut.of(d, a) for d, a in rows]


@router.post("/webhooks/{sub_id}/ping", status_code=202, summary="Queue a signed test delivery")
def ping_webhook(sub_id: str, context: SignedIn) -> DeliveryOut:
    with context.writing() as uow:
        delivery = services.ping_webhook(uow, context.subject, sub_id)
        out = DeliveryOut.of(delivery, [])
        uow.commit()
    return out


@router.get("/preferences", summary="The caller's time zone, e-mail mode and filters")
def get_preferences(context: SignedIn) -> PreferencesOut:
    with context.reading() as uow:
        return PreferencesOut.of(services.preferences(uow.session, context.subject))


@router.put("/preferences", summary="Change the caller's time zone, e-mail mode and filters")
def set_preferences(body: PreferencesIn, context: SignedIn) -> PreferencesOut:
    change = services.PreferenceChange(
        timezone=body.timezone,
        email_mode=body.email_mode,
        min_severity=body.min_severity,
        clear_min_severity=body.clear_min_severity,
        ssvc_decisions=body.ssvc_decisions,
        digest_hour=body.digest_hour,
    )
    with context.writing() as uow:
        out = PreferencesOut.of(services.set_preferences(uow, context.subject, change))
        uow.commit()
    return out


@router.put("/smtp", summary="Set the SMTP server e-mail goes through (admin)")
def configure_smtp(body: SmtpIn, context: SignedIn) -> dict[str, object]:
    with context.writing() as uow:
        row = services.configure_smtp(
            uow, context.subject, host=body.host, port=body.port, sender=body.sender, starttls=body.starttls
        )
        out = dict(row.value)
        uow.commit()
    return out

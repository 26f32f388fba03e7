"""Notification settings: webhooks (with their secret shown once) and e-mail digests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response

from clearinghouse.notifications import SEVERITY_ORDER, EmailMode, EventKind
from clearinghouse.notifications import services as notifications
from clearinghouse.outbound import OutboundPolicy
from clearinghouse.web._deps import Viewer, check_csrf
from clearinghouse.web._render import Page, redirect

router = APIRouter()


def _settings_page(page: Page, *, new_secret: str = "", new_url: str = "") -> Response:
    with page.reading() as uow:
        webhooks = notifications.list_webhooks(uow.session, page.subject)
        prefs = notifications.preferences(uow.session, page.subject)
    return page.render(
        "notifications.html",
        webhooks=webhooks,
        prefs=prefs,
        kinds=[k.value for k in EventKind if k is not EventKind.TEST],
        modes=[m.value for m in EmailMode],
        severities=list(SEVERITY_ORDER),
        new_secret=new_secret,
        new_url=new_url,
    )


@router.get("/settings/notifications")
def settings(page: Viewer) -> Response:
    return _settings_page(page)


@router.post("/settings/webhooks")
def add_webhook(
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    url: Annotated[str, Form(max_length=2000)],
    events: Annotated[list[str] | None, Form()] = None,
    org_wide: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        sub, secret = notifications.create_webhook(
            uow,
            page.subject,
            page.runtime.envelope,
            notifications.NewWebhook(url=url, events=events or [], org_wide=org_wide),
            OutboundPolicy.from_settings(page.runtime.settings),
        )
        uow.commit()
    # The signing secret is shown this once, on this response only.
    return _settings_page(page, new_secret=secret, new_url=sub.url)


@router.post("/settings/webhooks/{sub_id}/deactivate")
def deactivate(sub_id: str, page: Viewer, csrf: Annotated[str, Form(max_length=200)]) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        notifications.deactivate_webhook(uow, page.subject, sub_id)
        uow.commit()
    return redirect("/settings/notifications")


@router.post("/settings/preferences")
def save_preferences(
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
    email_mode: Annotated[str, Form(max_length=12)] = EmailMode.IMMEDIATE.value,
    min_severity: Annotated[str, Form(max_length=10)] = "",
    digest_hour: Annotated[int, Form(ge=0, le=23)] = 8,
) -> Response:
    check_csrf(page, csrf)
    change = notifications.PreferenceChange(
        timezone=timezone.strip() or "UTC",
        email_mode=email_mode,
        min_severity=min_severity or None,
        clear_min_severity=not min_severity,
        digest_hour=digest_hour,
    )
    with page.writing() as uow:
        notifications.set_preferences(uow, page.subject, change)
        uow.commit()
    return redirect("/settings/notifications")

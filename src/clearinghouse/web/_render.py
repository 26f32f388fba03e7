"""Templates, the page context every view gets, and the shared error pages."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

from clearinghouse.access import Action, Subject, can
from clearinghouse.domain import NOTICE_HEADING, VOLUNTARY_NOTICE, VOLUNTARY_NOTICE_SHORT
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, UnitOfWork, utcnow
from clearinghouse.web._sessions import ActiveSession

# Scripts only from this origin, no inline code, no framing; SVG charts are inline markup.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _span(value: dt.timedelta | float) -> str:
    """A duration in words: '3 days 4 hours', '25 minutes'."""
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    seconds = abs(seconds)
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and (minutes or not parts):
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts[:2])


def _until(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    delta = value - utcnow()
    return f"in {_span(delta)}" if delta.total_seconds() >= 0 else f"{_span(delta)} ago"


def _pct(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value * 100:.1f}%"


env = Environment(
    loader=PackageLoader("clearinghouse.web", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=ChainableUndefined,  # optional fields of submitted documents read as empty
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["when"] = _when
env.filters["iso"] = _iso
env.filters["until"] = _until
env.filters["span"] = _span
env.filters["pct"] = _pct
# EO 14409 §5(c): every page's footer, the sign-in page and the transparency report say it.
env.globals["notice"] = VOLUNTARY_NOTICE
env.globals["notice_short"] = VOLUNTARY_NOTICE_SHORT
env.globals["notice_heading"] = NOTICE_HEADING


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def navigation(subject: Subject) -> list[NavItem]:
    """The sections this subject may open (the same rules decide the pages)."""
    if not subject.authenticated:
        return [NavItem("/transparency", "Transparency")]
    items = [NavItem("/", "Home"), NavItem("/findings", "Intake queue"), NavItem("/cases", "Cases")]
    if can(subject, Action.READ_QUEUE):
        items.append(NavItem("/queue", "Priority queue"))
    items.append(NavItem("/threads", "Vendor threads"))
    items.append(NavItem("/campaigns", "Scan campaigns"))
    if can(subject, Action.READ_REPUTATION):
        items.append(NavItem("/pipelines", "Pipelines"))
    items.append(NavItem("/assets", "Assets"))
    items.append(NavItem("/matches", "Matches"))
    items.append(NavItem("/bod-26-04", "BOD 26-04"))
    items.append(NavItem("/review", "Model review"))
    items.append(NavItem("/settings/notifications", "Notifications"))
    items.append(NavItem("/transparency", "Transparency"))
    return items


@dataclass
class Page:
    """Who is asking, and where to read and write; renders templates."""

    request: Request
    runtime: Runtime
    subject: Subject
    active: ActiveSession | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return self.active.csrf_token if self.active else ""

    @property
    def username(self) -> str:
        return self.active.user.username if self.active else ""

    @property
    def actor(self) -> Actor:
        return Actor.user(self.subject.user_id) if self.subject.user_id else Actor.system("anonymous")

    def reading(self) -> UnitOfWork:
        return self.runtime.uow(self.actor, write=False)

    def writing(self) -> UnitOfWork:
        return self.runtime.uow(self.actor, write=True)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = env.get_template(template).render(
            page=self,
            nav=navigation(self.subject),
            path=self.request.url.path,
            now=utcnow(),
            **context,
        )
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def redirect(url: str, headers: Mapping[str, str] | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303, headers=dict(headers or {}))
    return response


_NOT_FOUND_BODY: str | None = None


def not_found_page() -> HTMLResponse:
    """The one 404 page: the same bytes for a missing page, a missing object and
    one the viewer may not see, whoever asks."""
    global _NOT_FOUND_BODY
    if _NOT_FOUND_BODY is None:
        _NOT_FOUND_BODY = env.get_template("not_found.html").render()
    return HTMLResponse(_NOT_FOUND_BODY, status_code=404, headers=SECURITY_HEADERS)


def error_page(status: int, title: str, detail: str) -> HTMLResponse:
    body = env.get_template("error.html").render(status=status, title=title, detail=detail)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

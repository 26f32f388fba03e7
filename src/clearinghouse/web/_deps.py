"""What every page route depends on: the viewer (from the session cookie), the
sign-in requirement and the CSRF check."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from clearinghouse.access import ANONYMOUS
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.web._render import Page
from clearinghouse.web._sessions import SESSION_COOKIE, resume, tokens_equal, touch


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in viewer; answered with a redirect."""

    def __init__(self, next_url: str) -> None:
        super().__init__("sign in first")
        self.next_url = next_url


class BadCsrf(Exception):
    """A form came back without this session's CSRF token."""


class PageNotFound(Exception):
    """A page this viewer may not see: answered exactly like a missing page."""


def get_page(request: Request) -> Page:
    runtime: Runtime = request.app.state.runtime
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return Page(request, runtime, ANONYMOUS)
    with runtime.uow(Actor.system("console"), write=False) as uow:
        active = resume(uow.session, secret)
    if active is None:
        return Page(request, runtime, ANONYMOUS)
    if active.needs_touch:
        with runtime.uow(Actor.system("console")) as uow:
            touch(uow, active.id)
    return Page(request, runtime, active.subject, active)


def signed_in(page: Annotated[Page, Depends(get_page)]) -> Page:
    if not page.subject.authenticated:
        url = page.request.url
        target = url.path + (f"?{url.query}" if url.query else "")
        raise SignInRequired(f"/signin?next={quote(target, safe='')}")
    return page


def check_csrf(page: Page, token: str | None) -> None:
    if page.active is None or not tokens_equal(token, page.active.csrf_token):
        raise BadCsrf()


AnyViewer = Annotated[Page, Depends(get_page)]
Viewer = Annotated[Page, Depends(signed_in)]

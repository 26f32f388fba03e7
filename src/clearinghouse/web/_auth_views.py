"""Signing in and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Response

from clearinghouse.storage import Actor
from clearinghouse.web._deps import AnyViewer, check_csrf
from clearinghouse.web._render import Page, redirect
from clearinghouse.web._sessions import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    SIGNIN_CSRF_COOKIE,
    SIGNINS,
    SignInRefused,
    client_address,
    sign_in,
    sign_out,
    tokens_equal,
)

router = APIRouter()


def _secure(page: Page) -> bool:
    return page.request.url.scheme == "https"


def _safe_next(next_url: str) -> str:
    # Only paths on this site: never an open redirect to another host.
    if not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return "/"
    return next_url


def _signin_form(
    page: Page, *, next_url: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page.render(
        "signin.html",
        status,
        signin_csrf=token,
        next_url=_safe_next(next_url),
        username=username,
        error=error,
    )
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_secure(page),
        path="/signin",
    )
    return response


@router.get("/signin")
def signin_page(page: AnyViewer, next: str = "/") -> Response:
    if page.subject.authenticated:
        return redirect(_safe_next(next))
    return _signin_form(page, next_url=next)


@router.post("/signin")
def signin_submit(
    page: AnyViewer,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not tokens_equal(csrf, page.request.cookies.get(SIGNIN_CSRF_COOKIE)):
        SIGNINS.labels(outcome="bad_csrf").inc()
        return _signin_form(
            page, next_url=next, username=username, error="The form expired; please try again.", status=403
        )
    client = client_address(
        page.request.client.host if page.request.client else None,
        page.request.headers.get("x-forwarded-for"),
        page.runtime.settings.trusted_proxies,
    )
    limits = page.request.app.state.signin_limits
    try:
        with page.runtime.uow(Actor.system("console")) as uow:
            started = sign_in(
                uow,
                limits,
                username,
                password,
                client=client,
                user_agent=page.request.headers.get("user-agent", ""),
            )
    except SignInRefused as refused:
        return _signin_form(
            page, next_url=next, username=username, error=refused.message, status=refused.status
        )
    response = redirect(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        started.secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(page),
        path="/",
    )
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(page: AnyViewer, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    if page.active is not None:
        check_csrf(page, csrf)
        with page.runtime.uow(page.actor) as uow:
            sign_out(uow, page.request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

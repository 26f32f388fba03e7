"""Mounting the console on the API's application.

Pages live outside ``/api/v1``; their errors are HTML pages, while the API's
stay RFC 9457 problems: each exception handler the API installed is wrapped so
that it answers as before for API paths and with a page for console paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from clearinghouse.access import Forbidden, NotFound
from clearinghouse.errors import ClearinghouseError
from clearinghouse.web._deps import BadCsrf, PageNotFound, SignInRequired
from clearinghouse.web._render import error_page, not_found_page, redirect
from clearinghouse.web._sessions import SignInLimits

STATIC_DIR = Path(__file__).with_name("static")
# The first path segment of every console page; anything else belongs to the API's adapters.
PAGE_SECTIONS = frozenset(
    {
        "",
        "signin",
        "signout",
        "findings",
        "cases",
        "queue",
        "bod-26-04",
        "threads",
        "campaigns",
        "pipelines",
        "assets",
        "review",
        "settings",
        "transparency",
        "static",
    }
)

Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def is_page(request: Request, console_endpoints: set[Any]) -> bool:
    """Whether an error is the console's to show as a page: raised by one of its routes, or
    for no route at all under one of its sections or asked for by a browser (``text/html``).
    Every other route's errors stay as its own handlers make them (RFC 9457 for the API)."""
    endpoint = request.scope.get("endpoint")
    if endpoint is not None:
        return endpoint in console_endpoints
    section = request.url.path.lstrip("/").split("/", 1)[0]
    return section in PAGE_SECTIONS or "text/html" in request.headers.get("accept", "")


def _page_error(exc: Exception) -> Response:
    if isinstance(exc, (NotFound, PageNotFound)):
        return not_found_page()
    if isinstance(exc, Forbidden):
        return error_page(403, "Not allowed", "You may see this, but not do that to it.")
    if isinstance(exc, SignInRequired):
        return redirect(exc.next_url)
    if isinstance(exc, BadCsrf):
        return error_page(
            403,
            "Form expired",
            "The form was sent without a valid token. Go back, reload the page and retry.",
        )
    if isinstance(exc, ClearinghouseError):
        where = f" ({exc.pointer})" if exc.pointer else ""
        return error_page(exc.status, exc.title, f"{exc.detail}{where}")
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "the form"
        return error_page(422, "Invalid input", f"{field}: {first.get('msg', 'invalid')}")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return not_found_page()
        if exc.status_code == 405:
            return error_page(405, "Not allowed", "This page does not take that kind of request.")
        return error_page(exc.status_code, "Error", str(exc.detail))
    return error_page(500, "Something went wrong", "The error was logged.")


def _wrap(app: FastAPI, exc_class: type[Exception], console_endpoints: set[Any]) -> None:
    original = app.exception_handlers.get(exc_class)

    async def handler(request: Request, exc: Exception) -> Response:
        if original is None or is_page(request, console_endpoints):
            if exc_class is Exception:
                import logging

                logging.getLogger("clearinghouse.web").exception(
                    "unhandled error", extra={"path": request.url.path}
                )
            return _page_error(exc)
        result = original(request, exc)
        return await result if isinstance(result, Awaitable) else result

    app.add_exception_handler(exc_class, handler)


def install(app: FastAPI) -> None:
    """Add the console's routes, its static files and its error pages to ``app``."""
    from clearinghouse.web.views import routers

    app.state.signin_limits = SignInLimits.default()
    console_endpoints: set[Any] = set()
    for router in routers():
        app.include_router(router, include_in_schema=False)
        console_endpoints.update(getattr(route, "endpoint", None) for route in router.routes)
    static = StaticFiles(directory=STATIC_DIR)
    app.mount("/static", static, name="static")
    console_endpoints.add(static)
    for exc_class in (
        NotFound,
        Forbidden,
        ClearinghouseError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        _wrap(app, exc_class, console_endpoints)
    for own in (SignInRequired, BadCsrf, PageNotFound):
        app.add_exception_handler(own, lambda _request, exc: _page_error(exc))

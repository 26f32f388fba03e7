"""Cross-cutting HTTP concerns: request ids, the request log and metrics."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl

from prometheus_client import Counter, Histogram
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearinghouse.errors import nul_pointer

log = logging.getLogger("clearinghouse.http")
REQUESTS = Counter("clearinghouse_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("clearinghouse_http_request_seconds", "HTTP request latency", ["method", "route"])


def route_template(scope: Scope) -> str:
    """The matched route with its parameters as placeholders (``/api/v1/bulletins/{bulletin_id}``),
    so metrics have one series per route rather than one per object."""
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return "unmatched"
    params = {k: str(v) for k, v in scope.get("path_params", {}).items()}
    try:
        filled = path_format.format(**params)
    except (KeyError, IndexError, ValueError):
        return path_format
    path: str = scope["path"]
    # An included router's route knows only its own part; the prefix is what precedes it.
    prefix = path[: -len(filled)] if filled and path.endswith(filled) else ""
    return prefix + path_format


class ObservabilityMiddleware:
    """Counts and times every request by route template, and logs it as JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with a 413 problem.

    A declared ``Content-Length`` over the limit is refused before reading; a
    body without one is read up to the limit first and then handed on.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths that stream large bodies on purpose (bulk intake) and their own limits.
        self.overrides = overrides or {}

    async def _refuse(self, send: Send, limit: int) -> None:
        from clearinghouse.http_problems import problem

        response = problem(
            413,
            "Content too large",
            f"the request body is larger than {limit} bytes",
            kind="body_too_large",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.max_bytes)
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_FORM = b"application/x-www-form-urlencoded"

NulRenderer = Callable[[str, dict[str, str]], Response]


class NulGuardMiddleware:
    """Refuses NUL characters in query parameters, JSON and form bodies with a 422
    naming where they are. PostgreSQL cannot store NUL in text; refusing it here
    keeps every route's answer the same on both databases instead of a 500.

    A protocol with its own error format (TAXII) names a ``renderer`` for its path
    prefix: it gets the request method and the error and returns the response.
    Streamed bodies (bulk NDJSON intake) are checked item by item by their parser.
    """

    def __init__(self, app: ASGIApp, renderers: dict[str, NulRenderer] | None = None) -> None:
        self.app = app
        self.renderers = renderers or {}

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: dict[str, str]) -> None:
        from clearinghouse.http_problems import problem

        path: str = scope["path"]
        for prefix, renderer in self.renderers.items():
            if path.startswith(prefix):
                response = renderer(scope["method"], error)
                break
        else:
            response = problem(
                422, "Invalid input", "text may not contain NUL characters", kind="nul", errors=[error]
            )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            where = {"detail": "NUL in the path", "in": "path", "parameter": "path"}
            await self._refuse(scope, receive, send, where)
            return
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    where = {"detail": "NUL in a parameter", "in": "query", "parameter": name}
                    await self._refuse(scope, receive, send, where)
                    return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        is_json = content_type == b"application/json" or content_type.endswith(b"+json")
        if not (is_json or content_type == _FORM) or b"content-length" not in headers:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        error = _nul_in_body(body, is_json)
        if error is not None:
            await self._refuse(scope, receive, send, error)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _nul_in_body(body: bytes, is_json: bool) -> dict[str, str] | None:
    if is_json:
        if b"\\u0000" not in body:
            return None
        try:
            pointer = nul_pointer(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            return None  # not JSON: the route's own parser says so
        return None if pointer is None else {"detail": "NUL in a string", "pointer": pointer}
    if b"%00" not in body and b"\x00" not in body:
        return None
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return {"detail": "NUL in a form field", "in": "form", "parameter": name}
    return None

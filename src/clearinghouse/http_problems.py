"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.exceptions import HTTPException as StarletteHTTPException

from clearinghouse.access import Forbidden, NotFound
from clearinghouse.errors import ClearinghouseError, json_pointer

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("clearinghouse.api")
PROBLEMS = Counter("clearinghouse_http_problems_total", "Error responses by kind", ["kind", "status"])


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if errors:
        body["errors"] = list(errors)
    PROBLEMS.labels(kind=kind, status=str(status)).inc()
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for err in raw:
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        entry: dict[str, Any] = {"detail": err.get("msg", "invalid")}
        if where == "body":
            entry["pointer"] = json_pointer(loc[1:])
        else:
            entry["parameter"] = ".".join(str(p) for p in loc[1:]) or str(where)
            entry["in"] = where
        errors.append(entry)
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        first = errors[0] if errors else {}
        where = first.get("pointer", first.get("parameter", ""))
        return problem(
            422,
            "Invalid input",
            f"{where or '/'}: {first.get('detail', '')}",
            kind="validation",
            errors=errors,
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        # Same body whether the object is missing or hidden by the policy.
        return problem(404, "Not found", f"no such {exc.kind}", kind="not_found")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem(403, "Forbidden", str(exc), kind="forbidden")

    @app.exception_handler(ClearinghouseError)
    async def _domain(request: Request, exc: ClearinghouseError) -> JSONResponse:
        errors = [{"pointer": exc.pointer, "detail": exc.detail}] if exc.pointer is not None else []
        if exc.problems:
            errors = [{"pointer": pointer, "detail": detail} for pointer, detail in exc.problems]
        detail = f"{exc.pointer}: {exc.detail}" if exc.pointer else exc.detail
        return problem(exc.status, exc.title, detail, kind=type(exc).__name__, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed", 413: "Content too large"}
        return problem(
            exc.status_code,
            title.get(exc.status_code, "Error"),
            str(exc.detail),
            kind="http",
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "Internal server error", "the error was logged", kind="internal")

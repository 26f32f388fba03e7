"""Assembling the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

import clearinghouse
import clearinghouse.tasks_registry
from clearinghouse import features
from clearinghouse.api._middleware import BodyLimitMiddleware, NulGuardMiddleware, ObservabilityMiddleware
from clearinghouse.http_deps import CurrentContext
from clearinghouse.http_problems import PROBLEM_JSON, install_problem_handlers
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii.views import nul_error as taxii_nul_error

API_PREFIX = "/api/v1"

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"description": title, "content": {PROBLEM_JSON: {}}}
    for status, title in [
        (401, "Missing or bad token"),
        (403, "Not allowed"),
        (404, "No such object, or one the caller may not see"),
        (409, "Conflicts with what is stored"),
        (413, "Request body too large"),
        (422, "Invalid input; the problem names the field by JSON pointer"),
    ]
}

system_router = APIRouter(tags=["system"])


@system_router.get("/health", summary="Liveness and database reachability")
def health(context: CurrentContext) -> dict[str, str]:
    with context.reading() as uow:
        uow.session.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "version": clearinghouse.__version__,
        "database": context.runtime.engine.dialect.name,
        "jobs": context.runtime.settings.job_backend,
    }


API_STATIC_DIR = Path(__file__).parent / "static"
API_STATIC = "/api-static"


def _install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` from the vendored copies under ``api/static``: no
    page loads anything from another host (no CDN, no validator badge, no web fonts)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(API_STATIC, StaticFiles(directory=API_STATIC_DIR), name="api-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{API_STATIC}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{API_STATIC}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{API_STATIC}/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{API_STATIC}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{API_STATIC}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )


def set_request_threads(threads: int) -> None:
    """How many blocking endpoints (sync ``def`` routes and dependencies: the database work) run
    at once; further requests wait in the event loop, first come first served. anyio's default
    is 40, which under load only makes 40 threads contend for the interpreter lock (each
    database call gives it up and waits to get it back) and for SQLite's one writer."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def create_app(runtime: Runtime, *, run_jobs: bool = False) -> FastAPI:
    """The API over ``runtime``. With ``run_jobs``, the in-process job worker
    runs alongside the server for its lifetime."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        set_request_threads(runtime.settings.request_threads)
        if run_jobs:
            runtime.jobs.start()
        try:
            yield
        finally:
            if run_jobs:
                runtime.jobs.stop()

    app = FastAPI(
        title="Clearinghouse",
        version=clearinghouse.__version__,
        summary="The AI cybersecurity clearinghouse of EO 14409.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        docs_url=None,  # served below from vendored assets, so they work offline
        redoc_url=None,
    )
    app.state.runtime = runtime
    _install_docs(app)
    install_problem_handlers(app)
    # Every feature's routers, from the one features list (clearinghouse.features).
    app.include_router(system_router, prefix=API_PREFIX)
    for router in features.api_routers():
        app.include_router(router, prefix=API_PREFIX)
    for (
        router
    ) in features.root_routers():  # TAXII under /taxii2/, OSV under /v1/, CSAF under /.well-known/csaf/
        app.include_router(router)
    for install in features.installers():  # the web console: pages at /, static files at /static
        install(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(NulGuardMiddleware, renderers={"/taxii2/": taxii_nul_error})
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=runtime.settings.max_request_bytes,
        overrides={f"{API_PREFIX}/findings:batch": runtime.settings.max_batch_bytes},
    )
    app.add_middleware(ObservabilityMiddleware)
    return app

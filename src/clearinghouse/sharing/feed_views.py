"""HTTP routes of the distribution formats.

* ``GET /api/v1/advisories/{ident}/export?format=csaf|osv|cve5|stix|openvex``: one
  advisory (case id, or any id or alias) in one format (mounted under ``/api/v1``).
* ``POST /v1/query``, ``POST /v1/querybatch``, ``GET /v1/vulns/{id}``: the OSV API,
  same request and response shapes as https://api.osv.dev (mounted at the root,
  so an OSV client needs only this server's base URL).
* ``/.well-known/csaf/...``: the CSAF 2.0 trusted provider.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from clearinghouse.access import ANONYMOUS, NotFound
from clearinghouse.domain import RecordSource, publisher_of
from clearinghouse.http_deps import Context, CurrentContext
from clearinghouse.http_problems import problem, validation_errors
from clearinghouse.sharing import _osv_api, _provider
from clearinghouse.sharing._osv_api import MAX_BATCH, OsvService, PackageQuery, parse_query
from clearinghouse.sharing._records import resolve_record
from clearinghouse.sharing.exports import MEDIA_TYPES, ExportFormat, dumps, export, filename, osv_id, to_osv

export_router = APIRouter(tags=["exports"])


class _JsonWhateverTheContentType(APIRoute):
    """The public OSV service reads a POST body as JSON whatever its Content-Type
    says (its documented examples use ``curl -d``, which sends form encoding), so a
    client written for it must work here unchanged: the body is read as JSON too."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            if request.method == "POST":
                headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
                request.scope["headers"] = [*headers, (b"content-type", b"application/json")]
                request = Request(request.scope, request.receive)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                # OSV.dev answers a query it cannot read with 400, not 422: so does this API.
                errors = validation_errors(exc.errors())
                first = errors[0] if errors else {}
                where = first.get("pointer", first.get("parameter", ""))
                return problem(
                    400,
                    "Bad request",
                    f"{where or '/'}: {first.get('detail', '')}",
                    kind="osv",
                    errors=errors,
                )

        return route


osv_router = APIRouter(prefix="/v1", tags=["osv"], route_class=_JsonWhateverTheContentType)
csaf_router = APIRouter(prefix="/.well-known/csaf", tags=["csaf"])


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- exports -------------------------------------------------------------------------------------


@export_router.get(
    "/advisories/{ident}/export",
    summary="One advisory in CSAF 2.0 or 2.1, OSV 1.7, CVE 5.1 (CNA container), STIX 2.1 or OpenVEX",
    description=(
        "`ident` is a case id or any id or alias of an advisory (CVE, GHSA, PYSEC, GO ...). "
        "Imported public advisories are TLP:CLEAR; a case advisory is returned only to whom "
        "the policy lets read it (404 otherwise, as for a missing one)."
    ),
    response_class=Response,
    responses={200: {"content": {m: {} for m in sorted(set(MEDIA_TYPES.values()))}}},
)
def export_advisory(
    ident: str,
    request: Request,
    context: CurrentContext,
    format: Annotated[ExportFormat, Query(description="The format to write.")] = ExportFormat.CSAF,
    spec_version: Annotated[
        Literal["2.0", "2.1"], Query(description="The CSAF version to write (format=csaf).")
    ] = "2.0",
) -> Response:
    with context.reading() as uow:
        record = resolve_record(uow.session, context.subject, ident)
    document = export(
        record,
        format,
        base_url=_base_url(request),
        spec_version=spec_version,
        publisher=publisher_of(context.runtime.settings.publisher),
    )
    stem = filename(record.id).removesuffix(".json")
    return Response(
        dumps(document),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{format.value}.json"'},
    )


# -- OSV API -------------------------------------------------------------------------------------


class OsvPackage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=500)
    ecosystem: str | None = Field(None, max_length=100)
    purl: str | None = Field(None, max_length=1000)


class OsvQuery(BaseModel):
    """A query as api.osv.dev takes it (commit queries are not answered here)."""

    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(None, min_length=1, max_length=500)
    package: OsvPackage | None = None
    page_token: str | None = Field(None, max_length=200)


class OsvBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queries: list[OsvQuery] = Field(max_length=MAX_BATCH)


class OsvQueryResult(BaseModel):
    vulns: list[dict[str, Any]] | None = None
    next_page_token: str | None = None


class OsvBatchHit(BaseModel):
    id: str
    modified: str


class OsvBatchResult(BaseModel):
    vulns: list[OsvBatchHit] | None = None
    next_page_token: str | None = None


class OsvBatchResults(BaseModel):
    results: list[OsvBatchResult]


def _query(q: OsvQuery, pointer: str = "") -> PackageQuery:
    package = q.package or OsvPackage()
    return parse_query(
        version=q.version,
        ecosystem=package.ecosystem,
        name=package.name,
        purl=package.purl,
        page_token=q.page_token,
        pointer=pointer,
    )


@osv_router.post(
    "/query",
    summary="OSV: the vulnerabilities affecting one package (at one version)",
    response_model=OsvQueryResult,
    response_model_exclude_none=True,
)
def osv_query(body: OsvQuery, context: CurrentContext) -> OsvQueryResult:
    query = _query(body)
    with context.reading() as uow:
        vulns, token = OsvService(uow.session, context.subject).query(query)
    return OsvQueryResult(vulns=vulns or None, next_page_token=token)


@osv_router.post(
    "/querybatch",
    summary="OSV: many package queries at once; each answer lists ids and modified times",
    response_model=OsvBatchResults,
    response_model_exclude_none=True,
)
def osv_querybatch(body: OsvBatch, context: CurrentContext) -> Response:
    queries = [_query(q, f"/queries/{i}") for i, q in enumerate(body.queries)]
    with context.reading() as uow:
        answers = OsvService(uow.session, context.subject).batch(queries)
    # Written directly (the shape of OsvBatchResults): a batch answer can carry tens of
    # thousands of hits, and a model object for each would cost more than the lookups.
    results: list[dict[str, Any]] = []
    for answer in answers:
        result: dict[str, Any] = {}
        if answer.hits:
            result["vulns"] = [{"id": h.id, "modified": h.modified} for h in answer.hits]
        if answer.next_page_token:
            result["next_page_token"] = answer.next_page_token
        results.append(result)
    return Response(json.dumps({"results": results}, separators=(",", ":")), media_type="application/json")


@osv_router.get("/vulns/{vuln_id}", summary="OSV: one vulnerability by its id")
def osv_vuln(vuln_id: str, context: CurrentContext) -> dict[str, Any]:
    with context.reading() as uow:
        record = resolve_record(uow.session, context.subject, vuln_id, published_only=True)
    if vuln_id not in (record.id, osv_id(record.id)):
        raise NotFound("advisory", vuln_id)  # an alias names another record; OSV answers ids only
    if record.source is RecordSource.IMPORTED:
        with context.reading() as uow:
            stored = _osv_api.stored_osv(uow.session, record.id)
        if stored is not None:
            return stored
    return to_osv(record)


# -- CSAF provider -------------------------------------------------------------------------------


def _folder(folder: str, context: Context) -> str:
    if folder not in _provider.FOLDERS:
        raise NotFound("csaf directory", folder)
    if folder not in _provider.PUBLIC_FOLDERS and not context.subject.authenticated:
        raise HTTPException(
            401, f"TLP:{folder.upper()} documents need a Bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return folder


def _key(context: Context) -> _provider.ProviderKey:
    return _provider.provider_key(context.runtime.settings.keys_dir)


@csaf_router.get("/provider-metadata.json", summary="CSAF 2.0 provider metadata")
def provider_metadata(request: Request, context: CurrentContext) -> dict[str, Any]:
    key = _key(context)
    with context.reading() as uow:
        public = _provider.entries(uow.session, ANONYMOUS, "white")
    key_path = context.runtime.settings.keys_dir / _provider.KEY_FILE
    updated = public[0].released if public else dt.datetime.fromtimestamp(key_path.stat().st_mtime, dt.UTC)
    publisher = publisher_of(context.runtime.settings.publisher)
    return _provider.provider_metadata(_base_url(request), key, updated, publisher)


@csaf_router.get(
    "/openpgp/{fingerprint}.asc",
    summary="The provider's public OpenPGP key",
    response_class=Response,
    responses={200: {"content": {"application/pgp-keys": {}}}},
)
def openpgp_key(fingerprint: str, context: CurrentContext) -> Response:
    key = _key(context)
    if fingerprint.upper() != key.fingerprint.upper():
        raise NotFound("key", fingerprint)
    return Response(key.public_armored, media_type="application/pgp-keys")


def _listing(title: str, names: list[str]) -> Response:
    """A plain directory listing (CSAF 2.0 7.1.14): one link a line."""
    links = "".join(f'<a href="{html.escape(n, quote=True)}">{html.escape(n)}</a>\n' for n in names)
    heading = html.escape(title)
    body = f"<!doctype html>\n<title>{heading}</title>\n<h1>{heading}</h1>\n<pre>\n{links}</pre>\n"
    return Response(body, media_type="text/html")


@csaf_router.get(
    "/{folder}/",
    summary="CSAF: directory listing of one TLP directory",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
)
def folder_listing(folder: str, context: CurrentContext) -> Response:
    _folder(folder, context)
    with context.reading() as uow:
        items = _provider.entries(uow.session, context.subject, folder)
    years = sorted({e.path.split("/", 1)[0] + "/" for e in items})
    return _listing(f"/.well-known/csaf/{folder}/", ["changes.csv", "index.txt", *years])


@csaf_router.get(
    "/{folder}/{year}/",
    summary="CSAF: directory listing of one year of a TLP directory",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
)
def year_listing(folder: str, year: str, context: CurrentContext) -> Response:
    _folder(folder, context)
    with context.reading() as uow:
        items = _provider.entries(uow.session, context.subject, folder)
    names = sorted(e.path.split("/", 1)[1] for e in items if e.path.startswith(f"{year}/"))
    if not names:
        raise NotFound("csaf directory", f"{folder}/{year}")
    files = [f"{n}{suffix}" for n in names for suffix in ("", ".asc", ".sha256", ".sha512")]
    return _listing(f"/.well-known/csaf/{folder}/{year}/", files)


@csaf_router.get(
    "/{folder}/index.txt",
    summary="CSAF: every document of one TLP directory",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def index_txt(folder: str, context: CurrentContext) -> Response:
    _folder(folder, context)
    with context.reading() as uow:
        items = _provider.entries(uow.session, context.subject, folder)
    return Response(_provider.index_txt(items), media_type="text/plain")


@csaf_router.get(
    "/{folder}/changes.csv",
    summary="CSAF: the documents of one TLP directory, newest release first",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def changes_csv(folder: str, context: CurrentContext) -> Response:
    _folder(folder, context)
    with context.reading() as uow:
        items = _provider.entries(uow.session, context.subject, folder)
    return Response(_provider.changes_csv(items), media_type="text/csv")


_SUFFIXES = {
    ".json": "application/json",
    ".json.sha256": "text/plain",
    ".json.sha512": "text/plain",
    ".json.asc": "application/pgp-signature",
}


@csaf_router.get(
    "/{folder}/{year}/{name}",
    summary="CSAF: one document, or its .sha256, .sha512 or .asc",
    response_class=Response,
    responses={200: {"content": {m: {} for m in sorted(set(_SUFFIXES.values()))}}},
)
def document(folder: str, year: str, name: str, request: Request, context: CurrentContext) -> Response:
    _folder(folder, context)
    suffix = next((s for s in sorted(_SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise NotFound("csaf document", name)
    wanted = f"{year}/{name.removesuffix(suffix)}.json"
    with context.reading() as uow:
        items = _provider.entries(uow.session, context.subject, folder)
    entry = next((e for e in items if e.path == wanted), None)
    if entry is None:
        raise NotFound("csaf document", wanted)
    data = _provider.document_bytes(
        entry, _base_url(request), publisher_of(context.runtime.settings.publisher)
    )
    doc_name = wanted.rsplit("/", 1)[1]
    if suffix == ".json":
        body: bytes | str = data
    elif suffix == ".json.sha256":
        body = f"{hashlib.sha256(data).hexdigest()}  {doc_name}\n"
    elif suffix == ".json.sha512":
        body = f"{hashlib.sha512(data).hexdigest()}  {doc_name}\n"
    else:
        body = _key(context).sign(data)
    return Response(body, media_type=_SUFFIXES[suffix])

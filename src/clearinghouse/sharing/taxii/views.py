"""TAXII 2.1 over HTTP under ``/taxii2/``: discovery, one API root, collections,
objects, manifest, versions and status.

Every request must accept ``application/taxii+json;version=2.1`` (406
otherwise) and every body sent must be of that type (415 otherwise); errors
are TAXII error messages of that type. Callers sign in with an API token, as
a Bearer token or as the password of HTTP Basic (which TAXII clients speak);
without one they are anonymous and see TLP:CLEAR only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

import clearinghouse
from clearinghouse.access import ANONYMOUS, Forbidden, NotFound, Subject
from clearinghouse.access.services import authenticate_token
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import services
from clearinghouse.sharing.taxii.models import TaxiiCollection
from clearinghouse.sharing.taxii.services import Filters, Page
from clearinghouse.storage import Actor

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "clearinghouse"
PREFIX = "/taxii2"
ROOT_PATH = f"{PREFIX}/{API_ROOT}"
MAX_CONTENT_LENGTH = 10_000_000


# -- errors ----------------------------------------------------------------------------


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str | None = None, **details: Any) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.description = description
        self.details = details


def error_response(
    status: int,
    title: str,
    description: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> Response:
    """A TAXII error message."""
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    if details:
        body["details"] = details
    return Response(json.dumps(body), status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def nul_error(method: str, error: dict[str, str]) -> Response:
    """The TAXII error for input holding a NUL character (the API's NUL guard
    calls this for paths under ``/taxii2/``): 422 for an envelope, else 400."""
    status = 422 if method == "POST" else 400
    return error_response(status, "Bad request", "text may not contain NUL characters", details=error)


_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="taxii", Bearer'}


class TaxiiRoute(APIRoute):
    """A route whose every failure is a TAXII error message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except TaxiiError as exc:
                headers = _AUTHENTICATE if exc.status == 401 else None
                return error_response(
                    exc.status, exc.title, exc.description, headers=headers, details=exc.details
                )
            except NotFound as exc:
                return error_response(404, "Not found", f"no such {exc.kind}")
            except Forbidden as exc:
                return error_response(403, "Forbidden", str(exc))
            except ClearinghouseError as exc:
                status = 400 if exc.status == 422 and request.method != "POST" else exc.status
                details = {"pointer": exc.pointer} if exc.pointer else {}
                return error_response(status, exc.title, exc.detail, details=details)
            except RequestValidationError as exc:
                errors = [
                    {"location": ".".join(str(p) for p in e.get("loc", ())), "detail": e.get("msg", "")}
                    for e in exc.errors()
                ]
                first = errors[0] if errors else {"location": "", "detail": ""}
                description = f"{first['location']}: {first['detail']}"
                return error_response(400, "Bad request", description, details={"errors": errors})
            except HTTPException as exc:
                return error_response(exc.status_code, str(exc.detail))

        return route


# -- negotiation and sign-in -------------------------------------------------------------


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    main, *params = value.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), parsed


def _is_taxii(value: str) -> bool:
    main, params = _media_type(value)
    return main == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def require_accept(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1."""
    accept = request.headers.get("accept", "")
    if not any(_is_taxii(item) for item in accept.split(",")):
        raise TaxiiError(
            406, "Not acceptable", f"the Accept header must include {TAXII_MEDIA_TYPE}", accept=accept
        )


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_subject(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Subject:
    """Anonymous without credentials; a token as Bearer or as the Basic password; 401 otherwise."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, value = header.partition(" ")
    secret: str | None = None
    if scheme.lower() == "bearer":
        secret = value.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        secret = decoded.partition(":")[2] or None
    subject = None
    if secret:
        with runtime.uow(Actor.system("auth"), write=False) as uow:
            subject = authenticate_token(uow.session, secret)
    if subject is None:
        raise TaxiiError(401, "Unauthorized", "give an API token as Bearer token or Basic password")
    return subject


Accepting = Depends(require_accept)
CurrentSubject = Annotated[Subject, Depends(get_subject)]
CurrentRuntime = Annotated[Runtime, Depends(get_runtime)]


def _actor(subject: Subject) -> Actor:
    return Actor.user(subject.user_id) if subject.user_id is not None else Actor.system("anonymous")


# -- documented shapes (the responses themselves are written directly) ----------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class DiscoveryModel(BaseModel):
    title: str
    description: str | None = None
    contact: str | None = None
    default: str | None = None
    api_roots: list[str] = []


class ApiRootModel(BaseModel):
    title: str
    description: str | None = None
    versions: list[str]
    max_content_length: int


class CollectionModel(BaseModel):
    id: str
    title: str
    description: str | None = None
    alias: str | None = None
    can_read: bool
    can_write: bool
    media_types: list[str] = []


class CollectionsModel(BaseModel):
    collections: list[CollectionModel] = []


class EnvelopeModel(BaseModel):
    more: bool | None = None
    next: str | None = None
    objects: list[_Open] = []


class ManifestRecordModel(BaseModel):
    id: str
    date_added: str
    version: str
    media_type: str | None = None


class ManifestModel(BaseModel):
    more: bool | None = None
    next: str | None = None
    objects: list[ManifestRecordModel] = []


class VersionsModel(BaseModel):
    more: bool | None = None
    next: str | None = None
    versions: list[str] = []


class StatusDetailModel(BaseModel):
    id: str
    version: str
    message: str | None = None


class StatusModel(BaseModel):
    id: str
    status: str
    request_timestamp: str | None = None
    total_count: int
    success_count: int
    successes: list[StatusDetailModel] = []
    failure_count: int
    failures: list[StatusDetailModel] = []
    pending_count: int
    pendings: list[StatusDetailModel] = []


class ErrorModel(BaseModel):
    title: str
    description: str | None = None
    error_id: str | None = None
    error_code: str | None = None
    http_status: str | None = None
    external_details: str | None = None
    details: dict[str, Any] | None = None


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    titles = {
        400: "Bad request: a filter or parameter is invalid",
        401: "Bad credentials",
        403: "Not allowed",
        404: "No such resource, or one the caller may not see",
        406: "The client does not accept TAXII 2.1",
        409: "Conflicts with what is stored",
        413: "Request body too large",
        415: "The body is not TAXII 2.1",
        422: "The envelope cannot be processed",
    }
    return {
        code: {"description": titles[code], "model": ErrorModel, "content": {TAXII_MEDIA_TYPE: {}}}
        for code in codes
    }


class TaxiiResponse(JSONResponse):
    """JSON of the TAXII media type; text already serialised (a page of stored objects) is sent as is."""

    media_type = TAXII_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode()
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def taxii_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return TaxiiResponse(body, status_code=status, headers=headers)


router = APIRouter(
    prefix=PREFIX,
    tags=["taxii"],
    route_class=TaxiiRoute,
    default_response_class=TaxiiResponse,
    dependencies=[Accepting],
    responses=_error_responses(400, 401, 403, 404, 406, 409, 413, 415, 422),
)

# -- discovery and API root ------------------------------------------------------------------


@router.get("/", summary="TAXII server discovery", response_model=DiscoveryModel)
def discovery(request: Request, subject: CurrentSubject) -> Response:
    root = str(request.url_for("api_root"))
    return taxii_json(
        {
            "title": "Clearinghouse TAXII 2.1 server",
            "description": "STIX 2.1 threat intelligence shared by the EO 14409 clearinghouse.",
            "contact": "the clearinghouse's coordination desk",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get(f"/{API_ROOT}/", summary="TAXII API root", response_model=ApiRootModel)
def api_root(subject: CurrentSubject, runtime: CurrentRuntime) -> Response:
    return taxii_json(
        {
            "title": "Clearinghouse",
            "description": f"Collections of STIX objects (clearinghouse {clearinghouse.__version__}).",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": min(MAX_CONTENT_LENGTH, runtime.settings.max_request_bytes),
        }
    )


@router.get(f"/{API_ROOT}/status/{{status_id}}/", summary="Status of a request", response_model=StatusModel)
def get_status(status_id: str, subject: CurrentSubject, runtime: CurrentRuntime) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        status = services.get_status(uow.session, subject, status_id)
    return taxii_json(status.to_json())


# -- collections ---------------------------------------------------------------------------------


def _collection_json(subject: Subject, collection: TaxiiCollection) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "can_read": True,
        "can_write": services.can_write(subject, collection),
        "media_types": ["application/stix+json;version=2.1"],
    }
    if collection.description:
        out["description"] = collection.description
    if collection.alias:
        out["alias"] = collection.alias
    return out


@router.get(
    f"/{API_ROOT}/collections/", summary="Collections the caller may read", response_model=CollectionsModel
)
def get_collections(subject: CurrentSubject, runtime: CurrentRuntime) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        collections = services.list_collections(uow.session, subject)
        body = [_collection_json(subject, c) for c in collections]
    return taxii_json({"collections": body} if body else {})


@router.get(
    f"/{API_ROOT}/collections/{{collection_id}}/", summary="One collection", response_model=CollectionModel
)
def get_collection(collection_id: str, subject: CurrentSubject, runtime: CurrentRuntime) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        collection = services.get_collection(uow.session, subject, collection_id)
        body = _collection_json(subject, collection)
    return taxii_json(body)


# -- objects ----------------------------------------------------------------------------------------


def _split(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


class FilterParams:
    """The TAXII query parameters: ``limit``, ``next``, ``added_after`` and ``match[...]``."""

    def __init__(
        self,
        limit: Annotated[int | None, Query(ge=1, le=100_000, description="Most items to return.")] = None,
        next: Annotated[
            str | None, Query(max_length=40, description="From a previous page's `next`.")
        ] = None,
        added_after: Annotated[str | None, Query(max_length=40, description="RFC 3339 timestamp.")] = None,
        match_id: Annotated[str | None, Query(alias="match[id]", max_length=20_000)] = None,
        match_type: Annotated[str | None, Query(alias="match[type]", max_length=20_000)] = None,
        match_version: Annotated[
            str | None,
            Query(alias="match[version]", max_length=20_000, description="last, first, all or timestamps."),
        ] = None,
        match_spec_version: Annotated[str | None, Query(alias="match[spec_version]", max_length=100)] = None,
    ) -> None:
        self.limit = limit
        self.next = next
        self.added_after = added_after
        self.ids = _split(match_id)
        self.types = _split(match_type)
        self.versions = _split(match_version)
        self.spec_versions = _split(match_spec_version)

    def filters(self, *, default_versions: tuple[str, ...] = ("last",), ids: bool = True) -> Filters:
        return Filters(
            ids=self.ids if ids else (),
            types=self.types,
            versions=self.versions or default_versions,
            spec_versions=self.spec_versions,
            added_after=self.added_after,
            limit=self.limit or services.DEFAULT_PAGE,
            next=self.next,
        )


Params = Annotated[FilterParams, Depends()]


def _page_headers(page: Page) -> dict[str, str]:
    headers: dict[str, str] = {}
    if page.first_added is not None and page.last_added is not None:
        headers["X-TAXII-Date-Added-First"] = page.first_added
        headers["X-TAXII-Date-Added-Last"] = page.last_added
    return headers


def _envelope_prefix(page: Page) -> str:
    prefix = '{"more":' + ("true" if page.more else "false")
    if page.next is not None:
        prefix += ',"next":"' + page.next + '"'
    return prefix


def _objects_response(page: Page) -> Response:
    prefix = _envelope_prefix(page)
    if page.entries:
        text = prefix + ',"objects":[' + ",".join(e.body for e in page.entries) + "]}"
    else:
        text = prefix + "}"
    return TaxiiResponse(text, headers=_page_headers(page))


@router.get(
    f"/{API_ROOT}/collections/{{collection_id}}/objects/",
    summary="Objects of a collection, a page at a time",
    response_model=EnvelopeModel,
)
def get_objects(
    collection_id: str, params: Params, subject: CurrentSubject, runtime: CurrentRuntime
) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        page = services.page(uow.session, subject, collection_id, params.filters())
    return _objects_response(page)


async def _envelope(request: Request) -> list[Any]:
    content_type = request.headers.get("content-type", "")
    if not _is_taxii(content_type):
        raise TaxiiError(415, "Unsupported media type", f"send the envelope as {TAXII_MEDIA_TYPE}")
    raw = await request.body()
    if len(raw) > MAX_CONTENT_LENGTH:
        raise TaxiiError(413, "Request too large", f"at most {MAX_CONTENT_LENGTH} bytes")
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TaxiiError(400, "Bad request", f"the body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise TaxiiError(422, "Unprocessable envelope", "an envelope is an object with an 'objects' list")
    objects: list[Any] = envelope["objects"]
    return objects


@router.post(
    f"/{API_ROOT}/collections/{{collection_id}}/objects/",
    summary="Add objects to a collection",
    status_code=202,
    response_model=StatusModel,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {TAXII_MEDIA_TYPE: {"schema": EnvelopeModel.model_json_schema()}},
        }
    },
)
async def add_objects(collection_id: str, request: Request, subject: CurrentSubject) -> Response:
    objects = await _envelope(request)
    runtime = get_runtime(request)
    with runtime.uow(_actor(subject)) as uow:
        status = services.add_objects(uow, subject, collection_id, objects)
        uow.commit()
    return taxii_json(status.to_json(), status=202)


@router.get(
    f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/",
    summary="One object's versions",
    response_model=EnvelopeModel,
)
def get_object(
    collection_id: str, object_id: str, params: Params, subject: CurrentSubject, runtime: CurrentRuntime
) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        page = services.page(
            uow.session, subject, collection_id, params.filters(ids=False), object_id=object_id
        )
    return _objects_response(page)


@router.delete(
    f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/",
    summary="Delete an object (all its versions, or those matched)",
    response_model=None,
)
def delete_object(
    collection_id: str, object_id: str, params: Params, subject: CurrentSubject, runtime: CurrentRuntime
) -> Response:
    with runtime.uow(_actor(subject)) as uow:
        services.delete_object(
            uow, subject, collection_id, object_id, params.versions or ("all",), params.spec_versions
        )
        uow.commit()
    return TaxiiResponse(b"", status_code=200)


@router.get(
    f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
    summary="Versions of one object",
    response_model=VersionsModel,
)
def get_versions(
    collection_id: str, object_id: str, params: Params, subject: CurrentSubject, runtime: CurrentRuntime
) -> Response:
    filters = params.filters(default_versions=("all",), ids=False)
    with runtime.uow(_actor(subject), write=False) as uow:
        page = services.page(
            uow.session, subject, collection_id, filters, object_id=object_id, with_body=False
        )
    body: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        body["next"] = page.next
    if page.entries:
        body["versions"] = [e.version for e in page.entries]
    return taxii_json(body, headers=_page_headers(page))


@router.get(
    f"/{API_ROOT}/collections/{{collection_id}}/manifest/",
    summary="Manifest of a collection's objects",
    response_model=ManifestModel,
)
def get_manifest(
    collection_id: str, params: Params, subject: CurrentSubject, runtime: CurrentRuntime
) -> Response:
    with runtime.uow(_actor(subject), write=False) as uow:
        page = services.page(uow.session, subject, collection_id, params.filters(), with_body=False)
    body: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        body["next"] = page.next
    if page.entries:
        body["objects"] = [
            {"id": e.stix_id, "date_added": e.date_added, "version": e.version, "media_type": e.media_type}
            for e in page.entries
        ]
    return taxii_json(body, headers=_page_headers(page))


__all__ = ["TAXII_MEDIA_TYPE", "router"]

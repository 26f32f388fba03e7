"""HTTP routes for collections and bulletins."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from clearinghouse.access.schemas import MarkingIn, MarkingOut
from clearinghouse.http_deps import CurrentContext, SignedIn
from clearinghouse.sharing import services
from clearinghouse.sharing.models import Bulletin, Collection

router = APIRouter(tags=["sharing"])


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    marking: MarkingIn = Field(default_factory=MarkingIn)


class CollectionOut(BaseModel):
    id: str
    title: str
    description: str
    marking: MarkingOut
    created_at: dt.datetime

    @classmethod
    def of(cls, c: Collection) -> CollectionOut:
        return cls(
            id=c.id,
            title=c.title,
            description=c.description,
            marking=MarkingOut.of(c),
            created_at=c.created_at,
        )


class BulletinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    body: str = Field("", max_length=1_000_000)
    collection_id: str | None = None
    marking: MarkingIn = Field(default_factory=MarkingIn)


class BulletinPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    body: str | None = Field(None, max_length=1_000_000)
    marking: MarkingIn | None = None


class BulletinOut(BaseModel):
    id: str
    title: str
    body: str
    collection_id: str | None
    marking: MarkingOut
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, b: Bulletin) -> BulletinOut:
        return cls(
            id=b.id,
            title=b.title,
            body=b.body,
            collection_id=b.collection_id,
            marking=MarkingOut.of(b),
            created_at=b.created_at,
            updated_at=b.updated_at,
        )


@router.post("/collections", status_code=201, summary="Create a collection of bulletins")
def create_collection(body: CollectionIn, context: SignedIn) -> CollectionOut:
    with context.writing() as uow:
        collection = services.create_collection(
            uow, context.subject, body.title, body.description, body.marking.to_marking(context.subject)
        )
        uow.commit()
    return CollectionOut.of(collection)


@router.get("/collections", summary="Collections the caller may read")
def list_collections(context: CurrentContext) -> list[CollectionOut]:
    with context.reading() as uow:
        return [CollectionOut.of(c) for c in services.list_collections(uow.session, context.subject)]


@router.get("/collections/{collection_id}", summary="One collection")
def get_collection(collection_id: str, context: CurrentContext) -> CollectionOut:
    with context.reading() as uow:
        return CollectionOut.of(services.get_collection(uow.session, context.subject, collection_id))


@router.post(
    "/bulletins",
    status_code=201,
    summary="Publish a bulletin to the community at its marking",
    description="Idempotent with an `Idempotency-Key` header: a retry returns the first bulletin (200).",
)
def create_bulletin(
    body: BulletinIn,
    context: SignedIn,
    response: Response,
    idempotency_key: str | None = Header(None, max_length=200),
) -> BulletinOut:
    draft = services.BulletinDraft(
        title=body.title,
        body=body.body,
        marking=body.marking.to_marking(context.subject),
        collection_id=body.collection_id,
        idempotency_key=idempotency_key,
    )
    with context.writing() as uow:
        bulletin, created = services.create_bulletin(uow, context.subject, draft)
        uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return BulletinOut.of(bulletin)


@router.get("/bulletins", summary="Bulletins the caller may read, newest first")
def list_bulletins(
    context: CurrentContext,
    collection_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    after: str | None = Query(None, description="The last id of the previous page"),
) -> list[BulletinOut]:
    with context.reading() as uow:
        rows = services.list_bulletins(
            uow.session, context.subject, collection_id=collection_id, limit=limit, after=after
        )
        return [BulletinOut.of(b) for b in rows]


@router.get("/bulletins/{bulletin_id}", summary="One bulletin")
def get_bulletin(bulletin_id: str, context: CurrentContext) -> BulletinOut:
    with context.reading() as uow:
        return BulletinOut.of(services.get_bulletin(uow.session, context.subject, bulletin_id))


@router.patch("/bulletins/{bulletin_id}", summary="Edit or re-mark a bulletin")
def update_bulletin(bulletin_id: str, body: BulletinPatch, context: SignedIn) -> BulletinOut:
    changes = services.BulletinChanges(
        title=body.title,
        body=body.body,
        marking=body.marking.to_marking(context.subject) if body.marking is not None else None,
    )
    with context.writing() as uow:
        bulletin = services.update_bulletin(uow, context.subject, bulletin_id, changes)
        uow.commit()
    return BulletinOut.of(bulletin)


@router.delete("/bulletins/{bulletin_id}", status_code=204, summary="Withdraw a bulletin")
def delete_bulletin(bulletin_id: str, context: SignedIn) -> Response:
    with context.writing() as uow:
        services.delete_bulletin(uow, context.subject, bulletin_id)
        uow.commit()
    return Response(status_code=204)

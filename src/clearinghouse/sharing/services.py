"""Use cases for collections and bulletins. Every read and write asks the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Marking, Resource, Subject, authorize, can, visible
from clearinghouse.access.services import get_readable, validate_marking
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.sharing.models import Bulletin, Collection
from clearinghouse.storage import UnitOfWork


def collection_resource(collection: Collection) -> Resource:
    return Resource.marked("collection", collection.id, collection.marking)


def bulletin_resource(session: Session, bulletin: Bulletin) -> Resource:
    markings = [bulletin.marking]
    if bulletin.collection_id is not None:
        collection = session.get(Collection, bulletin.collection_id)
        if collection is not None:
            markings.append(collection.marking)
    return Resource.marked("bulletin", bulletin.id, *markings)


def _title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > 300:
        raise InvalidInput("a title is 1-300 characters", "/title")
    return title


def create_collection(
    uow: UnitOfWork, subject: Subject, title: str, description: str, marking: Marking
) -> Collection:
    validate_marking(uow.session, marking)
    authorize(subject, Action.CREATE, Resource.marked("collection", None, marking))
    collection = Collection(title=_title(title), description=description, created_by=subject.user_id)
    collection.set_marking(marking)
    uow.session.add(collection)
    uow.flush()
    return collection


def get_collection(session: Session, subject: Subject, collection_id: str) -> Collection:
    return get_readable(session, subject, Collection, collection_id, "collection", collection_resource)


def list_collections(session: Session, subject: Subject) -> list[Collection]:
    rows = session.scalars(select(Collection).order_by(Collection.created_at, Collection.id))
    return list(visible(subject, rows, collection_resource))


@dataclass(frozen=True)
class BulletinDraft:
    title: str
    body: str
    marking: Marking
    collection_id: str | None = None
    idempotency_key: str | None = None


def create_bulletin(uow: UnitOfWork, subject: Subject, draft: BulletinDraft) -> tuple[Bulletin, bool]:
    """Create a bulletin. With an idempotency key, a retry returns the first
    bulletin (``created`` False) instead of making a second one."""
    session = uow.session
    if draft.idempotency_key is not None:
        existing = session.scalar(select(Bulletin).where(Bulletin.idempotency_key == draft.idempotency_key))
        if existing is not None:
            authorize(subject, Action.READ, bulletin_resource(session, existing))
            if existing.title != draft.title.strip() or existing.body != draft.body:
                raise Conflict("this idempotency key was used for a different bulletin", "/idempotency_key")
            return existing, False
    validate_marking(session, draft.marking)
    markings = [draft.marking]
    if draft.collection_id is not None:
        collection = session.get(Collection, draft.collection_id)
        if collection is None or not can(subject, Action.READ, collection_resource(collection)):
            raise InvalidInput(f"no collection {draft.collection_id!r}", "/collection_id")
        markings.append(collection.marking)
    authorize(subject, Action.CREATE, Resource.marked("bulletin", None, *markings))
    bulletin = Bulletin(
        title=_title(draft.title),
        body=draft.body,
        collection_id=draft.collection_id,
        idempotency_key=draft.idempotency_key,
        created_by=subject.user_id,
    )
    bulletin.set_marking(draft.marking)
    session.add(bulletin)
    uow.flush()
    return bulletin, True


def get_bulletin(session: Session, subject: Subject, bulletin_id: str) -> Bulletin:
    return get_readable(
        session, subject, Bulletin, bulletin_id, "bulletin", lambda b: bulletin_resource(session, b)
    )


def list_bulletins(
    session: Session,
    subject: Subject,
    *,
    collection_id: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[Bulletin]:
    """Readable bulletins, newest first, ``limit`` at a time after the id ``after``."""
    query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
    if collection_id is not None:
        query = query.where(Bulletin.collection_id == collection_id)
    rows = session.scalars(query.execution_options(yield_per=500))
    page: list[Bulletin] = []
    skipping = after is not None
    for bulletin in visible(subject, rows, lambda b: bulletin_resource(session, b)):
        if skipping:
            skipping = bulletin.id != after
            continue
        page.append(bulletin)
        if len(page) >= limit:
            break
    return page


@dataclass(frozen=True)
class BulletinChanges:
    title: str | None = None
    body: str | None = None
    marking: Marking | None = None


def update_bulletin(
    uow: UnitOfWork, subject: Subject, bulletin_id: str, changes: BulletinChanges
) -> Bulletin:
    bulletin = get_bulletin(uow.session, subject, bulletin_id)
    authorize(subject, Action.UPDATE, bulletin_resource(uow.session, bulletin))
    if changes.title is not None:
        bulletin.title = _title(changes.title)
    if changes.body is not None:
        bulletin.body = changes.body
    if changes.marking is not None and changes.marking != bulletin.marking:
        validate_marking(uow.session, changes.marking)
        # Re-marking must leave the object readable by whoever re-marks it.
        others: Sequence[Marking] = bulletin_resource(uow.session, bulletin).markings[1:]
        authorize(subject, Action.CREATE, Resource.marked("bulletin", None, changes.marking, *others))
        bulletin.set_marking(changes.marking)
        uow.audit_as(bulletin, "bulletin.remarked", marking=changes.marking.summary())
    uow.flush()
    return bulletin


def delete_bulletin(uow: UnitOfWork, subject: Subject, bulletin_id: str) -> None:
    bulletin = get_bulletin(uow.session, subject, bulletin_id)
    authorize(subject, Action.DELETE, bulletin_resource(uow.session, bulletin))
    uow.session.delete(bulletin)
    uow.flush()

"""Use cases of the TAXII server: collections, adding, reading, paging and
deleting STIX objects, status resources. Every read and write asks the policy.

Reads page by the date an object was added (microseconds, unique and growing
within a collection). Which objects a subject may read is the policy's answer
for the collection's marking and each object's: for one collection, an
object's marking differs from another's only in its TLP and owning
organization, so the policy is asked once per TLP (for the subject's own
organization and for any other) and its answer becomes the SQL condition of
the page query.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, false, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Action, Marking, NotFound, Resource, Subject, authorize, can
from clearinghouse.access.models import SharingGroup
from clearinghouse.access.services import validate_marking
from clearinghouse.errors import InvalidInput
from clearinghouse.sharing.taxii._stix import (
    STIX_MEDIA_TYPE,
    StixError,
    StixRecord,
    check_object,
    format_timestamp,
    now_micros,
    parse_timestamp,
)
from clearinghouse.sharing.taxii.models import TaxiiCollection, TaxiiObject, TaxiiStatus
from clearinghouse.storage import UnitOfWork

MAX_PAGE = 1000
DEFAULT_PAGE = 1000
MAX_OBJECTS_PER_REQUEST = 10_000
_IN_CHUNK = 500


# -- policy resources ------------------------------------------------------------


def collection_resource(collection: TaxiiCollection) -> Resource:
    return Resource(
        kind="taxii_collection",
        id=collection.id,
        markings=(collection.marking,),
        writers=frozenset(collection.writer_org_ids) | frozenset(collection.writer_group_ids),
    )


def object_marking(collection: TaxiiCollection, tlp: TLP, owner_org_id: str) -> Marking:
    """An object's own marking: its TLP, the organization that sent it, and the
    collection's classification, compartments and sharing groups."""
    base = collection.marking
    return Marking(
        owner_org_id=owner_org_id,
        tlp=tlp,
        classification=base.classification,
        compartments=base.compartments,
        sharing_group_ids=base.sharing_group_ids,
    )


def object_resource(
    collection: TaxiiCollection, stix_id: str | None, tlp: TLP, owner_org_id: str
) -> Resource:
    return Resource.marked(
        "taxii_object", stix_id, object_marking(collection, tlp, owner_org_id), collection.marking
    )


def _readable_condition(subject: Subject, collection: TaxiiCollection) -> ColumnElement[bool]:
    """The policy's answer for every object of ``collection``, as SQL."""
    anyone: list[str] = []
    own: list[str] = []
    for tlp in TLP:
        if can(subject, Action.READ, object_resource(collection, None, tlp, "")):
            anyone.append(tlp.value)
        elif subject.org_id is not None and can(
            subject, Action.READ, object_resource(collection, None, tlp, subject.org_id)
        ):
            own.append(tlp.value)
    conditions: list[ColumnElement[bool]] = []
    if anyone:
        conditions.append(TaxiiObject.tlp.in_(anyone))
    if own:
        conditions.append(and_(TaxiiObject.owner_org_id == subject.org_id, TaxiiObject.tlp.in_(own)))
    return or_(*conditions) if conditions else false()


# -- collections -------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionDraft:
    title: str
    marking: Marking
    description: str = ""
    alias: str | None = None
    writer_orgs: Sequence[str] = ()
    writer_groups: Sequence[str] = ()
    id: str | None = None
    advisory_tlps: Sequence[str] = ()  # published advisories of these TLPs are added automatically


def create_collection(uow: UnitOfWork, subject: Subject, draft: CollectionDraft) -> TaxiiCollection:
    """Create a TAXII collection (admin or coordinator)."""
    from clearinghouse.access.services import find_organization

    authorize(subject, Action.TAXII_MANAGE)
    session = uow.session
    title = draft.title.strip()
    if not title or len(title) > 300:
        raise InvalidInput("a title is 1-300 characters", "/title")
    validate_marking(session, draft.marking)
    writer_orgs: list[str] = []
    for i, ref in enumerate(draft.writer_orgs):
        org = find_organization(session, ref)
        if org is None:
            raise InvalidInput(f"no organization {ref!r}", f"/writer_orgs/{i}")
        writer_orgs.append(org.id)
    writer_groups: list[str] = []
    for i, ref in enumerate(draft.writer_groups):
        group = session.get(SharingGroup, ref) or session.scalar(
            select(SharingGroup).where(SharingGroup.name == ref)
        )
        if group is None:
            raise InvalidInput(f"no sharing group {ref!r}", f"/writer_groups/{i}")
        writer_groups.append(group.id)
    if draft.alias is not None:
        taken = session.scalar(select(TaxiiCollection.id).where(TaxiiCollection.alias == draft.alias))
        if taken is not None:
            raise InvalidInput(f"the alias {draft.alias!r} is taken", "/alias")
    advisory_tlps: list[str] = []
    for i, value in enumerate(draft.advisory_tlps):
        try:
            advisory_tlps.append(TLP(str(value).upper().removeprefix("TLP:")).value)
        except ValueError:
            raise InvalidInput(f"{value!r} is not a TLP", f"/advisory_tlps/{i}") from None
    if draft.id is not None and session.get(TaxiiCollection, draft.id) is not None:
        raise InvalidInput(f"a collection {draft.id!r} exists", "/id")
    collection = TaxiiCollection(
        title=title,
        description=draft.description,
        alias=draft.alias,
        writer_org_ids=sorted(set(writer_orgs)),
        writer_group_ids=sorted(set(writer_groups)),
        advisory_tlps=sorted(set(advisory_tlps)),
        created_by=subject.user_id,
    )
    if draft.id is not None:
        collection.id = draft.id
    collection.set_marking(draft.marking)
    session.add(collection)
    uow.flush()
    return collection


def list_collections(session: Session, subject: Subject) -> list[TaxiiCollection]:
    rows = session.scalars(select(TaxiiCollection).order_by(TaxiiCollection.created_at, TaxiiCollection.id))
    return [c for c in rows if can(subject, Action.READ, collection_resource(c))]


def list_all_collections(session: Session, subject: Subject) -> list[tuple[TaxiiCollection, int]]:
    """Every collection with its number of stored object versions (managers only)."""
    authorize(subject, Action.TAXII_MANAGE)
    query = select(TaxiiObject.collection_id, func.count()).group_by(TaxiiObject.collection_id)
    counts: dict[str, int] = {collection_id: n for collection_id, n in session.execute(query)}
    rows = session.scalars(select(TaxiiCollection).order_by(TaxiiCollection.created_at, TaxiiCollection.id))
    return [(c, counts.get(c.id, 0)) for c in rows]


def get_collection(session: Session, subject: Subject, ref: str, *, lock: bool = False) -> TaxiiCollection:
    """A readable collection by id or alias; :class:`NotFound` otherwise."""
    query = select(TaxiiCollection).where(or_(TaxiiCollection.id == ref, TaxiiCollection.alias == ref))
    if lock:
        query = query.with_for_update()
    collection = session.scalar(query)
    if collection is None or not can(subject, Action.READ, collection_resource(collection)):
        raise NotFound("collection", ref)
    return collection


def can_write(subject: Subject, collection: TaxiiCollection) -> bool:
    return can(subject, Action.TAXII_WRITE, collection_resource(collection))


# -- status ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusDetail:
    id: str
    version: str
    message: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"id": self.id, "version": self.version}
        if self.message is not None:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class Status:
    """A TAXII status resource: what became of each object of one request."""

    id: str
    status: str
    request_timestamp: str
    successes: tuple[StatusDetail, ...] = ()
    failures: tuple[StatusDetail, ...] = ()
    pendings: tuple[StatusDetail, ...] = ()

    @property
    def total_count(self) -> int:
        return len(self.successes) + len(self.failures) + len(self.pendings)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "request_timestamp": self.request_timestamp,
            "total_count": self.total_count,
            "success_count": len(self.successes),
            "failure_count": len(self.failures),
            "pending_count": len(self.pendings),
        }
        for name, items in (("successes", self.successes), ("failures", self.failures)):
            if items:
                out[name] = [d.to_json() for d in items]
        if self.pendings:
            out["pendings"] = [d.to_json() for d in self.pendings]
        return out


def _details(items: list[dict[str, Any]]) -> tuple[StatusDetail, ...]:
    return tuple(StatusDetail(d["id"], d["version"], d.get("message")) for d in items)


def get_status(session: Session, subject: Subject, status_id: str) -> Status:
    row = session.get(TaxiiStatus, status_id)
    if row is None:
        raise NotFound("status", status_id)
    collection = session.get(TaxiiCollection, row.collection_id)
    assert collection is not None  # statuses go with their collection
    resource = Resource(
        kind="taxii_status",
        id=row.id,
        markings=(collection.marking,),
        owner_user_id=row.requested_by,
    )
    if not can(subject, Action.TAXII_READ_STATUS, resource):
        raise NotFound("status", status_id)
    return Status(
        id=row.id,
        status=row.status,
        request_timestamp=row.request_timestamp,
        successes=_details(row.successes),
        failures=_details(row.failures),
        pendings=_details(row.pendings),
    )


# -- adding objects ----------------------------------------------------------------


def _describe(obj: Any) -> tuple[str, str]:
    """Best-effort id and version of an object that failed its checks."""
    if isinstance(obj, dict):
        ident = obj.get("id")
        version = obj.get("modified", obj.get("created"))
        return (ident if isinstance(ident, str) else "", version if isinstance(version, str) else "")
    return "", ""


def _existing_versions(session: Session, collection_id: str, ids: Iterable[str]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = session.execute(
            select(TaxiiObject.stix_id, TaxiiObject.version_us).where(
                TaxiiObject.collection_id == collection_id, TaxiiObject.stix_id.in_(chunk)
            )
        )
        for stix_id, version_us in rows:
            found[stix_id].add(version_us)
    return found


def _first_writers(session: Session, collection_id: str, ids: Iterable[str]) -> dict[str, str]:
    """The organization that first wrote each stored object id (its earliest row)."""
    first: dict[str, tuple[int, str]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = session.execute(
            select(TaxiiObject.stix_id, TaxiiObject.added_us, TaxiiObject.owner_org_id).where(
                TaxiiObject.collection_id == collection_id, TaxiiObject.stix_id.in_(chunk)
            )
        )
        for stix_id, added_us, owner in rows:
            if stix_id not in first or added_us < first[stix_id][0]:
                first[stix_id] = (added_us, owner)
    return {stix_id: owner for stix_id, (_added, owner) in first.items()}


def _refresh_flags(session: Session, collection_id: str, versions: dict[str, set[int]]) -> None:
    """Set is_latest / is_first on the stored versions of each object named."""
    for stix_id, stored in versions.items():
        if not stored:
            continue
        where = (TaxiiObject.collection_id == collection_id, TaxiiObject.stix_id == stix_id)
        session.execute(
            update(TaxiiObject)
            .where(*where)
            .values(
                is_latest=TaxiiObject.version_us == max(stored),
                is_first=TaxiiObject.version_us == min(stored),
            )
        )


def add_objects(uow: UnitOfWork, subject: Subject, collection_id: str, objects: list[Any]) -> Status:
    """Add STIX objects to a collection; each bad object fails on its own.

    Idempotent per (object id, version): sending a version the collection
    already holds succeeds without storing it twice. The ledger gets one
    event naming every stored object with the SHA-256 of its JSON.
    """
    session = uow.session
    collection = get_collection(session, subject, collection_id, lock=True)
    authorize(subject, Action.TAXII_WRITE, collection_resource(collection))
    if len(objects) > MAX_OBJECTS_PER_REQUEST:
        raise InvalidInput(f"at most {MAX_OBJECTS_PER_REQUEST} objects a request", "/objects")
    request_us = now_micros()
    owner = subject.org_id or collection.owner_org_id
    admitted: dict[TLP, bool] = {}
    checked: list[tuple[int, StixRecord]] = []
    outcome: dict[int, StatusDetail] = {}
    for index, obj in enumerate(objects):
        try:
            record = check_object(obj)
        except StixError as exc:
            ident, version = _describe(obj)
            outcome[index] = StatusDetail(ident, version, f"/objects/{index}: {exc}")
            continue
        tlp = record.tlp or TLP(collection.tlp)
        if tlp not in admitted:
            admitted[tlp] = can(subject, Action.READ, object_resource(collection, None, tlp, owner))
        if not admitted[tlp]:
            message = f"/objects/{index}: its TLP:{tlp.value} marking would hide it from its sender"
            outcome[index] = StatusDetail(record.id, record.version or "", message)
            continue
        checked.append((index, record))

    # An object id belongs to the organization that first wrote it: nobody else (staff
    # included) adds versions of it, so nobody can supersede another's object.
    writers = _first_writers(session, collection.id, (r.id for _, r in checked))
    foreign = {stix_id for stix_id, first in writers.items() if first != owner}
    if foreign:
        mine: list[tuple[int, StixRecord]] = []
        for index, record in checked:
            if record.id in foreign:
                message = f"/objects/{index}/id: this object id was first written by another organization"
                outcome[index] = StatusDetail(record.id, record.version or "", message)
            else:
                mine.append((index, record))
        checked = mine
    existing = _existing_versions(session, collection.id, (r.id for _, r in checked))
    last_added = session.scalar(
        select(func.max(TaxiiObject.added_us)).where(TaxiiObject.collection_id == collection.id)
    )
    next_added = max(request_us, (last_added or 0) + 1)
    rows: list[dict[str, Any]] = []
    touched: dict[str, set[int]] = {}
    ledger_items: list[list[str]] = []
    for index, record in checked:
        stored = existing[record.id]
        if record.version_us is None and stored:
            # No created/modified: the object is immutable, and this one is already here.
            outcome[index] = StatusDetail(
                record.id, format_timestamp(min(stored)), "already in the collection"
            )
            continue
        version_us = record.version_us if record.version_us is not None else next_added
        version = record.version or format_timestamp(version_us)
        if version_us in stored:
            outcome[index] = StatusDetail(record.id, version, "already in the collection")
            continue
        stored.add(version_us)
        touched[record.id] = stored
        rows.append(
            {
                "collection_id": collection.id,
                "added_us": next_added,
                "stix_id": record.id,
                "stix_type": record.type,
                "spec_version": record.spec_version,
                "version": version,
                "version_us": version_us,
                "is_latest": False,
                "is_first": False,
                "tlp": (record.tlp or TLP(collection.tlp)).value,
                "owner_org_id": owner,
                "added_by": subject.user_id,
                "body": record.body,
            }
        )
        ledger_items.append([record.id, version, hashlib.sha256(record.body.encode()).hexdigest()])
        outcome[index] = StatusDetail(record.id, version)
        next_added += 1
    # Flags of new rows are set in Python; stored versions of the same objects are corrected in SQL.
    single = {stix_id for stix_id, versions in touched.items() if len(versions) == 1}
    for row in rows:
        if row["stix_id"] in single:
            row["is_latest"] = row["is_first"] = True
    if rows:
        session.execute(insert(TaxiiObject), rows)
    _refresh_flags(session, collection.id, {k: v for k, v in touched.items() if k not in single})

    successes, failures = [], []
    for index in range(len(objects)):
        detail = outcome[index]
        if detail.message is None or detail.message == "already in the collection":
            successes.append(detail)
        else:
            failures.append(detail)
    status = TaxiiStatus(
        collection_id=collection.id,
        requested_by=subject.user_id,
        request_timestamp=format_timestamp(request_us),
        status="complete",
        total_count=len(objects),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        successes=[d.to_json() for d in successes],
        failures=[d.to_json() for d in failures],
        pendings=[],
    )
    session.add(status)
    uow.flush()
    uow.record(
        "taxii.objects.added",
        "taxii_collection",
        collection.id,
        status=status.id,
        objects=ledger_items,
        failures=len(failures),
    )
    return Status(
        id=status.id,
        status=status.status,
        request_timestamp=status.request_timestamp,
        successes=tuple(successes),
        failures=tuple(failures),
    )


# -- reading -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """TAXII ``match[...]``, ``added_after``, ``limit`` and ``next``."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    added_after: str | None = None
    limit: int = DEFAULT_PAGE
    next: str | None = None


def _version_condition(versions: Sequence[str]) -> ColumnElement[bool] | None:
    if "all" in versions:
        return None
    conditions: list[ColumnElement[bool]] = []
    stamps: list[int] = []
    for i, value in enumerate(versions):
        if value == "last":
            conditions.append(TaxiiObject.is_latest == true())
        elif value == "first":
            conditions.append(TaxiiObject.is_first == true())
        else:
            try:
                stamps.append(parse_timestamp(value))
            except StixError as exc:
                raise InvalidInput(f"match[version]: {exc}", f"/match[version]/{i}") from exc
    if stamps:
        conditions.append(TaxiiObject.version_us.in_(stamps))
    return or_(*conditions)


def _cursor(filters: Filters) -> int | None:
    after: int | None = None
    if filters.added_after is not None:
        try:
            after = parse_timestamp(filters.added_after)
        except StixError as exc:
            raise InvalidInput(f"added_after: {exc}", "/added_after") from exc
    if filters.next is not None:
        try:
            token = int(filters.next, 16)
        except ValueError as exc:
            raise InvalidInput("next is not a value this server handed out", "/next") from exc
        after = token if after is None else max(after, token)
    return after


class Entry(NamedTuple):
    """One object version on a page."""

    added_us: int
    stix_id: str
    version: str
    spec_version: str
    body: str

    @property
    def date_added(self) -> str:
        return format_timestamp(self.added_us)

    @property
    def media_type(self) -> str:
        return STIX_MEDIA_TYPE.format(self.spec_version)


@dataclass(frozen=True)
class Page:
    entries: list[Entry] = field(default_factory=list)
    more: bool = False

    @property
    def next(self) -> str | None:
        return format(self.entries[-1].added_us, "x") if self.more and self.entries else None

    @property
    def first_added(self) -> str | None:
        return self.entries[0].date_added if self.entries else None

    @property
    def last_added(self) -> str | None:
        return self.entries[-1].date_added if self.entries else None


def page(
    session: Session,
    subject: Subject,
    collection_ref: str,
    filters: Filters,
    *,
    object_id: str | None = None,
    with_body: bool = True,
) -> Page:
    """One page of the object versions of a collection the subject may read.

    With ``object_id``, only that object's versions, and :class:`NotFound`
    if the subject can read none of them at all.
    """
    collection = get_collection(session, subject, collection_ref)
    readable = _readable_condition(subject, collection)
    conditions: list[ColumnElement[bool]] = [TaxiiObject.collection_id == collection.id, readable]
    if object_id is not None:
        exists = session.scalar(
            select(TaxiiObject.added_us)
            .where(TaxiiObject.collection_id == collection.id, TaxiiObject.stix_id == object_id, readable)
            .limit(1)
        )
        if exists is None:
            raise NotFound("object", object_id)
        conditions.append(TaxiiObject.stix_id == object_id)
    if filters.ids:
        conditions.append(TaxiiObject.stix_id.in_(filters.ids))
    if filters.types:
        conditions.append(TaxiiObject.stix_type.in_(filters.types))
    if filters.spec_versions:
        conditions.append(TaxiiObject.spec_version.in_(filters.spec_versions))
    version_condition = _version_condition(filters.versions)
    if version_condition is not None:
        conditions.append(version_condition)
    cursor = _cursor(filters)
    if cursor is not None:
        conditions.append(TaxiiObject.added_us > cursor)
    limit = max(1, min(filters.limit, MAX_PAGE))
    body = TaxiiObject.body if with_body else TaxiiObject.stix_type
    query = (
        select(
            TaxiiObject.added_us,
            TaxiiObject.stix_id,
            TaxiiObject.version,
            TaxiiObject.spec_version,
            body,
        )
        .where(*conditions)
        .order_by(TaxiiObject.added_us)
        .limit(limit + 1)
    )
    # Core, not ORM, execution: plain tuples, as many as a page holds.
    entries = list(map(Entry._make, session.connection().execute(query).all()))
    more = len(entries) > limit
    return Page(entries[:limit], more)


# -- deleting ----------------------------------------------------------------------


def delete_object(
    uow: UnitOfWork,
    subject: Subject,
    collection_ref: str,
    object_id: str,
    versions: Sequence[str] = ("all",),
    spec_versions: Sequence[str] = (),
) -> int:
    """Delete the matching versions of one object; how many were deleted.

    Every matching version must be one the subject may delete.
    """
    session = uow.session
    collection = get_collection(session, subject, collection_ref, lock=True)
    readable = _readable_condition(subject, collection)
    conditions: list[ColumnElement[bool]] = [
        TaxiiObject.collection_id == collection.id,
        TaxiiObject.stix_id == object_id,
        readable,
    ]
    version_condition = _version_condition(versions)
    if version_condition is not None:
        conditions.append(version_condition)
    if spec_versions:
        conditions.append(TaxiiObject.spec_version.in_(spec_versions))
    rows = session.execute(
        select(TaxiiObject.added_us, TaxiiObject.version, TaxiiObject.tlp, TaxiiObject.owner_org_id).where(
            *conditions
        )
    ).all()
    if not rows:
        raise NotFound("object", object_id)
    authorize(subject, Action.TAXII_WRITE, collection_resource(collection))
    for _added, _version, tlp, owner in rows:
        authorize(subject, Action.DELETE, object_resource(collection, object_id, TLP(tlp), owner))
    session.execute(
        delete(TaxiiObject).where(
            TaxiiObject.collection_id == collection.id, TaxiiObject.added_us.in_([r[0] for r in rows])
        )
    )
    remaining = _existing_versions(session, collection.id, [object_id])
    _refresh_flags(session, collection.id, remaining)
    uow.record(
        "taxii.objects.deleted",
        "taxii_collection",
        collection.id,
        objects=[[object_id, version] for _added, version, _tlp, _owner in rows],
    )
    return len(rows)

"""The OSV query service behind ``/v1/query``, ``/v1/querybatch`` and ``/v1/vulns/{id}``.

Imported advisories are answered from an in-memory index of the
``advisory_affected`` rows, keyed by (ecosystem, normalized name) and built
once per process; each request checks a fingerprint of the ``advisories``
table (row count and latest import time, one indexed query) and rebuilds the
index when an import changed it. A version is checked with
``matching.AffectedRange`` (each ecosystem's order; listed versions and
ranges as OSV evaluates them); only "affected" answers count, never "cannot
say". Published case advisories the caller may read come from coordination
per request and are checked the same way. Withdrawn advisories, and
informational ones (RustSec's ``database_specific.informational``: unmaintained,
unsound, notice — not vulnerabilities), are not returned by queries
(``/v1/vulns/{id}`` still returns them, as stored). Imported OSV records are
answered as stored, every field kept. A query the service cannot read is a 400
(as api.osv.dev answers), naming the field.
"""

from __future__ import annotations

import base64
import binascii
import gc
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from clearinghouse.access import Subject
from clearinghouse.domain import (
    AdvisoryRecord,
    canonical_ecosystem,
    ecosystem_of_purl_type,
    normalize_name,
    split_ecosystem,
)
from clearinghouse.errors import BadRequest
from clearinghouse.intake.advisories import Advisory, AdvisoryAffected, not_informational
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.matching import AffectedPackage as MatchedPackage
from clearinghouse.matching import AffectedRange, package_name

# matching's per-package table (compiled boundaries, remembered answers), used directly:
# going through MatchIndex.match would build an explained Match for every candidate,
# "cannot say" ones included, which costs more than the lookup itself.
from clearinghouse.matching import PackageEntry as _MatchEntry
from clearinghouse.matching import PackageTable as _Table
from clearinghouse.sharing._records import (
    may_read_imported,
    published_case_records,
    record_from_advisory,
)
from clearinghouse.sharing.exports import osv_id, to_osv
from clearinghouse.sharing.exports._common import timestamp

PAGE_SIZE = 1000  # vulnerabilities per query answer before a next_page_token
MAX_BATCH = 1000  # queries per /v1/querybatch, as the public service allows


@dataclass(frozen=True)
class PackageQuery:
    """One query: a package (ecosystem and name, or a purl) and optionally a version."""

    ecosystem: str
    name: str
    version: str | None
    variant: str | None = None
    page_token: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    modified: str


@dataclass(frozen=True)
class Answer:
    hits: list[Hit]
    next_page_token: str | None = None


def parse_query(
    *,
    version: str | None,
    ecosystem: str | None,
    name: str | None,
    purl: str | None,
    page_token: str | None,
    pointer: str = "",
) -> PackageQuery:
    """A request's query as a :class:`PackageQuery`; :class:`InvalidInput` names the bad field."""
    if purl:
        if ecosystem or name:
            raise BadRequest("give a purl or an ecosystem and name, not both", f"{pointer}/package")
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError as exc:
            raise BadRequest(f"not a purl: {exc}", f"{pointer}/package/purl") from None
        eco = ecosystem_of_purl_type(parsed.type)
        if eco is None:
            raise BadRequest(f"no OSV ecosystem for purl type {parsed.type!r}", f"{pointer}/package/purl")
        if parsed.version and version:
            raise BadRequest("the version is given both in the purl and in 'version'", f"{pointer}/version")
        sep = ":" if parsed.type == "maven" else "/"
        full = f"{parsed.namespace}{sep}{parsed.name}" if parsed.namespace else parsed.name
        return PackageQuery(eco, full, parsed.version or version, None, page_token)
    if not ecosystem or not name:
        raise BadRequest("a query names a package: its ecosystem and name, or its purl", f"{pointer}/package")
    base, variant = split_ecosystem(ecosystem)
    return PackageQuery(base, name.strip(), version, variant, page_token)


def _offset(token: str | None, pointer: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("not a page token this service gave", f"{pointer}/page_token") from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


@dataclass
class ImportedIndex:
    """The imported advisories' affected packages, one table per package (ecosystem and
    name as ``matching`` normalizes them). A table is matching's compiled form: the
    ranges' boundaries sorted once, a version placed by one binary search, only the
    advisories covering its region checked exactly (``AffectedRange.check``), and the
    answers remembered per version."""

    fingerprint: tuple[Any, ...] = ()
    tables: dict[tuple[str, str], _Table] = field(default_factory=dict)
    modified: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, fingerprint: tuple[Any, ...]) -> ImportedIndex:
        index = cls(fingerprint)
        stmt = (
            select(
                AdvisoryAffected.advisory_id,
                AdvisoryAffected.ecosystem,
                AdvisoryAffected.ecosystem_variant,
                AdvisoryAffected.name,
                AdvisoryAffected.purl,
                AdvisoryAffected.ranges,
                AdvisoryAffected.versions,
                Advisory.modified,
            )
            .join(Advisory, Advisory.id == AdvisoryAffected.advisory_id)
            .where(Advisory.withdrawn.is_(None), not_informational(Advisory.raw))
            .order_by(AdvisoryAffected.advisory_id, AdvisoryAffected.id)
        )
        for row in session.execute(stmt.execution_options(yield_per=2000)):
            index.modified.setdefault(row.advisory_id, timestamp(row.modified))
            ecosystem = f"{row.ecosystem}:{row.ecosystem_variant}" if row.ecosystem_variant else row.ecosystem
            package = package_name(ecosystem, row.name, row.purl)
            affected = MatchedPackage(package, AffectedRange.from_osv(ecosystem, row.ranges, row.versions))
            table = index.tables.setdefault((package.ecosystem, package.key), _Table())
            table.add(_MatchEntry(row.advisory_id, affected, str(package)))
        return index

    def lookup(self, query: PackageQuery) -> list[Hit]:
        """The advisories affecting the queried package (at its version, if given), by id."""
        eco = canonical_ecosystem(query.ecosystem)
        package = package_name(f"{eco}:{query.variant}" if query.variant else eco, query.name)
        table = self.tables.get((package.ecosystem, package.key))
        if table is None:
            return []
        variant = package.variant
        if query.version is None:
            entries = [
                e
                for e in table.entries
                if not (variant and e.affected.package.variant not in (None, variant))
            ]
        else:
            entries = [
                e
                for e, verdict in table.lookup(query.version)
                if verdict.affected is True
                and not (variant and e.affected.package.variant not in (None, variant))
            ]
        found = {e.vuln_id for e in entries}
        return [Hit(i, self.modified[i]) for i in sorted(found)]


# What changes when advisories do: their count (rows written by a running import) and the
# newest ``advisories.imported`` ledger event (every import ends with one). Both are index
# probes; a max() over the advisories' own columns would read the whole table.
_FINGERPRINT = select(
    select(func.count()).select_from(Advisory).scalar_subquery(),
    select(func.max(AuditEvent.seq)).where(AuditEvent.action == "advisories.imported").scalar_subquery(),
)
_indexes: weakref.WeakKeyDictionary[Engine, ImportedIndex] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def imported_index(session: Session) -> ImportedIndex:
    """This process's index of imported advisories, rebuilt when an import changed the table."""
    engine = session.get_bind().engine  # the session may be bound to a connection of it
    fingerprint = tuple(session.execute(_FINGERPRINT).one())
    index = _indexes.get(engine)
    if index is not None and index.fingerprint == fingerprint:
        return index
    with _lock:
        index = _indexes.get(engine)
        if index is None or index.fingerprint != fingerprint:
            index = ImportedIndex.load(session, fingerprint)
            _indexes[engine] = index
            # The index is long-lived and large (every range of every advisory): moved out of
            # the collector's generations, full collections no longer rescan it on each
            # request's garbage (they cost hundreds of milliseconds with it). Reference
            # counting still frees a replaced index.
            gc.freeze()
    return index


def _case_hits(records: Sequence[AdvisoryRecord], query: PackageQuery) -> list[tuple[Hit, AdvisoryRecord]]:
    eco = canonical_ecosystem(query.ecosystem)
    wanted = normalize_name(eco, query.name)
    out = []
    for record in records:
        if record.withdrawn is not None:
            continue
        for package in record.affected:
            base, variant = split_ecosystem(package.ecosystem)
            if base != eco or normalize_name(base, package.name) != wanted:
                continue
            if query.variant and variant and variant != query.variant:
                continue
            if query.version is not None:
                ranges = [
                    {"type": r.type, "events": [{e.kind: e.value} for e in r.events]} for r in package.ranges
                ]
                if (
                    AffectedRange.from_osv(package.ecosystem, ranges, package.versions).contains(
                        query.version
                    )
                    is not True
                ):
                    continue
            out.append((Hit(osv_id(record.id), timestamp(record.modified)), record))
            break
    return out


class OsvService:
    """Answers OSV queries for one subject within one session."""

    def __init__(self, session: Session, subject: Subject, *, page_size: int | None = None) -> None:
        self.session = session
        self.subject = subject
        self.page_size = page_size or PAGE_SIZE
        self._imported = may_read_imported(subject)
        self._index: ImportedIndex | None = None
        self._cases: list[AdvisoryRecord] | None = None

    def index(self) -> ImportedIndex:
        """The imported advisories' index, checked against the table once per service."""
        if self._index is None:
            self._index = imported_index(self.session)
        return self._index

    def cases(self) -> list[AdvisoryRecord]:
        if self._cases is None:
            self._cases = published_case_records(self.session, self.subject)
        return self._cases

    def _all_hits(self, query: PackageQuery) -> tuple[list[Hit], dict[str, AdvisoryRecord]]:
        hits = self.index().lookup(query) if self._imported else []
        own: dict[str, AdvisoryRecord] = {}
        for hit, record in _case_hits(self.cases(), query):
            own[hit.id] = record
            hits.append(hit)
        return hits, own

    def hits(self, query: PackageQuery, pointer: str = "") -> tuple[Answer, dict[str, AdvisoryRecord]]:
        """One page of ids and modified times (what ``/v1/querybatch`` answers)."""
        offset = _offset(query.page_token, pointer)
        hits, own = self._all_hits(query)
        page = hits[offset : offset + self.page_size]
        more = offset + self.page_size < len(hits)
        return Answer(page, _token(offset + self.page_size) if more else None), own

    def query(self, query: PackageQuery) -> tuple[list[dict[str, Any]], str | None]:
        """One page of full OSV records (what ``/v1/query`` answers)."""
        answer, own = self.hits(query)
        stored = _stored(self.session, [h.id for h in answer.hits if h.id not in own])
        vulns = []
        for hit in answer.hits:
            if hit.id in own:
                vulns.append(to_osv(own[hit.id]))
            elif hit.id in stored:
                vulns.append(osv_of(stored[hit.id]))
        return vulns, answer.next_page_token

    def batch(self, queries: Iterable[PackageQuery]) -> list[Answer]:
        return [self.hits(q, f"/queries/{i}")[0] for i, q in enumerate(queries)]


def _stored(session: Session, ids: list[str]) -> dict[str, Advisory]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Advisory).where(Advisory.id.in_(ids)))}


def osv_of(advisory: Advisory) -> dict[str, Any]:
    """An imported advisory as OSV: the stored record itself when it was imported as OSV, so
    every field its database wrote (``database_specific``, ``affected[].ecosystem_specific``,
    ``related``, ``severity``, ``credits``, ...) comes back as stored; else the OSV writer's."""
    raw = advisory.raw
    if isinstance(raw, dict) and raw.get("id") == advisory.id:  # OSV as imported (or converted to)
        return raw
    return to_osv(record_from_advisory(advisory))


def stored_osv(session: Session, advisory_id: str) -> dict[str, Any] | None:
    """The stored OSV record of one imported advisory (None when there is no such advisory)."""
    advisory = session.get(Advisory, advisory_id)
    return None if advisory is None else osv_of(advisory)

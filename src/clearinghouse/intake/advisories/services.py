"""Importing public advisory data, and the lookups the intake checks make against it.

``import_paths`` streams records from files, folders and bundles (see
``_loaders``), checks each one, and writes them in chunks: one transaction per
chunk, rows inserted with ``executemany`` through SQLAlchemy Core (no ORM
object per row). An advisory already stored with the same content hash is left
alone; one with a newer (or equal) ``modified`` and other content replaces the
stored row and its affected and alias rows; an older one is passed over. A bad
record is reported (file, line, JSON pointer, reason) and skipped; it never
stops the import and is never half-written. Each import adds one summary event
to the audit ledger (``advisories.imported``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Connection, Dialect, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from clearinghouse.domain import canonical_ecosystem, normalize_name
from clearinghouse.intake.advisories._loaders import ErrorItem, Issue, KevItem, OsvItem, Reader, SkipItem
from clearinghouse.intake.advisories._match import affects, mentions
from clearinghouse.intake.advisories._osv import Prepared, RecordError, canonical_json, prepare
from clearinghouse.intake.advisories.models import Advisory, AdvisoryAffected, AdvisoryAlias, KevEntry
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, utcnow

if TYPE_CHECKING:
    from rich.console import Console

IMPORT_ACTOR = Actor.system("advisory-import")
CHUNK_SIZE = 500
MAX_LISTED_ISSUES = 10_000  # per list in a report; the counts stay exact

ProgressCallback = Callable[[int, int], None]

_ADV = cast(Table, Advisory.__table__)
_AFF = cast(Table, AdvisoryAffected.__table__)
_ALIAS = cast(Table, AdvisoryAlias.__table__)
_KEV = cast(Table, KevEntry.__table__)


class _SerializedJSON(TypeDecorator[Any]):
    """A JSON column written from text that is JSON already (no second ``json.dumps``)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _json_binds(*columns: str) -> dict[str, Any]:
    return {c: bindparam(f"j_{c}", type_=_SerializedJSON()) for c in columns}


_ADV_JSON = _json_binds("aliases", "severity", "raw")
_AFF_JSON = _json_binds("ranges", "versions")


@dataclass
class ImportReport:
    """What one import did. ``records`` = inserted + updated + unchanged + stale + rejected.

    ``stale``: records passed over because the stored copy is as new (same
    ``modified``, other content) or newer. ``skipped`` lists inputs passed over
    as not advisory data, and those same-``modified`` conflicts.
    """

    files: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    kev_entries: int = 0
    kev_inserted: int = 0
    kev_updated: int = 0
    kev_unchanged: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    skipped: list[Issue] = field(default_factory=list)
    error_count: int = 0
    skipped_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def _error(self, issue: Issue) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ISSUES:
            self.errors.append(issue)

    def _skip(self, issue: Issue) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED_ISSUES:
            self.skipped.append(issue)

    def counts(self) -> dict[str, Any]:
        """The counts alone (what the ledger event records)."""
        data = asdict(self)
        del data["errors"], data["skipped"]
        return data


# -- import ---------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    prepared: Prepared
    item: OsvItem


@dataclass
class _Plan:
    inserts: dict[str, _Pending] = field(default_factory=dict)
    updates: dict[str, _Pending] = field(default_factory=dict)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    conflicts: list[Issue] = field(default_factory=list)


def import_paths(
    uow_factory: UnitOfWorkFactory,
    paths: Sequence[Path],
    *,
    progress: ProgressCallback | None = None,
    actor: Actor = IMPORT_ACTOR,
    chunk_size: int = CHUNK_SIZE,
) -> ImportReport:
    """Import every advisory and KEV catalog in ``paths`` (files, folders, bundles).

    ``progress(done, total)`` is called as input bytes are consumed.
    """
    reader = Reader([Path(p) for p in paths])
    report = ImportReport()
    now = utcnow()
    batch: list[_Pending] = []

    def tick() -> None:
        if progress is not None:
            progress(reader.done_bytes, reader.total_bytes)

    tick()
    try:
        for item in reader.items():
            if isinstance(item, OsvItem):
                report.by_format[item.source_format] = report.by_format.get(item.source_format, 0) + 1
                try:
                    prepared = prepare(
                        item.record, source=item.source, source_format=item.source_format, now=now
                    )
                except RecordError as exc:
                    report.records += 1
                    report.rejected += 1
                    report._error(Issue(item.source, item.line, item.pointer + exc.pointer, exc.reason))
                    continue
                batch.append(_Pending(prepared, item))
                if len(batch) >= chunk_size:
                    _write_batch(uow_factory, actor, batch, report)
                    batch = []
                    tick()
            elif isinstance(item, KevItem):
                _import_kev(uow_factory, actor, item, report, now)
                tick()
            elif isinstance(item, ErrorItem):
                if item.is_record:
                    report.records += 1
                    report.rejected += 1
                report._error(item.issue)
            elif isinstance(item, SkipItem):  # pragma: no branch - the four kinds of item
                report._skip(item.issue)
        if batch:
            _write_batch(uow_factory, actor, batch, report)
    except BaseException:
        # Chunks already committed stay; the ledger still says what was written.
        with contextlib.suppress(Exception):
            _record_import(uow_factory, actor, paths, report, reader, aborted=True)
        raise
    _record_import(uow_factory, actor, paths, report, reader, aborted=False)
    tick()
    return report


def _record_import(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    paths: Sequence[Path],
    report: ImportReport,
    reader: Reader,
    *,
    aborted: bool,
) -> None:
    """The one ledger event of an import: what it read and what it wrote."""
    report.files = reader.documents
    with uow_factory(actor) as uow:
        uow.record(
            "advisories.imported",
            None,
            None,
            paths=[str(p) for p in paths][:50],
            aborted=aborted,
            **report.counts(),
            first_errors=[str(e) for e in report.errors[:20]],
        )
        uow.commit()


def _plan(conn: Connection, batch: list[_Pending]) -> _Plan:
    """Sort a chunk into inserts and updates, as if its records were written one by one."""
    ids = list({p.prepared.id for p in batch})
    state: dict[str, tuple[str, dt.datetime]] = {}
    for row in conn.execute(
        select(_ADV.c.id, _ADV.c.content_hash, _ADV.c.modified).where(_ADV.c.id.in_(ids))
    ):
        modified = row.modified if row.modified.tzinfo else row.modified.replace(tzinfo=dt.UTC)
        state[row.id] = (row.content_hash, modified)
    stored = set(state)
    plan = _Plan()
    for pending in batch:
        p = pending.prepared
        current = state.get(p.id)
        if current is None:
            plan.inserts[p.id] = pending
            plan.inserted += 1
        elif current[0] == p.content_hash:
            plan.unchanged += 1
            continue
        elif p.modified < current[1]:
            plan.stale += 1
            continue
        elif p.modified == current[1] and pending.item.source_format == "osv":
            # OSV bumps ``modified`` on every change, so two different records with
            # one ``modified`` are copies (e.g. one advisory filed under two
            # folders); the first kept stays, so a re-import changes nothing.
            # Converted formats have no real ``modified``: there the latest wins.
            plan.stale += 1
            reason = "same id and 'modified' as a stored copy, other content; the stored copy is kept"
            plan.conflicts.append(Issue(pending.item.source, pending.item.line, pending.item.pointer, reason))
            continue
        else:
            (plan.updates if p.id in stored else plan.inserts)[p.id] = pending
            plan.updated += 1
        state[p.id] = (p.content_hash, p.modified)
    return plan


def _execute_plan(conn: Connection, plan: _Plan) -> None:
    if plan.updates:
        ids = list(plan.updates)
        conn.execute(delete(_AFF).where(_AFF.c.advisory_id.in_(ids)))
        conn.execute(delete(_ALIAS).where(_ALIAS.c.advisory_id.in_(ids)))
        rows = []
        for key, pending in plan.updates.items():
            row = dict(pending.prepared.row)
            del row["id"]
            row["b_id"] = key
            rows.append(row)
        conn.execute(update(_ADV).where(_ADV.c.id == bindparam("b_id")).values(_ADV_JSON), rows)
    if plan.inserts:
        conn.execute(insert(_ADV).values(_ADV_JSON), [p.prepared.row for p in plan.inserts.values()])
    written = [*plan.inserts.values(), *plan.updates.values()]
    affected = [{**a, "advisory_id": p.prepared.id} for p in written for a in p.prepared.affected]
    if affected:
        conn.execute(insert(_AFF).values(_AFF_JSON), affected)
    aliases = [{"alias": a, "advisory_id": p.prepared.id} for p in written for a in p.prepared.aliases]
    if aliases:
        conn.execute(insert(_ALIAS), aliases)


MATCHING_JOB = "matching.advisories"


def _queue_matching(uow: UnitOfWork, plan: _Plan) -> None:
    """New and changed advisories (withdrawals included) are matched against every registered
    component by the ``matching.advisories`` job, queued in the chunk's own transaction."""
    written = sorted({*plan.inserts, *plan.updates})
    if written:
        uow.enqueue(MATCHING_JOB, {"advisory_ids": written})


def _apply(report: ImportReport, plan: _Plan) -> None:
    report.records += plan.inserted + plan.updated + plan.unchanged + plan.stale
    report.inserted += plan.inserted
    report.updated += plan.updated
    report.unchanged += plan.unchanged
    report.stale += plan.stale
    for issue in plan.conflicts:
        report._skip(issue)


def _write_batch(
    uow_factory: UnitOfWorkFactory, actor: Actor, batch: list[_Pending], report: ImportReport
) -> None:
    try:
        with uow_factory(actor) as uow:
            conn = uow.session.connection()
            plan = _plan(conn, batch)
            _execute_plan(conn, plan)
            _queue_matching(uow, plan)
            uow.commit()
    except (DBAPIError, StatementError):
        # Something in the chunk was refused by the database: write its records
        # one by one so only the refused ones are lost, each reported.
        for pending in batch:
            _write_one(uow_factory, actor, pending, report)
        return
    _apply(report, plan)


def _write_one(uow_factory: UnitOfWorkFactory, actor: Actor, pending: _Pending, report: ImportReport) -> None:
    try:
        with uow_factory(actor) as uow:
            conn = uow.session.connection()
            plan = _plan(conn, [pending])
            _execute_plan(conn, plan)
            _queue_matching(uow, plan)
            uow.commit()
    except (DBAPIError, StatementError) as exc:
        report.records += 1
        report.rejected += 1
        reason = f"the database refused the record: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
        report._error(Issue(pending.item.source, pending.item.line, pending.item.pointer, reason))
        return
    _apply(report, plan)


# -- KEV --------------------------------------------------------------------------

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _kev_date(entry: dict[str, Any], key: str, pointer: str, *, required: bool) -> dt.date | None:
    value = entry.get(key)
    if value in (None, "") and not required:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RecordError(
            f"{pointer}/{key}", f"expected a date YYYY-MM-DD, not {str(value)[:40]!r}"
        ) from None


def _kev_text(entry: dict[str, Any], key: str, pointer: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{pointer}/{key}", f"'{key}' must be a string")
    return value.replace("\x00", "")


def kev_row(entry: Any, pointer: str, catalog_version: str | None, now: dt.datetime) -> dict[str, Any]:
    """One catalog entry as a ``kev_entries`` row; raises :class:`RecordError`."""
    if not isinstance(entry, dict):
        raise RecordError(pointer, "a KEV entry must be an object")
    cve = str(entry.get("cveID", "")).strip().upper()
    if not _CVE.match(cve):
        raise RecordError(f"{pointer}/cveID", f"not a CVE id: {str(entry.get('cveID'))[:40]!r}")
    ransomware = _kev_text(entry, "knownRansomwareCampaignUse", pointer)
    cwes = entry.get("cwes") or []
    if not isinstance(cwes, list) or not all(isinstance(c, str) for c in cwes):
        raise RecordError(f"{pointer}/cwes", "'cwes' must be a list of strings")
    return {
        "cve_id": cve,
        "vendor": _kev_text(entry, "vendorProject", pointer) or "",
        "product": _kev_text(entry, "product", pointer) or "",
        "name": _kev_text(entry, "vulnerabilityName", pointer) or "",
        "date_added": _kev_date(entry, "dateAdded", pointer, required=True),
        "due_date": _kev_date(entry, "dueDate", pointer, required=False),
        "ransomware_use": ransomware[:20] if ransomware else None,
        "short_description": _kev_text(entry, "shortDescription", pointer),
        "required_action": _kev_text(entry, "requiredAction", pointer),
        "notes": _kev_text(entry, "notes", pointer),
        "cwes": cwes,
        "catalog_version": catalog_version,
        "content_hash": hashlib.sha256(canonical_json(entry).encode()).hexdigest(),
        "imported_at": now,
    }


def _import_kev(
    uow_factory: UnitOfWorkFactory, actor: Actor, item: KevItem, report: ImportReport, now: dt.datetime
) -> None:
    version = item.catalog.get("catalogVersion")
    catalog_version = str(version)[:40] if version is not None else None
    rows: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(item.catalog["vulnerabilities"]):
        try:
            row = kev_row(entry, f"/vulnerabilities/{i}", catalog_version, now)
        except RecordError as exc:
            report._error(Issue(item.source, None, exc.pointer, exc.reason))
            continue
        rows[row["cve_id"]] = row
    with uow_factory(actor) as uow:
        conn = uow.session.connection()
        stored = {r.cve_id: r.content_hash for r in conn.execute(select(_KEV.c.cve_id, _KEV.c.content_hash))}
        inserts = [r for cve, r in rows.items() if cve not in stored]
        updates = [
            {**{k: v for k, v in r.items() if k != "cve_id"}, "b_cve": cve}
            for cve, r in rows.items()
            if cve in stored and stored[cve] != r["content_hash"]
        ]
        if inserts:
            conn.execute(insert(_KEV), inserts)
        if updates:
            conn.execute(update(_KEV).where(_KEV.c.cve_id == bindparam("b_cve")), updates)
        uow.commit()
    report.kev_entries += len(rows)
    report.kev_inserted += len(inserts)
    report.kev_updated += len(updates)
    report.kev_unchanged += len(rows) - len(inserts) - len(updates)


# -- lookups ----------------------------------------------------------------------


def not_informational(raw: Any) -> Any:
    """SQL: the advisory (its ``raw`` column) is not informational. RustSec marks advisories
    that are not vulnerabilities (unmaintained, unsound, notice) with
    ``database_specific.informational``; they affect nothing and no match counts them."""
    return raw[("database_specific", "informational")].as_string().is_(None)


def _package_rows(session: Session, ecosystem: str, name: str) -> list[Any]:
    eco = canonical_ecosystem(ecosystem)
    stmt = (
        select(_AFF.c.advisory_id, _AFF.c.ecosystem, _AFF.c.ranges, _AFF.c.versions)
        .join(_ADV, _ADV.c.id == _AFF.c.advisory_id)
        .where(
            _AFF.c.ecosystem == eco,
            _AFF.c.normalized_name == normalize_name(eco, name),
            _ADV.c.withdrawn.is_(None),
            not_informational(_ADV.c.raw),
        )
    )
    return list(session.execute(stmt))


def package_known(session: Session, ecosystem: str, name: str) -> bool:
    """Whether any (not withdrawn) advisory names this package.

    ``ecosystem`` is an OSV ecosystem or a purl type, in any case; the name is
    normalized the registry's way (PEP 503 for PyPI, lowercase for npm, ...).
    """
    eco = canonical_ecosystem(ecosystem)
    stmt = (
        select(_AFF.c.id)
        .join(_ADV, _ADV.c.id == _AFF.c.advisory_id)
        .where(
            _AFF.c.ecosystem == eco,
            _AFF.c.normalized_name == normalize_name(eco, name),
            _ADV.c.withdrawn.is_(None),
            not_informational(_ADV.c.raw),
        )
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def advisories_affecting(session: Session, ecosystem: str, name: str, version: str) -> list[str]:
    """The ids of the (not withdrawn) advisories known to affect this package version."""
    return sorted(
        {
            row.advisory_id
            for row in _package_rows(session, ecosystem, name)
            if affects(version, row.ecosystem, row.ranges, row.versions)
        }
    )


def version_known(session: Session, ecosystem: str, name: str, version: str) -> bool | None:
    """Whether the advisory data knows this version of the package (a plausibility check).

    True: an advisory names it, among its enumerated versions or as a range
    boundary (introduced, fixed, last affected). False: the data enumerates
    versions of the package and this is not one of them (also for a package no
    advisory names). None: the advisories of the package enumerate no versions
    (ranges only), so the data cannot say.
    """
    rows = _package_rows(session, ecosystem, name)
    if any(mentions(version, row.ecosystem, row.ranges, row.versions) for row in rows):
        return True
    return False if not rows or any(row.versions for row in rows) else None


def version_affected(session: Session, ecosystem: str, name: str, version: str) -> bool | None:
    """Whether a public advisory already covers this package version (is it known vulnerable).

    True: at least one advisory affects it. False: none does (including a
    package no advisory names). None: none is known to, but at least one
    advisory's data cannot say (Git-commit ranges without enumerated versions,
    a version the ecosystem's ordering cannot read, an ecosystem whose ordering
    is unknown). :func:`advisories_affecting` names the advisories.
    """
    uncertain = False
    for row in _package_rows(session, ecosystem, name):
        result = affects(version, row.ecosystem, row.ranges, row.versions)
        if result:
            return True
        uncertain = uncertain or result is None
    return None if uncertain else False


def advisories_for_alias(session: Session, alias: str) -> list[str]:
    """The ids of the advisories known by ``alias`` (a CVE, GHSA, PYSEC ... id, any case),
    including the advisory whose own id it is."""
    stmt = (
        select(_ALIAS.c.advisory_id)
        .where(_ALIAS.c.alias == alias.strip().upper())
        .order_by(_ALIAS.c.advisory_id)
    )
    return list(session.scalars(stmt))


def kev_entry(session: Session, cve: str) -> KevEntry | None:
    """The CISA KEV entry of a CVE, or None when it is not in the catalog."""
    return session.get(KevEntry, cve.strip().upper())


# -- presentation -----------------------------------------------------------------


@contextmanager
def rich_progress(
    console: Console | None = None, description: str = "importing"
) -> Iterator[ProgressCallback]:
    """A Rich progress bar over input bytes; yields the ``progress`` callback for :func:`import_paths`."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update_bar(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update_bar


def render_report(report: ImportReport, console: Console, *, max_issues: int = 20) -> None:
    """Print a report: counts, then the first errors and a count of passed-over files."""
    from rich.table import Table

    table = Table(title="advisory import", show_header=False)
    for key, value in report.counts().items():
        if key != "by_format":
            table.add_row(key.replace("_", " "), f"{value:,}")
    for fmt, count in sorted(report.by_format.items()):
        table.add_row(f"records read as {fmt}", f"{count:,}")
    console.print(table)
    for issue in report.errors[:max_issues]:
        console.print(f"[red]error[/] {issue}", markup=True, highlight=False)
    if report.error_count > max_issues:
        console.print(f"... and {report.error_count - max_issues:,} more errors")
    if report.skipped_count:
        console.print(f"{report.skipped_count:,} files or records passed over (not advisory data)")

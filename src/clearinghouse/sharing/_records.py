"""Where export records come from: advisories imported from public databases, and the
clearinghouse's own published cases (through coordination).

An imported advisory is public data: it is published and TLP:CLEAR, and read
through the policy as a TLP:CLEAR resource (so a token without the ``read``
scope reads none). A case is read only through coordination's
``record_for_case`` and ``published_records``, which ask the policy about the
case's own markings; a case the subject may not read is reported exactly as
a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Action, Marking, NotFound, Resource, Subject, authorize, can
from clearinghouse.domain import (
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    RangeEvent,
    RecordSource,
    Reference,
    Severity,
    VersionRange,
)
from clearinghouse.intake.advisories import Advisory, RecordError, advisories_for_alias, parse_timestamp

# Imported advisories belong to no participant: this marking says "public, TLP:CLEAR".
PUBLIC_MARKING = Marking(owner_org_id="public-databases", tlp=TLP.CLEAR)
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


def advisory_resource(advisory_id: str | None = None) -> Resource:
    """What the policy is asked about before an imported advisory is read."""
    return Resource.marked("advisory", advisory_id, PUBLIC_MARKING)


def may_read_imported(subject: Subject) -> bool:
    return can(subject, Action.READ, advisory_resource())


def _time(value: Any, pointer: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return parse_timestamp(value, pointer)
    except RecordError:
        return None


def _ranges(entry: Mapping[str, Any]) -> tuple[VersionRange, ...]:
    out = []
    for rng in entry.get("ranges") or []:
        if not isinstance(rng, Mapping):
            continue
        events = tuple(
            RangeEvent(kind, str(value))
            for event in rng.get("events") or []
            if isinstance(event, Mapping)
            for kind, value in event.items()
            if kind in _EVENT_KINDS
        )
        repo = rng.get("repo")
        out.append(VersionRange(str(rng.get("type", "ECOSYSTEM")), events, str(repo) if repo else None))
    return tuple(out)


def _affected(raw: Mapping[str, Any]) -> tuple[AffectedPackage, ...]:
    out = []
    for entry in raw.get("affected") or []:
        if not isinstance(entry, Mapping):
            continue
        package = entry.get("package")
        if not isinstance(package, Mapping) or not package.get("ecosystem") or not package.get("name"):
            continue  # commit ranges of a repository, with no package: nothing to name
        purl = package.get("purl")
        out.append(
            AffectedPackage(
                ecosystem=str(package["ecosystem"]),
                name=str(package["name"]),
                purl=str(purl) if purl else None,
                ranges=_ranges(entry),
                versions=tuple(str(v) for v in entry.get("versions") or []),
            )
        )
    return tuple(out)


def record_from_osv(raw: Mapping[str, Any], *, database: str | None = None) -> AdvisoryRecord:
    """An OSV record (as stored by the importer) as an export record: published, TLP:CLEAR."""
    adv_id = str(raw["id"])
    modified = _time(raw.get("modified"), "/modified") or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    summary = str(raw.get("summary") or "")
    specific = raw.get("database_specific")
    cwes: tuple[str, ...] = ()
    if isinstance(specific, Mapping) and isinstance(specific.get("cwe_ids"), list):
        cwes = tuple(str(c) for c in specific["cwe_ids"])
    return AdvisoryRecord(
        id=adv_id,
        title=summary or adv_id,
        modified=modified,
        source=RecordSource.IMPORTED,
        tlp=TLP.CLEAR,
        aliases=tuple(str(a) for a in raw.get("aliases") or []),
        summary=summary,
        details=str(raw.get("details") or ""),
        published=_time(raw.get("published"), "/published"),
        withdrawn=_time(raw.get("withdrawn"), "/withdrawn"),
        cwes=cwes,
        severity=tuple(
            Severity(type=str(s.get("type")), vector=str(s.get("score")))
            for s in raw.get("severity") or []
            if isinstance(s, Mapping)
        ),
        affected=_affected(raw),
        references=tuple(
            Reference(url=str(r["url"]), type=str(r.get("type") or "WEB"))
            for r in raw.get("references") or []
            if isinstance(r, Mapping) and r.get("url")
        ),
        credits=tuple(
            Credit(name=str(c["name"]), type=str(c.get("type") or "OTHER"))
            for c in raw.get("credits") or []
            if isinstance(c, Mapping) and c.get("name")
        ),
        database=database or adv_id.split("-", 1)[0],
    )


def record_from_advisory(advisory: Advisory) -> AdvisoryRecord:
    """An advisory imported from a public database (``clearinghouse import``) as an export record."""
    return record_from_osv(advisory.raw, database=advisory.database)


# -- coordination's published cases ----------------------------------------------------------


def case_record(session: Session, subject: Subject, ident: str) -> AdvisoryRecord:
    """A case's advisory by case id or any alias it carries (coordination's
    ``record_for_case``: the latest published revision the subject may read, or the
    draft for those who read the case); :class:`NotFound` otherwise."""
    from clearinghouse.coordination import record_for_case  # imported late: coordination uses sharing

    return record_for_case(session, subject, ident)


def published_case_records(session: Session, subject: Subject) -> list[AdvisoryRecord]:
    """Every published case advisory the subject may read (coordination asks the policy)."""
    from clearinghouse.coordination import published_records

    return list(published_records(session, subject))


def published_case_record(session: Session, subject: Subject, ident: str) -> AdvisoryRecord:
    """A published case advisory the subject may read, by its id, case id or any alias."""
    wanted = ident.strip().upper()
    for record in published_case_records(session, subject):
        names = {n.upper() for n in record.ids}
        if record.case_id:
            names.add(record.case_id.upper())
        if wanted in names:
            return record
    raise NotFound("advisory", ident)


# -- one name, one record ---------------------------------------------------------------------


def imported_record(session: Session, subject: Subject, ident: str) -> AdvisoryRecord:
    """An imported advisory by its id or any alias (CVE, GHSA, PYSEC, GO ...), any case.

    When several advisories carry the alias (a CVE that both a PYSEC and a GHSA
    record name), the one whose own id it is wins, else the first by id.
    """
    wanted = ident.strip()
    advisory = session.get(Advisory, wanted)
    if advisory is None:
        ids = advisories_for_alias(session, wanted)
        exact = [i for i in ids if i.upper() == wanted.upper()]
        chosen = (exact or ids)[:1]
        advisory = session.get(Advisory, chosen[0]) if chosen else None
    if advisory is None:
        raise NotFound("advisory", ident)
    authorize(subject, Action.READ, advisory_resource(advisory.id))
    return record_from_advisory(advisory)


def resolve_record(
    session: Session, subject: Subject, ident: str, *, published_only: bool = False
) -> AdvisoryRecord:
    """The advisory a user names: a case id or any id or alias of a case advisory (the
    clearinghouse's own, first), else an imported advisory by id or alias. An OSV id
    written ``x_<id>`` (how OSV writes ids outside its known prefixes) names ``<id>``.
    With ``published_only`` a case counts only once published (the feeds); without,
    whoever reads a case also gets its current draft (an export for review).
    Raises :class:`NotFound` for what does not exist and for what the subject may not read."""
    ident = ident.strip()
    if not ident or len(ident) > 200:
        raise NotFound("advisory", ident[:200])
    names = [ident]
    if ident.startswith("x_") and len(ident) > 2:
        names.append(ident[2:])
    for name in names:
        try:
            if published_only:
                return published_case_record(session, subject, name)
            return case_record(session, subject, name)
        except NotFound:
            pass
    return imported_record(session, subject, ident)

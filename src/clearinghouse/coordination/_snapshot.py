"""An :class:`AdvisoryRecord` as JSON and back: how a published revision is stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from clearinghouse.domain import (
    TLP,
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    ProductStatement,
    ProductStatus,
    Publisher,
    RangeEvent,
    RecordSource,
    Reference,
    Revision,
    Severity,
    VersionRange,
    VexJustification,
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record_to_json(record: AdvisoryRecord) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(record)
    return plain


def _when(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _statement(d: dict[str, Any]) -> ProductStatement:
    return ProductStatement(
        product_id=d["product_id"],
        product_name=d["product_name"],
        vendor_name=d["vendor_name"],
        status=ProductStatus(d["status"]),
        version=d.get("version"),
        purl=d.get("purl"),
        vendor_org_id=d.get("vendor_org_id"),
        justification=VexJustification(d["justification"]) if d.get("justification") else None,
        impact_statement=d.get("impact_statement"),
        action_statement=d.get("action_statement"),
        fixed_versions=tuple(d.get("fixed_versions", ())),
        updated_at=_when(d.get("updated_at")),
    )


def _affected(d: dict[str, Any]) -> AffectedPackage:
    return AffectedPackage(
        ecosystem=d["ecosystem"],
        name=d["name"],
        purl=d.get("purl"),
        ranges=tuple(
            VersionRange(
                type=r["type"],
                events=tuple(RangeEvent(e["kind"], e["value"]) for e in r["events"]),
                repo=r.get("repo"),
            )
            for r in d.get("ranges", ())
        ),
        versions=tuple(d.get("versions", ())),
    )


def record_from_json(d: dict[str, Any]) -> AdvisoryRecord:
    published = _when(d.get("published"))
    modified = _when(d["modified"])
    assert modified is not None
    return AdvisoryRecord(
        id=d["id"],
        title=d["title"],
        modified=modified,
        source=RecordSource(d["source"]),
        tlp=TLP(d["tlp"]),
        aliases=tuple(d.get("aliases", ())),
        summary=d.get("summary", ""),
        details=d.get("details", ""),
        published=published,
        withdrawn=_when(d.get("withdrawn")),
        cwes=tuple(d.get("cwes", ())),
        severity=tuple(Severity(**s) for s in d.get("severity", ())),
        affected=tuple(_affected(a) for a in d.get("affected", ())),
        product_statements=tuple(_statement(s) for s in d.get("product_statements", ())),
        references=tuple(Reference(**r) for r in d.get("references", ())),
        credits=tuple(Credit(**c) for c in d.get("credits", ())),
        revisions=tuple(
            Revision(number=r["number"], date=_when(r["date"]) or modified, summary=r["summary"])
            for r in d.get("revisions", ())
        ),
        publisher=Publisher(**d["publisher"]) if d.get("publisher") else Publisher(),
        case_id=d.get("case_id"),
        database=d.get("database"),
    )

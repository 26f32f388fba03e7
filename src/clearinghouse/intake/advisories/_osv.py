"""An OSV record, checked field by field and turned into the rows stored for it.

A record that breaks the OSV schema in a way the store depends on raises
:class:`RecordError` naming the JSON pointer of the bad value; nothing of it
is written. Fields the store does not read are kept in the raw record as they
are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from clearinghouse.domain import normalize_name, split_ecosystem

RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})
EVENT_KINDS = frozenset({"introduced", "fixed", "last_affected", "limit"})
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+/@~-]{0,199}$")
MAX_ALIAS = 200
MAX_ECOSYSTEM = 100
MAX_NAME = 500
MAX_PURL = 1000


class RecordError(ValueError):
    """A record that cannot be stored: where in it (a JSON pointer) and why."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.reason = reason


@dataclass(slots=True)
class Prepared:
    """The rows for one advisory, ready to write.

    JSON columns come serialized already, under ``j_<column>`` (the raw record
    is serialized once, for its hash and for storing), and are written through
    a pass-through JSON bind (``services._JSON_TEXT``).
    """

    id: str
    modified: dt.datetime
    content_hash: str
    row: dict[str, Any]
    affected: list[dict[str, Any]]
    aliases: list[str]


def pointer_token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def parse_timestamp(value: Any, pointer: str) -> dt.datetime:
    """An RFC 3339 timestamp (a bare date or a missing zone is read as UTC)."""
    if not isinstance(value, str):
        raise RecordError(pointer, f"a timestamp must be an RFC 3339 string, not {type(value).__name__}")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(pointer, f"not an RFC 3339 timestamp: {value[:60]!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _opt_timestamp(record: dict[str, Any], key: str) -> dt.datetime | None:
    value = record.get(key)
    return None if value is None else parse_timestamp(value, f"/{key}")


def _string(value: Any, pointer: str, *, max_len: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordError(pointer, f"{what} must be a non-empty string")
    if len(value) > max_len:
        raise RecordError(pointer, f"{what} is longer than {max_len} characters")
    if "\x00" in value:
        raise RecordError(pointer, f"{what} contains a NUL character")
    return value


def _list(record: dict[str, Any], key: str, pointer: str) -> list[Any]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{pointer}/{key}", f"'{key}' must be a list, not {type(value).__name__}")
    return value


def _version(value: Any, pointer: str) -> str:
    # YAML reads an unquoted 0 or 2 as an int; that is still the intended string.
    # A float (1.10 -> 1.1) or a bool has lost the original text, so it is refused.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(pointer, f"a version must be a string, not {type(value).__name__}")
    text = str(value)
    if not text or len(text) > MAX_NAME:
        raise RecordError(pointer, "a version must be a non-empty string of at most 500 characters")
    return text


def _versions(values: list[Any], pointer: str) -> list[str]:
    # The common case (every item a non-empty string of sane length) is checked
    # in C loops; only a list that fails it is walked item by item for the error.
    if not values or (
        set(map(type, values)) == {str} and min(map(len, values)) > 0 and max(map(len, values)) <= MAX_NAME
    ):
        return values
    return [_version(v, f"{pointer}/{j}") for j, v in enumerate(values)]


def _ranges(entry: dict[str, Any], pointer: str) -> list[dict[str, Any]]:
    ranges = []
    for i, rng in enumerate(_list(entry, "ranges", pointer)):
        at = f"{pointer}/ranges/{i}"
        if not isinstance(rng, dict):
            raise RecordError(at, "a range must be an object")
        kind = rng.get("type")
        if kind not in RANGE_TYPES:
            raise RecordError(f"{at}/type", f"range type must be one of {sorted(RANGE_TYPES)}, not {kind!r}")
        events = rng.get("events")
        if not isinstance(events, list) or not events:
            raise RecordError(f"{at}/events", "a range needs a non-empty list of events")
        clean = []
        for j, event in enumerate(events):
            if type(event) is dict and len(event) == 1:
                ((what, value),) = event.items()
                if what in EVENT_KINDS and type(value) is str and 0 < len(value) <= MAX_NAME:
                    clean.append(event)  # the common case; pointers are only built for an error
                    continue
            if not isinstance(event, dict) or len(event) != 1 or next(iter(event)) not in EVENT_KINDS:
                raise RecordError(
                    f"{at}/events/{j}", "an event has exactly one of introduced, fixed, last_affected, limit"
                )
            ((what, value),) = event.items()
            clean.append({what: _version(value, f"{at}/events/{j}/{what}")})
        out: dict[str, Any] = {"type": kind, "events": clean}
        if "repo" in rng:
            out["repo"] = rng["repo"]
        ranges.append(out)
    return ranges


def _affected(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, entry in enumerate(_list(record, "affected", "")):
        at = f"/affected/{i}"
        if not isinstance(entry, dict):
            raise RecordError(at, "an affected entry must be an object")
        ranges = _ranges(entry, at)
        versions = _versions(_list(entry, "versions", at), f"{at}/versions")
        package = entry.get("package")
        if package is None:
            continue  # e.g. a CVE record with only Git ranges: kept in the raw record, not looked up
        if not isinstance(package, dict):
            raise RecordError(f"{at}/package", "'package' must be an object")
        ecosystem_text = _string(
            package.get("ecosystem"), f"{at}/package/ecosystem", max_len=MAX_ECOSYSTEM, what="ecosystem"
        )
        name = _string(package.get("name"), f"{at}/package/name", max_len=MAX_NAME, what="package name")
        purl = package.get("purl")
        if purl is not None:
            purl = _string(purl, f"{at}/package/purl", max_len=MAX_PURL, what="purl")
            if not purl.startswith("pkg:"):
                raise RecordError(f"{at}/package/purl", "a purl starts with 'pkg:'")
        ecosystem, variant = split_ecosystem(ecosystem_text)
        rows.append(
            {
                "ecosystem": ecosystem,
                "ecosystem_variant": variant,
                "name": name,
                "normalized_name": normalize_name(ecosystem, name),
                "purl": purl,
                "j_ranges": _dumps(ranges),
                "j_versions": _dumps(versions),
            }
        )
    return rows


def _severity(record: dict[str, Any]) -> list[dict[str, Any]]:
    severity = _list(record, "severity", "")
    for i, item in enumerate(severity):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise RecordError(f"/severity/{i}", "a severity has a string 'type' and 'score'")
        if not isinstance(item.get("score"), str):
            raise RecordError(f"/severity/{i}/score", "a severity score must be a string")
    return severity


_dumps = json.JSONEncoder(allow_nan=False).encode


def canonical_json(record: Any) -> str:
    """The record as canonical JSON (sorted keys, no spaces, ASCII): stored, and hashed."""
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecordError("", f"not representable as JSON: {exc}") from None


def prepare(record: Any, *, source: str, source_format: str, now: dt.datetime) -> Prepared:
    """Check an OSV record and build its rows; raises :class:`RecordError`."""
    if not isinstance(record, dict):
        raise RecordError("", f"an OSV record must be an object, not {type(record).__name__}")
    if "id" not in record:
        raise RecordError("/id", "an OSV record needs an 'id'")
    adv_id = record["id"]
    if not isinstance(adv_id, str) or not _ID.match(adv_id):
        raise RecordError("/id", f"not a usable advisory id: {str(adv_id)[:60]!r}")
    if "modified" not in record:
        raise RecordError("/modified", "an OSV record needs 'modified'")
    modified = parse_timestamp(record["modified"], "/modified")
    published = _opt_timestamp(record, "published")
    withdrawn = _opt_timestamp(record, "withdrawn")
    summary = record.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise RecordError("/summary", "'summary' must be a string")
    details = record.get("details")
    if details is not None and not isinstance(details, str):
        raise RecordError("/details", "'details' must be a string")
    aliases = [
        _string(a, f"/aliases/{i}", max_len=MAX_ALIAS, what="an alias")
        for i, a in enumerate(_list(record, "aliases", ""))
    ]
    severity = _severity(record)
    affected = _affected(record)
    raw = canonical_json(record)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    names = {adv_id.upper()}
    names.update(a.strip().upper() for a in aliases)
    row = {
        "id": adv_id,
        "modified": modified,
        "published": published,
        "withdrawn": withdrawn,
        "summary": summary.replace("\x00", "") if summary else summary,
        "j_aliases": _dumps(aliases),
        "j_severity": _dumps(severity),
        "database": adv_id.split("-", 1)[0][:40],
        "source_format": source_format,
        "source": source,
        "j_raw": raw,
        "content_hash": digest,
        "imported_at": now,
    }
    return Prepared(adv_id, modified, digest, row, affected, sorted(names))

"""What the TAXII server needs to know of a STIX object, without a database.

Pure functions: checking one posted object, its version and spec version, the
TLP marking its ``object_marking_refs`` carry, and TAXII timestamps.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from clearinghouse.access import TLP

# TLP 2.0 marking definitions (FIRST, as published for STIX 2.1) and the
# TLP 1.0 ones predefined by STIX 2.1 itself; WHITE is CLEAR's old name.
TLP_MARKING_DEFINITIONS: dict[str, TLP] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": TLP.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": TLP.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": TLP.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": TLP.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": TLP.RED,
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}
TLP_MARKING_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

STIX_MEDIA_TYPE = "application/stix+json;version={}"
SPEC_VERSIONS = ("2.0", "2.1")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID = re.compile(rf"^([a-z0-9][a-z0-9-]{{1,248}}[a-z0-9])--{_UUID}$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_OBJECT_BYTES = 1_000_000


class StixError(ValueError):
    """One object that cannot be stored, and why."""


def parse_timestamp(value: str) -> int:
    """An RFC 3339 timestamp as microseconds since the epoch (finer digits dropped)."""
    match = _TIMESTAMP.match(value)
    if match is None:
        raise StixError(f"{value!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        when = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    except ValueError as exc:
        raise StixError(f"{value!r} is not a valid timestamp: {exc}") from exc
    offset = dt.timedelta(0)
    if zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    micros = int((fraction or "0").ljust(6, "0")[:6])
    delta = when.replace(tzinfo=dt.UTC) - offset - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


def format_timestamp(micros: int) -> str:
    """Microseconds since the epoch as a TAXII timestamp, e.g. ``2026-11-27T01:02:03.000004Z``."""
    when = _EPOCH + dt.timedelta(microseconds=micros)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_micros() -> int:
    delta = dt.datetime.now(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class StixRecord:
    """One checked object, ready to store."""

    id: str
    type: str
    spec_version: str
    version: str | None  # ``modified``, else ``created``; None: the date added is its version
    version_us: int | None
    tlp: TLP | None  # most restrictive TLP marking among its object_marking_refs
    body: str  # compact JSON, stored and served as is

    @property
    def media_type(self) -> str:
        return STIX_MEDIA_TYPE.format(self.spec_version)


def check_object(obj: Any) -> StixRecord:
    """Check one posted STIX object; raise :class:`StixError` naming what is wrong."""
    if not isinstance(obj, dict):
        raise StixError("a STIX object is a JSON object")
    stix_type = obj.get("type")
    if not isinstance(stix_type, str) or not _TYPE.match(stix_type):
        raise StixError("'type' must be 3-250 lower-case letters, digits and hyphens")
    stix_id = obj.get("id")
    if not isinstance(stix_id, str):
        raise StixError("'id' is required: <type>--<UUID>")
    id_match = _ID.match(stix_id)
    if id_match is None or id_match.group(1) != stix_type:
        raise StixError(f"'id' {stix_id!r} is not {stix_type}--<UUID>")
    has_times = "created" in obj or "modified" in obj
    spec_version = obj.get("spec_version", "2.0" if has_times else "2.1")
    if spec_version not in SPEC_VERSIONS:
        raise StixError(f"'spec_version' must be one of {', '.join(SPEC_VERSIONS)}")
    stamps: dict[str, int] = {}
    for name in ("created", "modified"):
        if name in obj:
            value = obj[name]
            if not isinstance(value, str):
                raise StixError(f"'{name}' must be a timestamp string")
            try:
                stamps[name] = parse_timestamp(value)
            except StixError as exc:
                raise StixError(f"'{name}': {exc}") from exc
    if "created" in stamps and "modified" in stamps and stamps["modified"] < stamps["created"]:
        raise StixError("'modified' is earlier than 'created'")
    version_field = "modified" if "modified" in obj else "created" if "created" in obj else None
    refs = obj.get("object_marking_refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise StixError("'object_marking_refs' must be a list of marking-definition ids")
    tlps = [TLP_MARKING_DEFINITIONS[r] for r in refs if r in TLP_MARKING_DEFINITIONS]
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    if len(body) > MAX_OBJECT_BYTES:
        raise StixError(f"an object is at most {MAX_OBJECT_BYTES} bytes")
    return StixRecord(
        id=stix_id,
        type=stix_type,
        spec_version=spec_version,
        version=obj[version_field] if version_field else None,
        version_us=stamps[version_field] if version_field else None,
        tlp=max(tlps, key=lambda t: t.rank) if tlps else None,
        body=body,
    )

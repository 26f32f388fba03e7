"""Writers: one :class:`~clearinghouse.domain.AdvisoryRecord` in every format
partners read. Each is a pure function ``record -> dict``; :func:`export` picks one
by name, :data:`MEDIA_TYPES` says how to serve it.

    export(record, "csaf")     # CSAF 2.0 (security advisory, or VEX with vendor statements)
    export(record, "csaf", spec_version="2.1")  # the same as CSAF 2.1
    export(record, "osv")      # OSV 1.7
    export(record, "cve5")     # CVE JSON 5.1 CNA container
    export(record, "stix")     # STIX 2.1 bundle with the TLP 2.0 marking definitions
    export(record, "openvex")  # OpenVEX 0.2.0
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from clearinghouse.domain import AdvisoryRecord, Publisher
from clearinghouse.sharing.exports._csaf import canonical_url, filename, tlp_folder, to_csaf
from clearinghouse.sharing.exports._cve5 import to_cve5
from clearinghouse.sharing.exports._openvex import to_openvex
from clearinghouse.sharing.exports._osv import osv_id, to_osv
from clearinghouse.sharing.exports._stix import TLP_MARKING_IDS, tlp_marking, to_stix


class ExportFormat(enum.StrEnum):
    CSAF = "csaf"
    OSV = "osv"
    CVE5 = "cve5"
    STIX = "stix"
    OPENVEX = "openvex"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSAF: "application/csaf+json",
    ExportFormat.OSV: "application/json",
    ExportFormat.CVE5: "application/json",
    ExportFormat.STIX: "application/stix+json;version=2.1",
    ExportFormat.OPENVEX: "application/openvex+json",
}


def export(
    record: AdvisoryRecord,
    fmt: ExportFormat | str,
    *,
    base_url: str | None = None,
    spec_version: str = "2.0",
    publisher: Publisher | None = None,
) -> dict[str, Any]:
    """The record in ``fmt`` (``base_url``: where this clearinghouse serves its CSAF documents;
    ``spec_version``: CSAF 2.0 or 2.1; ``publisher``: who publishes it, from the settings)."""
    fmt = ExportFormat(fmt)
    if publisher is not None:
        record = dataclasses.replace(record, publisher=publisher)
    if fmt is ExportFormat.CSAF:
        return to_csaf(record, base_url=base_url, spec_version=spec_version)
    if fmt is ExportFormat.OSV:
        return to_osv(record)
    if fmt is ExportFormat.CVE5:
        return to_cve5(record)
    if fmt is ExportFormat.STIX:
        return to_stix(record)
    return to_openvex(record)


def dumps(document: dict[str, Any]) -> bytes:
    """A document as served and signed: UTF-8 JSON, keys in the writer's order, indented."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


__all__ = [
    "MEDIA_TYPES",
    "TLP_MARKING_IDS",
    "ExportFormat",
    "canonical_url",
    "dumps",
    "export",
    "filename",
    "osv_id",
    "tlp_folder",
    "tlp_marking",
    "to_csaf",
    "to_cve5",
    "to_openvex",
    "to_osv",
    "to_stix",
]

"""STIX 2.1 bundle: the publisher (identity), the vulnerability, the software it
affects (software SCOs) and ``has`` relationships from each software to the
vulnerability, every object marked with the record's TLP 2.0 marking
definition (the official objects of the OASIS TLP 2.0 extension, included in
the bundle). Ids are UUIDv5 of the content, so an export is reproducible.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from clearinghouse.domain import TLP, AdvisoryRecord, ProductStatus
from clearinghouse.sharing.exports._common import (
    cve_ids,
    deterministic_uuid,
    fixed_versions,
    primary_name,
    stix_timestamp,
)

MEDIA_TYPE = "application/stix+json;version=2.1"

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# The namespace STIX 2.1 (2.9) fixes for the deterministic ids of cyber-observables.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")


def tlp_marking(tlp: TLP) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object (cti-stix-common-objects)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKING_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.value}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}},
    }


def _software(name: str, vendor: str | None, version: str | None, marking: str) -> dict[str, Any]:
    contributing: dict[str, str] = {"name": name}
    if vendor:
        contributing["vendor"] = vendor
    if version:
        contributing["version"] = version
    # The id follows 2.9: UUIDv5 of the canonical JSON of the id-contributing properties.
    key = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "type": "software",
        "spec_version": "2.1",
        "id": f"software--{uuid.uuid5(SCO_NAMESPACE, key)}",
        **contributing,
        "object_marking_refs": [marking],
    }


def to_stix(record: AdvisoryRecord) -> dict[str, Any]:
    marking = TLP_MARKING_IDS[record.tlp]
    created = stix_timestamp(record.published or record.modified)
    modified = stix_timestamp(max(record.modified, record.published or record.modified))
    identity_id = f"identity--{deterministic_uuid('identity', record.publisher.namespace)}"
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": record.publisher.name,
        "identity_class": "organization",
        "contact_information": record.publisher.namespace,
        "object_marking_refs": [marking],
    }
    name = primary_name(record)
    refs: list[dict[str, Any]] = [{"source_name": "cve", "external_id": c} for c in cve_ids(record)]
    refs.extend(
        {"source_name": a.split("-", 1)[0].lower(), "external_id": a}
        for a in dict.fromkeys(record.ids)
        if a.upper() not in cve_ids(record)
    )
    refs.extend({"source_name": r.type.lower(), "url": r.url} for r in record.references)
    refs.extend(
        {
            "source_name": "cwe",
            "external_id": c,
            "url": f"https://cwe.mitre.org/data/definitions/{c[4:]}.html",
        }
        for c in record.cwes
        if c.upper().startswith("CWE-") and c[4:].isdigit()
    )
    vulnerability: dict[str, Any] = {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": f"vulnerability--{deterministic_uuid('vulnerability', record.publisher.namespace, record.id)}",
        "created_by_ref": identity_id,
        "created": created,
        "modified": modified,
        "name": name,
        "external_references": refs,
        "object_marking_refs": [marking],
    }
    description = record.details or record.summary or record.title
    if description:
        vulnerability["description"] = description
    software: list[tuple[dict[str, Any], str]] = []
    for package in record.affected:
        fixes = fixed_versions(package)
        note = (
            f"{package.ecosystem} package; fixed in {', '.join(fixes)}"
            if fixes
            else f"{package.ecosystem} package"
        )
        software.append((_software(package.name, package.ecosystem or None, None, marking), note))
        for version in package.versions:
            software.append(
                (_software(package.name, package.ecosystem or None, version, marking), "listed version")
            )
    for st in record.product_statements:
        if st.status is not ProductStatus.AFFECTED:
            continue  # only what is affected "has" the vulnerability
        software.append(
            (_software(st.product_name, st.vendor_name or None, st.version, marking), "vendor statement")
        )
    objects: list[dict[str, Any]] = [tlp_marking(record.tlp), identity, vulnerability]
    seen: set[str] = set()
    for sco, note in software:
        if sco["id"] in seen:
            continue
        seen.add(sco["id"])
        objects.append(sco)
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": f"relationship--{deterministic_uuid('has', sco['id'], vulnerability['id'])}",
                "created_by_ref": identity_id,
                "created": created,
                "modified": modified,
                "relationship_type": "has",
                "description": note,
                "source_ref": sco["id"],
                "target_ref": vulnerability["id"],
                "object_marking_refs": [marking],
            }
        )
    return {
        "type": "bundle",
        "id": f"bundle--{deterministic_uuid('bundle', record.id, modified)}",
        "objects": objects,
    }

"""OpenVEX 0.2.0 (https://github.com/openvex/spec).

Vendors' statements are written as they were given, minus the products
nobody answered for (no answer is never written as a status). A record
without statements (an imported advisory) says what its data says: every
listed version ``affected``, every fixed version ``fixed``, and a package
with ranges only ``affected`` with the fix to apply.
"""

from __future__ import annotations

from typing import Any

from clearinghouse.domain import AdvisoryRecord, ProductStatus
from clearinghouse.sharing.exports._common import cpe_of, fixed_versions, primary_name, purl_of, timestamp

CONTEXT = "https://openvex.dev/ns/v0.2.0"
MEDIA_TYPE = "application/json"


def _product(purl: str | None, fallback: str, cpe: str | None = None) -> dict[str, Any]:
    if purl:
        return {"@id": purl, "identifiers": {"purl": purl}}
    if cpe:
        return {"@id": fallback, "identifiers": {"cpe23": cpe}}
    return {"@id": fallback}


def _vulnerability(record: AdvisoryRecord) -> dict[str, Any]:
    name = primary_name(record)
    vuln: dict[str, Any] = {"name": name}
    aliases = [a for a in dict.fromkeys(record.ids) if a != name]
    if aliases:
        vuln["aliases"] = aliases
    if record.summary or record.title:
        vuln["description"] = record.summary or record.title
    return vuln


def _from_statements(record: AdvisoryRecord, vuln: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for st in record.product_statements:
        if st.status is ProductStatus.UNKNOWN:
            continue
        product = _product(st.purl, st.product_id, cpe_of(st.vendor_name, st.product_name, st.version))
        statement: dict[str, Any] = {"vulnerability": vuln, "products": [product], "status": st.status.value}
        if st.updated_at is not None:
            statement["timestamp"] = timestamp(st.updated_at)
        if st.status is ProductStatus.NOT_AFFECTED:
            if st.justification is not None:
                statement["justification"] = st.justification.value
            statement["impact_statement"] = st.impact_statement or "The vendor states it is not affected."
        elif st.status is ProductStatus.AFFECTED:
            statement["action_statement"] = st.action_statement or "No fix is available yet."
        elif st.status is ProductStatus.FIXED and st.fixed_versions:
            statement["status_notes"] = "Fixed in " + ", ".join(st.fixed_versions) + "."
        if st.action_statement and "action_statement" not in statement:
            statement["action_statement"] = st.action_statement
        out.append(statement)
    return out


def _from_packages(record: AdvisoryRecord, vuln: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for package in record.affected:
        fixes = fixed_versions(package)
        action = (
            f"Update to {' or '.join(fixes)} or later."
            if fixes
            else "No fixed version is known; see the advisory."
        )
        fallback = f"{package.ecosystem}/{package.name}"
        if package.versions:
            products = [_product(purl_of(package, v), f"{fallback}@{v}") for v in package.versions]
        else:
            products = [_product(purl_of(package), fallback)]
        out.append(
            {"vulnerability": vuln, "products": products, "status": "affected", "action_statement": action}
        )
        if fixes:
            out.append(
                {
                    "vulnerability": vuln,
                    "products": [_product(purl_of(package, v), f"{fallback}@{v}") for v in fixes],
                    "status": "fixed",
                }
            )
    return out


def to_openvex(record: AdvisoryRecord) -> dict[str, Any]:
    vuln = _vulnerability(record)
    statements = _from_statements(record, vuln) if record.product_statements else []
    if not statements:
        statements = _from_packages(record, vuln)
    base = record.publisher.namespace.rstrip("/")
    return {
        "@context": CONTEXT,
        "@id": f"{base}/vex/{record.id}",
        "author": record.publisher.name,
        "role": "Coordinator" if record.publisher.category == "coordinator" else record.publisher.category,
        "timestamp": timestamp(record.published or record.modified),
        "last_updated": timestamp(record.modified),
        "version": max(1, len(record.revisions)),
        "tooling": "Clearinghouse",
        "statements": statements,
    }

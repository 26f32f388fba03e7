"""CSAF 2.0 building blocks shared by every CSAF writer (an advisory's document in ``sharing``,
an inventory's VEX in ``matching``): RFC 3339 times, sorted keys, CPE names, TLP 1.0 labels,
the product tree and the product status sets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

TLP_URL = "https://www.first.org/tlp/"


def timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` (the form OSV, CSAF, CVE and OpenVEX all accept)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    # strftime's %Y does not pad years before 1000 on every platform; RFC 3339 wants four digits.
    text = f"{value.year:04d}-{value:%m-%dT%H:%M:%S}"
    return f"{text}.{value.microsecond:06d}Z" if value.microsecond else f"{text}Z"


def sorted_keys(value: Any) -> Any:
    """The document with every object's keys in alphabetical order (CSAF 6.2.13)."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def cpe_of(vendor: str, product: str, version: str | None) -> str:
    """A CPE 2.3 name for a vendor's product (characters CPE would escape become ``_``)."""

    def part(text: str) -> str:
        cleaned = re.sub(r"[^a-z0-9._-]+", "_", text.strip().lower()).strip("_")
        return cleaned or "-"

    return f"cpe:2.3:a:{part(vendor)}:{part(product)}:{part(version) if version else '*'}:*:*:*:*:*:*:*"


def tlp_v1_label(tlp: str) -> str:
    """A TLP 2.0 label as the TLP 1.0 label CSAF 2.0 knows: CLEAR is WHITE, AMBER+STRICT is AMBER."""
    return {"CLEAR": "WHITE", "GREEN": "GREEN", "AMBER": "AMBER", "AMBER+STRICT": "AMBER"}.get(tlp, "RED")


@dataclass
class ProductTree:
    """A CSAF product tree being built: vendor → product name → version branches, and a product
    id for each (vendor, product, version)."""

    vendors: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    ids: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def add(self, vendor: str, product: str, category: str, version: str, purl: str | None) -> str:
        key = (vendor, product, version)
        if key in self.ids:
            return self.ids[key]
        pid = f"CSAFPID-{len(self.ids) + 1:04d}"
        self.ids[key] = pid
        full: dict[str, Any] = {"name": f"{vendor} {product} {version}", "product_id": pid}
        if purl:
            full["product_identification_helper"] = {"purl": purl}
        else:
            exact = None if category == "product_version_range" else version
            full["product_identification_helper"] = {"cpe": cpe_of(vendor, product, exact)}
        branch = {"category": category, "name": version, "product": full}
        self.vendors.setdefault(vendor, {}).setdefault(product, []).append(branch)
        return pid

    def branches(self) -> list[dict[str, Any]]:
        return [
            {
                "category": "vendor",
                "name": vendor,
                "branches": [
                    {"category": "product_name", "name": product, "branches": versions}
                    for product, versions in products.items()
                ],
            }
            for vendor, products in self.vendors.items()
        ]


@dataclass
class ProductStatusSets:
    """A vulnerability's ``product_status``: product ids per status (empty ones left out)."""

    known_affected: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    known_not_affected: list[str] = field(default_factory=list)
    under_investigation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(dict.fromkeys(v)) for k, v in vars(self).items() if v}

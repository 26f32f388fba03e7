"""The one advisory model every export reads.

A published case and an advisory imported from a public database both become
an :class:`AdvisoryRecord`; the CSAF, OSV, CVE 5, STIX and OpenVEX writers
take nothing else. Keeping the exporters on this plain, immutable shape is
what lets one case come out the same in every format, and lets the writers be
tested without a database.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Protocol

from clearinghouse.domain._markings import TLP


class ProductStatus(enum.StrEnum):
    """A vendor's answer for one product. ``UNKNOWN`` is what no answer means:
    silence is never shown as ``NOT_AFFECTED``."""

    UNKNOWN = "unknown"
    UNDER_INVESTIGATION = "under_investigation"
    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"


class VexJustification(enum.StrEnum):
    """Why a product is not affected: the five justifications CSAF 2.0 flags,
    OpenVEX and CycloneDX VEX share (CycloneDX spells them differently; its
    reader maps them)."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = "vulnerable_code_cannot_be_controlled_by_adversary"
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class RecordSource(enum.StrEnum):
    CASE = "case"
    IMPORTED = "imported"


@dataclass(frozen=True)
class Severity:
    """One score: OSV's severity types (``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4``)
    with the vector, its computed base score and who gave it (finder, vendor,
    coordinator, imported)."""

    type: str
    vector: str
    base_score: float | None = None
    source: str = "imported"


@dataclass(frozen=True)
class RangeEvent:
    """One OSV range event: ``kind`` is introduced, fixed, last_affected or limit."""

    kind: str
    value: str


@dataclass(frozen=True)
class VersionRange:
    type: str  # ECOSYSTEM, SEMVER or GIT, as in OSV
    events: tuple[RangeEvent, ...]
    repo: str | None = None


@dataclass(frozen=True)
class AffectedPackage:
    ecosystem: str  # OSV ecosystem name: PyPI, npm, Maven, Go, crates.io, ...
    name: str
    purl: str | None = None
    ranges: tuple[VersionRange, ...] = ()
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductStatement:
    """What one vendor said about one product (VEX)."""

    product_id: str  # a purl where there is one, else vendor/product/version
    product_name: str
    vendor_name: str
    status: ProductStatus
    version: str | None = None
    purl: str | None = None
    vendor_org_id: str | None = None
    justification: VexJustification | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    fixed_versions: tuple[str, ...] = ()
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Reference:
    url: str
    type: str = "WEB"  # OSV reference types: ADVISORY, FIX, REPORT, WEB, PACKAGE, ...


@dataclass(frozen=True)
class Credit:
    name: str
    type: str = "FINDER"


@dataclass(frozen=True)
class Revision:
    number: str
    date: dt.datetime
    summary: str


@dataclass(frozen=True)
class Publisher:
    name: str = "Clearinghouse"
    namespace: str = "https://clearinghouse.example.gov"
    category: str = "coordinator"  # CSAF publisher categories
    contact: str | None = None  # CSAF contact_details


class PublisherSettingsLike(Protocol):
    """What :func:`publisher_of` reads (``clearinghouse.config.PublisherSettings`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def contact(self) -> str | None: ...


def publisher_of(settings: PublisherSettingsLike) -> Publisher:
    """The publisher this clearinghouse's settings name (``clearinghouse.toml`` or the environment)."""
    return Publisher(settings.name, settings.namespace, settings.category, settings.contact)


@dataclass(frozen=True)
class AdvisoryRecord:
    """An advisory ready to be written in any format."""

    id: str
    title: str
    modified: dt.datetime
    source: RecordSource
    tlp: TLP = TLP.CLEAR
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: dt.datetime | None = None
    withdrawn: dt.datetime | None = None
    cwes: tuple[str, ...] = ()
    severity: tuple[Severity, ...] = ()
    affected: tuple[AffectedPackage, ...] = ()
    product_statements: tuple[ProductStatement, ...] = ()
    references: tuple[Reference, ...] = ()
    credits: tuple[Credit, ...] = ()
    revisions: tuple[Revision, ...] = ()
    publisher: Publisher = field(default_factory=Publisher)
    case_id: str | None = None
    database: str | None = None  # the public database an imported record came from

    @property
    def ids(self) -> tuple[str, ...]:
        """Its own id and every alias: what a user may name it by."""
        return (self.id, *self.aliases)

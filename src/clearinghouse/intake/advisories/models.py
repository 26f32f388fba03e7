"""The store of known public advisories: OSV records, their packages, their names, and CISA KEV.

These are bulk reference tables, loaded thousands of rows at a time from
public databases, so none of them sets ``__audit_type__``: one ledger event per
row would flood the ledger with copies of public data. Each import instead
records one summary event (``advisories.imported``) with its counts.

- ``advisories``: one row per OSV record (``id`` is the OSV id), with the raw
  record kept as it was read so it can be exported again unchanged, and its
  content hash so a re-import of the same data writes nothing.
- ``advisory_affected``: one row per affected package of an advisory, indexed
  by (ecosystem, normalized name) for the intake checks.
- ``advisory_aliases``: every name an advisory is known by (its own id and its
  aliases, upper-cased), indexed by that name, so CVE/GHSA/PYSEC lookups are one
  index probe.
- ``kev_entries``: the CISA Known Exploited Vulnerabilities catalog, by CVE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearinghouse.storage import Base, utcnow


class Advisory(Base):
    """One OSV advisory (records in other formats are converted to OSV first)."""

    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    modified: Mapped[dt.datetime]
    published: Mapped[dt.datetime | None]
    withdrawn: Mapped[dt.datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON)
    severity: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    database: Mapped[str] = mapped_column(String(40), index=True)
    source_format: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    affected: Mapped[list[AdvisoryAffected]] = relationship(
        back_populates="advisory", cascade="all, delete-orphan", passive_deletes=True
    )


class AdvisoryAffected(Base):
    """One affected package of an advisory, with its OSV ranges and enumerated versions."""

    __tablename__ = "advisory_affected"
    __table_args__ = (Index("ix_advisory_affected_package", "ecosystem", "normalized_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    advisory_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("advisories.id", ondelete="CASCADE"), index=True
    )
    ecosystem: Mapped[str] = mapped_column(String(100))
    ecosystem_variant: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(500))
    normalized_name: Mapped[str] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(1000))
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    versions: Mapped[list[str]] = mapped_column(JSON)

    advisory: Mapped[Advisory] = relationship(back_populates="affected")


class AdvisoryAlias(Base):
    """A name an advisory is known by (upper-cased), including its own id."""

    __tablename__ = "advisory_aliases"

    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    advisory_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KevEntry(Base):
    """A CVE in the CISA Known Exploited Vulnerabilities catalog."""

    __tablename__ = "kev_entries"

    cve_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    vendor: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    date_added: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    ransomware_use: Mapped[str | None] = mapped_column(String(20))
    short_description: Mapped[str | None] = mapped_column(Text)
    required_action: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    cwes: Mapped[list[str]] = mapped_column(JSON)
    catalog_version: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

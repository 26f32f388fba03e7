"""TAXII collections, the STIX objects in them, and the status of each request that added some.

Objects are keyed by (collection, date added in microseconds): the key is
unique and grows with every object a collection receives, so paging by it
returns every object exactly once. The JSON of each object is kept as sent
(compacted) and served as is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access.models import MarkedMixin
from clearinghouse.storage import Base, new_id, utcnow


class TaxiiCollection(MarkedMixin, Base):
    """A TAXII collection: its marking admits readers; its writers may add objects."""

    __tablename__ = "taxii_collections"
    __audit_type__ = "taxii_collection"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alias: Mapped[str | None] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    writer_org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    writer_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The TLPs of the clearinghouse's published advisories this collection receives, automatically,
    # as STIX (``sharing.distribute``); empty: none.
    advisory_tlps: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TaxiiObject(Base):
    """One version of one STIX object in one collection.

    Not audited row by row: each request that adds or deletes objects writes
    one ledger event listing every object (id, version, SHA-256 of its JSON).
    """

    __tablename__ = "taxii_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version_us", name="uq_taxii_objects_version"),
        Index("ix_taxii_objects_type", "collection_id", "stix_type"),
    )

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    added_us: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stix_id: Mapped[str] = mapped_column(String(300))
    stix_type: Mapped[str] = mapped_column(String(250))
    spec_version: Mapped[str] = mapped_column(String(5))
    version: Mapped[str] = mapped_column(String(40))
    version_us: Mapped[int] = mapped_column(BigInteger)
    is_latest: Mapped[bool] = mapped_column(Boolean)
    is_first: Mapped[bool] = mapped_column(Boolean)
    tlp: Mapped[str] = mapped_column(String(20))
    owner_org_id: Mapped[str] = mapped_column(String(36))
    added_by: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)


class TaxiiStatus(Base):
    """The outcome of one request that added objects (TAXII status resource)."""

    __tablename__ = "taxii_statuses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[str | None] = mapped_column(String(36))
    request_timestamp: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

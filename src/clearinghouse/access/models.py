"""Organizations, users, API tokens and sharing groups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearinghouse.access._subject import OrgKind
from clearinghouse.domain import TLP, Classification, Marking
from clearinghouse.storage import Base, new_id, utcnow


class Organization(Base):
    __tablename__ = "organizations"
    __audit_type__ = "organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __audit_type__ = "user"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance: Mapped[Classification] = mapped_column(String(20), default=Classification.UNCLASSIFIED)
    compartments: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """An API token. Only the SHA-256 of the secret is kept; the secret is
    shown once, when the token is created."""

    __tablename__ = "api_tokens"
    __audit_type__ = "api_token"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class SharingGroup(Base):
    """Named recipients: organizations that a marking may extend to."""

    __tablename__ = "sharing_groups"
    __audit_type__ = "sharing_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SharingGroupMember(Base):
    __tablename__ = "sharing_group_members"
    __audit_type__ = "sharing_group_member"
    __table_args__ = (UniqueConstraint("group_id", "org_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("sharing_groups.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)


class MarkedMixin:
    """Columns that carry an object's :class:`Marking`."""

    tlp: Mapped[TLP] = mapped_column(String(20), default=TLP.AMBER)
    classification: Mapped[Classification] = mapped_column(String(20), default=Classification.UNCLASSIFIED)
    compartments: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    sharing_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def marking(self) -> Marking:
        return Marking(
            owner_org_id=self.owner_org_id,
            tlp=TLP(self.tlp),
            classification=Classification(self.classification),
            compartments=frozenset(self.compartments),
            sharing_group_ids=frozenset(self.sharing_group_ids),
        )

    def set_marking(self, marking: Marking) -> None:
        self.owner_org_id = marking.owner_org_id
        self.tlp = marking.tlp
        self.classification = marking.classification
        self.compartments = sorted(marking.compartments)
        self.sharing_group_ids = sorted(marking.sharing_group_ids)

"""Wire shapes for identity objects and markings (shared by every view)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from clearinghouse.access._subject import OrgKind, Role, Scope, Subject
from clearinghouse.access.models import ApiToken, MarkedMixin, Organization, SharingGroup, User
from clearinghouse.domain import TLP, Classification, Marking
from clearinghouse.errors import InvalidInput

_strict = ConfigDict(extra="forbid")


class MarkingIn(BaseModel):
    model_config = _strict

    tlp: TLP = TLP.AMBER
    classification: Classification = Classification.UNCLASSIFIED
    compartments: list[str] = Field(default_factory=list, max_length=50)
    owner_org: str | None = Field(None, description="Organization id; defaults to the caller's.")
    sharing_groups: list[str] = Field(default_factory=list, max_length=50)

    def to_marking(self, subject: Subject, pointer: str = "/marking") -> Marking:
        owner = self.owner_org or subject.org_id
        if owner is None:
            raise InvalidInput("name the owning organization", f"{pointer}/owner_org")
        return Marking(
            owner_org_id=owner,
            tlp=self.tlp,
            classification=self.classification,
            compartments=frozenset(c.strip().upper() for c in self.compartments if c.strip()),
            sharing_group_ids=frozenset(self.sharing_groups),
        )


class MarkingOut(BaseModel):
    tlp: TLP
    classification: Classification
    compartments: list[str]
    owner_org: str
    sharing_groups: list[str]
    banner: str

    @classmethod
    def of(cls, obj: MarkedMixin) -> MarkingOut:
        marking = obj.marking
        return cls(
            tlp=marking.tlp,
            classification=marking.classification,
            compartments=sorted(marking.compartments),
            owner_org=marking.owner_org_id,
            sharing_groups=sorted(marking.sharing_group_ids),
            banner=marking.summary(),
        )


class OrganizationIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind


class OrganizationOut(BaseModel):
    id: str
    name: str
    kind: OrgKind
    created_at: dt.datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(id=org.id, name=org.name, kind=OrgKind(org.kind), created_at=org.created_at)


class UserIn(BaseModel):
    model_config = _strict
    username: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    org: str = Field(description="Organization id or name")
    roles: list[Role] = Field(min_length=1)
    clearance: Classification = Classification.UNCLASSIFIED
    compartments: list[str] = Field(default_factory=list, max_length=50)
    display_name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    password: str | None = Field(None, min_length=12, max_length=1024)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    email: str | None
    org_id: str
    roles: list[Role]
    clearance: Classification
    compartments: list[str]
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            org_id=user.org_id,
            roles=[Role(r) for r in user.roles],
            clearance=Classification(user.clearance),
            compartments=list(user.compartments),
            active=user.active,
            created_at=user.created_at,
        )


class TokenIn(BaseModel):
    model_config = _strict
    user: str | None = Field(None, description="User id or username; defaults to the caller.")
    name: str = Field("", max_length=200)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ, Scope.WRITE], min_length=1)
    expires_in_days: int | None = Field(90, ge=1, le=3650, description="null: never expires")


class TokenOut(BaseModel):
    id: str
    user_id: str
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            prefix=token.prefix,
            scopes=[Scope(s) for s in token.scopes],
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class IssuedTokenOut(TokenOut):
    secret: str = Field(description="Shown once; only its hash is kept.")


class SharingGroupIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    members: list[str] = Field(default_factory=list, description="Organization ids or names")


class SharingGroupOut(BaseModel):
    id: str
    name: str
    description: str
    members: list[str]

    @classmethod
    def of(cls, group: SharingGroup, members: list[str]) -> SharingGroupOut:
        return cls(id=group.id, name=group.name, description=group.description, members=sorted(members))


class WhoAmI(BaseModel):
    user: UserOut | None
    roles: list[Role]
    scopes: list[Scope]
    clearance: Classification
    compartments: list[str]
    sharing_groups: list[str]

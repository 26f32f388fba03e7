"""Identity use cases: organizations, users, tokens and sharing groups.

Each function takes the unit of work it runs in and the subject asking, and
asks the policy before it reads or changes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access._policy import Action, NotFound, Resource, authorize, can
from clearinghouse.access._subject import ALL_SCOPES, OrgKind, Role, Scope, Subject
from clearinghouse.access.models import (
    ApiToken,
    Organization,
    SharingGroup,
    SharingGroupMember,
    User,
)
from clearinghouse.domain import TLP, Classification, Marking
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.storage import UnitOfWork, utcnow

TOKEN_PREFIX = "chs_"
_password_hasher = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 defaults
_dummy_hash: tuple[PasswordHasher, str] | None = None

# The local operator: whoever runs the CLI on the host that holds the data
# folder and the database. It administers, but is cleared for nothing.
OPERATOR = Subject(
    user_id="operator",
    roles=frozenset({Role.ADMIN, Role.AUDITOR}),
    scopes=ALL_SCOPES,
)


def hash_secret(secret: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is safe for them (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with ``hasher`` in this process. Only the test suite calls
    this, with argon2's cheapest parameters (as Django's tests use a fast hasher):
    a stored hash names its own parameters, so checks stay real, only cheaper.
    Production keeps the default above."""
    global _password_hasher
    _password_hasher = hasher


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def dummy_password_hash() -> str:
    """A hash of a random password with the current parameters, made on first use:
    verifying a password against it when the username is unknown costs what a real
    check costs, so timing does not tell which usernames exist."""
    global _dummy_hash
    if _dummy_hash is None or _dummy_hash[0] is not _password_hasher:
        _dummy_hash = (_password_hasher, _password_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy_hash[1]


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def organization_resource(org: Organization) -> Resource:
    # The directory of participants is community-wide (TLP:GREEN).
    return Resource.marked("organization", org.id, Marking(owner_org_id=org.id, tlp=TLP.GREEN))


def user_resource(user: User) -> Resource:
    return Resource.marked("user", user.id, Marking(owner_org_id=user.org_id, tlp=TLP.AMBER_STRICT))


E = TypeVar("E", OrgKind, Role, Classification, Scope)
M = TypeVar("M")


def get_readable(
    session: Session,
    subject: Subject,
    model: type[M],
    object_id: str,
    kind: str,
    resource_of: Callable[[M], Resource],
) -> M:
    """The object with this id, if the subject may read it; else :class:`NotFound`,
    the same whether it is missing or hidden."""
    obj = session.get(model, object_id)
    if obj is None:
        raise NotFound(kind, object_id)
    authorize(subject, Action.READ, resource_of(obj))
    return obj


def _parse_enum(kind: type[E], value: str, pointer: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{value!r} is not one of: {allowed}", pointer) from None


# -- organizations -----------------------------------------------------------


def find_organization(session: Session, ref: str) -> Organization | None:
    """An organization by id or by name."""
    org = session.get(Organization, ref)
    if org is None:
        org = session.scalar(select(Organization).where(Organization.name == ref))
    return org


def create_organization(uow: UnitOfWork, subject: Subject, name: str, kind: str) -> tuple[Organization, bool]:
    """Create an organization, or return the same one again (``created`` False)."""
    authorize(subject, Action.MANAGE_ORGS)
    name = name.strip()
    if not name:
        raise InvalidInput("an organization needs a name", "/name")
    org_kind = _parse_enum(OrgKind, kind, "/kind")
    existing = uow.session.scalar(select(Organization).where(Organization.name == name))
    if existing is not None:
        if existing.kind != org_kind:
            raise Conflict(f"organization {name!r} already exists with kind {existing.kind}", "/kind")
        return existing, False
    org = Organization(name=name, kind=org_kind)
    uow.session.add(org)
    uow.flush()
    return org, True


def get_organization(session: Session, subject: Subject, ref: str) -> Organization:
    org = find_organization(session, ref)
    if org is None:
        raise NotFound("organization", ref)
    authorize(subject, Action.READ, organization_resource(org))
    return org


def list_organizations(session: Session, subject: Subject) -> list[Organization]:
    orgs = session.scalars(select(Organization).order_by(Organization.name))
    return [org for org in orgs if can(subject, Action.READ, organization_resource(org))]


# -- users -------------------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    username: str
    org: str
    roles: Sequence[str]
    clearance: str = Classification.UNCLASSIFIED.value
    compartments: Sequence[str] = ()
    display_name: str = ""
    email: str | None = None
    password: str | None = None


def create_user(uow: UnitOfWork, subject: Subject, new: NewUser) -> tuple[User, bool]:
    """Create a user, or return the same one again (``created`` False)."""
    authorize(subject, Action.MANAGE_USERS)
    username = new.username.strip()
    if not username or len(username) > 100 or any(ch.isspace() for ch in username):
        raise InvalidInput("a username is 1-100 characters with no spaces", "/username")
    org = find_organization(uow.session, new.org)
    if org is None:
        raise InvalidInput(f"no organization {new.org!r}", "/org")
    roles = sorted({_parse_enum(Role, r, f"/roles/{i}").value for i, r in enumerate(new.roles)})
    if not roles:
        raise InvalidInput("a user needs at least one role", "/roles")
    clearance = _parse_enum(Classification, new.clearance, "/clearance")
    compartments = sorted({c.strip().upper() for c in new.compartments if c.strip()})
    existing = uow.session.scalar(select(User).where(User.username == username))
    if existing is not None:
        same = (
            existing.org_id == org.id
            and sorted(existing.roles) == roles
            and existing.clearance == clearance
            and sorted(existing.compartments) == compartments
        )
        if not same:
            raise Conflict(f"user {username!r} already exists with other attributes", "/username")
        return existing, False
    if new.password is not None and len(new.password) < 12:
        raise InvalidInput("a password has at least 12 characters", "/password")
    user = User(
        username=username,
        display_name=new.display_name or username,
        email=new.email,
        org_id=org.id,
        roles=roles,
        clearance=clearance,
        compartments=compartments,
        password_hash=hash_password(new.password) if new.password else None,
    )
    uow.session.add(user)
    uow.flush()
    return user, True


def find_user(session: Session, ref: str) -> User | None:
    user = session.get(User, ref)
    if user is None:
        user = session.scalar(select(User).where(User.username == ref))
    return user


def get_user(session: Session, subject: Subject, ref: str) -> User:
    user = find_user(session, ref)
    if user is None:
        raise NotFound("user", ref)
    authorize(subject, Action.READ, user_resource(user))
    return user


def list_users(session: Session, subject: Subject) -> list[User]:
    users = session.scalars(select(User).order_by(User.username))
    return [u for u in users if can(subject, Action.READ, user_resource(u))]


def subject_for(session: Session, user: User, scopes: Iterable[Scope | str] = ALL_SCOPES) -> Subject:
    groups = session.scalars(
        select(SharingGroupMember.group_id).where(SharingGroupMember.org_id == user.org_id)
    )
    return Subject(
        user_id=user.id,
        org_id=user.org_id,
        roles=frozenset(Role(r) for r in user.roles),
        clearance=Classification(user.clearance),
        compartments=frozenset(user.compartments),
        sharing_group_ids=frozenset(groups),
        scopes=frozenset(Scope(s) for s in scopes),
    )


# -- tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def issue_token(
    uow: UnitOfWork,
    subject: Subject,
    user_ref: str,
    *,
    name: str = "",
    scopes: Sequence[str] = (Scope.READ, Scope.WRITE),
    expires_in: dt.timedelta | None = dt.timedelta(days=90),
) -> IssuedToken:
    """Issue a new token. Not idempotent by design: each call makes a new
    secret, since a secret is never stored to be shown again."""
    user = find_user(uow.session, user_ref)
    if user is None:
        raise InvalidInput(f"no user {user_ref!r}", "/user")
    wanted = frozenset(_parse_enum(Scope, s, f"/scopes/{i}") for i, s in enumerate(scopes))
    if not wanted:
        raise InvalidInput("a token needs at least one scope", "/scopes")
    if expires_in is not None and expires_in <= dt.timedelta(0):
        raise InvalidInput("a token must expire in the future", "/expires_in_days")
    authorize(subject, Action.CREATE_TOKEN, Resource(kind="api_token", owner_user_id=user.id, scopes=wanted))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        secret_hash=hash_secret(secret),
        prefix=secret[:12],
        scopes=sorted(s.value for s in wanted),
        expires_at=utcnow() + expires_in if expires_in is not None else None,
    )
    uow.session.add(token)
    uow.flush()
    return IssuedToken(token, secret)


def revoke_token(uow: UnitOfWork, subject: Subject, token_ref: str) -> ApiToken:
    """Revoke a token by id or by its shown prefix. Revoking twice is a no-op."""
    token = uow.session.get(ApiToken, token_ref) or uow.session.scalar(
        select(ApiToken).where(ApiToken.prefix == token_ref)
    )
    resource = Resource(kind="api_token", id=token_ref, owner_user_id=token.user_id if token else None)
    if token is None or not can(subject, Action.REVOKE_TOKEN, resource):
        raise NotFound("api_token", token_ref)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        uow.audit_as(token, "api_token.revoked")
    return token


def list_tokens(session: Session, subject: Subject, user_ref: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at)
    if user_ref is not None:
        user = find_user(session, user_ref)
        if user is None:
            return []
        query = query.where(ApiToken.user_id == user.id)
    tokens = session.scalars(query)
    return [
        t
        for t in tokens
        if can(subject, Action.REVOKE_TOKEN, Resource(kind="api_token", id=t.id, owner_user_id=t.user_id))
    ]


def authenticate_token(session: Session, secret: str) -> Subject | None:
    """The subject a bearer token speaks for, or None if it is unknown,
    revoked, expired, or its user is disabled."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return subject_for(session, user, token.scopes)


# -- sharing groups ----------------------------------------------------------


def create_sharing_group(
    uow: UnitOfWork, subject: Subject, name: str, description: str, member_orgs: Sequence[str]
) -> tuple[SharingGroup, bool]:
    authorize(subject, Action.MANAGE_GROUPS)
    name = name.strip()
    if not name:
        raise InvalidInput("a sharing group needs a name", "/name")
    org_ids = []
    for i, ref in enumerate(member_orgs):
        org = find_organization(uow.session, ref)
        if org is None:
            raise InvalidInput(f"no organization {ref!r}", f"/members/{i}")
        org_ids.append(org.id)
    group = uow.session.scalar(select(SharingGroup).where(SharingGroup.name == name))
    created = group is None
    if group is None:
        group = SharingGroup(name=name, description=description)
        uow.session.add(group)
        uow.flush()
    present = set(
        uow.session.scalars(select(SharingGroupMember.org_id).where(SharingGroupMember.group_id == group.id))
    )
    for org_id in dict.fromkeys(org_ids):
        if org_id not in present:
            uow.session.add(SharingGroupMember(group_id=group.id, org_id=org_id))
    uow.flush()
    return group, created


def sharing_group_members(session: Session, group_id: str) -> list[str]:
    return list(
        session.scalars(select(SharingGroupMember.org_id).where(SharingGroupMember.group_id == group_id))
    )


def sharing_group_resource(group: SharingGroup) -> Resource:
    # Like the organization directory, the list of groups is community-wide
    # (TLP:GREEN, which no owner restricts).
    return Resource.marked("sharing_group", group.id, Marking(owner_org_id=group.id, tlp=TLP.GREEN))


def list_sharing_groups(session: Session, subject: Subject) -> list[SharingGroup]:
    groups = session.scalars(select(SharingGroup).order_by(SharingGroup.name))
    return [g for g in groups if can(subject, Action.READ, sharing_group_resource(g))]


def validate_marking(session: Session, marking: Marking, pointer: str = "/marking") -> None:
    """Check that the organizations and groups a marking names exist."""
    if session.get(Organization, marking.owner_org_id) is None:
        raise InvalidInput(f"no organization {marking.owner_org_id!r}", f"{pointer}/owner_org")
    for i, group_id in enumerate(sorted(marking.sharing_group_ids)):
        if session.get(SharingGroup, group_id) is None:
            raise InvalidInput(f"no sharing group {group_id!r}", f"{pointer}/sharing_groups/{i}")


# -- bootstrap ---------------------------------------------------------------

ADMIN_ORG = "Clearinghouse"
ADMIN_USERNAME = "admin"


def bootstrap_admin(uow: UnitOfWork) -> IssuedToken | None:
    """Create the operating organization, an admin user and their first token.

    Returns the token on the first run only; afterwards None (the secret of
    the first token was shown once and is not kept).
    """
    if uow.session.scalar(select(User).where(User.username == ADMIN_USERNAME)) is not None:
        return None
    org, _ = create_organization(uow, OPERATOR, ADMIN_ORG, OrgKind.GOVERNMENT_AGENCY)
    create_user(
        uow,
        OPERATOR,
        NewUser(username=ADMIN_USERNAME, org=org.id, roles=[Role.ADMIN, Role.COORDINATOR, Role.AUDITOR]),
    )
    return issue_token(
        uow, OPERATOR, ADMIN_USERNAME, name="first admin token", scopes=list(ALL_SCOPES), expires_in=None
    )

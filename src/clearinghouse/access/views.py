"""HTTP routes for organizations, users, tokens and sharing groups."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response, status

from clearinghouse.access import services
from clearinghouse.access.schemas import (
    IssuedTokenOut,
    OrganizationIn,
    OrganizationOut,
    SharingGroupIn,
    SharingGroupOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    WhoAmI,
)
from clearinghouse.http_deps import CurrentContext, SignedIn

router = APIRouter(tags=["identity"])


def _created(response: Response, created: bool) -> None:
    # A repeated create answers 200 with the object it made the first time.
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


@router.get("/whoami", summary="The caller's identity, roles, clearance and token scopes")
def whoami(context: CurrentContext) -> WhoAmI:
    subject = context.subject
    user = None
    if subject.user_id is not None:
        with context.reading() as uow:
            user = UserOut.of(services.get_user(uow.session, subject, subject.user_id))
    return WhoAmI(
        user=user,
        roles=sorted(subject.roles),
        scopes=sorted(subject.scopes),
        clearance=subject.clearance,
        compartments=sorted(subject.compartments),
        sharing_groups=sorted(subject.sharing_group_ids),
    )


@router.post("/organizations", status_code=201, summary="Register an organization (idempotent by name)")
def create_organization(body: OrganizationIn, context: SignedIn, response: Response) -> OrganizationOut:
    with context.writing() as uow:
        org, created = services.create_organization(uow, context.subject, body.name, body.kind)
        uow.commit()
    _created(response, created)
    return OrganizationOut.of(org)


@router.get("/organizations", summary="The participant directory")
def list_organizations(context: SignedIn) -> list[OrganizationOut]:
    with context.reading() as uow:
        return [OrganizationOut.of(o) for o in services.list_organizations(uow.session, context.subject)]


@router.get("/organizations/{ref}", summary="One organization, by id or name")
def get_organization(ref: str, context: CurrentContext) -> OrganizationOut:
    with context.reading() as uow:
        return OrganizationOut.of(services.get_organization(uow.session, context.subject, ref))


@router.post("/users", status_code=201, summary="Create a user (idempotent by username)")
def create_user(body: UserIn, context: SignedIn, response: Response) -> UserOut:
    new = services.NewUser(
        username=body.username,
        org=body.org,
        roles=[r.value for r in body.roles],
        clearance=body.clearance.value,
        compartments=body.compartments,
        display_name=body.display_name,
        email=body.email,
        password=body.password,
    )
    with context.writing() as uow:
        user, created = services.create_user(uow, context.subject, new)
        uow.commit()
    _created(response, created)
    return UserOut.of(user)


@router.get("/users", summary="Users the caller may see")
def list_users(context: SignedIn) -> list[UserOut]:
    with context.reading() as uow:
        return [UserOut.of(u) for u in services.list_users(uow.session, context.subject)]


@router.get("/users/{ref}", summary="One user, by id or username")
def get_user(ref: str, context: SignedIn) -> UserOut:
    with context.reading() as uow:
        return UserOut.of(services.get_user(uow.session, context.subject, ref))


@router.post(
    "/tokens",
    status_code=201,
    summary="Issue an API token; the secret is shown once",
    description="Not idempotent: every call issues a new secret, since secrets are never stored. "
    "Revoke a token you did not mean to make.",
)
def issue_token(body: TokenIn, context: SignedIn) -> IssuedTokenOut:
    user_ref = body.user or context.subject.user_id
    assert user_ref is not None
    expires = dt.timedelta(days=body.expires_in_days) if body.expires_in_days is not None else None
    with context.writing() as uow:
        issued = services.issue_token(
            uow,
            context.subject,
            user_ref,
            name=body.name,
            scopes=[s.value for s in body.scopes],
            expires_in=expires,
        )
        uow.commit()
    return IssuedTokenOut(**TokenOut.of(issued.token).model_dump(), secret=issued.secret)


@router.get("/tokens", summary="Tokens the caller may revoke (their own; all for an admin)")
def list_tokens(context: SignedIn, user: str | None = None) -> list[TokenOut]:
    with context.reading() as uow:
        return [TokenOut.of(t) for t in services.list_tokens(uow.session, context.subject, user)]


@router.delete("/tokens/{ref}", summary="Revoke a token by id or prefix (idempotent)")
def revoke_token(ref: str, context: SignedIn) -> TokenOut:
    with context.writing() as uow:
        token = services.revoke_token(uow, context.subject, ref)
        uow.commit()
    return TokenOut.of(token)


@router.post("/sharing-groups", status_code=201, summary="Create a sharing group or add members to it")
def create_sharing_group(body: SharingGroupIn, context: SignedIn, response: Response) -> SharingGroupOut:
    with context.writing() as uow:
        group, created = services.create_sharing_group(
            uow, context.subject, body.name, body.description, body.members
        )
        members = services.sharing_group_members(uow.session, group.id)
        uow.commit()
    _created(response, created)
    return SharingGroupOut.of(group, members)


@router.get("/sharing-groups", summary="Sharing groups and their member organizations")
def list_sharing_groups(context: SignedIn) -> list[SharingGroupOut]:
    with context.reading() as uow:
        groups = services.list_sharing_groups(uow.session, context.subject)
        return [SharingGroupOut.of(g, services.sharing_group_members(uow.session, g.id)) for g in groups]

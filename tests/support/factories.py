"""Small builders for tests: an organization, a user and a signed-in subject."""

from __future__ import annotations

from collections.abc import Sequence

from clearinghouse.access import ALL_SCOPES, Subject
from clearinghouse.access import services as access
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor


def make_org(runtime: Runtime, name: str, kind: str = "software_vendor") -> str:
    with runtime.uow(Actor.system("test")) as uow:
        org, _ = access.create_organization(uow, access.OPERATOR, name, kind)
        uow.commit()
    return org.id


def make_user(
    runtime: Runtime,
    username: str,
    org: str,
    roles: Sequence[str] = ("analyst",),
    clearance: str = "UNCLASSIFIED",
    compartments: Sequence[str] = (),
) -> str:
    with runtime.uow(Actor.system("test")) as uow:
        user, _ = access.create_user(
            uow,
            access.OPERATOR,
            access.NewUser(
                username=username, org=org, roles=list(roles), clearance=clearance, compartments=compartments
            ),
        )
        uow.commit()
    return user.id


def subject_of(runtime: Runtime, user_id: str, scopes: Sequence[str] = tuple(ALL_SCOPES)) -> Subject:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        user = access.find_user(uow.session, user_id)
        assert user is not None
        return access.subject_for(uow.session, user, scopes)


def make_token(runtime: Runtime, user: str, scopes: Sequence[str] = ("read", "write")) -> str:
    with runtime.uow(Actor.system("test")) as uow:
        issued = access.issue_token(uow, access.OPERATOR, user, scopes=list(scopes))
        uow.commit()
    return issued.secret

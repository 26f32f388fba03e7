"""Access: identity (organizations, users, tokens, sharing groups), markings,
and the one policy that decides every read and write.

Rules live only in :mod:`clearinghouse.access._policy`; everything else asks
:func:`can` or :func:`authorize`. A denied read is indistinguishable from a
missing object (:class:`NotFound`).
"""

from clearinghouse.access._policy import (
    PLATFORM,
    AccessDenied,
    Action,
    Forbidden,
    NotFound,
    Resource,
    authorize,
    can,
    marking_admits,
    visible,
)
from clearinghouse.access._subject import ALL_SCOPES, ANONYMOUS, OrgKind, Role, Scope, Subject
from clearinghouse.access.models import (
    ApiToken,
    MarkedMixin,
    Organization,
    SharingGroup,
    SharingGroupMember,
    User,
)
from clearinghouse.domain import TLP, Classification, Marking

__all__ = [
    "ALL_SCOPES",
    "ANONYMOUS",
    "PLATFORM",
    "TLP",
    "AccessDenied",
    "Action",
    "ApiToken",
    "Classification",
    "Forbidden",
    "MarkedMixin",
    "Marking",
    "NotFound",
    "OrgKind",
    "Organization",
    "Resource",
    "Role",
    "Scope",
    "SharingGroup",
    "SharingGroupMember",
    "Subject",
    "User",
    "authorize",
    "can",
    "marking_admits",
    "visible",
]

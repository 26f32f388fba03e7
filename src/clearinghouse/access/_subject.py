"""Who is asking: a user (through a token or a session) or nobody."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from clearinghouse.domain import Classification


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"
    VENDOR_CONTACT = "vendor_contact"
    PARTNER = "partner"
    MODEL_DEVELOPER = "model_developer"
    EVALUATOR = "evaluator"
    # The Director of NSA or the Director's designee: the only one who determines that a model is a
    # covered frontier model (EO 14409 §3(a)).
    DETERMINATION_AUTHORITY = "determination_authority"
    LAW_ENFORCEMENT_LIAISON = "law_enforcement_liaison"
    AUDITOR = "auditor"


class Scope(enum.StrEnum):
    """What a token may be used for, whatever its user's roles allow."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class OrgKind(enum.StrEnum):
    GOVERNMENT_AGENCY = "government_agency"
    AI_DEVELOPER = "ai_developer"
    CRITICAL_INFRASTRUCTURE_OPERATOR = "critical_infrastructure_operator"
    SOFTWARE_VENDOR = "software_vendor"
    SECURITY_RESEARCHER = "security_researcher"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Subject:
    user_id: str | None = None
    org_id: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    clearance: Classification = Classification.UNCLASSIFIED
    compartments: frozenset[str] = field(default_factory=frozenset)
    sharing_group_ids: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


ANONYMOUS = Subject()

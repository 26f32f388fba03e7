"""Use cases of the frontier model review: registering models, inquiries,
access grants and the endpoint behind them, designation policies,
recommendations, determinations and their releasability, trusted partners,
the findings made with a model, and the clocks.

Every read and write asks the one policy (``access/_policy.py``, the
"frontier model review" block). Nothing here approves, blocks or delays a
model's release: the developer's planned dates are the developer's alone, and
an access window simply ends.

The use cases live in one private module per aggregate (``_model_registry``, ``_inquiries``,
``_grants`` and ``_endpoint``, ``_policies``, ``_recommendations``, ``_determinations``,
``_partners``, ``_findings``, ``_clocks``, sharing ``_shared``); this module is their one face.
"""

from __future__ import annotations

from clearinghouse.frontier._clocks import (
    Clock,
    clocks,
    days_left,
)
from clearinghouse.frontier._determinations import (
    DeterminationDraft,
    decide_releasability,
    determine,
    get_determination,
    is_covered,
    list_determinations,
)
from clearinghouse.frontier._endpoint import (
    EndpointCredential,
    model_for_grant,
    open_endpoint,
)
from clearinghouse.frontier._findings import (
    FindingsSummary,
    model_findings,
)
from clearinghouse.frontier._grants import (
    EndpointDraft,
    EndpointUse,
    GrantDraft,
    accept_grant,
    describe_span,
    endpoint_uses,
    get_grant,
    grant_access,
    list_grants,
    terms_digest,
    withdraw_grant,
)
from clearinghouse.frontier._inquiries import (
    get_inquiry,
    list_inquiries,
    open_inquiry,
    withdraw_inquiry,
)
from clearinghouse.frontier._model_registry import (
    PLAUSIBLE_YEARS,
    ModelChanges,
    ModelDraft,
    get_model,
    list_models,
    model_exists,
    register_model,
    update_model,
)
from clearinghouse.frontier._partners import (
    PartnerDraft,
    agree_partner,
    get_partner,
    list_partners,
    propose_partner,
    trusted_partner_agreed,
    withdraw_partner,
)
from clearinghouse.frontier._policies import (
    PolicyDraft,
    define_policy,
    get_policy,
    list_policies,
    policy_thresholds,
)
from clearinghouse.frontier._recommendations import (
    get_recommendation,
    list_recommendations,
    recommend,
    recommend_from_metrics,
)
from clearinghouse.frontier._shared import (
    ACCESS_LEAD,
    ENDPOINT_USED,
    INQUIRY_ANSWER_TIME,
    MODEL_CLASSIFICATION,
    MODEL_MARKING_TLP,
    TERM_KEYS,
    determination_resource,
    grant_resource,
    inquiry_resource,
    model_resource,
    partner_resource,
    policy_resource,
    recommendation_resource,
)

__all__ = [
    "ACCESS_LEAD",
    "ENDPOINT_USED",
    "INQUIRY_ANSWER_TIME",
    "MODEL_CLASSIFICATION",
    "MODEL_MARKING_TLP",
    "PLAUSIBLE_YEARS",
    "TERM_KEYS",
    "Clock",
    "DeterminationDraft",
    "EndpointCredential",
    "EndpointDraft",
    "EndpointUse",
    "FindingsSummary",
    "GrantDraft",
    "ModelChanges",
    "ModelDraft",
    "PartnerDraft",
    "PolicyDraft",
    "accept_grant",
    "agree_partner",
    "clocks",
    "days_left",
    "decide_releasability",
    "define_policy",
    "describe_span",
    "determination_resource",
    "determine",
    "endpoint_uses",
    "get_determination",
    "get_grant",
    "get_inquiry",
    "get_model",
    "get_partner",
    "get_policy",
    "get_recommendation",
    "grant_access",
    "grant_resource",
    "inquiry_resource",
    "is_covered",
    "list_determinations",
    "list_grants",
    "list_inquiries",
    "list_models",
    "list_partners",
    "list_policies",
    "list_recommendations",
    "model_exists",
    "model_findings",
    "model_for_grant",
    "model_resource",
    "open_endpoint",
    "open_inquiry",
    "partner_resource",
    "policy_resource",
    "policy_thresholds",
    "propose_partner",
    "recommend",
    "recommend_from_metrics",
    "recommendation_resource",
    "register_model",
    "terms_digest",
    "trusted_partner_agreed",
    "update_model",
    "withdraw_grant",
    "withdraw_inquiry",
    "withdraw_partner",
]

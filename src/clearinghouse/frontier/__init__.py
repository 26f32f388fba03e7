"""Frontier model review (EO 14409 section 3): AI developers register models
under development and may ask whether one meets the designation, give the
government time-boxed access to its OpenAI-compatible endpoint under recorded
terms, and select trusted partners with the government for a covered model;
designation policies hold thresholds as CEL expressions over benchmark
metrics; the determination authority records determinations, released to the
developer by a separate decision. Nothing here approves, blocks or delays a
release (section 3(c)). Benchmark suites and campaigns live in
:mod:`clearinghouse.frontier.evaluation`.

Interfaces other parts use:

* :func:`open_endpoint` ``(uow, subject, grant_id, purpose, *, envelope)`` →
  :class:`EndpointCredential`: the decrypted endpoint of an active grant for a
  user on its need-to-know list; the use is a ledger event in ``uow``, so
  commit it before using the credential. ``envelope`` is ``runtime.envelope``.
* :func:`model_for_grant` ``(session, subject, grant_id)`` → the model.
* :func:`trusted_partner_agreed`, :func:`is_covered`, :func:`model_exists`.
"""

from clearinghouse.frontier.models import (
    AccessGrant,
    Designation,
    DesignationPolicy,
    Determination,
    FrontierModel,
    GrantStatus,
    Inquiry,
    InquiryStatus,
    PartnerGrant,
    PartnerStatus,
    Recommendation,
    Releasability,
)
from clearinghouse.frontier.services import (
    EndpointCredential,
    is_covered,
    model_exists,
    model_for_grant,
    open_endpoint,
    trusted_partner_agreed,
)

__all__ = [
    "AccessGrant",
    "Designation",
    "DesignationPolicy",
    "Determination",
    "EndpointCredential",
    "FrontierModel",
    "GrantStatus",
    "Inquiry",
    "InquiryStatus",
    "PartnerGrant",
    "PartnerStatus",
    "Recommendation",
    "Releasability",
    "is_covered",
    "model_exists",
    "model_for_grant",
    "open_endpoint",
    "trusted_partner_agreed",
]

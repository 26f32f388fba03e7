"""Defensive-tool access programs (§2(c)(ii-iii) of the order).

Owns programs that offer an AI-enabled defensive tool or a registered model
to agencies, state and local authorities and critical-infrastructure
operators: eligibility (organization kinds, sectors, sizes), terms and
capacity; applications with the eligibility facts the organization gives;
decisions with reasons; grants with start and end dates, revocation and usage
reports. Access is read from the clock (:func:`access_for`), so it lapses the
moment a grant ends or is revoked. A model is offered only with its developer's
consent for the operating organization's programs and the participants it
names (:func:`consent_to_offer`); a covered frontier model also only
once its developer and the government have both agreed to the program's
operating organization as a trusted partner (:func:`check_model_offer`, over
:func:`clearinghouse.frontier.is_covered` and
:func:`clearinghouse.frontier.trusted_partner_agreed`).
"""

from clearinghouse.programs.models import (
    Application,
    ApplicationStatus,
    Grant,
    OrgSize,
    Program,
    Sector,
    UsageReport,
)
from clearinghouse.programs.services import (
    AccessStatus,
    ApplicationDraft,
    ConsentDraft,
    Decision,
    ProgramDraft,
    UsageDraft,
    access_for,
    apply,
    check_model_offer,
    consent_to_offer,
    create_program,
    decide,
    grant_active,
    list_applications,
    list_grants,
    list_programs,
    report_usage,
    revoke_grant,
)

__all__ = [
    "AccessStatus",
    "Application",
    "ApplicationDraft",
    "ApplicationStatus",
    "ConsentDraft",
    "Decision",
    "Grant",
    "OrgSize",
    "Program",
    "ProgramDraft",
    "Sector",
    "UsageDraft",
    "UsageReport",
    "access_for",
    "apply",
    "check_model_offer",
    "consent_to_offer",
    "create_program",
    "decide",
    "grant_active",
    "list_applications",
    "list_grants",
    "list_programs",
    "report_usage",
    "revoke_grant",
]

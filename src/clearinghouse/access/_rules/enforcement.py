"""Enforcement (AI-facilitated crime incidents, evidence, referral).

An incident is marked TLP:RED for the reporting organization. Staff roles alone
do not admit. Others who can read an incident see its personal data redacted.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import LIAISONS, incident_insider, incident_readable, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope, Subject


def _report(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not resource.markings:
        return False
    if not subject.roles - {Role.AUDITOR}:
        return False
    marking = resource.markings[0]
    if subject.clearance.rank < marking.classification.rank:
        return False
    if not marking.compartments <= subject.compartments:
        return False
    own = subject.org_id is not None and subject.org_id == marking.owner_org_id
    return own or Role.LAW_ENFORCEMENT_LIAISON in subject.roles


def _insider_writes(subject: Subject, resource: Resource) -> bool:
    return (
        incident_insider(subject, resource)
        and Scope.WRITE in subject.scopes
        and bool(subject.roles - {Role.AUDITOR})
    )


RULES = (
    Rule(
        Action.REPORT_INCIDENT,
        "Reporting an incident needs `write`, a role other than auditor, clearance for its "
        "marking and the subject's own organization as reporter (a liaison may file for "
        "another organization).",
        _report,
    ),
    Rule(
        Action.READ_INCIDENT,
        "Reading an incident needs `read`, a clearance and compartments its markings admit, and "
        "membership of the reporting organization, the law-enforcement liaison role, or "
        "membership of a sharing group the marking names.",
        incident_readable,
    ),
    Rule(
        Action.READ_INCIDENT_PERSONAL,
        "An incident's personal data (victim contact, prompts and transcripts) is for readers "
        "of the reporting organization and liaisons only.",
        incident_insider,
    ),
    Rule(
        Action.ACCESS_EVIDENCE,
        "Accessing and exporting evidence files is for readers of the reporting organization "
        "and liaisons only.",
        incident_insider,
    ),
    Rule(
        Action.ADD_EVIDENCE,
        "Adding evidence needs `write` and the liaison role or membership of the reporting "
        "organization (not as auditor).",
        _insider_writes,
    ),
    Rule(
        Action.TRANSFER_EVIDENCE,
        "Transferring custody of evidence needs `write` and the liaison role or membership of "
        "the reporting organization (not as auditor).",
        _insider_writes,
    ),
    Rule(
        Action.SHARE_INCIDENT,
        "Sharing an incident with a sharing group needs `write` and the liaison role or "
        "membership of the reporting organization (not as auditor).",
        _insider_writes,
    ),
    Rule(
        Action.REVIEW_INCIDENT,
        "Moving the referral (review, referral to an office, closing) needs read access to the "
        "incident, `write` and the liaison role.",
        lambda s, r: incident_readable(s, r) and needs(s, LIAISONS, Scope.WRITE),
    ),
)

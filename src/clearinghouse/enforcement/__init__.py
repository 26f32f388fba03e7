"""Enforcement (§4 of the order): reports of AI-facilitated crime, evidence
under chain of custody, and referral to law enforcement.

Owns incidents (what system, when, what was accessed or damaged, indicators,
how AI was involved; tagged with 18 U.S.C. 1028/1030/1343, MITRE ATLAS
techniques and case studies, clearinghouse cases and registered models),
their sealed personal data, evidence files (encrypted, SHA-256 on receipt,
never modified; every receipt, access, export and transfer a ledger event with
who and why), signed evidence bundles and their offline verification, and the
referral state machine (reported → under_review → referred → closed).
"""

from clearinghouse.enforcement._atlas import Atlas, atlas
from clearinghouse.enforcement._bundle import BundleReport, verify_bundle
from clearinghouse.enforcement._report import IncidentReport, PersonalData
from clearinghouse.enforcement.models import Evidence, Incident, IncidentState, Statute
from clearinghouse.enforcement.services import (
    EvidenceFile,
    ExportedBundle,
    Move,
    add_evidence,
    export_evidence,
    get_incident,
    list_evidence,
    list_incidents,
    move_incident,
    personal_data,
    read_evidence,
    report_incident,
    share_incident,
    transfer_evidence,
)

__all__ = [
    "Atlas",
    "BundleReport",
    "Evidence",
    "EvidenceFile",
    "ExportedBundle",
    "Incident",
    "IncidentReport",
    "IncidentState",
    "Move",
    "PersonalData",
    "Statute",
    "add_evidence",
    "atlas",
    "export_evidence",
    "get_incident",
    "list_evidence",
    "list_incidents",
    "move_incident",
    "personal_data",
    "read_evidence",
    "report_incident",
    "share_incident",
    "transfer_evidence",
    "verify_bundle",
]

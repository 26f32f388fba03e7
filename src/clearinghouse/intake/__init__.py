"""Intake: the front door for everything scanners submit and for public advisory data.

It owns the native finding format (``FindingSubmission``, published as JSON
Schema), the importers that turn OSV, SARIF, CSAF and CVE records into
findings, single and bulk submission with idempotency, encrypted
proof-of-concept attachments, and the store of known public advisories.
"""

from clearinghouse.intake._format import (
    FORMAT_VERSION,
    MAX_POC_BYTES,
    Attachment,
    ClaimedImpact,
    FindingSubmission,
    Generator,
    Impact,
    Oracle,
    OracleKind,
    Origin,
    PackageRef,
    Reproducer,
    RunSpec,
    SourceFormat,
    SourceRef,
    finding_json_schema,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_POC_BYTES",
    "Attachment",
    "ClaimedImpact",
    "FindingSubmission",
    "Generator",
    "Impact",
    "Oracle",
    "OracleKind",
    "Origin",
    "PackageRef",
    "Reproducer",
    "RunSpec",
    "SourceFormat",
    "SourceRef",
    "finding_json_schema",
]

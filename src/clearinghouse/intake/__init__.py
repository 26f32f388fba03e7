"""Intake: the front door for everything scanners submit and for public advisory data.

It publishes the native finding format (``FindingSubmission``, defined in
:mod:`clearinghouse.domain.finding`, as JSON Schema), the importers that turn
OSV, SARIF, CSAF and CVE records into findings, single and bulk submission with idempotency, encrypted
proof-of-concept attachments, and the store of known public advisories.
"""

from clearinghouse.domain.finding import (
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

"""The native finding format: what a scanner submits, evidence first.

Published as JSON Schema at ``/api/v1/schemas/finding``. Importers turn OSV,
SARIF, CSAF and CVE records into the same :class:`FindingSubmission`.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from typing import Annotated, Any, Literal

from packageurl import PackageURL
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_VERSION = "1.0"
MAX_POC_BYTES = 1024 * 1024  # decoded; larger proofs of concept go through a reference, not inline
CWE_PATTERN = re.compile(r"^CWE-[1-9][0-9]{0,4}$")

_strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _cwe_id(value: str) -> str:
    upper = value.strip().upper()
    if not CWE_PATTERN.match(upper):
        raise ValueError(f"{value!r} is not a CWE id like CWE-79")
    return upper


CweId = Annotated[str, AfterValidator(_cwe_id)]


class ClaimedImpact(enum.StrEnum):
    CODE_EXECUTION = "code_execution"
    PRIVILEGE_ESCALATION = "privilege_escalation"
    AUTHENTICATION_BYPASS = "authentication_bypass"
    INFORMATION_DISCLOSURE = "information_disclosure"
    DATA_TAMPERING = "data_tampering"
    DENIAL_OF_SERVICE = "denial_of_service"
    OTHER = "other"


class OracleKind(enum.StrEnum):
    SANITIZER_TRACE = "sanitizer_trace"
    HTTP_EXCHANGE = "http_exchange"
    CRASH_LOG = "crash_log"
    TEST_FAILURE = "test_failure"
    OTHER = "other"


class SourceFormat(enum.StrEnum):
    NATIVE = "native"
    OSV = "osv"
    SARIF = "sarif"
    CSAF = "csaf"
    CVE5 = "cve5"


class PackageRef(BaseModel):
    """The affected package: a purl, with a version (in the purl or here) or a vers range."""

    model_config = _strict
    purl: str = Field(max_length=1000, examples=["pkg:pypi/requests@2.31.0"])
    version: str | None = Field(None, max_length=200, description="The affected version, if not in the purl.")
    vers: str | None = Field(
        None, max_length=2000, description="Affected range as a vers string, e.g. vers:pypi/>=2.0|<2.32.0"
    )

    @field_validator("purl")
    @classmethod
    def _valid_purl(cls, value: str) -> str:
        try:
            PackageURL.from_string(value)
        except ValueError as exc:
            raise ValueError(f"not a package URL: {exc}") from None
        return value

    @field_validator("vers")
    @classmethod
    def _valid_vers(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^vers:[a-z0-9.+-]+/.+", value):
            raise ValueError("a vers range looks like vers:<ecosystem>/<constraints>")
        return value

    @model_validator(mode="after")
    def _version_or_range(self) -> PackageRef:
        if PackageURL.from_string(self.purl).version is None and self.version is None and self.vers is None:
            raise ValueError("the package needs a version (in the purl or 'version') or a 'vers' range")
        return self

    @property
    def parsed(self) -> PackageURL:
        return PackageURL.from_string(self.purl)


class SourceRef(BaseModel):
    model_config = _strict
    repo: str | None = Field(None, max_length=2000, description="Source repository URL")
    commit: str | None = Field(None, pattern=r"^[0-9a-fA-F]{7,64}$")
    file: str | None = Field(None, max_length=2000)
    symbol: str | None = Field(None, max_length=500)
    start_line: int | None = Field(None, ge=1, le=100_000_000)
    end_line: int | None = Field(None, ge=1, le=100_000_000)


class Impact(BaseModel):
    model_config = _strict
    claimed: ClaimedImpact
    description: str = Field("", max_length=20_000)
    cvss_vector: str | None = Field(None, max_length=300, description="The finder's own CVSS vector, if any")


class Attachment(BaseModel):
    """An inline proof of concept. Stored encrypted at rest; its SHA-256 goes into the ledger."""

    model_config = _strict
    filename: str = Field(min_length=1, max_length=255)
    media_type: str = Field("application/octet-stream", max_length=200)
    content_base64: str = Field(description=f"Base64 of the file; at most {MAX_POC_BYTES} bytes decoded")

    @field_validator("content_base64")
    @classmethod
    def _decodes(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not valid base64") from None
        if len(raw) > MAX_POC_BYTES:
            raise ValueError(f"the proof of concept is {len(raw)} bytes; the limit is {MAX_POC_BYTES}")
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class Oracle(BaseModel):
    """What a successful reproduction shows: a sanitizer trace, an HTTP exchange, ..."""

    model_config = _strict
    kind: OracleKind
    content: str = Field(max_length=200_000)


class RunRuntime(enum.StrEnum):
    PYTHON3 = "python3"
    NODE = "node"
    SH = "sh"


class ExpectStdout(BaseModel):
    model_config = _strict
    stdout_contains: str = Field(min_length=1, max_length=10_000)


class ExpectExitCode(BaseModel):
    model_config = _strict
    exit_code: int = Field(ge=0, le=255)


class ExpectCrash(BaseModel):
    model_config = _strict
    crash: Literal[True]


class ExpectTimeout(BaseModel):
    model_config = _strict
    timeout: Literal[True]


Expectation = ExpectStdout | ExpectExitCode | ExpectCrash | ExpectTimeout


class RunSpec(BaseModel):
    """How the reproduction lab runs the proof of concept against the finding's package and version."""

    model_config = _strict
    runtime: RunRuntime
    entrypoint: str = Field(min_length=1, max_length=255, description="The proof of concept's filename")
    expect: Expectation = Field(
        description="What shows the vulnerability: a string on stdout, an exit code, a crash, or a timeout"
    )
    timeout_s: int = Field(30, ge=1, le=600, description="Wall-clock limit of one run, in seconds")


class Reproducer(BaseModel):
    model_config = _strict
    steps: list[str] = Field(default_factory=list, max_length=200)
    poc: Attachment | None = None
    oracle: Oracle | None = None
    run: RunSpec | None = Field(
        None, description="Makes the proof of concept executable by the reproduction lab"
    )
    fixed_version: str | None = Field(
        None, max_length=200, description="The first version the finder believes fixed"
    )

    @model_validator(mode="after")
    def _entrypoint_is_the_poc(self) -> Reproducer:
        # The stored document keeps the run but not the proof of concept (encrypted elsewhere), so
        # only a present proof of concept is compared; a run without one is "unsupported" in the lab.
        if self.run is not None and self.poc is not None and self.poc.filename != self.run.entrypoint:
            raise ValueError("reproducer.run.entrypoint must be the filename of reproducer.poc")
        return self


class Generator(BaseModel):
    """The finder pipeline that produced the finding."""

    model_config = _strict
    tool: str = Field(min_length=1, max_length=200)
    tool_version: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=200, description="AI model, if one was used")
    model_version: str | None = Field(None, max_length=100)
    configuration: dict[str, Any] | None = None
    organization: str | None = Field(None, max_length=200, description="Who operates the pipeline")

    @property
    def key(self) -> str:
        """Identifies the pipeline for reputation: tool, model and operator (not versions)."""
        return "|".join([self.tool.lower(), (self.model or "").lower(), (self.organization or "").lower()])


class Origin(BaseModel):
    """Where an imported finding came from, kept as the source format said it."""

    model_config = _strict
    format: SourceFormat = SourceFormat.NATIVE
    document_id: str | None = Field(None, max_length=500)
    rule_id: str | None = Field(None, max_length=500)
    partial_fingerprints: dict[str, str] = Field(default_factory=dict)
    locations: list[dict[str, Any]] = Field(default_factory=list, max_length=100)


class FindingSubmission(BaseModel):
    """One candidate vulnerability, as a finder pipeline submits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, title="Clearinghouse finding")

    format_version: Literal["1.0"] = "1.0"
    idempotency_key: str | None = Field(
        None, max_length=200, description="Client-chosen key; without one, the content hash is used"
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field("", max_length=100_000)
    package: PackageRef
    source: SourceRef | None = None
    cwe: list[CweId] = Field(default_factory=list, max_length=10, description='e.g. ["CWE-79"]')
    impact: Impact
    preconditions: list[str] = Field(
        default_factory=list, max_length=50, description="The threat model: what an attacker needs"
    )
    reproducer: Reproducer | None = None
    generator: Generator
    campaign_id: str | None = Field(None, max_length=36, description="The scan campaign that found it")
    aliases: list[str] = Field(default_factory=list, max_length=50, description="CVE, GHSA, OSV ids")
    references: list[str] = Field(default_factory=list, max_length=100)
    origin: Origin = Field(default_factory=Origin)


def finding_json_schema() -> dict[str, Any]:
    schema = FindingSubmission.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "/api/v1/schemas/finding"
    return schema

"""The incident report as submitted (API body, or the JSON file given to
``clearinghouse incident report``)."""

from __future__ import annotations

import enum
import re
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from clearinghouse.enforcement.models import AIInvolvement, Impact, ReporterKind, Statute

_strict = ConfigDict(extra="forbid")
_Short = Field(min_length=1, max_length=300)


class IndicatorType(enum.StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    FILE_SHA256 = "sha256"
    FILE_MD5 = "md5"
    USER_AGENT = "user_agent"
    ACCOUNT = "account"
    API_KEY_ID = "api_key_id"
    OTHER = "other"


class Indicator(BaseModel):
    model_config = _strict

    type: IndicatorType
    value: str = Field(min_length=1, max_length=2000)
    note: str = Field("", max_length=2000)


class VictimContact(BaseModel):
    model_config = _strict

    name: str = Field("", max_length=300)
    email: str = Field("", max_length=320)
    phone: str = Field("", max_length=50)
    address: str = Field("", max_length=1000)


class TranscriptKind(enum.StrEnum):
    PROMPT = "prompt"
    TRANSCRIPT = "transcript"
    CHAT_LOG = "chat_log"
    AGENT_TRACE = "agent_trace"


class Transcript(BaseModel):
    model_config = _strict

    kind: TranscriptKind
    source: str = Field("", max_length=500, description="Where it came from (a log, the model provider, ...)")
    content: str = Field(min_length=1, max_length=1_000_000)


class PersonalData(BaseModel):
    """Shown only to the reporting organization and law-enforcement liaisons."""

    model_config = _strict

    victim_contact: VictimContact | None = None
    transcripts: list[Transcript] = Field(default_factory=list, max_length=100)

    def present_fields(self) -> list[str]:
        fields = []
        if self.victim_contact is not None:
            fields.append("victim_contact")
        if self.transcripts:
            fields.append("transcripts")
        return fields


_STATUTE_SHORT = re.compile(r"^\s*(?:18\s*U\.?\s*S\.?\s*C\.?\s*(?:§+\s*)?)?(\d{4})\s*$", re.IGNORECASE)


class IncidentReport(BaseModel):
    """An AI-facilitated crime: what system, when, what was accessed or damaged,
    indicators, and how AI was involved."""

    model_config = _strict

    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    title: str = _Short
    reporter_kind: ReporterKind
    reporter_org: str | None = Field(
        None, max_length=200, description="Organization id or name; a liaison may report for another."
    )
    affected_system: str = Field(min_length=1, max_length=1000)
    occurred_at: AwareDatetime | None = None
    detected_at: AwareDatetime | None = None
    impacts: list[Impact] = Field(default_factory=list, max_length=len(Impact))
    impact_description: str = Field("", max_length=20_000, description="What was accessed or damaged")
    indicators: list[Indicator] = Field(default_factory=list, max_length=1000)
    ai_involvement: list[AIInvolvement] = Field(min_length=1, max_length=len(AIInvolvement))
    ai_description: str = Field("", max_length=20_000)
    model_identifiers: list[str] = Field(default_factory=list, max_length=50)
    registered_models: list[str] = Field(
        default_factory=list, max_length=50, description="Ids of models registered with frontier review"
    )
    statutes: list[Statute] = Field(default_factory=list, max_length=len(Statute))
    atlas_techniques: list[str] = Field(default_factory=list, max_length=100)
    atlas_case_studies: list[str] = Field(default_factory=list, max_length=100)
    cases: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Clearinghouse case ids (the vulnerability exploited)",
    )
    personal: PersonalData | None = None

    @field_validator("statutes", mode="before")
    @classmethod
    def _statute_shorthand(cls, value: Any) -> Any:
        # "1030", "18 USC 1030" and "18 U.S.C. § 1030" all name the same statute.
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            match = _STATUTE_SHORT.match(item) if isinstance(item, str) else None
            out.append(f"18 U.S.C. {match.group(1)}" if match else item)
        return out

    @field_validator("model_identifiers")
    @classmethod
    def _identifiers(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or len(item) > 300:
                raise ValueError("each model or agent identifier is 1 to 300 characters")
        return value

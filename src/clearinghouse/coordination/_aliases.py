"""A case's names: its advisory id (``CH-<case>``) and the aliases (CVE, GHSA, ...) a coordinator
or a validated finding gave it.

Shared by the workflow (``_workflow``) and the advisory it publishes (``_advisory``), so neither
imports the other for them.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.coordination.models import CaseAlias

RECORD_PREFIX = "CH-"

ALIAS = re.compile(
    r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Z][A-Za-z0-9]{1,15}-[A-Za-z0-9._:-]{1,80})$"
)


def canonical_alias(alias: str) -> str:
    """An alias as stored: ``CVE-...`` upper case, ``GHSA-`` with its lower-case body, others as written."""
    text = alias.strip()
    upper = text.upper()
    if upper.startswith("CVE-"):
        return upper
    if upper.startswith("GHSA-"):
        return "GHSA-" + text[5:].lower()
    return text


def case_id_for_alias(session: Session, alias: str) -> str | None:
    """The case a coordinator (or a validated finding) gave this alias; aliases match case-insensitively."""
    row = session.get(CaseAlias, canonical_alias(alias)) if len(alias) <= 100 else None
    return None if row is None else row.case_id


def aliases_of(session: Session, case_id: str) -> list[str]:
    return list(
        session.scalars(select(CaseAlias.id).where(CaseAlias.case_id == case_id).order_by(CaseAlias.id))
    )

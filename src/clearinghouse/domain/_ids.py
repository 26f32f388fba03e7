"""Which ids name a vulnerability in a public registry, and which are a finder's own.

A finder's report id (``ACME-2026-0042``, an OSV document's ``id``, a ticket number) says where a
finding came from: it is provenance (``origin.document_id``), never an alias. Only ids of public
registries (CVE, GHSA and the OSV schema's home databases such as PYSEC, GO, RUSTSEC; more through
``CLEARINGHOUSE_ALIAS_REGISTRIES``) name the same vulnerability across finders, so only they take
part in deduplication's alias agreement.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable

REGISTRY_PREFIXES: tuple[str, ...] = (
    "ASB-A",
    "PUB-A",
    "ALPINE",
    "ALSA",
    "ALBA",
    "ALEA",
    "AZL",
    "BELL",
    "BIT",
    "CGA",
    "CLEANSTART",
    "CLSA",
    "CURL",
    "CVE",
    "DEBIAN",
    "DHI",
    "DRUPAL",
    "DSA",
    "DLA",
    "ELA",
    "DTSA",
    "ECHO",
    "EEF",
    "FREEBSD",
    "GHSA",
    "GO",
    "GSD",
    "HSEC",
    "JLSEC",
    "KUBE",
    "LBSEC",
    "LSN",
    "MAL",
    "MINI",
    "MGASA",
    "OESA",
    "OSEC",
    "OSV",
    "OPENSUSE-SU",
    "PHSA",
    "PSF",
    "PYSEC",
    "RHBA",
    "RHEA",
    "RHSA",
    "RLSA",
    "RXSA",
    "RSEC",
    "ROOT",
    "RUSTSEC",
    "SUSE-SU",
    "SUSE-RU",
    "SUSE-FU",
    "SUSE-OU",
    "UBUNTU",
    "USN",
    "V8",
)
"""Prefixes of public vulnerability registries (the OSV schema's home databases, CVE and GHSA).
Only ids with one of these take part in alias agreement; anything else a finder writes (its own
report id, a ticket number) is provenance. More prefixes: ``CLEARINGHOUSE_ALIAS_REGISTRIES``
(comma-separated)."""

_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
_GHSA_ID = re.compile(r"^GHSA(?:-[23456789CFGHJMPQRVWX]{4}){3}$")


@functools.cache
def registry_prefixes() -> tuple[str, ...]:
    """The prefixes of :data:`REGISTRY_PREFIXES` and of ``CLEARINGHOUSE_ALIAS_REGISTRIES``, longest first."""
    extra = os.environ.get("CLEARINGHOUSE_ALIAS_REGISTRIES", "")
    found = {p.strip().upper().rstrip("-") for p in (*REGISTRY_PREFIXES, *extra.split(",")) if p.strip()}
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


@functools.lru_cache(maxsize=65_536)
def registry_kind(identifier: str) -> str | None:
    """The registry an id belongs to (``CVE``, ``GHSA``, ``PYSEC`` ...), or ``None`` for any other id.

    CVE and GHSA ids must have their registries' shapes; for the others the prefix is enough."""
    x = identifier.strip().upper()
    if x.startswith("CVE-"):
        return "CVE" if _CVE_ID.match(x) else None
    if x.startswith("GHSA-"):
        return "GHSA" if _GHSA_ID.match(x) else None
    for prefix in registry_prefixes():
        if x.startswith(prefix + "-") and len(x) > len(prefix) + 1:
            return prefix
    return None


def public_ids(aliases: Iterable[str], document_id: str | None = None) -> frozenset[str]:
    """The ids of public registries among a finding's aliases and its source document's id."""
    ids = [*aliases, *([document_id] if document_id else [])]
    return frozenset(a.strip().upper() for a in ids if a.strip() and registry_kind(a) is not None)

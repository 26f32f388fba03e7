"""KEV and EPSS enrichment: loading the files, and what a case gets from them.

A bundled snapshot (``clearinghouse/data/kev``, ``clearinghouse/data/epss``) is
loaded by ``clearinghouse init``; ``clearinghouse enrich --kev FILE --epss FILE``
refreshes from newer files, offline.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from clearinghouse.errors import InvalidInput
from clearinghouse.intake.advisories.models import KevEntry
from clearinghouse.priority.models import EpssScore

K = TypeVar("K")
CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CHUNK = 5000


def bundled_kev() -> Path:
    return Path(
        str(resources.files("clearinghouse.data").joinpath("kev/known_exploited_vulnerabilities.json"))
    )


def bundled_epss() -> Path:
    return Path(str(resources.files("clearinghouse.data").joinpath("epss/epss_kev_nvd.csv.gz")))


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def read_epss(path: Path) -> Iterator[tuple[str, float, float, str | None]]:
    """Rows (cve, probability, percentile, score date) of FIRST's daily CSV
    (``#model_version:…,score_date:…`` then ``cve,epss,percentile``) or of the
    KEV_EPSS format (``CVE,CVSS3,EPSS,EPSS Percentile,…``)."""
    text = _text(path)
    score_date = None
    lines = text.splitlines()
    if lines and lines[0].startswith("#"):
        match = re.search(r"score_date:([0-9T:\-+Z.]+)", lines[0])
        score_date = match.group(1)[:10] if match else None
        lines = lines[1:]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    fields = {name.lower(): name for name in reader.fieldnames or []}
    cve_col = fields.get("cve")
    prob_col = fields.get("epss")
    pct_col = fields.get("percentile") or fields.get("epss percentile")
    if not (cve_col and prob_col and pct_col):
        raise InvalidInput(
            f"{path.name}: not an EPSS file "
            f"(expected columns cve, epss, percentile; found {reader.fieldnames})",
            "/epss",
        )
    for number, row in enumerate(reader, start=2):
        cve = (row[cve_col] or "").strip().upper()
        try:
            probability, percentile = float(row[prob_col]), float(row[pct_col])
        except (TypeError, ValueError):
            raise InvalidInput(f"{path.name} line {number}: EPSS values must be numbers", "/epss") from None
        if not CVE_ID.match(cve) or not (0 <= probability <= 1 and 0 <= percentile <= 1):
            raise InvalidInput(f"{path.name} line {number}: not a CVE id with scores in [0, 1]", "/epss")
        yield cve, probability, percentile, score_date


def load_epss(session: Session, path: Path) -> int:
    """Replace the stored EPSS scores with the file's (a file is one day's full picture)."""
    rows = [
        {"cve_id": cve, "probability": p, "percentile": pct, "score_date": day, "source": path.name}
        for cve, p, pct, day in read_epss(path)
    ]
    session.execute(delete(EpssScore))
    unique = list({r["cve_id"]: r for r in rows}.values())  # a CVE listed twice: the later line wins
    for start in range(0, len(unique), _CHUNK):
        session.execute(insert(EpssScore), unique[start : start + _CHUNK])
    return len(unique)


@dataclass(frozen=True)
class KevInfo:
    cve_id: str
    date_added: str
    due_date: str | None
    ransomware_use: str | None
    required_action: str | None


@dataclass(frozen=True)
class EpssInfo:
    cve_id: str
    probability: float
    percentile: float
    score_date: str | None


@dataclass(frozen=True)
class Enrichment:
    cves: list[str]
    kev: list[KevInfo]
    epss: list[EpssInfo]

    @property
    def in_kev(self) -> bool:
        return bool(self.kev)

    @property
    def max_epss(self) -> EpssInfo | None:
        return max(self.epss, key=lambda e: e.probability, default=None)


def cve_ids(aliases: Iterable[str]) -> list[str]:
    return sorted({a.strip().upper() for a in aliases if CVE_ID.match(a.strip().upper())})


def enrich(session: Session, aliases: Iterable[str]) -> Enrichment:
    cves = cve_ids(aliases)
    if not cves:
        return Enrichment([], [], [])
    kev = [
        KevInfo(
            e.cve_id,
            e.date_added.isoformat(),
            e.due_date.isoformat() if e.due_date else None,
            e.ransomware_use,
            e.required_action,
        )
        for e in session.scalars(select(KevEntry).where(KevEntry.cve_id.in_(cves)).order_by(KevEntry.cve_id))
    ]
    epss = [
        EpssInfo(s.cve_id, s.probability, s.percentile, s.score_date)
        for s in session.scalars(
            select(EpssScore).where(EpssScore.cve_id.in_(cves)).order_by(EpssScore.cve_id)
        )
    ]
    return Enrichment(cves, kev, epss)


def enrich_many(session: Session, alias_lists: Mapping[K, Iterable[str]]) -> dict[K, Enrichment]:
    """``enrich`` for many alias lists at once: one KEV and one EPSS query per 5,000 distinct
    CVE ids in all, whatever the number of lists. Each result equals ``enrich`` of its list."""
    cves = {key: cve_ids(aliases) for key, aliases in alias_lists.items()}
    wanted = sorted({c for ids in cves.values() for c in ids})
    kev: dict[str, KevInfo] = {}
    epss: dict[str, EpssInfo] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for e in session.scalars(select(KevEntry).where(KevEntry.cve_id.in_(chunk))):
            kev[e.cve_id] = KevInfo(
                e.cve_id,
                e.date_added.isoformat(),
                e.due_date.isoformat() if e.due_date else None,
                e.ransomware_use,
                e.required_action,
            )
        for s in session.execute(
            select(EpssScore.cve_id, EpssScore.probability, EpssScore.percentile, EpssScore.score_date).where(
                EpssScore.cve_id.in_(chunk)
            )
        ):
            epss[s.cve_id] = EpssInfo(s.cve_id, s.probability, s.percentile, s.score_date)
    return {
        key: Enrichment(ids, [kev[c] for c in ids if c in kev], [epss[c] for c in ids if c in epss])
        for key, ids in cves.items()
    }

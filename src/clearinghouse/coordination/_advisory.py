"""Building a case's :class:`AdvisoryRecord`: what every export writes.

Affected packages come from the validated findings (purl, version, ``vers``
range), with the vendors' fixed versions as ``fixed`` events; severity from the
case's stored scores when prioritization has them, else the finder's own CVSS
vector; credits name the finder pipelines; product statements are the vendors'
statuses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, NotFound, Subject
from clearinghouse.access.models import Organization
from clearinghouse.coordination._aliases import RECORD_PREFIX, aliases_of
from clearinghouse.coordination._snapshot import record_from_json
from clearinghouse.coordination.models import AdvisoryRevision, CaseCoordination, ThreadProduct, VendorThread
from clearinghouse.domain import (
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    ProductStatement,
    ProductStatus,
    RangeEvent,
    RecordSource,
    Reference,
    Revision,
    Severity,
    VersionRange,
    VexJustification,
)
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.matching import from_purl
from clearinghouse.priority import InvalidVector, parse_vector
from clearinghouse.storage import utcnow
from clearinghouse.triage.models import Case

_OSV_TYPE = {"2.0": "CVSS_V2", "3.0": "CVSS_V3", "3.1": "CVSS_V3", "4.0": "CVSS_V4"}
_CONSTRAINT = re.compile(r"^(>=|<=|!=|<|>|=)?(.+)$")


def next_revision(revisions: Sequence[AdvisoryRevision]) -> int:
    return (revisions[-1].number + 1) if revisions else 1


def _findings(session: Session, case_id: str) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.case_id == case_id, Finding.state == FindingState.VALIDATED)
            .order_by(Finding.received_at, Finding.id)
        )
    )


def finder_severities(findings: Sequence[Finding]) -> list[Severity]:
    out: list[Severity] = []
    seen: set[str] = set()
    for finding in findings:
        vector = (finding.document.get("impact") or {}).get("cvss_vector")
        if not vector:
            continue
        try:
            score = parse_vector(vector)
        except InvalidVector:
            continue
        if score.vector in seen:
            continue
        seen.add(score.vector)
        out.append(Severity(_OSV_TYPE[score.version.value], score.vector, score.base_score, "finder"))
    return out


def severities_of(session: Session, subject: Subject, case: Case) -> list[Severity]:
    from clearinghouse.coordination._priority import stored_severities

    try:
        stored = stored_severities(session, subject, case.id)
    except NotFound:
        stored = []
    return stored or finder_severities(_findings(session, case.id))


def vers_to_range(vers: str) -> tuple[VersionRange | None, tuple[str, ...]]:
    """An OSV ECOSYSTEM range (and exact versions) from a ``vers:`` string."""
    _, _, spec = vers.partition(":")
    _, _, constraints = spec.partition("/")
    events: list[RangeEvent] = []
    exact: list[str] = []
    lower = False
    for part in (p.strip() for p in constraints.split("|") if p.strip() and p.strip() != "*"):
        match = _CONSTRAINT.match(part)
        if match is None:  # pragma: no cover - the pattern matches any non-empty text
            continue
        op, version = match.group(1) or "=", match.group(2)
        if op in (">=", ">"):
            events.append(RangeEvent("introduced", version))
            lower = True
        elif op == "<":
            events.append(RangeEvent("fixed", version))
        elif op == "<=":
            events.append(RangeEvent("last_affected", version))
        elif op == "=":
            exact.append(version)
    if events and not lower:
        events.insert(0, RangeEvent("introduced", "0"))
    return (VersionRange("ECOSYSTEM", tuple(events)) if events else None), tuple(exact)


@dataclass
class _Package:
    purl: str
    versions: list[str] = field(default_factory=list)
    ranges: list[VersionRange] = field(default_factory=list)


def _in_version_order(purl: str, versions: Sequence[str]) -> list[str]:
    """``versions`` without repeats, earliest first by the ecosystem's order (as text when it has none)."""
    from packageurl import PackageURL

    from clearinghouse.domain import version_key

    unique = list(dict.fromkeys(versions))
    try:
        key = version_key(PackageURL.from_string(purl).type)
    except ValueError:
        key = None
    if key is not None:
        try:
            return sorted(unique, key=key)
        except Exception:  # univers raises assorted errors for versions outside the scheme
            pass
    return sorted(unique)


def _affected(findings: Sequence[Finding], fixed_by_purl: dict[str, list[str]]) -> list[AffectedPackage]:
    by_package: dict[tuple[str, str], _Package] = {}
    for finding in findings:
        try:
            package, version = from_purl(finding.purl)
        except ValueError:
            continue
        base = finding.purl.split("?")[0].split("#")[0].rsplit("@", 1)[0] if version else finding.purl
        entry = by_package.setdefault((package.ecosystem, package.name), _Package(base))
        if finding.vers:
            rng, exact = vers_to_range(finding.vers)
            if rng is not None and rng not in entry.ranges:
                entry.ranges.append(rng)
            entry.versions.extend(v for v in exact if v not in entry.versions)
        elif version and version not in entry.versions:
            entry.versions.append(version)
    out = []
    for (ecosystem, name), entry in sorted(by_package.items()):
        ranges = list(entry.ranges)
        fixed = _in_version_order(entry.purl, fixed_by_purl.get(entry.purl.lower(), []))
        if fixed and not ranges:
            ranges = [
                VersionRange("ECOSYSTEM", (RangeEvent("introduced", "0"), RangeEvent("fixed", fixed[0])))
            ]
        elif fixed:
            # What the vendor recorded as fixed wins over the finder's guess of the range's end
            # (a finder's "<7.31.0" where the vendor shipped the fix in 7.30.7).
            ranges = [
                VersionRange(
                    r.type,
                    (
                        *(e for e in r.events if e.kind not in ("fixed", "last_affected", "limit")),
                        RangeEvent("fixed", fixed[0]),
                    ),
                    r.repo,
                )
                for r in ranges
            ]
        out.append(
            AffectedPackage(
                ecosystem=ecosystem,
                name=name,
                purl=entry.purl,
                ranges=tuple(ranges),
                versions=tuple(entry.versions),
            )
        )
    return out


def _statements(session: Session, case_id: str) -> list[ProductStatement]:
    out = []
    threads = session.scalars(
        select(VendorThread).where(VendorThread.case_id == case_id).order_by(VendorThread.id)
    )
    for thread in threads:
        org = session.get(Organization, thread.vendor_org_id)
        products = session.scalars(
            select(ThreadProduct)
            .where(ThreadProduct.thread_id == thread.id)
            .order_by(ThreadProduct.product_id)
        )
        for p in products:
            out.append(
                ProductStatement(
                    product_id=p.product_id,
                    product_name=p.product_name,
                    vendor_name=org.name if org else thread.vendor_org_id,
                    status=ProductStatus(p.status),
                    version=p.version,
                    purl=p.purl,
                    vendor_org_id=thread.vendor_org_id,
                    justification=VexJustification(p.justification) if p.justification else None,
                    impact_statement=p.impact_statement,
                    action_statement=p.action_statement,
                    fixed_versions=tuple(p.fixed_versions),
                    updated_at=p.updated_at,
                )
            )
    return out


def _credits(findings: Sequence[Finding]) -> list[Credit]:
    """The finder pipelines: operator, tool and model as the findings name them."""
    names: list[str] = []
    for finding in findings:
        generator = finding.document.get("generator") or {}
        tool, model, operator = generator.get("tool"), generator.get("model"), generator.get("organization")
        pipeline = f"{tool} with {model}" if tool and model else tool
        who = f"{operator} ({pipeline})" if operator and pipeline else operator or pipeline
        if who and who not in names:
            names.append(str(who))
    return [Credit(name=n, type="FINDER") for n in names]


def build_record(
    session: Session,
    subject: Subject,
    case: Case,
    revisions: Sequence[AdvisoryRevision],
    *,
    tlp: TLP,
    new_revision: tuple[int, dt.datetime, str] | None = None,
) -> AdvisoryRecord:
    findings = _findings(session, case.id)
    coordination = session.get(CaseCoordination, case.id)
    statements = _statements(session, case.id)
    fixed_by_purl: dict[str, list[str]] = {}
    for st in statements:
        if st.status is ProductStatus.FIXED and st.purl:
            fixed_by_purl.setdefault(st.purl.lower(), []).extend(st.fixed_versions)
    history = [Revision(str(r.number), r.published_at, r.summary) for r in revisions]
    now = utcnow()
    if new_revision is not None:
        number, when, summary = new_revision
        history.append(Revision(str(number), when, summary))
        now = when
    published = history[0].date if history else None
    aliases = aliases_of(session, case.id)
    for finding in findings:
        for alias in finding.document.get("aliases", []):
            if alias not in aliases:
                aliases.append(str(alias))
    references: list[Reference] = []
    for finding in findings:
        for url in finding.document.get("references", []):
            if isinstance(url, str) and url not in [r.url for r in references]:
                references.append(Reference(url=url, type="REPORT" if "report" in url else "WEB"))
        repo = (finding.document.get("source") or {}).get("repo")
        if isinstance(repo, str) and repo not in [r.url for r in references]:
            references.append(Reference(url=repo, type="PACKAGE"))
    summary = (coordination.summary if coordination and coordination.summary else case.title)[:1000]
    details = findings[0].description if findings else ""
    modified = now if new_revision is not None else (revisions[-1].published_at if revisions else now)
    if new_revision is None and revisions:
        # A draft after publication is the latest revision's content with today's statuses.
        last = record_from_json(revisions[-1].record)
        modified = max(
            last.modified, max((s.updated_at for s in statements if s.updated_at), default=last.modified)
        )
    return AdvisoryRecord(
        id=f"{RECORD_PREFIX}{case.id}",
        title=case.title,
        modified=modified,
        source=RecordSource.CASE,
        tlp=tlp,
        aliases=tuple(aliases),
        summary=summary,
        details=details,
        published=published,
        cwes=tuple(case.cwe),
        severity=tuple(severities_of(session, subject, case)),
        affected=tuple(_affected(findings, fixed_by_purl)),
        product_statements=tuple(statements),
        references=tuple(references),
        credits=tuple(_credits(findings)),
        revisions=tuple(history),
        case_id=case.id,
    )

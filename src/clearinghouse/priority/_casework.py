"""A case's priority work: stored scores with their source, SSVC inputs and decisions from the
case's facts, and the priority queue. No HTTP; services and views call these.

SSVC inputs, each from the first of these that says:

* exploitation: ``active`` when one of the case's CVEs is in CISA KEV; else an analyst's
  override; else ``none``;
* automatable: the override; else the CVSS vectors (network attack vector, low
  complexity, no privileges, no user interaction, no attack requirements in v4: ``yes``);
  else ``no``;
* technical impact: the override; else the validated findings' claimed impact
  (code execution, privilege escalation or authentication bypass: ``total``); else ``partial``;
* mission and well-being, human impact, system exposure: the override; else the affected
  assets (the highest criticality among them; open if one is internet-exposed); with no
  affected asset known, ``medium`` and ``open``;
* the coordinator's inputs (report public, supplier contacted, credibility, cardinality,
  engagement, supplier involvement, public value added, public safety impact, value
  density for utility): the override, else a stated default.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, exists, select
from sqlalchemy.orm import Session, aliased

from clearinghouse.access import TLP, Action, Classification, Marking, Resource, Subject, authorize, visible
from clearinghouse.access.services import get_readable
from clearinghouse.errors import InvalidInput
from clearinghouse.intake.advisories.models import Advisory, AdvisoryAlias
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.matching.models import Asset, CaseMatch
from clearinghouse.priority._cvss import InvalidVector, Score, ScoreSource, parse_vector
from clearinghouse.priority._enrichment import Enrichment, EpssInfo, KevInfo, enrich_many
from clearinghouse.priority._ssvc import (
    _INPUT_ENUMS,
    CisaLevel,
    PatchPriority,
    cisa_coordinator,
    coordinator_publish,
    coordinator_triage,
    deployer_patch_priority,
    supplier_patch_priority,
)
from clearinghouse.priority.models import CaseScore, SsvcInputs
from clearinghouse.storage import UnitOfWork, new_id
from clearinghouse.triage.models import Case

# -- stored scores ---------------------------------------------------------------------------


def _case(session: Session, subject: Subject, case_id: str) -> Case:
    return get_readable(session, subject, Case, case_id, "case", case_resource)


def case_resource(case: Case) -> Resource:
    return Resource.marked("case", case.id, case.marking)


def _score_key(case_id: str, source: str, origin: str, vector: str) -> str:
    return hashlib.sha256("\x00".join((case_id, source, origin, vector)).encode()).hexdigest()


def _add_score(
    session: Session, case_id: str, source: ScoreSource, origin: str, score: Score, note: str = ""
) -> tuple[CaseScore, bool]:
    key = _score_key(case_id, source.value, origin, score.vector)
    existing = session.scalar(select(CaseScore).where(CaseScore.key == key))
    if existing is not None:
        return existing, False
    row = CaseScore(
        id=new_id(),
        key=key,
        case_id=case_id,
        source=source.value,
        origin=origin[:300],
        version=score.version.value,
        vector=score.vector,
        base_score=score.base_score,
        severity=score.severity.value,
        temporal_score=score.temporal_score,
        environmental_score=score.environmental_score,
        note=note,
    )
    session.add(row)
    session.flush()
    return row, True


def case_scores(session: Session, subject: Subject, case_id: str) -> list[CaseScore]:
    """A readable case's stored CVSS scores, the highest first."""
    case = _case(session, subject, case_id)
    rows = session.scalars(select(CaseScore).where(CaseScore.case_id == case.id))
    return _sorted_scores(list(rows))


_SOURCE_RANK = {"coordinator": 0, "vendor": 1, "finder": 2, "imported": 3}


def record_score(
    uow: UnitOfWork, subject: Subject, case_id: str, vector: str, source: str, note: str = ""
) -> tuple[CaseScore, bool]:
    """A coordinator's or vendor's score for a case (staff record both). The same vector from
    the same person and source again is a no-op (returns the stored score, False)."""
    case = _case(uow.session, subject, case_id)
    authorize(subject, Action.PRIORITIZE, case_resource(case))
    if source not in (ScoreSource.COORDINATOR, ScoreSource.VENDOR):
        raise InvalidInput(f"{source!r} is not one of: coordinator, vendor", "/source")
    try:
        score = parse_vector(vector)
    except InvalidVector as exc:
        raise InvalidInput(exc.detail, "/vector") from None
    return _add_score(uow.session, case.id, ScoreSource(source), f"user:{subject.user_id}", score, note)


def _advisory_vectors(session: Session, aliases: list[str]) -> list[tuple[str, str]]:
    names = sorted({a.strip().upper() for a in aliases if a.strip()})
    if not names:
        return []
    ids = sorted(
        set(session.scalars(select(AdvisoryAlias.advisory_id).where(AdvisoryAlias.alias.in_(names))))
    )
    out: list[tuple[str, str]] = []
    for advisory in session.scalars(select(Advisory).where(Advisory.id.in_(ids)).order_by(Advisory.id)):
        for entry in advisory.severity or []:
            if isinstance(entry, dict) and str(entry.get("type", "")).startswith("CVSS_"):
                out.append((advisory.id, str(entry.get("score", ""))))
    return out


def store_derived_scores(session: Session, case_id: str) -> int:
    """Store the scores a validated case brings with it: each validated finding's own vector
    (source ``finder``, or ``imported`` for a finding imported from OSV, CSAF, CVE or SARIF)
    and the CVSS severities of the public advisories its aliases name (``imported``).
    Vectors that do not parse are left out. Returns how many were new."""
    findings = list(
        session.scalars(
            select(Finding).where(Finding.case_id == case_id, Finding.state == FindingState.VALIDATED)
        )
    )
    new = 0
    aliases: list[str] = []
    for finding in findings:
        document = finding.document if isinstance(finding.document, dict) else {}
        aliases.extend(str(a) for a in document.get("aliases") or [])
        impact = document.get("impact") or {}
        vector = impact.get("cvss_vector") if isinstance(impact, dict) else None
        if not isinstance(vector, str):
            continue
        source = ScoreSource.FINDER if finding.source_format == "native" else ScoreSource.IMPORTED
        try:
            score = parse_vector(vector)
        except InvalidVector:
            continue
        new += _add_score(session, case_id, source, f"finding:{finding.id}", score)[1]
    for advisory_id, vector in _advisory_vectors(session, aliases):
        try:
            score = parse_vector(vector)
        except InvalidVector:
            continue
        new += _add_score(session, case_id, ScoreSource.IMPORTED, f"advisory:{advisory_id}", score)[1]
    return new


# -- SSVC inputs -----------------------------------------------------------------------------

# Inputs an analyst may set for a case (the decision tables' parameters, less those that are
# facts about one asset, plus value density, which with automatable gives utility).
VALUE_DENSITY = ("diffuse", "concentrated")
OVERRIDABLE: dict[str, tuple[str, ...]] = {
    **{
        name: tuple(v.value for v in values)
        for name, values in _INPUT_ENUMS.items()
        if name not in ("in_kev", "publicly_exposed", "utility")
    },
    "value_density": VALUE_DENSITY,
}

_DEFAULTS: dict[str, str] = {
    "report_public": "no",
    "supplier_contacted": "no",
    "report_credibility": "credible",
    "supplier_cardinality": "one",
    "supplier_engagement": "active",
    "supplier_involvement": "cooperative",
    "public_value_added": "ampliative",
    "value_density": "diffuse",
}
_TOTAL_CLAIMS = frozenset({"code_execution", "privilege_escalation", "authentication_bypass"})
_CRITICALITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_MISSION = {"low": "low", "medium": "medium", "high": "high", "critical": "high"}
_HUMAN = {"low": "low", "medium": "medium", "high": "high", "critical": "very high"}


def ssvc_overrides(session: Session, subject: Subject, case_id: str) -> dict[str, str]:
    case = _case(session, subject, case_id)
    row = session.get(SsvcInputs, case.id)
    return dict(row.values) if row is not None else {}


def set_ssvc_inputs(
    uow: UnitOfWork, subject: Subject, case_id: str, values: dict[str, str | None], note: str = ""
) -> dict[str, str]:
    """Replace an analyst's SSVC inputs for a case (a value of None removes that override).
    Every bad key or value is named by JSON pointer; nothing is stored if one is bad."""
    case = _case(uow.session, subject, case_id)
    authorize(subject, Action.PRIORITIZE, case_resource(case))
    clean: dict[str, str] = {}
    for name, value in values.items():
        allowed = OVERRIDABLE.get(name)
        if allowed is None:
            raise InvalidInput(
                f"{name!r} is not an SSVC input that can be set; one of: {', '.join(sorted(OVERRIDABLE))}",
                f"/values/{name}",
            )
        if value is None:
            continue
        text = str(value).strip().lower()
        if text not in allowed:
            raise InvalidInput(f"{value!r} is not one of: {', '.join(allowed)}", f"/values/{name}")
        clean[name] = text
    row = uow.session.get(SsvcInputs, case.id)
    if row is None:
        row = SsvcInputs(case_id=case.id, values={})
        uow.session.add(row)
    if row.values != clean or row.note != note:
        row.values = clean
        row.note = note
        row.updated_by = subject.user_id
    uow.flush()
    return clean


# -- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SsvcDecision:
    """One SSVC table's outcome for the case, with the inputs used and where each came from."""

    table: str
    outcome: str
    inputs: dict[str, str]
    sources: dict[str, str]


@dataclass(frozen=True)
class CaseFacts:
    """What ranks a case: KEV, EPSS, scores, SSVC decisions and who is affected."""

    case_id: str
    title: str
    cves: list[str]
    kev: KevInfo | None
    epss_probability: float | None
    epss_percentile: float | None
    epss: EpssInfo | None
    scores: list[CaseScore]
    decisions: dict[str, SsvcDecision]
    inputs: dict[str, str]
    input_sources: dict[str, str]
    matched_participants: int
    matched_assets: int
    critical_assets: int
    exposed_assets: int
    validated: bool
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def best_score(self) -> CaseScore | None:
        return self.scores[0] if self.scores else None


def _automatable_from(vectors: list[str]) -> bool | None:
    """Whether any CVSS vector says the attack needs nothing but the network (None: no vector)."""
    seen = False
    for vector in vectors:
        metrics = dict(part.split(":", 1) for part in vector.split("/") if ":" in part)
        if "AV" not in metrics:
            continue
        seen = True
        v2 = "Au" in metrics
        conditions = (
            [metrics.get("AV") == "N", metrics.get("AC") == "L", metrics.get("Au") == "N"]
            if v2
            else [
                metrics.get("AV") == "N",
                metrics.get("AC") == "L",
                metrics.get("PR") == "N",
                metrics.get("UI") == "N",
                metrics.get("AT", "N") == "N",
            ]
        )
        if all(conditions):
            return True
    return False if seen else None


@dataclass(frozen=True)
class _Member:
    """What a case's ranking needs from one member finding."""

    validated: bool
    native: bool
    claimed: str


def _member(state: str, source_format: str, impact: Any) -> _Member:
    claimed = str((impact or {}).get("claimed", ""))
    return _member_of(state == FindingState.VALIDATED, source_format == "native", claimed)


@functools.lru_cache(maxsize=1024)
def _member_of(validated: bool, native: bool, claimed: str) -> _Member:
    return _Member(validated, native, claimed)


def _aliases(value: Any) -> list[str]:
    return [str(a) for a in (value or [])]


@dataclass(frozen=True)
class _AssetFact:
    """What a case's ranking needs from one affected asset."""

    id: str
    owner_org_id: str
    criticality: str
    internet_exposed: bool


@dataclass(frozen=True)
class _Judgement:
    """SSVC inputs (with where each came from), the five tables' outcomes, and the counts of
    who is affected: everything that ranks a case except its stored scores and EPSS. Shared
    between cases (``_judge`` is cached): never changed, copied into ``CaseFacts``."""

    kev: KevInfo | None
    inputs: dict[str, str]
    sources: dict[str, str]
    outcomes: dict[str, str]
    matched_participants: int
    matched_assets: int
    critical_assets: int
    exposed_assets: int
    validated: bool


_TRIAGE_IN = (
    "report_public",
    "supplier_contacted",
    "report_credibility",
    "supplier_cardinality",
    "supplier_engagement",
    "utility",
    "public_safety_impact",
)
_PUBLISH_IN = ("supplier_involvement", "exploitation", "public_value_added")
_SUPPLIER_IN = ("exploitation", "utility", "technical_impact", "public_safety_impact")
_DEPLOYER_IN = ("exploitation", "system_exposure", "automatable", "human_impact")
_CISA_IN = ("exploitation", "automatable", "technical_impact", "mission_and_well_being_impact")
_TABLE_INPUTS: dict[str, tuple[str, ...]] = {
    "coordinator_triage": _TRIAGE_IN,
    "coordinator_publish": _PUBLISH_IN,
    "supplier_patch_priority": _SUPPLIER_IN,
    "deployer_patch_priority": _DEPLOYER_IN,
    "cisa_coordinator": _CISA_IN,
}
_ALL_INPUTS = tuple(sorted({n for names in _TABLE_INPUTS.values() for n in names}))


@functools.lru_cache(maxsize=4096)
def _outcomes(values: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    """The five tables' outcomes for the inputs named by ``_ALL_INPUTS``, in that order. The
    inputs take few values, so a queue of thousands of cases asks the tables a few dozen times."""
    pick = dict(zip(_ALL_INPUTS, values, strict=True))
    return (
        coordinator_triage(**{n: pick[n] for n in _TRIAGE_IN}).value,
        coordinator_publish(**{n: pick[n] for n in _PUBLISH_IN}).value,
        supplier_patch_priority(**{n: pick[n] for n in _SUPPLIER_IN}).value,
        deployer_patch_priority(**{n: pick[n] for n in _DEPLOYER_IN}).value,
        cisa_coordinator(**{n: pick[n] for n in _CISA_IN}).value,
    )


@functools.lru_cache(maxsize=8192)
def _judge(
    members: frozenset[_Member],
    vectors: frozenset[str],
    affected_assets: tuple[_AssetFact, ...],
    override_items: frozenset[tuple[str, str]],
    has_cves: bool,
    kev: KevInfo | None,
) -> _Judgement:
    """The SSVC inputs and decisions of a case from its facts (pure: no database, so cached:
    most cases of a large queue share their facts' shape). ``affected_assets`` are distinct,
    in id order; ``kev`` is the first of the case's CVEs in KEV."""
    overrides = dict(override_items)
    validated = [m for m in members if m.validated]
    inputs: dict[str, str] = {}
    sources: dict[str, str] = {}

    def put(name: str, value: str, source: str) -> None:
        inputs[name], sources[name] = value, source

    def chosen(name: str) -> bool:
        if name in overrides:
            put(name, overrides[name], "analyst")
            return True
        return False

    if kev is not None:
        put("exploitation", "active", f"{kev.cve_id} is in CISA KEV")
    elif not chosen("exploitation"):
        put("exploitation", "none", "not in CISA KEV, no exploitation reported")
    if not chosen("automatable"):
        automatable = _automatable_from(sorted(vectors))
        if automatable is None:
            put("automatable", "no", "no CVSS vector says otherwise")
        else:
            put("automatable", "yes" if automatable else "no", "CVSS vector")
    if not chosen("technical_impact"):
        claims = sorted({m.claimed for m in validated or members})
        total = any(c in _TOTAL_CLAIMS for c in claims)
        put(
            "technical_impact",
            "total" if total else "partial",
            f"claimed impact: {', '.join(claims) or 'none'}",
        )
    top = max(
        (a.criticality for a in affected_assets), key=lambda c: _CRITICALITY_RANK.get(c, 1), default=None
    )
    exposed = [a for a in affected_assets if a.internet_exposed]
    if not chosen("mission_and_well_being_impact"):
        if top is None:
            put("mission_and_well_being_impact", "medium", "no affected asset known")
        else:
            put("mission_and_well_being_impact", _MISSION[top], f"most critical affected asset: {top}")
    if not chosen("human_impact"):
        if top is None:
            put("human_impact", "medium", "no affected asset known")
        else:
            put("human_impact", _HUMAN[top], f"most critical affected asset: {top}")
    if not chosen("system_exposure"):
        if exposed:
            put("system_exposure", "open", f"{len(exposed)} affected asset(s) internet-exposed")
        elif affected_assets:
            put("system_exposure", "controlled", "no affected asset is internet-exposed")
        else:
            put("system_exposure", "open", "no affected asset known")
    if not chosen("report_public"):
        public = has_cves or any(not m.native for m in members)
        put("report_public", "yes" if public else "no", "a public CVE or advisory" if public else "default")
    if not chosen("public_safety_impact"):
        significant = inputs["mission_and_well_being_impact"] == "high" or inputs["human_impact"] in (
            "high",
            "very high",
        )
        put(
            "public_safety_impact",
            "significant" if significant else "minimal",
            "from mission and human impact",
        )
    for name in ("supplier_contacted", "report_credibility", "supplier_cardinality", "supplier_engagement"):
        if not chosen(name):
            put(name, _DEFAULTS[name], "default")
    for name in ("supplier_involvement", "public_value_added", "value_density"):
        if not chosen(name):
            put(name, _DEFAULTS[name], "default")
    automatable_yes = inputs["automatable"] == "yes"
    concentrated = inputs["value_density"] == "concentrated"
    utility = (
        "super effective"
        if automatable_yes and concentrated
        else "efficient"
        if automatable_yes or concentrated
        else "laborious"
    )
    put("utility", utility, f"automatable {inputs['automatable']}, value density {inputs['value_density']}")
    outcomes = dict(zip(_TABLE_INPUTS, _outcomes(tuple(inputs[n] for n in _ALL_INPUTS)), strict=True))
    return _Judgement(
        kev=kev,
        inputs=inputs,
        sources=sources,
        outcomes=outcomes,
        matched_participants=len({a.owner_org_id for a in affected_assets}),
        matched_assets=len(affected_assets),
        critical_assets=sum(1 for a in affected_assets if a.criticality == "critical"),
        exposed_assets=len(exposed),
        validated=bool(validated),
    )


def _judge_case(
    members: list[_Member],
    vectors: list[str],
    affected: dict[str, _AssetFact],
    overrides: dict[str, str],
    enrichment: Enrichment,
) -> _Judgement:
    return _judge(
        frozenset(members),
        frozenset(vectors),
        tuple(affected[a] for a in sorted(affected)),
        frozenset(overrides.items()),
        bool(enrichment.cves),
        enrichment.kev[0] if enrichment.kev else None,
    )


def _facts(
    case: Case,
    scores: list[CaseScore],
    enrichment: Enrichment,
    judgement: _Judgement,
    overrides: dict[str, str],
) -> CaseFacts:
    inputs, sources = dict(judgement.inputs), dict(judgement.sources)
    decisions = {
        table: SsvcDecision(
            table,
            judgement.outcomes[table],
            {n: inputs[n] for n in names},
            {n: sources[n] for n in names},
        )
        for table, names in _TABLE_INPUTS.items()
    }
    epss = enrichment.max_epss
    return CaseFacts(
        case_id=case.id,
        title=case.title,
        cves=enrichment.cves,
        kev=judgement.kev,
        epss_probability=epss.probability if epss else None,
        epss_percentile=epss.percentile if epss else None,
        epss=epss,
        scores=scores,
        decisions=decisions,
        inputs=inputs,
        input_sources=sources,
        matched_participants=judgement.matched_participants,
        matched_assets=judgement.matched_assets,
        critical_assets=judgement.critical_assets,
        exposed_assets=judgement.exposed_assets,
        validated=judgement.validated,
        overrides=dict(overrides),
    )


def _load(session: Session, case_ids: list[str]) -> dict[str, Any]:
    members: dict[str, list[Finding]] = {c: [] for c in case_ids}
    scores: dict[str, list[CaseScore]] = {c: [] for c in case_ids}
    matches: dict[str, list[CaseMatch]] = {c: [] for c in case_ids}
    for f in session.scalars(
        select(Finding).where(Finding.case_id.in_(case_ids)).order_by(Finding.received_at)
    ):
        assert f.case_id is not None
        members[f.case_id].append(f)
    for s in session.scalars(select(CaseScore).where(CaseScore.case_id.in_(case_ids))):
        scores[s.case_id].append(s)
    for m in session.scalars(select(CaseMatch).where(CaseMatch.case_id.in_(case_ids))):
        if m.affected is not False:
            matches[m.case_id].append(m)
    asset_ids = {m.asset_id for ms in matches.values() for m in ms}
    assets = (
        {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(asset_ids)))} if asset_ids else {}
    )
    overrides = {
        r.case_id: dict(r.values)
        for r in session.scalars(select(SsvcInputs).where(SsvcInputs.case_id.in_(case_ids)))
    }
    return {
        "members": members,
        "scores": scores,
        "matches": matches,
        "assets": assets,
        "overrides": overrides,
    }


def _sorted_scores(rows: list[CaseScore]) -> list[CaseScore]:
    return sorted(rows, key=lambda s: (-s.base_score, _SOURCE_RANK.get(s.source, 9), s.created_at, s.id))


def case_facts(session: Session, subject: Subject, case_id: str) -> CaseFacts:
    """The facts that rank a readable case, with its SSVC decisions. Affected participants and
    assets are counted over all stored matches (counts only: which assets stays with the matches'
    own policy)."""
    case = _case(session, subject, case_id)
    return _facts_of(session, [case])[case.id]


def _facts_of(session: Session, cases: list[Case]) -> dict[str, CaseFacts]:
    data = _load(session, [c.id for c in cases])
    enrichments = enrich_many(
        session,
        {
            c.id: [a for f in data["members"][c.id] for a in _aliases(f.document.get("aliases"))]
            for c in cases
        },
    )
    assets: dict[str, Asset] = data["assets"]
    out: dict[str, CaseFacts] = {}
    for case in cases:
        members = [
            _member(f.state, f.source_format, f.document.get("impact")) for f in data["members"][case.id]
        ]
        scores = _sorted_scores(data["scores"][case.id])
        affected = {
            a.id: _AssetFact(a.id, a.owner_org_id, a.criticality, a.internet_exposed)
            for a in (assets[m.asset_id] for m in data["matches"][case.id] if m.asset_id in assets)
        }
        overrides = data["overrides"].get(case.id, {})
        enrichment = enrichments[case.id]
        judgement = _judge_case(members, [s.vector for s in scores], affected, overrides, enrichment)
        out[case.id] = _facts(case, scores, enrichment, judgement, overrides)
    return out


# -- the queue -------------------------------------------------------------------------------

_CISA_RANK = {CisaLevel.ACT: 3, CisaLevel.ATTEND: 2, CisaLevel.TRACK_STAR: 1, CisaLevel.TRACK: 0}
_PATCH_RANK = {
    PatchPriority.IMMEDIATE: 3,
    PatchPriority.OUT_OF_CYCLE: 2,
    PatchPriority.SCHEDULED: 1,
    PatchPriority.DEFER: 0,
}

_CISA_RANK_OF = {level.value: rank for level, rank in _CISA_RANK.items()}
_PATCH_RANK_OF = {priority.value: rank for priority, rank in _PATCH_RANK.items()}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reasons(facts: CaseFacts) -> list[str]:
    """Why a case ranks where it does, in plain sentences, most important first."""
    out: list[str] = []
    cisa = facts.decisions["cisa_coordinator"]
    supplier = facts.decisions["supplier_patch_priority"]
    out.append(
        f"SSVC CISA coordinator decision: {cisa.outcome} (exploitation {cisa.inputs['exploitation']}, "
        f"automatable {cisa.inputs['automatable']}, technical impact {cisa.inputs['technical_impact']}, "
        f"mission and well-being {cisa.inputs['mission_and_well_being_impact']}); "
        f"supplier patch priority: {supplier.outcome}"
    )
    if facts.kev is not None:
        ransomware = (facts.kev.ransomware_use or "").strip().lower()
        text = f"In CISA KEV since {facts.kev.date_added}"
        text += "; ransomware use known" if ransomware == "known" else "; ransomware use not known"
        out.append(text)
        if facts.kev.due_date:
            out.append(f"KEV due date for federal agencies: {facts.kev.due_date}")
    else:
        out.append("Not in CISA KEV")
    if facts.epss_probability is not None and facts.epss_percentile is not None:
        out.append(
            f"EPSS {facts.epss_probability:.2f} ({_ordinal(int(facts.epss_percentile * 100))} percentile)"
        )
    else:
        out.append("No EPSS score")
    best = facts.best_score
    if best is not None:
        out.append(f"CVSS {best.base_score:.1f} {best.severity} (v{best.version}, from the {best.source})")
    else:
        out.append("No CVSS score")
    if facts.matched_assets:
        text = (
            f"Affects {_plural(facts.matched_participants, 'participant')} through "
            f"{_plural(facts.matched_assets, 'registered asset')}"
        )
        extras = []
        if facts.critical_assets:
            extras.append(f"{facts.critical_assets} critical")
        if facts.exposed_assets:
            extras.append(f"{facts.exposed_assets} internet-exposed")
        out.append(text + (f" ({', '.join(extras)})" if extras else ""))
    else:
        out.append("No registered asset is known to be affected")
    return out


def _key(
    cisa: str,
    supplier: str,
    kev: bool,
    epss: float | None,
    best: float | None,
    participants: int,
    critical: int,
    case_id: str,
) -> tuple[Any, ...]:
    return (
        -_CISA_RANK_OF[cisa],
        -_PATCH_RANK_OF[supplier],
        -kev,
        -(epss or 0.0),
        -(best or 0.0),
        -participants,
        -critical,
        case_id,
    )


def rank_key(facts: CaseFacts) -> tuple[Any, ...]:
    """Higher first: SSVC decision, KEV, EPSS, CVSS, participants, critical assets (then id)."""
    best = facts.best_score
    return _key(
        facts.decisions["cisa_coordinator"].outcome,
        facts.decisions["supplier_patch_priority"].outcome,
        facts.kev is not None,
        facts.epss_probability,
        best.base_score if best else None,
        facts.matched_participants,
        facts.critical_assets,
        facts.case_id,
    )


@dataclass(frozen=True)
class QueueItem:
    rank: int
    facts: CaseFacts
    reasons: list[str]


_NOT_ENRICHED = Enrichment([], [], [])  # a case with no alias: read only, never handed out


def _queue_keys(session: Session, subject: Subject) -> list[tuple[Any, ...]]:
    """The rank key of every validated case the subject may read, from a handful of set-based
    queries over plain columns (no ORM objects, no per-case query): the cases' markings, their
    members' state, format, aliases and claimed impact, their score vectors, their affected
    assets, their SSVC overrides, and KEV and EPSS for all their CVEs at once. The inputs and
    decisions come from the same ``_judge`` as ``case_facts``, so the order is the same."""
    validated = (
        select(Finding.case_id)
        .where(Finding.state == FindingState.VALIDATED, Finding.case_id.is_not(None))
        .distinct()
    )
    # One pass over the validated cases' members, each row with its case's marking.
    groups: dict[tuple[Any, ...], set[str]] = {}
    rows: list[tuple[str, _Member, str | None]] = []
    for f in session.execute(
        select(
            Finding.case_id,
            Finding.state,
            Finding.source_format,
            cast(Finding.document["aliases"], Text).label("aliases"),
            Finding.document[("impact", "claimed")].as_string().label("claimed"),
            Case.owner_org_id,
            Case.tlp,
            Case.classification,
            cast(Case.compartments, Text).label("compartments"),
            cast(Case.sharing_group_ids, Text).label("sharing_group_ids"),
        )
        .join(Case, Case.id == Finding.case_id)
        .where(Finding.case_id.in_(validated))
    ):
        key = (f.owner_org_id, f.tlp, f.classification, f.compartments, f.sharing_group_ids)
        groups.setdefault(key, set()).add(f.case_id)
        # A null claimed impact reads "" here and "None" case by case: neither is a total
        # impact, so both rank alike.
        member = _member_of(
            f.state == FindingState.VALIDATED,
            f.source_format == "native",
            "" if f.claimed is None else str(f.claimed),
        )
        rows.append((f.case_id, member, f.aliases))

    # The policy decides reads from an object's markings, and thousands of cases share a few
    # markings: ask it once per distinct marking (JSON lists read as text, parsed once each).
    def resource(key: tuple[Any, ...]) -> Resource:
        owner, tlp, classification, compartments, sharing_groups = key
        marking = Marking(
            owner_org_id=owner,
            tlp=TLP(tlp),
            classification=Classification(classification),
            compartments=frozenset(json.loads(compartments or "[]")),
            sharing_group_ids=frozenset(json.loads(sharing_groups or "[]")),
        )
        return Resource.marked("case", min(groups[key]), marking)

    readable = {case_id for key in visible(subject, groups, resource) for case_id in groups[key]}
    if not readable:
        return []
    members: dict[str, list[_Member]] = {}
    aliases: dict[str, list[str]] = {}
    for case_id, member, alias_text in rows:
        if case_id in readable:
            members.setdefault(case_id, []).append(member)
            if alias_text not in (None, "null", "[]"):
                aliases.setdefault(case_id, []).extend(_aliases(json.loads(alias_text)))

    def of_validated_case(column: Any) -> Any:
        """The row's case has a validated finding (a probe of the findings' case index per row)."""
        member = aliased(Finding)
        return exists().where(member.case_id == column, member.state == FindingState.VALIDATED)

    vectors: dict[str, list[str]] = {}
    best: dict[str, float] = {}
    for s in session.execute(
        select(CaseScore.case_id, CaseScore.vector, CaseScore.base_score).where(
            of_validated_case(CaseScore.case_id)
        )
    ):
        if s.case_id in readable:
            vectors.setdefault(s.case_id, []).append(s.vector)
            best[s.case_id] = max(best.get(s.case_id, s.base_score), s.base_score)
    affected: dict[str, dict[str, _AssetFact]] = {}
    for m in session.execute(
        select(CaseMatch.case_id, Asset.id, Asset.owner_org_id, Asset.criticality, Asset.internet_exposed)
        .join(Asset, Asset.id == CaseMatch.asset_id)
        .where(of_validated_case(CaseMatch.case_id), CaseMatch.affected.is_not(False))
    ):
        if m.case_id in readable:
            affected.setdefault(m.case_id, {})[m.id] = _AssetFact(
                m.id, m.owner_org_id, m.criticality, m.internet_exposed
            )
    overrides = {
        r.case_id: dict(r.values)
        for r in session.execute(
            select(SsvcInputs.case_id, SsvcInputs.values).where(of_validated_case(SsvcInputs.case_id))
        )
        if r.case_id in readable
    }
    enrichments = enrich_many(session, aliases)
    keys = []
    for case_id in readable:
        enrichment = enrichments.get(case_id, _NOT_ENRICHED)
        judged = _judge_case(
            members.get(case_id, []),
            vectors.get(case_id, []),
            affected.get(case_id, {}),
            overrides.get(case_id, {}),
            enrichment,
        )
        epss = enrichment.max_epss
        keys.append(
            _key(
                judged.outcomes["cisa_coordinator"],
                judged.outcomes["supplier_patch_priority"],
                judged.kev is not None,
                epss.probability if epss else None,
                best.get(case_id),
                judged.matched_participants,
                judged.critical_assets,
                case_id,
            )
        )
    keys.sort()
    return keys


def priority_queue(
    session: Session, subject: Subject, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[QueueItem]]:
    """Validated cases the subject may read, in priority order: (total, one page). Every case
    is ranked from plain columns in bulk; only the page's cases are loaded whole, for their
    facts and reasons."""
    authorize(subject, Action.READ_QUEUE)
    keys = _queue_keys(session, subject)
    page_ids = [key[-1] for key in keys[offset : offset + limit]]
    cases = list(session.scalars(select(Case).where(Case.id.in_(page_ids)))) if page_ids else []
    facts = _facts_of(session, cases)
    page = [facts[c] for c in page_ids]
    return len(keys), [QueueItem(offset + i + 1, f, reasons(f)) for i, f in enumerate(page)]


def facts_for_cases(session: Session, case_ids: list[str]) -> dict[str, CaseFacts]:
    """The facts of several cases at once, with no access check: for callers that have already
    asked the policy about what they show (the BOD 26-04 compliance view reads matches)."""
    cases = list(session.scalars(select(Case).where(Case.id.in_(case_ids)))) if case_ids else []
    return _facts_of(session, cases)

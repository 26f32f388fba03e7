"""Deduplication of findings into cases: an in-memory index, rebuilt from stored findings.

Each finding belongs to exactly one *case*; a case is named by its canonical
finding (the first one, unless an analyst moves that one out). For each new
finding :meth:`DedupIndex.add` returns a :class:`DedupDecision`:

``duplicate_of``
    The same report of the same bug. Exact fingerprint match (package,
    affected range, CWE ids, file and symbol) gives confidence 1; otherwise
    the text must be close (rapidfuzz ``token_set_ratio`` on normalized
    title and description) and the structure must agree: same code location,
    CWE ids equal or of one family, affected versions that can overlap.
``variant_of``
    The same root cause (same package, symbol and CWE family) reported with a
    disjoint affected range or in clearly different words. Never merged
    automatically.
``related``
    Same package and similar text, but evidence that it is another bug (a
    different symbol or file, or the same location with a conflicting CVE).
``new``
    Nothing close.

Only high-confidence duplicates are merged automatically (``auto_merge``);
everything else is a proposal for an analyst, who can :meth:`~DedupIndex.confirm`
it, or :meth:`~DedupIndex.split` a wrong merge.

Candidates come from a datasketch :class:`~datasketch.MinHashLSH` over MinHash
signatures of the normalized text, scoped by package: each signature is
XOR-ed with a per-package salt before it is banded, so findings of different
packages land in different buckets (and candidates from another package are
dropped anyway). Only a few *representatives* per case are indexed (the
canonical finding and up to ``max_representatives - 1`` members that differ
from those already indexed), which keeps the index small under floods of
duplicates.

Chains are bounded: a finding joins a case only when it matches the case's
canonical finding directly, or at least ``k_members`` representatives of the
case directly; never through a chain of pairwise matches (A~B and B~C do not
put C with A). Auto-merge stops at ``max_auto_case_size`` members.

The index holds no database state: persist each decision's ``case_id`` and
rebuild on start with ``add(finding_id, features, case_id=stored_case)`` in
the original order. It is not thread-safe; serialize calls.
"""

from __future__ import annotations

import enum
import functools
import re
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
from datasketch import MinHashLSH
from rapidfuzz import fuzz

from clearinghouse.triage._fingerprint import (
    NUM_PERM,
    U32,
    FindingFeatures,
    cwe_relation,
    symbols_agree,
    to_minhash,
)


class Relation(enum.StrEnum):
    NEW = "new"
    DUPLICATE_OF = "duplicate_of"
    VARIANT_OF = "variant_of"
    RELATED = "related"


_RANK = {Relation.DUPLICATE_OF: 3, Relation.VARIANT_OF: 2, Relation.RELATED: 1, Relation.NEW: 0}


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """What the index decided for one finding.

    ``case_id`` is the case the finding is in now: the target's case when it
    was merged automatically, else a case of its own (its own id).
    ``target_id``/``target_case`` name the finding and case it was matched to
    (also for proposals that were not merged).
    """

    finding_id: str
    relation: Relation
    case_id: str
    target_id: str | None
    target_case: str | None
    confidence: float
    auto_merge: bool
    reasons: tuple[str, ...] = ()

    @property
    def merged(self) -> bool:
        return self.target_case is not None and self.case_id == self.target_case


@dataclass(frozen=True, slots=True)
class DedupConfig:
    bands: int = 32
    """LSH bands; ``bands * rows <= NUM_PERM``. 32 bands of 2 rows find pairs from Jaccard ~0.3."""
    rows: int = 2
    auto_merge_threshold: float = 0.85
    """Least confidence of a duplicate that is merged without an analyst."""
    duplicate_text: float = 0.60
    """Least text similarity (token_set_ratio / 100) of a duplicate at the same code location."""
    duplicate_text_no_location: float = 0.85
    """... of a duplicate when one side names no symbol (nor the other's symbol in its text)."""
    related_text: float = 0.70
    """Least text similarity for ``related``."""
    k_members: int = 2
    """Direct matches with representatives that let a finding join a case without its canonical."""
    max_representatives: int = 3
    """Findings per case in the LSH index (the canonical included)."""
    representative_novelty: float = 0.6
    """A member is indexed only if its estimated Jaccard with every indexed member is below this."""
    max_auto_case_size: int = 200
    """A case this big takes no more automatic merges (proposals only)."""
    max_candidate_cases: int = 8
    """Cases checked per finding, the most similar first."""
    ambiguity_margin: float = 0.05
    """A weak-location duplicate merges only if it beats the next case by this much."""


@dataclass(frozen=True, slots=True)
class _Score:
    relation: Relation
    confidence: float
    text: float
    location: str
    reasons: tuple[str, ...]


_NO_MATCH = _Score(Relation.NEW, 0.0, 0.0, "unknown", ())
LocationAgreement = Literal["symbol", "mention", "file", "unknown", "conflict"]


def location_agreement(a: FindingFeatures, b: FindingFeatures) -> LocationAgreement:
    """How the code locations of two findings agree.

    ``symbol`` (both name it and it agrees), ``mention`` (one names it and the
    other's text does), ``file`` (symbols unknown, same file), ``unknown``, or
    ``conflict`` (different symbols, or different files and no symbol to say otherwise).
    """
    if a.symbol and b.symbol:
        return "symbol" if symbols_agree(a.symbol, b.symbol) else "conflict"
    named = a.symbol or b.symbol
    if named:
        other = b if a.symbol else a
        if other.mentions(named):
            return "mention"
    if a.file and b.file:
        if a.file == b.file or a.file.endswith("/" + b.file) or b.file.endswith("/" + a.file):
            return "file"
        return "conflict"
    return "unknown"


_ID_PREFIX = re.compile(r"^([A-Z]+)-")


def alias_agreement(a: frozenset[str], b: frozenset[str]) -> Literal["agree", "conflict", "unknown"]:
    """``agree`` if they share an id; ``conflict`` if both cite ids of one kind (CVE, GHSA...) but none in common."""
    if not a or not b:
        return "unknown"
    if a & b:
        return "agree"
    kinds_a = {m.group(1) for x in a if (m := _ID_PREFIX.match(x))}
    kinds_b = {m.group(1) for x in b if (m := _ID_PREFIX.match(x))}
    return "conflict" if kinds_a & kinds_b else "unknown"


def compare(a: FindingFeatures, b: FindingFeatures, config: DedupConfig | None = None) -> _Score:
    """Score one pair of findings of the same package (the index's pairwise test)."""
    cfg = config or DedupConfig()
    if a.package != b.package:
        return _NO_MATCH
    text = fuzz.token_set_ratio(a.text, b.text) / 100.0
    loc = location_agreement(a, b)
    cwe = cwe_relation(a.cwes, b.cwes)
    ver = a.affected.relation(b.affected)
    alias = alias_agreement(a.aliases, b.aliases)
    reasons = (f"text={text:.2f}", f"location={loc}", f"cwe={cwe}", f"versions={ver}", f"aliases={alias}")
    if loc == "conflict":
        if text >= cfg.related_text or alias == "agree":
            return _Score(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
        return _Score(Relation.NEW, 0.0, text, loc, reasons)
    strong_loc = loc in ("symbol", "mention")
    floor = cfg.duplicate_text if strong_loc else cfg.duplicate_text_no_location
    if alias == "agree":
        floor -= 0.15
    structural = {"symbol": 0.10, "mention": 0.05, "file": -0.05, "unknown": -0.10}[loc]
    structural += {"agree": 0.05, "near": 0.0, "unknown": -0.02, "conflict": -0.10}[cwe]
    structural += {"same": 0.05, "overlap": 0.03, "neutral": 0.0, "unknown": 0.0, "outside": -0.05, "disjoint": -0.10}[
        ver
    ]
    structural += {"agree": 0.15, "unknown": 0.0, "conflict": -0.25}[alias]
    confidence = max(0.0, min(1.0, 0.55 + 0.45 * (text - floor) / max(1e-9, 1.0 - floor) + structural))
    confidence = round(confidence, 3)
    same_root = strong_loc and cwe in ("agree", "near", "unknown")
    if ver == "disjoint" or alias == "conflict":
        if same_root:
            return _Score(Relation.VARIANT_OF, min(confidence, 0.8), text, loc, reasons)
        return _Score(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
    if text >= floor:
        return _Score(Relation.DUPLICATE_OF, confidence, text, loc, reasons)
    if same_root:
        return _Score(Relation.VARIANT_OF, min(confidence, 0.8), text, loc, reasons)
    if text >= cfg.related_text:
        return _Score(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
    return _Score(Relation.NEW, 0.0, text, loc, reasons)


@functools.lru_cache(maxsize=131_072)
def _package_salt(package: str) -> U32:
    h = np.arange(NUM_PERM, dtype=np.uint32) + np.uint32(zlib.crc32(package.encode()))
    h = h * np.uint32(0x9E3779B1)
    salt: U32 = h ^ (h >> np.uint32(15))
    return salt


class DedupIndex:
    """In-memory deduplication of findings into cases. See the module docstring."""

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = cfg = config or DedupConfig()
        if cfg.bands * cfg.rows > NUM_PERM:
            raise ValueError(f"bands * rows must be at most NUM_PERM ({NUM_PERM})")
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(cfg.bands, cfg.rows))
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._features: list[FindingFeatures] = []
        self._sig = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self._case: list[int] = []  # finding -> canonical finding of its case
        self._members: dict[int, list[int]] = {}  # canonical -> members (canonical first)
        self._reps: dict[int, list[int]] = {}  # canonical -> members in the LSH index
        self._indexed: set[int] = set()
        self._fingerprints: dict[str, int] = {}
        self._symbols: dict[tuple[str, str], list[int]] = {}  # (package, symbol tail) -> canonicals

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, finding_id: object) -> bool:
        return finding_id in self._pos

    def case_of(self, finding_id: str) -> str:
        return self._ids[self._case[self._pos[finding_id]]]

    def members(self, case_id: str) -> list[str]:
        """The findings of a case, its canonical finding first (empty for an unknown case)."""
        i = self._pos.get(case_id)
        if i is None or self._case[i] != i:
            return []
        return [self._ids[m] for m in self._members[i]]

    def cases(self) -> dict[str, list[str]]:
        return {self._ids[c]: [self._ids[m] for m in ms] for c, ms in self._members.items()}

    @property
    def case_count(self) -> int:
        return len(self._members)

    def check(self, features: FindingFeatures, finding_id: str = "") -> DedupDecision:
        """What :meth:`add` would decide, without adding anything."""
        return self._decide(finding_id, features)

    # ------------------------------------------------------------------ updates

    def add(self, finding_id: str, features: FindingFeatures, case_id: str | None = None) -> DedupDecision:
        """Index a finding and place it in a case.

        Without ``case_id`` the index decides (and merges high-confidence
        duplicates). With ``case_id`` (rebuilding from storage, or an import
        that already knows) the finding goes to that case as it is now named,
        or starts its own when ``case_id`` is its own id.
        """
        if finding_id in self._pos:
            raise ValueError(f"finding {finding_id!r} is already indexed")
        if case_id is not None:
            if case_id == finding_id:
                decision = DedupDecision(finding_id, Relation.NEW, finding_id, None, None, 1.0, False, ("restored",))
            else:
                canon = self._canonical_of_case(case_id)
                target = self._ids[canon]
                decision = DedupDecision(
                    finding_id, Relation.DUPLICATE_OF, target, target, target, 1.0, False, ("restored",)
                )
        else:
            decision = self._decide(finding_id, features)
        i = self._append(finding_id, features)
        if decision.case_id == finding_id:
            self._start_case(i)
        else:
            self._join(i, self._pos[decision.case_id])
        return decision

    def split(self, finding_id: str) -> dict[str, str]:
        """Take a finding out of its case into a case of its own (an analyst undoing a merge).

        Returns ``{finding id: new case id}`` for every finding whose case
        changed: the finding itself, or, when it was the canonical finding (its
        case keeps its name), the rest of the old case, renamed after its
        earliest remaining member.
        """
        i = self._pos[finding_id]
        canon = self._case[i]
        if canon == i and len(self._members[i]) == 1:
            return {}
        changes = self._detach(i)
        self._start_case(i)
        if canon != i:
            changes[finding_id] = finding_id
        return changes

    def confirm(self, finding_id: str, case_id: str) -> dict[str, str]:
        """Put a finding into a case (an analyst accepting a proposal); the size cap does not apply.

        Returns ``{finding id: new case id}`` for every finding whose case
        changed (if the finding was a canonical, the rest of its old case is
        renamed as in :meth:`split`).
        """
        i = self._pos[finding_id]
        target = self._canonical_of_case(case_id)
        if self._case[i] == target:
            return {}
        changes = self._detach(i)
        self._join(i, target)
        changes[finding_id] = self._ids[target]
        return changes

    # ------------------------------------------------------------------ internals

    def _canonical_of_case(self, case_id: str) -> int:
        i = self._pos.get(case_id)
        if i is None:
            raise KeyError(f"unknown case {case_id!r}")
        return self._case[i]

    def _append(self, finding_id: str, features: FindingFeatures) -> int:
        i = len(self._ids)
        if i == len(self._sig):
            self._sig = np.concatenate((self._sig, np.empty_like(self._sig)))
        self._sig[i] = features.signature
        self._ids.append(finding_id)
        self._pos[finding_id] = i
        self._features.append(features)
        self._case.append(i)
        if features.strong:
            self._fingerprints.setdefault(features.fingerprint, i)
        return i

    def _start_case(self, i: int) -> None:
        self._case[i] = i
        self._members[i] = [i]
        self._reps[i] = [i]
        self._index(i)
        self._by_symbol(i)

    def _by_symbol(self, canon: int) -> None:
        f = self._features[canon]
        if f.symbol:
            bucket = self._symbols.setdefault((f.package, f.symbol.rsplit(".", 1)[-1]), [])
            if len(bucket) < 64 and canon not in bucket:
                bucket.append(canon)

    def _index(self, i: int) -> None:
        if i not in self._indexed:
            f = self._features[i]
            self._lsh.insert(i, to_minhash(self._sig[i] ^ _package_salt(f.package)), check_duplication=False)
            self._indexed.add(i)

    def _join(self, i: int, canon: int) -> None:
        self._case[i] = canon
        members = self._members[canon]
        members.append(i)
        members.sort()
        reps = self._reps[canon]
        if len(reps) < self.config.max_representatives:
            similarity = (self._sig[reps] == self._sig[i]).mean(axis=1)
            if float(similarity.max()) < self.config.representative_novelty:
                reps.append(i)
                self._index(i)

    def _detach(self, i: int) -> dict[str, str]:
        """Remove ``i`` from its case; if it was the canonical, rename the rest. Returns renames."""
        canon = self._case[i]
        members = [m for m in self._members.pop(canon) if m != i]
        reps = [r for r in self._reps.pop(canon) if r != i]
        changes: dict[str, str] = {}
        if canon != i:
            self._members[canon] = members
            self._reps[canon] = reps
            return changes
        if not members:
            return changes
        new = members[0]
        self._members[new] = members
        if new not in reps:
            reps.insert(0, new)
        self._reps[new] = reps
        self._index(new)
        for m in members:
            self._case[m] = new
            changes[self._ids[m]] = self._ids[new]
        self._by_symbol(new)
        return changes

    def _candidates(self, f: FindingFeatures) -> list[tuple[int, list[int]]]:
        """Candidate cases, most similar first: (canonical, representatives hit)."""
        hits = [
            k for k in self._lsh.query(to_minhash(f.signature ^ _package_salt(f.package))) if isinstance(k, int)
        ]
        hits = [k for k in hits if self._features[k].package == f.package]
        by_case: dict[int, list[int]] = {}
        best: dict[int, float] = {}
        if hits:
            sims = (self._sig[hits] == f.signature).mean(axis=1)
            for k, s in zip(hits, sims.tolist(), strict=True):
                c = self._case[k]
                by_case.setdefault(c, []).append(k)
                if s > best.get(c, -1.0):
                    best[c] = s
        ranked = sorted(by_case, key=lambda c: -best[c])[: self.config.max_candidate_cases]
        if f.symbol:
            for c in self._symbols.get((f.package, f.symbol.rsplit(".", 1)[-1]), ()):
                c = self._case[c]
                if c not in by_case:
                    by_case[c] = []
                    ranked.append(c)
        return [(c, by_case[c]) for c in ranked]

    def _decide(self, finding_id: str, f: FindingFeatures) -> DedupDecision:
        cfg = self.config
        if f.strong:
            hit = self._fingerprints.get(f.fingerprint)
            if hit is not None:
                canon = self._case[hit]
                auto = len(self._members[canon]) < cfg.max_auto_case_size
                return DedupDecision(
                    finding_id,
                    Relation.DUPLICATE_OF,
                    self._ids[canon] if auto else finding_id,
                    self._ids[hit],
                    self._ids[canon],
                    1.0,
                    auto,
                    ("exact fingerprint",),
                )
        scored: list[tuple[_Score, int, int]] = []  # (score, case canonical, target finding)
        for canon, reps in self._candidates(f):
            s = compare(f, self._features[canon], cfg)
            target = canon
            if s.relation is not Relation.DUPLICATE_OF:
                member_scores = [
                    (compare(f, self._features[r], cfg), r) for r in reps if r != canon and self._case[r] == canon
                ]
                dups = sorted(
                    (x for x in member_scores if x[0].relation is Relation.DUPLICATE_OF),
                    key=lambda x: -x[0].confidence,
                )
                if len(dups) >= cfg.k_members:
                    weakest = dups[cfg.k_members - 1][0]
                    s = _Score(
                        Relation.DUPLICATE_OF,
                        weakest.confidence,
                        weakest.text,
                        weakest.location,
                        (*weakest.reasons, f"matched {len(dups)} members, not the canonical"),
                    )
                    target = dups[0][1]
            scored.append((s, canon, target))
        if not scored:
            return DedupDecision(finding_id, Relation.NEW, finding_id, None, None, 0.0, False, ("no candidates",))
        scored.sort(key=lambda x: (_RANK[x[0].relation], x[0].confidence), reverse=True)
        best, canon, target = scored[0]
        if best.relation is Relation.NEW:
            return DedupDecision(finding_id, Relation.NEW, finding_id, None, None, 0.0, False, ("no close match",))
        reasons = list(best.reasons)
        auto = best.relation is Relation.DUPLICATE_OF and best.confidence >= cfg.auto_merge_threshold
        if auto and len(self._members[canon]) >= cfg.max_auto_case_size:
            auto = False
            reasons.append(f"case has {cfg.max_auto_case_size}+ findings: analyst to confirm")
        if auto and best.location not in ("symbol", "mention"):
            runner_up = next((s for s, c, _ in scored[1:] if s.relation is Relation.DUPLICATE_OF), None)
            if runner_up is not None and best.confidence - runner_up.confidence < cfg.ambiguity_margin:
                auto = False
                reasons.append("ambiguous: another case matches about as well")
        return DedupDecision(
            finding_id,
            best.relation,
            self._ids[canon] if auto else finding_id,
            self._ids[target],
            self._ids[canon],
            best.confidence,
            auto,
            tuple(reasons),
        )

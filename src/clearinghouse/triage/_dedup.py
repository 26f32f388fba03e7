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
canonical finding directly, or at least ``k_members`` of the case's indexed
representatives directly; never through a chain of pairwise matches (A~B and B~C do not
put C with A). Auto-merge stops at ``max_auto_case_size`` members.

The index holds no database state: persist each decision's ``case_id`` and
rebuild on start with ``add(finding_id, features, case_id=stored_case)`` in
the original order. It is not thread-safe; serialize calls.
"""

from __future__ import annotations

import enum
import functools
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz

from clearinghouse.domain import registry_kind
from clearinghouse.triage._fingerprint import (
    NUM_PERM,
    U32,
    FindingFeatures,
    cwe_relation,
    fix_relation,
    stem,
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
    bands: int = 21
    """LSH bands; ``bands * rows <= NUM_PERM``. 21 bands of 3 rows: a pair at Jaccard 0.4 is found
    with probability 0.75, at 0.5 with 0.93 (findings that name a symbol are also found through it)."""
    rows: int = 3
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
    max_representatives: int = 4
    """Findings per case in the LSH index (the canonical included)."""
    representative_novelty: float = 0.6
    """A member is indexed only if its estimated Jaccard with every indexed member is below this."""
    max_auto_case_size: int = 200
    """A case this big takes no more automatic merges (proposals only)."""
    max_candidate_cases: int = 8
    """Cases checked per finding, the most similar first."""
    max_candidate_hits: int = 64
    """LSH hits considered per finding (the most similar by estimated Jaccard)."""
    ambiguity_margin: float = 0.05
    """A weak-location duplicate merges only if it beats the next case by this much."""
    text_duplicate: float = 0.35
    """Without a code location: least :func:`text_overlap` of a (proposed) duplicate ..."""
    text_duplicate_confidence: float = 0.55
    """... and least confidence (text with the structural evidence)."""
    text_related: float = 0.30
    """Without a code location: least text overlap for ``related``."""
    scan_package_cases: int = 48
    weigh_terms: bool = True
    """Weigh words by what they say about which bug (:class:`TermWeights`) in text comparisons."""
    text_base: float = 0.42
    """Without a code location: confidence = ``text_base + text_slope * text`` + the evidence."""
    text_slope: float = 0.55
    fix_agree: float = 0.04
    """Without a code location: both ranges end at the same fix (``<1.4.4``, ``<=1.4.3``) ..."""
    fix_differ: float = -0.12
    """... or both end at fixes and no two name the same one (``<1.4.4``, ``<1.6.1``)."""
    title_identifier_bonus: float = 0.04
    title_differ: float = 0.0
    unbounded_is_unknown: bool = True
    """Two "all versions" ranges are no evidence of one bug (without a code location)."""
    """Both titles say enough and share almost nothing (see ``_title_relation``)."""
    """Both titles name the same identifier (``Use-of-uninitialized-value in init_fuji_block``)."""

    @property
    def fix_adjust(self) -> dict[str, float]:
        return {"agree": self.fix_agree, "differ": self.fix_differ, "unknown": 0.0}

    """Weigh words by what they say about which bug (:class:`TermWeights`) in text comparisons."""
    """A package with at most this many cases has every case checked (not only the LSH hits)."""


@dataclass(frozen=True, slots=True)
class PairScore:
    """How one finding relates to another (see :func:`compare`)."""

    relation: Relation
    confidence: float
    text: float
    location: str
    reasons: tuple[str, ...]


# Confidence of a duplicate: a base by how well the code location agrees, plus up to 0.2 for text
# above the floor, plus or minus the structural evidence.
_LOCATION_BASE = {"symbol": 0.80, "mention": 0.76, "file": 0.65, "unknown": 0.60, "conflict": 0.0}
_CWE_ADJUST = {"agree": 0.05, "near": 0.02, "unknown": 0.0, "conflict": -0.06}
_VERSION_ADJUST = {
    "same": 0.03,
    "overlap": 0.02,
    "neutral": 0.0,
    "unknown": 0.0,
    "outside": -0.05,
    "disjoint": -0.10,
}
_ALIAS_ADJUST = {"agree": 0.10, "unknown": 0.0, "conflict": -0.25}
_NO_MATCH = PairScore(Relation.NEW, 0.0, 0.0, "unknown", ())
LocationAgreement = Literal["symbol", "mention", "file", "unknown", "conflict"]


def location_agreement(a: FindingFeatures, b: FindingFeatures) -> LocationAgreement:
    """How the code locations of two findings agree.

    Both name a symbol: ``symbol`` if the symbols agree, else ``conflict``.
    Otherwise different files are a ``conflict``; then ``mention`` if the one
    without a symbol writes the other's (distinctive) symbol in its text,
    ``file`` if both name the same file, else ``unknown``.
    """
    if a.symbol and b.symbol:
        return "symbol" if symbols_agree(a.symbol, b.symbol) else "conflict"
    same_file: bool | None = None
    if a.file and b.file:
        same_file = a.file == b.file or a.file.endswith("/" + b.file) or b.file.endswith("/" + a.file)
        if not same_file:
            return "conflict"
    named = a.symbol or b.symbol
    if named and _distinctive(named):
        other = b if a.symbol else a
        if other.mentions(named):
            return "mention"
    return "file" if same_file else "unknown"


def _symbol_key(symbol: str) -> str:
    """A symbol's last part as the text normalizer writes it (what the symbol index is keyed by)."""
    return stem(symbol.rsplit(".", 1)[-1])


def _distinctive(symbol: str) -> bool:
    """Whether a symbol's name is unlikely to be an ordinary word of a write-up (``http``, ``parse``)."""
    tail = symbol.rsplit(".", 1)[-1]
    return "_" in tail or len(tail) >= 10 or any(ch.isdigit() for ch in tail)


_LOCATION_RANK = {"symbol": 2, "mention": 2, "file": 1, "unknown": 1, "conflict": 0}


def alias_agreement(a: frozenset[str], b: frozenset[str]) -> Literal["agree", "conflict", "unknown"]:
    """``agree``: a shared public id; ``conflict``: both cite ids of one public registry (CVE,
    GHSA, PYSEC...), none shared. Only registry ids count (:func:`registry_kind`): a finder's own
    report id is provenance, and two finders' report ids never conflict."""
    a = frozenset(x for x in a if registry_kind(x) is not None)
    b = frozenset(x for x in b if registry_kind(x) is not None)
    if not a or not b:
        return "unknown"
    if a & b:
        return "agree"
    kinds_a = {registry_kind(x) for x in a}
    kinds_b = {registry_kind(x) for x in b}
    return "conflict" if kinds_a & kinds_b else "unknown"


class TermWeights:
    """How much each normalized word says about *which bug* a write-up describes, learned from the
    findings indexed so far: rare words weigh more (``log(N / df)`` over all findings), and words
    that several cases of the same package already use weigh less (divided by that number of cases):
    a package's own vocabulary ("federated learning infrastructure", "XSS with certain
    configurations of rails-html-sanitizer") is shared by every bug of that package and tells its
    bugs apart no better than the package name does.

    A finding's weights are computed once and reused until its package takes a new case or the
    number of findings grows by an eighth (document frequencies drift slowly), so a comparison
    costs a few numpy operations. Deterministic in the order findings were added. Without weights
    (``None``) every word weighs 1.
    """

    __slots__ = ("_df", "_memo", "_n", "_package", "_version")

    MEMO_LIMIT = 200_000

    def __init__(self) -> None:
        self._df: dict[int, int] = {}
        self._n = 0
        self._package: dict[str, dict[int, int]] = {}
        self._version: dict[str, int] = {}  # package -> cases added to it
        # id(tokens) -> (tokens, findings counted, package version, weights)
        self._memo: dict[int, tuple[U32, int, int, npt.NDArray[np.float32]]] = {}

    def add_finding(self, tokens: U32) -> None:
        df = self._df
        for t in tokens.tolist():
            df[t] = df.get(t, 0) + 1
        self._n += 1

    def add_case(self, package: str, tokens: U32) -> None:
        counts = self._package.setdefault(package, {})
        for t in tokens.tolist():
            counts[t] = counts.get(t, 0) + 1
        self._version[package] = self._version.get(package, 0) + 1

    def weigh(self, package: str, tokens: U32) -> npt.NDArray[np.float32]:
        """The weight of each word of ``tokens`` in a comparison within ``package``."""
        if tokens.size == 0:
            return np.empty(0, dtype=np.float32)
        version = self._version.get(package, 0)
        hit = self._memo.get(id(tokens))
        if hit is not None and hit[0] is tokens and hit[2] == version and self._n <= hit[1] + hit[1] // 8:
            return hit[3]
        df, counts = self._df, self._package.get(package, {})
        n = self._n + 1.0
        toks = tokens.tolist()
        dfs = np.fromiter((df.get(t, 0) for t in toks), dtype=np.float64, count=len(toks))
        cases = np.fromiter((counts.get(t, 0) for t in toks), dtype=np.float64, count=len(toks))
        idf = np.log((n + 1.0) / (np.minimum(dfs, n) + 0.5))
        out = (idf / np.maximum(cases, 1.0)).astype(np.float32)
        if len(self._memo) >= self.MEMO_LIMIT:
            self._memo.clear()
        self._memo[id(tokens)] = (tokens, self._n, version, out)
        return out


def text_overlap(a: FindingFeatures, b: FindingFeatures, weights: TermWeights | None = None) -> float:
    """Similarity of two findings' normalized words, blind to order and robust to rewording.

    The mean of the Jaccard index and the containment (shared words over the smaller set) of the
    word sets: sentences shuffled or dropped, an intro or outro added, synonyms swapped cost little,
    while another bug's write-up shares only the package's vocabulary. Very short texts use the
    Jaccard index alone (a title is contained in many write-ups)."""
    x, y = a.tokens, b.tokens
    if x.size == 0 or y.size == 0:
        return 0.0
    if weights is None:
        shared_n = int(np.intersect1d(x, y, assume_unique=True).size)
        smaller_n = min(x.size, y.size)
        jaccard = shared_n / (x.size + y.size - shared_n)
        if smaller_n < _SHORT_TEXT:
            return jaccard
        return 0.5 * (jaccard + shared_n / smaller_n)
    _, ix, _ = np.intersect1d(x, y, assume_unique=True, return_indices=True)
    wx, wy = weights.weigh(a.package, x), weights.weigh(b.package, y)
    shared = float(wx[ix].sum(dtype=np.float64))
    total_x, total_y = float(wx.sum(dtype=np.float64)), float(wy.sum(dtype=np.float64))
    union = total_x + total_y - shared
    if union <= 0.0:
        return 0.0
    jaccard = shared / union
    if min(x.size, y.size) < _SHORT_TEXT:
        return jaccard
    return 0.5 * (jaccard + shared / max(1e-9, min(total_x, total_y)))


_SHORT_TEXT = 8
RareAgreement = Literal["agree", "partial", "conflict", "unknown"]


def rare_agreement(a: FindingFeatures, b: FindingFeatures) -> RareAgreement:
    """How the identifiers two findings name agree: ``conflict`` when both titles name identifiers
    and none is shared (``... in CharToWide`` and ``... in CharToWideMap``), or the texts name
    mostly different ones (another function, another file); ``agree`` when most of the smaller set
    is shared and each side's own identifiers are not both many; else ``partial``."""
    if a.title_rare and b.title_rare and not (a.title_rare & b.title_rare):
        return "conflict"
    # Both cite the same site, never the same page: two reports in one tracker.
    if (
        a.urls
        and b.urls
        and not (a.urls & b.urls)
        and {u.split("/", 1)[0] for u in a.urls} & {u.split("/", 1)[0] for u in b.urls}
    ):
        return "conflict"
    x, y = a.rare, b.rare
    if not x or not y:
        return "unknown"
    shared = len(x & y)
    share = shared / min(len(x), len(y))
    if share < 0.34:
        return "conflict"
    if share >= 0.6 and min(len(x), len(y)) - shared <= 1:
        return "agree"
    return "partial"


# Text-only evidence (no code location on one side): confidence = base + slope * text + adjustments.
_RARE_ADJUST = {"agree": 0.07, "partial": -0.03, "conflict": -0.20, "unknown": 0.0}
_TEXT_CWE_ADJUST = {"agree": 0.03, "near": 0.01, "unknown": 0.0, "conflict": -0.12}
_TEXT_VERSION_ADJUST = {
    "same": 0.05,
    "overlap": 0.03,
    "neutral": 0.0,
    "unknown": 0.0,
    "outside": -0.08,
    "disjoint": -0.20,
}
_TEXT_ALIAS_ADJUST = {"agree": 0.12, "unknown": 0.0, "conflict": -0.35}


def _title_relation(a: FindingFeatures, b: FindingFeatures, weights: TermWeights | None) -> str:
    """``differ`` when both titles say enough (``_TITLE_WORDS`` words each) and share (almost)
    nothing: "File content disclosure in Action View" and "Denial of service in Action View"."""
    x, y = a.title_tokens, b.title_tokens
    if x.size < _TITLE_WORDS or y.size < _TITLE_WORDS:
        return "unknown"
    _, ix, _ = np.intersect1d(x, y, assume_unique=True, return_indices=True)
    if weights is None:
        share = ix.size / min(x.size, y.size)
    else:
        wx, wy = weights.weigh(a.package, x), weights.weigh(b.package, y)
        share = float(wx[ix].sum(dtype=np.float64)) / max(
            1e-9, min(float(wx.sum(dtype=np.float64)), float(wy.sum(dtype=np.float64)))
        )
    return "differ" if share < _TITLE_SHARE else ("agree" if share >= 0.5 else "partial")


_TITLE_WORDS = 3
_TITLE_SHARE = 0.2


def _compare_text(
    a: FindingFeatures, b: FindingFeatures, cfg: DedupConfig, weights: TermWeights | None = None
) -> PairScore:
    """Findings without a shared code location: the package, the affected ranges, the public ids,
    the CWEs, the identifiers the texts name and the texts themselves decide."""
    text = round(text_overlap(a, b, weights), 3)
    rare = rare_agreement(a, b)
    cwe = cwe_relation(a.cwes, b.cwes)
    ver = a.affected.relation(b.affected)
    alias = alias_agreement(a.aliases, b.aliases)
    if ver == "same" and a.affected.unbounded and cfg.unbounded_is_unknown:
        ver = "unknown"  # "all versions" on both sides: every malicious-package report says so
    fix = fix_relation(a.affected, b.affected) if ver in ("overlap", "same") else "unknown"
    titled = bool(a.title_rare & b.title_rare)
    title = _title_relation(a, b, weights)
    reasons = (
        f"text={text:.2f}",
        "location=unknown",
        f"identifiers={rare}{'+title' if titled else ''}",
        f"cwe={cwe}",
        f"versions={ver}",
        f"fix={fix}",
        f"title={title}",
        f"aliases={alias}",
    )
    confidence = cfg.text_base + cfg.text_slope * text
    confidence += _RARE_ADJUST[rare] + _TEXT_CWE_ADJUST[cwe] + _TEXT_VERSION_ADJUST[ver]
    confidence += cfg.title_differ if title == "differ" else 0.0
    confidence += cfg.fix_adjust[fix] + (cfg.title_identifier_bonus if titled and rare != "conflict" else 0.0)
    confidence += _TEXT_ALIAS_ADJUST[alias]
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    if alias == "conflict" or ver == "disjoint":
        if text >= cfg.text_related:
            return PairScore(Relation.RELATED, min(confidence, 0.5), text, "unknown", reasons)
        return PairScore(Relation.NEW, 0.0, text, "unknown", reasons)
    if alias == "agree" or (text >= cfg.text_duplicate and confidence >= cfg.text_duplicate_confidence):
        return PairScore(Relation.DUPLICATE_OF, confidence, text, "unknown", reasons)
    if text >= cfg.text_related:
        return PairScore(Relation.RELATED, min(confidence, 0.5), text, "unknown", reasons)
    return PairScore(Relation.NEW, 0.0, text, "unknown", reasons)


def compare(
    a: FindingFeatures,
    b: FindingFeatures,
    config: DedupConfig | None = None,
    weights: TermWeights | None = None,
) -> PairScore:
    """Score one pair of findings of the same package (the index's pairwise test). ``weights``
    (the index's :class:`TermWeights`) weigh the words of texts compared without a code location."""
    cfg = config or DedupConfig()
    if a.package != b.package:
        return _NO_MATCH
    loc = location_agreement(a, b)
    if loc == "unknown":
        return _compare_text(a, b, cfg, weights)
    text = fuzz.token_set_ratio(a.text, b.text) / 100.0
    cwe = cwe_relation(a.cwes, b.cwes)
    ver = a.affected.relation(b.affected)
    alias = alias_agreement(a.aliases, b.aliases)
    reasons = (f"text={text:.2f}", f"location={loc}", f"cwe={cwe}", f"versions={ver}", f"aliases={alias}")
    if loc == "conflict":
        if text >= cfg.related_text or alias == "agree":
            return PairScore(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
        return PairScore(Relation.NEW, 0.0, text, loc, reasons)
    strong_loc = loc in ("symbol", "mention")
    floor = cfg.duplicate_text if strong_loc else cfg.duplicate_text_no_location
    if alias == "agree":
        floor -= 0.15
    confidence = _LOCATION_BASE[loc] + 0.20 * (text - floor) / max(1e-9, 1.0 - floor)
    confidence += _CWE_ADJUST[cwe] + _VERSION_ADJUST[ver] + _ALIAS_ADJUST[alias]
    confidence = max(0.0, min(1.0, confidence))
    confidence = round(confidence, 3)
    same_root = strong_loc and cwe in ("agree", "near", "unknown")
    if ver == "disjoint" or alias == "conflict":
        if same_root:
            return PairScore(Relation.VARIANT_OF, min(confidence, 0.8), text, loc, reasons)
        return PairScore(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
    if text >= floor:
        return PairScore(Relation.DUPLICATE_OF, confidence, text, loc, reasons)
    if same_root:
        return PairScore(Relation.VARIANT_OF, min(confidence, 0.8), text, loc, reasons)
    if text >= cfg.related_text:
        return PairScore(Relation.RELATED, round(0.5 * text, 3), text, loc, reasons)
    return PairScore(Relation.NEW, 0.0, text, loc, reasons)


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
        self._pkg = np.empty(1024, dtype=np.int32)  # finding -> package number
        self._package_ids: dict[str, int] = {}
        self._case: list[int] = []  # finding -> canonical finding of its case
        self._members: dict[int, list[int]] = {}  # canonical -> members (canonical first)
        self._reps: dict[int, list[int]] = {}  # canonical -> members in the LSH index
        self._indexed: set[int] = set()
        self._fingerprints: dict[str, list[int]] = {}  # strong fingerprint -> first findings with it
        self._last: tuple[FindingFeatures, MinHash] | None = None
        self._symbols: dict[tuple[str, str], list[int]] = {}  # (package, symbol tail) -> canonicals
        self._package_cases: dict[int, list[int]] = {}  # package number -> canonicals (some stale)
        self._weights: TermWeights | None = TermWeights() if cfg.weigh_terms else None

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
                decision = DedupDecision(
                    finding_id, Relation.NEW, finding_id, None, None, 1.0, False, ("restored",)
                )
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
            self._pkg = np.concatenate((self._pkg, np.empty_like(self._pkg)))
        self._sig[i] = features.signature
        self._pkg[i] = self._package_ids.setdefault(features.package, len(self._package_ids))
        self._ids.append(finding_id)
        self._pos[finding_id] = i
        self._features.append(features)
        self._case.append(i)
        if self._weights is not None:
            self._weights.add_finding(features.tokens)
        if features.strong:
            holders = self._fingerprints.setdefault(features.fingerprint, [])
            if len(holders) < 8:
                holders.append(i)
        return i

    def _start_case(self, i: int) -> None:
        self._case[i] = i
        if self._weights is not None:
            self._weights.add_case(self._features[i].package, self._features[i].tokens)
        self._members[i] = [i]
        self._reps[i] = [i]
        self._index(i)
        self._by_symbol(i)
        self._by_package(i)

    def _by_package(self, canon: int) -> None:
        cases = self._package_cases.setdefault(int(self._pkg[canon]), [])
        if len(cases) <= 4 * self.config.scan_package_cases:
            cases.append(canon)

    def _package_canonicals(self, pid: int) -> list[int]:
        """The package's current cases, when there are few enough to check them all."""
        stored = self._package_cases.get(pid, [])
        if len(stored) > 2 * self.config.scan_package_cases:
            return []
        live = list(dict.fromkeys(self._case[c] for c in stored))
        if len(live) < len(stored):
            self._package_cases[pid] = live
        return live if len(live) <= self.config.scan_package_cases else []

    def _by_symbol(self, canon: int) -> None:
        f = self._features[canon]
        if f.symbol:
            bucket = self._symbols.setdefault((f.package, _symbol_key(f.symbol)), [])
            if len(bucket) < 64 and canon not in bucket:
                bucket.append(canon)

    def _index(self, i: int) -> None:
        if i not in self._indexed:
            self._lsh.insert(i, self._salted(self._features[i]), check_duplication=False)
            self._indexed.add(i)

    def _salted(self, f: FindingFeatures) -> MinHash:
        """The package-salted MinHash the LSH index bands (the last one is kept for the insert)."""
        if self._last is not None and self._last[0] is f:
            return self._last[1]
        m = to_minhash(f.signature ^ _package_salt(f.package))
        self._last = (f, m)
        return m

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
        self._by_package(new)
        return changes

    def _exact_match(self, f: FindingFeatures) -> tuple[int, int] | None:
        """(finding, canonical) of a case this finding's strong fingerprint puts it in, if any.

        The fingerprint must be the canonical's, or ``k_members`` members' of the
        case, or the finding must also pass :func:`compare` against the canonical:
        equal fingerprints with a single member do not chain a finding into a case.
        """
        holders = self._fingerprints.get(f.fingerprint)
        if not holders:
            return None
        by_case: dict[int, list[int]] = {}
        for h in holders:
            by_case.setdefault(self._case[h], []).append(h)
        for canon, hs in by_case.items():
            if canon in hs or len(hs) >= self.config.k_members:
                return (canon if canon in hs else hs[0]), canon
        for canon, hs in by_case.items():
            if (
                compare(f, self._features[canon], self.config, self._weights).relation
                is Relation.DUPLICATE_OF
            ):
                return hs[0], canon
        return None

    def _candidates(self, f: FindingFeatures) -> list[int]:
        """Candidate cases (their canonical findings), best first.

        Cases whose canonical names the same symbol come first (from the symbol
        index, whatever their text), then the LSH hits ranked by location
        (agreeing, unknown, conflicting) and estimated Jaccard similarity.
        """
        best: dict[int, float] = {}
        found = self._lsh.query(self._salted(f))
        pid = self._package_ids.get(f.package)
        if pid is not None:
            found = set(found)
            for c in self._package_canonicals(pid):
                found.update(self._reps[c])
        if found and pid is not None:
            hits = np.fromiter(found, dtype=np.int64, count=len(found))
            hits = hits[self._pkg[hits] == pid]  # the salt scopes by package; this makes sure
            sims = (self._sig[hits] == f.signature).mean(axis=1)
            limit = self.config.max_candidate_hits
            if len(hits) > limit:
                top = np.argpartition(-sims, limit)[:limit]
                hits, sims = hits[top], sims[top]
            for k, sim in zip(hits.tolist(), sims.tolist(), strict=True):
                c = self._case[k]
                if sim > best.get(c, -1.0):
                    best[c] = sim
        pinned: list[int] = []
        if f.symbol:
            keys = [_symbol_key(f.symbol)]
        else:  # no symbol: the symbols its text names
            keys = sorted(stem(w) for w in f.rare if _distinctive(w))[:32]
        for key in keys:
            for c in self._symbols.get((f.package, key), ()):
                c = self._case[c]
                if c not in pinned:
                    pinned.append(c)
        pinned = pinned[: self.config.max_candidate_cases]
        rest = [c for c in best if c not in pinned]
        rest.sort(
            key=lambda c: (_LOCATION_RANK[location_agreement(f, self._features[c])], best[c]), reverse=True
        )
        return pinned + rest[: max(0, self.config.max_candidate_cases - len(pinned))]

    def _decide(self, finding_id: str, f: FindingFeatures) -> DedupDecision:
        cfg = self.config
        if f.strong:
            exact = self._exact_match(f)
            if exact is not None:
                hit, canon = exact
                auto = len(self._members[canon]) < cfg.max_auto_case_size
                return DedupDecision(
                    finding_id,
                    Relation.DUPLICATE_OF,
                    self._ids[canon] if auto else finding_id,
                    self._ids[hit],
                    self._ids[canon],
                    1.0,
                    auto,
                    ("exact fingerprint",)
                    if auto
                    else (
                        "exact fingerprint",
                        f"case has {cfg.max_auto_case_size}+ findings: analyst to confirm",
                    ),
                )
        scored: list[tuple[PairScore, int, int]] = []  # (score, case canonical, target finding)
        for canon in self._candidates(f):
            s = compare(f, self._features[canon], cfg, self._weights)
            target = canon
            others = [r for r in self._reps[canon] if r != canon]
            if (
                s.relation is not Relation.DUPLICATE_OF
                and s.location != "conflict"
                and len(others) >= cfg.k_members
            ):
                member_scores = [(compare(f, self._features[r], cfg, self._weights), r) for r in others]
                dups = sorted(
                    (x for x in member_scores if x[0].relation is Relation.DUPLICATE_OF),
                    key=lambda x: -x[0].confidence,
                )
                if len(dups) >= cfg.k_members:
                    weakest = dups[cfg.k_members - 1][0]
                    s = PairScore(
                        Relation.DUPLICATE_OF,
                        weakest.confidence,
                        weakest.text,
                        weakest.location,
                        (*weakest.reasons, f"matched {len(dups)} members, not the canonical"),
                    )
                    target = dups[0][1]
            if (
                s.location == "unknown"
                and len(others) > 0
                and not (s.relation is Relation.DUPLICATE_OF and s.confidence >= cfg.auto_merge_threshold)
            ):
                # No code location: the case's representatives are members it took with high
                # confidence (or an analyst confirmed); the best direct match among them counts.
                for r in others:
                    m = compare(f, self._features[r], cfg, self._weights)
                    if (_RANK[m.relation], m.confidence) > (_RANK[s.relation], s.confidence):
                        s = PairScore(
                            m.relation,
                            m.confidence,
                            m.text,
                            m.location,
                            (*m.reasons, f"matched member {self._ids[r]}"),
                        )
                        target = r
            scored.append((s, canon, target))
            if (
                s.relation is Relation.DUPLICATE_OF
                and s.location in ("symbol", "mention")
                and s.confidence >= cfg.auto_merge_threshold
            ):
                break  # a sure match at the same code location: the rest cannot do better
        if not scored:
            return DedupDecision(
                finding_id, Relation.NEW, finding_id, None, None, 0.0, False, ("no candidates",)
            )
        scored.sort(key=lambda x: (_RANK[x[0].relation], x[0].confidence), reverse=True)
        best, canon, target = scored[0]
        if best.relation is Relation.NEW:
            return DedupDecision(
                finding_id, Relation.NEW, finding_id, None, None, 0.0, False, ("no close match",)
            )
        reasons = list(best.reasons)
        auto = best.relation is Relation.DUPLICATE_OF and best.confidence >= cfg.auto_merge_threshold
        if auto and len(self._members[canon]) >= cfg.max_auto_case_size:
            auto = False
            reasons.append(f"case has {cfg.max_auto_case_size}+ findings: analyst to confirm")
        if auto and best.location not in ("symbol", "mention"):
            runner = next(((s, c) for s, c, _ in scored[1:] if s.relation is Relation.DUPLICATE_OF), None)
            if (
                runner is not None
                and best.confidence - runner[0].confidence < cfg.ambiguity_margin
                and not (
                    # Without a location, two cases that match each other as well are one bug
                    # reported twice: joining the better one is no risk; two distinct bugs are.
                    best.location == "unknown"
                    and compare(self._features[canon], self._features[runner[1]], cfg, self._weights).relation
                    is Relation.DUPLICATE_OF
                )
            ):
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

"""Finding fingerprints: what deduplication compares, computed once per finding.

Three layers, from exact to fuzzy:

* **Normalization per ecosystem** of the affected package (PEP 503 names for
  PyPI, lowercase npm names and scopes, Maven ``group:artifact``, Go module
  paths), of the affected range (a version or a ``vers`` range), of CWE ids,
  and of the code location (file path and symbol).
* **The exact fingerprint**: SHA-256 over (package, affected range, sorted CWE
  ids, file, symbol). It is *strong* (enough on its own to call two findings
  duplicates) only when it names a symbol: without one it would equate every
  finding of the same CWE in the same package and version.
* **The text signature** for near-duplicate matching: title and description
  lowercased, stripped of URLs, versions, hex strings, numbers, punctuation and
  boilerplate words, lightly stemmed, then cut into word shingles (single words:
  paraphrase breaks word n-grams) whose 32-bit hashes feed a MinHash
  (datasketch's ``affine32`` scheme, fixed ``NUM_PERM`` and ``MINHASH_SEED``).
  MinHashes are computed with numpy over the whole shingle array, and over many
  findings at once in :func:`extract_features_many`.

Everything here is deterministic across processes (no use of Python's salted
``hash``), so an index can be rebuilt from stored findings at start-up.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
from datasketch import MinHash
from packageurl import PackageURL

from clearinghouse.domain import public_ids
from clearinghouse.domain.finding import FindingSubmission

NUM_PERM = 64
"""MinHash permutations (the index bands 63 of them: 21 bands of 3 rows)."""
MINHASH_SEED = 20_260_101
"""Fixed seed of the MinHash permutations. Signatures are not stored, only recomputed from
findings; changing it (or the normalizer) only needs the index rebuilt."""
MAX_TOKENS = 600
"""Tokens of title and description that go into shingles (long write-ups are cut)."""
MAX_TEXT_CHARS = 2_000
"""Characters of normalized text kept for fuzzy string comparison."""

U32 = npt.NDArray[np.uint32]

# --------------------------------------------------------------------------- packages


@dataclass(frozen=True, slots=True)
class PackageIdentity:
    """A package normalized for its ecosystem. ``key`` is what deduplication scopes by."""

    type: str
    namespace: str | None
    name: str

    @property
    def key(self) -> str:
        if self.type == "maven":
            return f"maven:{self.namespace}:{self.name}" if self.namespace else f"maven:{self.name}"
        if self.namespace:
            return f"{self.type}:{self.namespace}/{self.name}"
        return f"{self.type}:{self.name}"


def pep503_name(name: str) -> str:
    """PEP 503: runs of ``-``, ``_`` and ``.`` become one ``-``, lowercased."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _go_module_path(path: str) -> str:
    path = re.sub(r"^(?:https?://)?", "", path.strip()).removesuffix(".git").strip("/")
    return path.lower()


def normalize_package(purl: str) -> PackageIdentity:
    """Normalize a purl's type, namespace and name (its version and qualifiers are dropped).

    * ``pypi``: PEP 503 name, no namespace.
    * ``npm``: lowercase name and scope, the scope always with its ``@``.
    * ``maven``: ``group:artifact``, lowercased (coordinates are lowercase in practice).
    * ``golang``: the whole module path as the name, lowercased, without scheme or ``.git``.
    * ``github``/``gitlab``/``bitbucket`` and the rest: lowercase namespace and name.
    """
    return _parse_purl(purl)[0]


def _parse_purl(purl: str) -> tuple[PackageIdentity, str | None]:
    """(identity, version). The identity is cached on the purl without its version and qualifiers."""
    core = purl.partition("#")[0].partition("?")[0]
    head, sep, version = core.rpartition("@")
    if sep and version and "/" not in version and not head.endswith("/"):
        return _identity_of(head), unquote(version)
    return _identity_of(core), None


@functools.lru_cache(maxsize=65_536)
def _identity_of(purl: str) -> PackageIdentity:
    return _identity(PackageURL.from_string(purl))


def _identity(parsed: PackageURL) -> PackageIdentity:
    kind = parsed.type.lower()
    namespace = (parsed.namespace or "").strip() or None
    name = parsed.name.strip()
    if kind == "pypi":
        return PackageIdentity(kind, None, pep503_name(name))
    if kind == "npm":
        scope = namespace.lower() if namespace else None
        if scope is not None and not scope.startswith("@"):
            scope = "@" + scope
        return PackageIdentity(kind, scope, name.lower())
    if kind == "golang":
        full = f"{namespace}/{name}" if namespace else name
        return PackageIdentity(kind, None, _go_module_path(full))
    if kind in ("github", "gitlab", "bitbucket"):
        return PackageIdentity(
            kind, namespace.lower() if namespace else None, name.lower().removesuffix(".git")
        )
    return PackageIdentity(kind, namespace.lower() if namespace else None, name.lower())


# --------------------------------------------------------------------------- versions


VersionKey = tuple[tuple[int, int, str], ...]
Span = tuple[VersionKey | None, bool, VersionKey | None, bool]
"""(low, low inclusive, high, high inclusive); ``None`` is unbounded."""

_PRE_RELEASE = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "pre": 3, "preview": 3, "c": 4, "rc": 4}


def normalize_version(version: str) -> str:
    v = version.strip().lower()
    if len(v) > 1 and v[0] == "v" and v[1].isdigit():
        v = v[1:]
    return v


@functools.lru_cache(maxsize=65_536)
def version_key(version: str) -> VersionKey:
    """A sortable key for a version string, good enough to compare ranges across ecosystems.

    Numbers compare as numbers, pre-release tags (``a``, ``b``, ``rc``, ``dev``)
    sort before the release they precede, and trailing zero components are ignored.
    """
    pieces = re.findall(r"\d+|[a-z]+", normalize_version(version))
    release = 0
    while release < len(pieces) and pieces[release].isdigit():
        release += 1
    while release > 1 and int(pieces[release - 1]) == 0:  # 1.0.0 == 1.0 == 1
        release -= 1
        del pieces[release]
    parts: list[tuple[int, int, str]] = []
    for piece in pieces:
        if piece.isdigit():
            parts.append((2, int(piece), ""))
        elif piece in _PRE_RELEASE:
            parts.append((0, _PRE_RELEASE[piece], piece))
        else:
            parts.append((3, 0, piece))
    parts.append((1, 0, ""))  # end marker: 1.0 < 1.0.1 and 1.0rc1 < 1.0
    return tuple(parts)


@functools.lru_cache(maxsize=65_536)
def normalize_vers(vers: str) -> str:
    """``vers:<type>/<constraints>`` with lowercase type, versions normalized and constraints sorted."""
    head, _, tail = vers.strip().partition("/")
    constraints = [c.strip() for c in tail.split("|") if c.strip()]
    out: list[tuple[VersionKey, str]] = []
    for c in constraints:
        m = re.match(r"^(>=|<=|!=|>|<|=)?\s*(.+)$", c)
        if m is None:  # pragma: no cover - the regex matches any non-empty string
            continue
        op, ver = m.group(1) or "=", m.group(2)
        if ver == "*":
            out.append(((), "*"))
            continue
        out.append((version_key(ver), f"{op if op != '=' else ''}{normalize_version(ver)}"))
    out.sort(key=lambda item: item[0])
    return f"{head.lower()}/{'|'.join(text for _, text in out)}"


@functools.lru_cache(maxsize=65_536)
def parse_vers(vers: str) -> tuple[Span, ...]:
    """The spans a ``vers`` range covers (empty when it cannot be read)."""
    _, _, tail = vers.partition("/")
    constraints: list[tuple[VersionKey, str]] = []
    for c in tail.split("|"):
        c = c.strip()
        if not c:
            continue
        if c == "*":
            return ((None, True, None, True),)
        m = re.match(r"^(>=|<=|!=|>|<|=)?\s*(.+)$", c)
        if m is None:  # pragma: no cover - the regex matches any non-empty string
            continue
        constraints.append((version_key(m.group(2)), m.group(1) or "="))
    constraints.sort(key=lambda item: item[0])
    spans: list[Span] = []
    low: VersionKey | None = None
    low_incl = True
    open_low = False
    for key, op in constraints:
        if op == "=":
            spans.append((key, True, key, True))
        elif op in (">", ">="):
            low, low_incl, open_low = key, op == ">=", True
        elif op in ("<", "<="):
            spans.append((low if open_low else None, low_incl, key, op == "<="))
            open_low, low = False, None
    if open_low:
        spans.append((low, low_incl, None, True))
    return tuple(spans)


def _in_span(key: VersionKey, span: Span) -> bool:
    low, low_incl, high, high_incl = span
    if low is not None and (key < low or (key == low and not low_incl)):
        return False
    return not (high is not None and (key > high or (key == high and not high_incl)))


def _spans_meet(a: Span, b: Span) -> bool:
    a_low, a_low_incl, a_high, a_high_incl = a
    b_low, b_low_incl, b_high, b_high_incl = b
    if (
        a_high is not None
        and b_low is not None
        and (a_high < b_low or (a_high == b_low and not (a_high_incl and b_low_incl)))
    ):
        return False
    if b_high is not None and a_low is not None:
        return not (b_high < a_low or (b_high == a_low and not (b_high_incl and a_low_incl)))
    return True


RangeRelation = Literal["same", "overlap", "neutral", "outside", "disjoint", "unknown"]


@dataclass(frozen=True, slots=True)
class Affected:
    """The affected version(s) a finding claims: a point, a range, or both."""

    text: str
    point: VersionKey | None = None
    spans: tuple[Span, ...] = ()

    @property
    def unbounded(self) -> bool:
        """Every version (``vers:pypi/*``, ``>=0``): says nothing about which bug."""
        return bool(self.spans) and all(lo is None and hi is None for lo, _, hi, _ in self.spans)

    def relation(self, other: Affected) -> RangeRelation:
        """How two claims relate.

        ``same`` (identical text), ``overlap`` (the ranges meet or the point lies
        in the range), ``neutral`` (two different points: different builds of
        the same bug are common), ``outside`` (a point just outside a range:
        often a misreported version), ``disjoint`` (two ranges that do not
        meet: a different release line), ``unknown``.
        """
        if not self.text or not other.text:
            return "unknown"
        if self.text == other.text:
            return "same"
        # A vers that lists single versions (OSV ``versions``) says what a point version says.
        mine, theirs = _points(self.spans), _points(other.spans)
        if mine is not None and theirs is not None:
            return "same" if mine == theirs else ("overlap" if set(mine) & set(theirs) else "neutral")
        if mine is not None and other.spans:
            return "overlap" if any(_in_span(p, s) for p in mine for s in other.spans) else "outside"
        if theirs is not None and self.spans:
            return "overlap" if any(_in_span(p, s) for p in theirs for s in self.spans) else "outside"
        if self.spans and other.spans:
            return (
                "overlap" if any(_spans_meet(a, b) for a in self.spans for b in other.spans) else "disjoint"
            )
        if self.point is not None and other.point is not None:
            return "same" if self.point == other.point else "neutral"
        point = self.point if self.point is not None else other.point
        spans = self.spans or other.spans
        if point is None or not spans:
            return "unknown"
        return "overlap" if any(_in_span(point, s) for s in spans) else "outside"


FixRelation = Literal["agree", "differ", "unknown"]


def _fix_edges(a: Affected) -> list[tuple[VersionKey, bool]]:
    """The upper bounds of a range that are fixes or last affected versions: (version, inclusive)."""
    if _points(a.spans) is not None:
        return []
    return [(hi, incl) for _, _, hi, incl in a.spans if hi is not None]


def _release(key: VersionKey) -> tuple[int, ...]:
    return tuple(v for kind, v, _ in key if kind == 2)


def _edges_agree(x: tuple[VersionKey, bool], y: tuple[VersionKey, bool]) -> bool:
    """Equal, or ``<= last affected`` just below ``< fixed`` (same release line, last number lower):
    ``<=1.4.3`` and ``<1.4.4`` name one fix; ``<1.4.4`` and ``<1.6.1`` two."""
    (kx, ix), (ky, iy) = x, y
    if kx == ky:
        return True
    if ix == iy:
        return False
    last, fixed = (kx, ky) if ix else (ky, kx)
    if not last < fixed:
        return False
    rl, rf = _release(last), _release(fixed)
    width = max(len(rl), len(rf), 3)
    rl, rf = rl + (0,) * (width - len(rl)), rf + (0,) * (width - len(rf))
    return rl[:-1] == rf[:-1] or (rl[:-2] == rf[:-2] and rf[-1] == 0)


def fix_relation(a: Affected, b: Affected) -> FixRelation:
    """Whether two ranges end at the same fix: ``agree`` when some upper bound of one names the
    same fix as one of the other's (see :func:`_edges_agree`), ``differ`` when both end at fixes
    and none agrees (the same package fixed in different releases: usually different bugs),
    ``unknown`` when either has no upper bound (an open range, a point version)."""
    ea, eb = _fix_edges(a), _fix_edges(b)
    if not ea or not eb:
        return "unknown"
    return "agree" if any(_edges_agree(x, y) for x in ea for y in eb) else "differ"


def _points(spans: tuple[Span, ...]) -> tuple[VersionKey, ...] | None:
    """The versions of a range that only lists single versions (``None`` for a real range)."""
    if not spans or any(lo is None or lo != hi or not (li and hi_incl) for lo, li, hi, hi_incl in spans):
        return None
    return tuple(lo for lo, _, _, _ in spans if lo is not None)


def normalize_affected(version: str | None, vers: str | None) -> Affected:
    """The range wins over a point version when both are given (it says more)."""
    point = version_key(version) if version else None
    if vers:
        return Affected(normalize_vers(vers), point, parse_vers(vers))
    if version:
        return Affected("=" + normalize_version(version), point)
    return Affected("")


# --------------------------------------------------------------------------- CWE, location, aliases


def normalize_cwes(cwes: Iterable[str]) -> tuple[int, ...]:
    out: set[int] = set()
    for c in cwes:
        m = re.search(r"(\d+)", c)
        if m:
            out.add(int(m.group(1)))
    return tuple(sorted(out))


# Families of CWEs a finder plausibly confuses with each other. Pillars and the
# catch-all classes (20, 664, 707, ...) are "near" every CWE.
_CWE_FAMILIES: tuple[frozenset[int], ...] = tuple(
    frozenset(f)
    for f in (
        {
            118,
            119,
            120,
            121,
            122,
            123,
            124,
            125,
            126,
            127,
            129,
            131,
            170,
            193,
            680,
            786,
            787,
            788,
            805,
            806,
            823,
        },
        {189, 190, 191, 192, 194, 195, 196, 197, 369, 681, 682, 680, 128},
        {401, 404, 415, 416, 457, 476, 590, 664, 665, 672, 761, 762, 763, 772, 824, 825, 908, 909},
        {74, 75, 79, 80, 81, 83, 84, 85, 87, 116, 117, 1236, 644},
        {74, 77, 78, 88, 94, 95, 96, 917, 1336, 470, 184},
        {74, 89, 564, 943, 90, 643, 652},
        {22, 23, 24, 35, 36, 59, 61, 73, 552, 706, 434},
        {91, 611, 776, 827, 643},
        {502, 913, 915, 1321, 470},
        {269, 266, 276, 284, 285, 287, 288, 290, 306, 425, 639, 732, 862, 863, 1220, 640, 620, 521, 307},
        {295, 296, 297, 310, 311, 312, 319, 322, 326, 327, 328, 330, 331, 338, 345, 347, 354, 916, 208},
        {400, 405, 407, 409, 606, 674, 770, 771, 776, 789, 834, 835, 1333, 1050},
        {200, 201, 203, 208, 209, 359, 497, 532, 538, 540, 922, 312},
        {362, 364, 366, 367, 377, 378, 379, 667, 833},
        {346, 352, 601, 1021, 1385, 942},
        {441, 918, 610},
        {93, 113, 444, 436, 74},
    )
)
_CWE_CATCH_ALL = frozenset({20, 284, 435, 664, 682, 691, 693, 697, 703, 707, 710, 754, 755, 1284})


def cwe_relation(a: Sequence[int], b: Sequence[int]) -> Literal["agree", "near", "conflict", "unknown"]:
    if not a or not b:
        return "unknown"
    if set(a) & set(b):
        return "agree"
    for x in a:
        if x in _CWE_CATCH_ALL:
            return "near"
        for y in b:
            if y in _CWE_CATCH_ALL or any(x in fam and y in fam for fam in _CWE_FAMILIES):
                return "near"
    return "conflict"


def cwe_family(cwe: int) -> frozenset[int]:
    """Every CWE that :func:`cwe_relation` calls near ``cwe`` (excluding the catch-alls)."""
    out: set[int] = set()
    for fam in _CWE_FAMILIES:
        if cwe in fam:
            out |= fam
    out.discard(cwe)
    return frozenset(out)


_LINE_SUFFIX = re.compile(r"(?::\d+){1,2}$|#l\d+(?:-l?\d+)?$")
_BLOB_URL = re.compile(r"^[a-z]+://[^/]+/[^/]+/[^/]+/(?:-/)?(?:blob|tree|raw)/[^/]+/")


def normalize_file(path: str | None) -> str | None:
    """Slashes, no ``./``, ``a/``/``b/`` diff prefixes, line suffixes or forge URL; lowercased."""
    if not path:
        return None
    p = path.strip().replace("\\", "/").lower()
    p = _BLOB_URL.sub("", p)
    p = _LINE_SUFFIX.sub("", p)
    p = re.sub(r"/{2,}", "/", p)
    while p.startswith(("./", "/")):
        p = p[1:] if p.startswith("/") else p[2:]
    if p.startswith(("a/", "b/")):
        p = p[2:]
    return p or None


_SYMBOL_SEP = re.compile(r"::|->|#|/|\\")


def normalize_symbol(symbol: str | None) -> str | None:
    """``Foo::bar(int)``, ``foo.Bar#baz()`` and ``Foo.bar`` become dotted, lowercase, without arguments."""
    if not symbol:
        return None
    s = symbol.strip().strip("`'\"").lower()
    s = re.sub(r"\(.*$", "", s)  # arguments
    s = re.sub(r"<[^<>]*>", "", s)  # template arguments (one level)
    s = s.split()[-1] if s.split() else ""  # drop a return type or keyword: "static int foo" -> "foo"
    s = _SYMBOL_SEP.sub(".", s).strip("*&.")
    return s or None


def symbols_agree(a: str, b: str) -> bool:
    """Equal, or one is a dotted suffix of the other (``Parser.parse`` and ``parse``)."""
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long.endswith("." + short)


def normalize_aliases(aliases: Iterable[str]) -> frozenset[str]:
    """Public registry ids only (see :func:`public_ids`)."""
    return public_ids(aliases)


# --------------------------------------------------------------------------- text

_URL = re.compile(r"(?:https?|ftp|file|git|ssh|svn)://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_TOKEN = re.compile(r"[a-z_][a-z0-9_]*")
_HEX_TOKEN = re.compile(r"(?:0x[0-9a-f]+|(?=[a-f]*\d)[0-9a-f]{7,})")
_VERSION_TOKEN = re.compile(r"v\d+|(?:rc|dev|post|pre|alpha|beta|a|b)\d+")

# English function words and the boilerplate of vulnerability write-ups: words
# that every report uses and that say nothing about which bug this is.
_STOPWORD_TEXT = """
a about above after again all also an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he
her here hers how i if in into is it its itself just me more most my no nor now of off on once only
or other our ours out over own same she should so some such than that the their theirs them then
there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours via per upon thus within without whether using
used use uses vulnerability vulnerabilities vulnerable issue issues flaw flaws bug bugs weakness
security securely finding findings found discover discovered discovery identify identified detect
detected detection report reported reporting reports note notes please affect affected affects
affecting version versions package library module project code software application component
problem ai agent automated automatic analysis analyzed analyse analysed scanner scan scanning model
llm tool pipeline potential potentially possible possibly likely exist exists existing present
presents contain contains
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_STEM_SUFFIXES = (
    ("ations", "ate"),
    ("ation", "ate"),
    ("ities", "ity"),
    ("ness", ""),
    ("ments", "ment"),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("es", "e"),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(token: str) -> str:
    """A light suffix stripper for plain words (identifiers with ``_`` or digits are kept whole)."""
    if len(token) <= 4 or not token.isalpha():
        return token
    for suffix, repl in _STEM_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            if suffix == "s" and token.endswith("ss"):
                return token
            return token[: len(token) - len(suffix)] + repl
    return token


_DROP = ("", 0)
_VOCAB: dict[str, tuple[str, int]] = {}
_VOCAB_LIMIT = 1_000_000


def _vocab_entry(word: str) -> tuple[str, int]:
    """(stem, 32-bit hash) of a raw lowercase token, or ``_DROP`` for noise and stopwords (cached)."""
    entry = _VOCAB.get(word)
    if entry is not None:
        return entry
    if (
        len(word) < 2
        or word in STOPWORDS
        or (len(word) >= 7 and _HEX_TOKEN.fullmatch(word))
        or _VERSION_TOKEN.fullmatch(word)
    ):
        entry = _DROP
    else:
        s = stem(word)
        entry = (s, zlib.crc32(s.encode()))
    if len(_VOCAB) >= _VOCAB_LIMIT:  # bounded: a pathological vocabulary starts over
        _VOCAB.clear()
    _VOCAB[word] = entry
    return entry


def analyze_text(text: str) -> tuple[list[str], list[int]]:
    """Normalized tokens of ``text`` and their 32-bit hashes.

    Lowercase; URLs, e-mail addresses, numbers, versions (``2.31.0``, ``v2``,
    ``rc1``), hex strings (commits, addresses) and punctuation removed;
    stopwords and write-up boilerplate dropped; plain words lightly stemmed.
    """
    t = text.lower()
    if "://" in t or "www." in t:
        t = _URL.sub(" ", t)
    if "@" in t:
        t = _EMAIL.sub(" ", t)
    get = _VOCAB.get
    entries = [get(w) or _vocab_entry(w) for w in _TOKEN.findall(t)]
    kept = [e for e in entries if e is not _DROP]
    return [e[0] for e in kept], [e[1] for e in kept]


def text_tokens(text: str) -> list[str]:
    return analyze_text(text)[0]


def normalize_text(text: str) -> str:
    return " ".join(analyze_text(text)[0])


def shingle_hashes(hashes: Sequence[int]) -> U32:
    """The shingle set: unique 32-bit hashes of the (first ``MAX_TOKENS``) word 1-shingles.

    Single words rather than word n-grams: paraphrase (synonym swaps, sentence
    reordering) breaks every n-gram that touches a changed word, and measured on
    the flood bench, 1-shingles keep duplicates' Jaccard higher relative to that
    of different findings in the same package.
    """
    if not hashes:
        return np.empty(0, dtype=np.uint32)
    arr = np.array(hashes[:MAX_TOKENS], dtype=np.uint32)
    out: U32 = np.unique(arr)
    return out


@functools.cache
def _permutations() -> tuple[U32, U32]:
    template = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme="affine32")
    a, b = template.permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def _fmix32(h: U32) -> U32:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    out: U32 = h ^ (h >> np.uint32(16))
    return out


EMPTY_SIGNATURE: U32 = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)


def minhash_signature(shingles: U32) -> U32:
    """The MinHash of one shingle set: equal to datasketch's ``MinHash(scheme="affine32",
    num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=int).update_batch(shingles)``, without
    the per-shingle Python loop."""
    if shingles.size == 0:
        return EMPTY_SIGNATURE.copy()
    a, b = _permutations()
    hv = _fmix32(shingles.astype(np.uint32, copy=False))
    out: U32 = (hv[:, None] * a[None, :] + b[None, :]).min(axis=0)
    return out


def minhash_signatures(shingle_sets: Sequence[U32], chunk_shingles: int = 131_072) -> npt.NDArray[np.uint32]:
    """MinHashes of many shingle sets at once: one (n, NUM_PERM) uint32 array.

    The shingles of a chunk of sets are permuted in one numpy operation and
    reduced per set with ``np.minimum.reduceat``.
    """
    n = len(shingle_sets)
    out = np.empty((n, NUM_PERM), dtype=np.uint32)
    a, b = _permutations()
    start = 0
    while start < n:
        stop, total = start, 0
        while stop < n and (stop == start or total + shingle_sets[stop].size <= chunk_shingles):
            total += shingle_sets[stop].size
            stop += 1
        sizes = np.fromiter((s.size for s in shingle_sets[start:stop]), dtype=np.int64, count=stop - start)
        nonempty = sizes > 0
        out[start:stop][~nonempty] = EMPTY_SIGNATURE
        if nonempty.any():
            hv = _fmix32(np.concatenate([s for s in shingle_sets[start:stop] if s.size]).astype(np.uint32))
            phv = hv[:, None] * a[None, :] + b[None, :]
            offsets = np.concatenate(([0], np.cumsum(sizes[nonempty])[:-1]))
            out[start:stop][nonempty] = np.minimum.reduceat(phv, offsets, axis=0)
        start = stop
    return out


def to_minhash(signature: U32) -> MinHash:
    """A datasketch :class:`MinHash` around a signature (for :class:`datasketch.MinHashLSH`)."""
    a, b = _permutations()
    return MinHash(
        num_perm=NUM_PERM,
        seed=MINHASH_SEED,
        hashvalues=signature,
        permutations=np.array([a, b]),
        scheme="affine32",
    )


# --------------------------------------------------------------------------- features


@dataclass(frozen=True, slots=True, eq=False)
class FindingFeatures:
    """Everything deduplication needs from one finding; derive it with :func:`extract_features`.

    It depends only on the submission, so an index can be rebuilt from stored
    findings by extracting their features again.
    """

    package: str
    """Normalized package key, e.g. ``pypi:zope-interface`` or ``npm:@babel/core``."""
    fingerprint: str
    """SHA-256 (hex) of package, affected range, sorted CWE ids, file and symbol."""
    strong: bool
    """Whether the fingerprint names a symbol, i.e. whether an exact match means a duplicate."""
    affected: Affected
    cwes: tuple[int, ...]
    file: str | None
    symbol: str | None
    aliases: frozenset[str]
    text: str
    """Normalized title and description (at most ``MAX_TEXT_CHARS``)."""
    signature: U32 = field(repr=False)
    """MinHash signature, ``NUM_PERM`` uint32 values."""
    tokens: U32 = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.uint32))
    """The normalized words' 32-bit hashes, sorted and unique (the exact set the MinHash estimates)."""
    rare: frozenset[str] = frozenset()
    """Identifiers the text names (function, file, parameter names: ``parse_header``, ``Foo.bar``,
    ``x/y.py``, ``QuantizedConv2D``), by their last part, lowercase. Rewording leaves them alone."""
    urls: frozenset[str] = frozenset()
    """The web addresses the text cites (host and path, lowercase): an issue tracker's link names
    one report (``bugs.chromium.org/p/oss-fuzz/issues/detail?id=24266``)."""
    title_rare: frozenset[str] = frozenset()
    title_tokens: U32 = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.uint32))
    """The title's normalized words' 32-bit hashes, sorted and unique."""
    """The identifiers the title names (the most telling ones: ``Heap overflow in parse_header``)."""

    def mentions(self, symbol: str) -> bool:
        """Whether the text names ``symbol`` (its last dotted part, normalized like the text)."""
        tail = symbol.rsplit(".", 1)[-1]
        if len(tail) < 3:
            return False
        return f" {stem(tail)} " in f" {self.text} "


def exact_fingerprint(
    package: str, affected: str, cwes: Sequence[int], file: str | None, symbol: str | None
) -> str:
    material = "\x1f".join(
        (package, affected, ",".join(f"CWE-{c}" for c in sorted(cwes)), file or "", symbol or "")
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Structural:
    package: str
    fingerprint: str
    strong: bool
    affected: Affected
    cwes: tuple[int, ...]
    file: str | None
    symbol: str | None
    aliases: frozenset[str]


def _structural(sub: FindingSubmission) -> _Structural:
    ident, purl_version = _parse_purl(sub.package.purl)
    affected = normalize_affected(sub.package.version or purl_version, sub.package.vers)
    cwes = normalize_cwes(sub.cwe)
    file = normalize_file(sub.source.file) if sub.source else None
    symbol = normalize_symbol(sub.source.symbol) if sub.source else None
    fp = exact_fingerprint(ident.key, affected.text, cwes, file, symbol)
    ids = public_ids(sub.aliases, sub.origin.document_id)
    return _Structural(ident.key, fp, symbol is not None, affected, cwes, file, symbol, ids)


def _assemble(
    s: _Structural,
    tokens: list[str],
    shingles: U32,
    signature: U32,
    rare: frozenset[str],
    title_rare: frozenset[str],
    urls: frozenset[str] = frozenset(),
    title_tokens: U32 | None = None,
) -> FindingFeatures:
    text = " ".join(tokens)[:MAX_TEXT_CHARS]
    return FindingFeatures(
        s.package,
        s.fingerprint,
        s.strong,
        s.affected,
        s.cwes,
        s.file,
        s.symbol,
        s.aliases,
        text,
        signature,
        shingles,
        rare,
        urls,
        title_rare,
        title_tokens if title_tokens is not None else np.empty(0, dtype=np.uint32),
    )


def _finding_text(sub: FindingSubmission) -> str:
    return f"{sub.title}\n{sub.description}"


_IDENTIFIER = re.compile(
    r"`([^`\s]{3,100})`"  # written as code
    r"|\b((?:[\w-]+/)*[\w-]+\.(?:py|pyx|c|cc|cpp|cxx|h|hpp|js|mjs|ts|tsx|rb|go|java|kt|php|rs|cs|swift|"
    r"scala|pl|lua|sh|yaml|yml|json|xml|html|erb|jsp|vue))\b"  # a file name
    r"|\b([A-Za-z_]\w*(?:(?:\.|::|->)[A-Za-z_]\w*)+)\b"  # a dotted or qualified name
    # camelCase, snake_case, letters-digits-letters
    r"|\b([A-Za-z][a-z0-9]*[a-z][A-Z]\w*|[A-Za-z0-9]*_\w*[A-Za-z0-9]|[A-Za-z]+\d+[A-Za-z]\w*)\b"
)
_QUALIFIER = re.compile(r"\.|::|->|/")
MAX_RARE_CHARS = 8_000
"""Characters of a write-up searched for identifiers (the start of a long one says which bug)."""
_HEXISH = re.compile(r"^(?:0x)?[0-9a-f]{7,}$")


def rare_tokens(text: str) -> frozenset[str]:
    """The identifiers ``text`` names (see :attr:`FindingFeatures.rare`), at most 64."""
    text = text[:MAX_RARE_CHARS]
    t = _URL.sub(" ", text) if ("://" in text or "www." in text) else text
    out: set[str] = set()
    for m in _IDENTIFIER.finditer(t):
        whole = (m.group(1) or m.group(2) or m.group(3) or m.group(4)).lower().strip(".:()[]{}'\",;")
        if m.group(2):  # a file: its name with the extension
            tail = whole.rsplit("/", 1)[-1]
        else:
            tail = _QUALIFIER.split(whole.removesuffix("()"))[-1].strip("_*&")
        tail = tail.split("(")[0]
        if len(tail) < 4 or _HEXISH.match(tail) or tail.isdigit() or tail in STOPWORDS:
            continue
        out.add(tail)
        if len(out) >= 64:
            break
    return frozenset(out)


_CITED = re.compile(r"https?://(?:www\.)?([^\s<>()\[\]`'\"]+)", re.I)


def cited_urls(text: str) -> frozenset[str]:
    """The addresses ``text`` cites, without scheme, ``www.`` and trailing punctuation (at most 32)."""
    if "://" not in text:
        return frozenset()
    out = {m.group(1).rstrip(".,;:!?").lower() for m in _CITED.finditer(text[:MAX_RARE_CHARS])}
    return frozenset(sorted(out)[:32])


def extract_features(sub: FindingSubmission) -> FindingFeatures:
    """Fingerprint and text signature of one finding."""
    return extract_features_many([sub])[0]


def extract_features_many(subs: Sequence[FindingSubmission]) -> list[FindingFeatures]:
    """Like :func:`extract_features` for many findings, with the MinHashes computed in bulk."""
    structs = [_structural(s) for s in subs]
    texts = [_finding_text(s) for s in subs]
    analyzed = [analyze_text(t) for t in texts]
    shingles = [shingle_hashes(h) for _, h in analyzed]
    signatures = minhash_signatures(shingles)
    return [
        _assemble(
            s,
            a[0],
            shingles[i],
            signatures[i],
            rare_tokens(texts[i]),
            rare_tokens(subs[i].title),
            cited_urls(texts[i]),
            shingle_hashes(analyze_text(subs[i].title)[1]),
        )
        for i, (s, a) in enumerate(zip(structs, analyzed, strict=True))
    ]

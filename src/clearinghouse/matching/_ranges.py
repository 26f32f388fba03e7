"""One model of affected versions for every source, evaluated in each ecosystem's version order.

Sources:

* OSV ``affected[]`` entries: ``ranges`` of type ``ECOSYSTEM`` and ``SEMVER``
  (events ``introduced``, ``fixed``, ``last_affected``, ``limit``) plus the
  explicit ``versions`` list. ``GIT`` ranges name commits, not versions: they
  are answered through the ``versions`` list (which OSV fills by enumerating
  the repository's tags), and without one they make a version "cannot say".
* vers strings (``vers:pypi/>=1.0|<1.5``, VERSION-RANGE-SPEC), which the CVE
  and CSAF importers write for product version data.
* a single version (a CSAF ``product_version`` or a purl's ``@version``).

All of them become an :class:`AffectedRange`: intervals (:class:`Span`) in a
version order (:class:`Scheme`), listed versions and excluded versions.
:meth:`AffectedRange.check` answers affected / not affected / cannot say, with
the reason and the piece of the source that decided it.

Version orders come from univers: ``PypiVersion`` (PEP 440), ``SemverVersion``
(npm, crates.io, Hex, Pub, Node.js, SEMVER ranges), ``GolangVersion``,
``MavenVersion``, ``RubygemsVersion``, ``NugetVersion``, ``ComposerVersion``,
``DebianVersion``, ``AlpineLinuxVersion``, ``RpmVersion``. Some orders
compare the key univers' own comparison uses rather than the univers object,
which is several times faster and orders identically: PEP 440
(``packaging``'s ``Version._key``), semver (``semantic_version``'s precedence
key, build metadata ignored) and RubyGems (``GemVersion`` canonical segments,
encoded so that tuples compare as ``Gem::Version`` does). Two orders go beyond
univers:

* PyPI versions that are not PEP 440 (``0.7.10p1``, ``2.0.0-final``) are
  ordered as ``packaging``'s former ``LegacyVersion`` did, before every PEP 440
  version -- the order osv.dev uses to enumerate PyPI ``versions`` lists.
* ``generic`` (CVE and CSAF products) is semver with any numbers past the third
  compared too (``120.0.6099.71 < 120.0.6099.109``), where univers would read
  the fourth as build metadata and call the two equal.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from univers import versions as uv

from clearinghouse.domain import (
    NODEJS,
    RUBY,
    UnorderedVersion,
    canonical_ecosystem,
    split_ecosystem,
    version_key,
)

__all__ = [
    "AffectedRange",
    "Scheme",
    "Span",
    "UnorderedVersion",
    "Verdict",
    "parse_vers",
    "scheme_for_ecosystem",
    "scheme_for_vers",
]

# -- version orders ------------------------------------------------------------------------------


_SCHEMES: list[Scheme] = []


@dataclass(frozen=True, slots=True)
class _Unordered:
    reason: str


class Scheme:
    """A version order: :meth:`key` turns a version string into a comparable value (cached).

    Keys of one scheme compare with ``<`` and ``==`` as univers orders the versions.
    """

    __slots__ = ("_cache", "_make", "name")

    _LIMIT = 262_144

    def __init__(self, name: str, make: Callable[[str], Any]) -> None:
        self.name = name
        self._make = make
        self._cache: dict[str, Any] = {}
        _SCHEMES.append(self)

    def __repr__(self) -> str:
        return f"Scheme({self.name!r})"

    def key(self, version: str) -> Any:
        """The comparable form of ``version``; :class:`UnorderedVersion` if the scheme cannot order it."""
        try:
            found = self._cache[version]
        except KeyError:
            try:
                found = self._make(version)
            except Exception:  # univers raises assorted errors for versions outside the scheme
                found = _Unordered(f"{version!r} is not a valid {self.name} version")
            if len(self._cache) >= self._LIMIT:
                self._cache.clear()
            self._cache[version] = found
        if type(found) is _Unordered:
            raise UnorderedVersion(found.reason)
        return found

    def try_key(self, version: str) -> Any | None:
        try:
            return self.key(version)
        except UnorderedVersion:
            return None


# packaging's LegacyVersion (removed in packaging 22), which osv.dev still uses for PyPI versions
# that are not PEP 440: an epoch of -1 puts them before every PEP 440 version.
_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_REPLACE = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_parts(version: str) -> Iterable[str]:
    for part in _LEGACY_PART.split(version):
        part = _LEGACY_REPLACE.get(part, part)
        if not part or part == ".":
            continue
        yield part.zfill(8) if part[:1] in "0123456789" else "*" + part
    yield "*final"


def legacy_pypi_key(version: str) -> tuple[int, tuple[str, ...]]:
    parts: list[str] = []
    for part in _legacy_parts(version.lower()):
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    return -1, tuple(parts)


def _pypi_key(version: str) -> Any:
    try:
        return uv.PypiVersion(version).value._key
    except Exception:
        if not version.strip():
            raise
        return legacy_pypi_key(version.strip())


def _semver_key(cls: Any) -> Callable[[str], Any]:
    def make(version: str) -> Any:
        return cls(version).value._cmp_precedence_key

    return make


def _gem_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """``Gem::Version`` order (univers ``GemVersion.__cmp__``) as a tuple that compares natively.

    Gem compares canonical segments one by one, a missing segment counting as 0,
    a string below any number. Encoded: a number n > 0 is ``(2, n, "")``, a string
    ``(0, 0, s)``, the end (zeros from there on) ``(1, 0, "")``, and a 0 (never
    trailing in canonical segments) ``(1, +1, "")`` or ``(1, -1, "")`` as the next
    non-zero segment is a number or a string, which is how it compares against the end.
    """
    segments = list(uv.RubygemsVersion(version).value.canonical_segments)  # no trailing zeros
    out: list[tuple[int, int, str]] = []
    for i, seg in enumerate(segments):
        if isinstance(seg, str):
            out.append((0, 0, seg))
        elif seg:
            out.append((2, seg, ""))
        else:
            following = next(s for s in segments[i + 1 :] if s != 0)
            out.append((1, 1 if isinstance(following, int) else -1, ""))
    out.append((1, 0, ""))
    return tuple(out)


_LEADING_NUMBERS = re.compile(r"^[vV]?([0-9]+(?:\.[0-9]+)*)")


def _generic_key(version: str) -> Any:
    """Semver precedence, then any numbers past the third (``120.0.6099.71 < 120.0.6099.109``).

    univers' ``SemverVersion`` reads a fourth number as build metadata, which
    semver precedence ignores; CVE and CSAF products (browsers, operating
    systems, firmware) are often versioned with four numbers.
    """
    match = _LEADING_NUMBERS.match(version)
    extra = tuple(int(n) for n in match.group(1).split(".")[3:]) if match else ()
    return uv.SemverVersion(version).value._cmp_precedence_key, extra


def _univers_key(cls: Any) -> Callable[[str], Any]:
    def make(version: str) -> Any:
        return cls(version)

    return make


@functools.cache
def _scheme_of(cls: Any) -> Scheme:
    if cls is uv.PypiVersion:
        return Scheme("PyPI", _pypi_key)
    if cls is uv.RubygemsVersion:
        return Scheme("Rubygems", _gem_key)
    name = cls.__name__.removesuffix("Version") or cls.__name__
    if isinstance(cls, type) and issubclass(cls, uv.SemverVersion):
        return Scheme(name, _semver_key(cls))
    return Scheme(name, _univers_key(cls))


def clear_version_caches() -> None:
    """Forget the parsed versions of every scheme made so far."""
    for scheme in _SCHEMES:
        scheme._cache.clear()


# The orders of _ecosystems.version_parser, plus the RPM distributions.
_ECOSYSTEM_CLASS: dict[str, Any] = {
    "PyPI": uv.PypiVersion,
    "npm": uv.SemverVersion,
    "crates.io": uv.SemverVersion,
    "Hex": uv.SemverVersion,
    "Pub": uv.SemverVersion,
    NODEJS: uv.SemverVersion,
    "Go": uv.GolangVersion,
    "RubyGems": uv.RubygemsVersion,
    RUBY: uv.RubygemsVersion,
    "Maven": uv.MavenVersion,
    "NuGet": uv.NugetVersion,
    "Packagist": uv.ComposerVersion,
    "Debian": uv.DebianVersion,
    "Ubuntu": uv.DebianVersion,
    "Alpine": uv.AlpineLinuxVersion,
    "Wolfi": uv.AlpineLinuxVersion,
    "Chainguard": uv.AlpineLinuxVersion,
    "Red Hat": uv.RpmVersion,
    "AlmaLinux": uv.RpmVersion,
    "Rocky Linux": uv.RpmVersion,
    "openSUSE": uv.RpmVersion,
    "SUSE": uv.RpmVersion,
    "openEuler": uv.RpmVersion,
}


@functools.cache
def _generic() -> Scheme:
    return Scheme("generic", _generic_key)


def scheme_for_ecosystem(ecosystem: str, range_type: str = "ECOSYSTEM") -> Scheme | None:
    """The order of an OSV range in ``ecosystem`` (``SEMVER`` ranges: semver everywhere); None if unknown."""
    if range_type == "SEMVER":
        return _scheme_of(uv.SemverVersion)
    if range_type != "ECOSYSTEM":
        return None
    base = split_ecosystem(ecosystem)[0]
    if base == "generic":
        return _generic()
    cls = _ECOSYSTEM_CLASS.get(base)
    return _scheme_of(cls) if cls is not None else None


def scheme_for_vers(scheme: str) -> Scheme | None:
    """The order of a vers scheme (a purl type: ``pypi``, ``npm``, ``maven``, ``golang``, ``generic`` ...)."""
    if scheme.lower() == "generic":
        return _generic()
    cls = version_key(scheme.lower())
    return _scheme_of(cls) if cls is not None else None


# -- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Versions from ``lo`` to ``hi`` in ``scheme`` (None: unbounded); ``text`` says where it came from."""

    scheme: Scheme
    lo: str | None
    lo_incl: bool
    hi: str | None
    hi_incl: bool
    lo_key: Any
    hi_key: Any
    text: str

    def contains_key(self, key: Any) -> bool:
        if self.lo is not None and (key < self.lo_key or (not self.lo_incl and key == self.lo_key)):
            return False
        return not (self.hi is not None and (self.hi_key < key or (not self.hi_incl and key == self.hi_key)))


@dataclass(frozen=True, slots=True)
class Verdict:
    """``affected``: True, False, or None (cannot say); ``reason`` says why; ``matched`` the deciding text."""

    affected: bool | None
    reason: str
    matched: str | None = None


@dataclass(frozen=True)
class AffectedRange:
    """The affected versions of one package, from any source.

    A version is affected if it is listed (exactly, or equal in the ecosystem's
    order: PyPI ``1.0`` is ``1.0.0``) or inside a span, and not excluded.
    ``unevaluable`` names the parts of the source that cannot be evaluated (a
    GIT range without a versions list, an ecosystem without a known order, a
    bound the order cannot place); a version none of the rest affects is then
    "cannot say" rather than "not affected".
    """

    ecosystem: str
    scheme: Scheme | None
    spans: tuple[Span, ...] = ()
    listed: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    unevaluable: tuple[str, ...] = ()
    text: str = ""
    _listed_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_listed_set", frozenset(self.listed))

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def from_osv(
        cls, ecosystem: str, ranges: Sequence[Mapping[str, Any]], versions: Sequence[str] = ()
    ) -> AffectedRange:
        """An OSV ``affected[]`` entry's ``ranges`` and ``versions`` (the ecosystem as OSV writes it)."""
        base = split_ecosystem(ecosystem)[0] if ecosystem else ""
        spans: list[Span] = []
        unevaluable: list[str] = []
        texts: list[str] = []
        for i, rng in enumerate(ranges):
            kind = str(rng.get("type", ""))
            events = [e for e in rng.get("events", []) if isinstance(e, Mapping) and len(e) == 1]
            texts.append(f"{kind} " + ", ".join(f"{k} {v}" for e in events for k, v in e.items()))
            if kind == "GIT":
                if not versions:
                    unevaluable.append(f"range {i} is a GIT range (commits), and there is no versions list")
                continue
            scheme = scheme_for_ecosystem(base, kind)
            if scheme is None:
                unevaluable.append(f"range {i} ({kind}): no version order for {ecosystem or 'no ecosystem'}")
                continue
            try:
                spans.extend(_osv_spans(scheme, kind, events))
            except UnorderedVersion as exc:
                unevaluable.append(f"range {i} ({kind}): {exc}")
        listed = tuple(str(v) for v in versions)
        if listed:
            texts.append(f"versions ({len(listed)} listed)")
        if not ranges and not listed:
            unevaluable.append("the entry lists neither ranges nor versions")
        return cls(
            ecosystem=base,
            scheme=scheme_for_ecosystem(base),
            spans=tuple(spans),
            listed=listed,
            unevaluable=tuple(unevaluable),
            text="; ".join(texts),
        )

    @classmethod
    def exact(cls, ecosystem: str, version: str, scheme: Scheme | None = None) -> AffectedRange:
        """Exactly one version (a purl's ``@version``, a CSAF ``product_version``)."""
        base = split_ecosystem(ecosystem)[0]
        return cls(
            ecosystem=base,
            scheme=scheme or scheme_for_ecosystem(base),
            listed=(version,),
            text=f"version {version}",
        )

    @classmethod
    def every(cls, ecosystem: str) -> AffectedRange:
        base = split_ecosystem(ecosystem)[0]
        scheme = scheme_for_ecosystem(base)
        if scheme is None:
            return cls(base, None, unevaluable=(f"no version order for {base}",), text="every version")
        return cls(base, scheme, spans=(Span(scheme, None, False, None, False, None, None, "*"),), text="*")

    # -- evaluation --------------------------------------------------------------------------

    def schemes(self) -> tuple[Scheme, ...]:
        """The orders this range compares in (the ecosystem's first)."""
        found: list[Scheme] = [] if self.scheme is None else [self.scheme]
        for span in self.spans:
            if span.scheme not in found:
                found.append(span.scheme)
        return tuple(found)

    def listed_keys(self) -> tuple[list[Any], list[str]]:
        """The listed versions the ecosystem's order can place, sorted by key (computed once)."""
        cached: tuple[list[Any], list[str]] | None = self.__dict__.get("_sorted_listed")
        if cached is None:
            pairs: list[tuple[Any, str]] = []
            if self.scheme is not None:
                for other in self.listed:
                    k = self.scheme.try_key(other)
                    if k is not None:
                        pairs.append((k, other))
            pairs.sort(key=lambda p: p[0])
            cached = ([k for k, _ in pairs], [v for _, v in pairs])
            self.__dict__["_sorted_listed"] = cached
        return cached

    def check(self, version: str) -> Verdict:
        """Whether ``version`` is affected, and why."""
        version = version.strip()
        scheme = self.scheme
        failures: list[str] = []
        main: Any = None
        if scheme is not None:
            try:
                main = scheme.key(version)
            except UnorderedVersion as exc:
                failures.append(str(exc))
        for other in self.excluded:
            if other == version or (
                main is not None and scheme is not None and scheme.try_key(other) == main
            ):
                return Verdict(False, f"{version} is excluded (!={other}) by {self.text}", f"!={other}")
        if version in self._listed_set:
            return Verdict(True, f"{version} is listed", f"versions: {version}")
        if main is not None and self.listed:
            keys, originals = self.listed_keys()
            at = bisect.bisect_left(keys, main)
            if at < len(keys) and keys[at] == main:
                other = originals[at]
                return Verdict(True, f"{version} equals listed {other}", f"versions: {other}")
        others: dict[str, Any] = {}
        for span in self.spans:
            if span.scheme is scheme:
                k = main
            elif span.scheme.name in others:
                k = others[span.scheme.name]
            else:
                try:
                    k = span.scheme.key(version)
                except UnorderedVersion as exc:
                    k = None
                    failures.append(str(exc))
                others[span.scheme.name] = k
            if k is not None and span.contains_key(k):
                return Verdict(True, f"{version} is inside {span.text}", span.text)
        if failures or self.unevaluable:
            return Verdict(None, "; ".join([*failures, *self.unevaluable]))
        return Verdict(False, f"{version} is outside {self.text or 'every range'}")

    def contains(self, version: str) -> bool | None:
        """True (affected), False (not affected) or None (cannot say; :meth:`check` says why)."""
        return self.check(version).affected


# -- OSV events ----------------------------------------------------------------------------------


def _osv_spans(scheme: Scheme, kind: str, events: list[Mapping[str, Any]]) -> list[Span]:
    """OSV's evaluation of one range, written as intervals: walk the events in version order."""
    parsed: list[tuple[str, str | None, Any]] = []
    limits: list[tuple[str, Any]] = []
    for event in events:
        ((name, value),) = event.items()
        text = str(value)
        if name == "limit":
            if text != "*":
                limits.append((text, scheme.key(text)))
            continue
        if name not in ("introduced", "fixed", "last_affected"):
            continue
        if name == "introduced" and text in ("0", "*"):
            parsed.append((name, None, None))
        else:
            parsed.append((name, text, scheme.key(text)))
    ordered = sorted(parsed, key=lambda e: (0, 0) if e[1] is None else (1, e[2]))
    spans: list[Span] = []
    start: tuple[str | None, Any] | None = None  # the open interval's lower bound, while affected
    for name, at, key in ordered:
        if name == "introduced":
            if start is None:
                start = (at, key)
        elif start is not None:
            inclusive = name == "last_affected"
            lo, lo_key = start
            label = f"{kind} introduced {lo if lo is not None else '0'}, {name} {at}"
            spans.append(Span(scheme, lo, True, at, inclusive, lo_key, key, label))
            start = None
    if start is not None:
        lo, lo_key = start
        spans.append(
            Span(scheme, lo, True, None, False, lo_key, None, f"{kind} introduced {lo if lo else '0'}")
        )
    if limits:
        # A version is affected only below some limit: below the highest one.
        top_text, top = max(limits, key=lambda lim: lim[1])
        clipped = []
        for span in spans:
            if span.lo is not None and not (span.lo_key < top):
                continue
            if span.hi is None or top < span.hi_key or (top == span.hi_key and span.hi_incl):
                span = Span(
                    scheme,
                    span.lo,
                    span.lo_incl,
                    top_text,
                    False,
                    span.lo_key,
                    top,
                    f"{span.text}, limit {top_text}",
                )
            clipped.append(span)
        spans = clipped
    return [s for s in spans if not _empty(s)]


def _empty(span: Span) -> bool:
    if span.lo is None or span.hi is None:
        return False
    return bool(
        span.hi_key < span.lo_key or (span.hi_key == span.lo_key and not (span.lo_incl and span.hi_incl))
    )


# -- vers ----------------------------------------------------------------------------------------

_COMPARATORS = ("<=", ">=", "!=", "<", ">", "=")


def parse_vers(vers: str) -> AffectedRange:
    """A vers string (``vers:pypi/>=1.0|<1.5``) as an :class:`AffectedRange`. Raises ValueError if malformed.

    Containment follows VERSION-RANGE-SPEC: a version equal to a ``=``, ``>=`` or
    ``<=`` constraint is in, one equal to a ``!=`` constraint is out; then the
    remaining ``<``/``<=``/``>``/``>=`` constraints, sorted, delimit intervals:
    below a leading ``<``, between a ``>`` and the following ``<``, above a
    trailing ``>``.
    """
    text = "".join(vers.split())
    if not text.lower().startswith("vers:") or "/" not in text:
        raise ValueError(f"not a vers string: {vers!r}")
    scheme_name, _, body = text[5:].partition("/")
    scheme_name = scheme_name.lower()
    if not scheme_name:
        raise ValueError(f"a vers string needs a scheme: {vers!r}")
    ecosystem = canonical_ecosystem(scheme_name)
    scheme = scheme_for_vers(scheme_name)
    if body == "*":
        if scheme is None:
            return AffectedRange(
                ecosystem, None, unevaluable=(f"no version order for vers:{scheme_name}",), text=text
            )
        everything = Span(scheme, None, False, None, False, None, None, text)
        return AffectedRange(ecosystem, scheme, spans=(everything,), text=text)
    constraints: list[tuple[str, str]] = []
    for piece in body.split("|"):
        if not piece:
            continue
        op = next((c for c in _COMPARATORS if piece.startswith(c)), "=")
        version = unquote(piece[len(op) :] if piece.startswith(op) else piece)
        if not version or version == "*":
            raise ValueError(f"a vers constraint needs a version: {piece!r} in {vers!r}")
        constraints.append((op, version))
    if not constraints:
        raise ValueError(f"a vers string needs constraints: {vers!r}")
    points = tuple(v for op, v in constraints if op in ("=", ">=", "<="))
    excluded = tuple(v for op, v in constraints if op == "!=")
    bounded = [(op, v) for op, v in constraints if op in ("<", "<=", ">", ">=")]
    if scheme is None:
        why = f"no version order for vers:{scheme_name}"
        return AffectedRange(ecosystem, None, listed=points, excluded=excluded, unevaluable=(why,), text=text)
    try:
        keyed = sorted(((scheme.key(v), op, v) for op, v in bounded), key=lambda c: c[0])
    except UnorderedVersion as exc:
        return AffectedRange(
            ecosystem, scheme, listed=points, excluded=excluded, unevaluable=(f"{text}: {exc}",), text=text
        )
    spans: list[Span] = []
    prefix = f"vers:{scheme_name}/"
    if keyed and keyed[0][1] in ("<", "<="):
        k, op, v = keyed[0]
        spans.append(Span(scheme, None, False, v, op == "<=", None, k, f"{prefix}{op}{v}"))
    for (k1, op1, v1), (k2, op2, v2) in itertools.pairwise(keyed):
        if op1 in (">", ">=") and op2 in ("<", "<="):
            spans.append(
                Span(scheme, v1, op1 == ">=", v2, op2 == "<=", k1, k2, f"{prefix}{op1}{v1}|{op2}{v2}")
            )
    if keyed and keyed[-1][1] in (">", ">="):
        k, op, v = keyed[-1]
        spans.append(Span(scheme, v, op == ">=", None, False, k, None, f"{prefix}{op}{v}"))
    return AffectedRange(ecosystem, scheme, spans=tuple(spans), listed=points, excluded=excluded, text=text)

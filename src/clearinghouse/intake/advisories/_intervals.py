"""Version sets as unions of intervals, and their OSV ``ranges`` form.

Formats other than OSV describe affected versions as requirement expressions
(npm ``">=1.2.0 <1.4.0 || 2.x"``, RubyGems ``"~> 4.2.5, >= 4.2.5.1"``). They
become a set of intervals over the ecosystem's version order, which set algebra
(union, complement, intersection) turns into the affected set, written out as
one OSV range per interval.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Bound:
    version: str
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Interval:
    """Versions between ``lo`` and ``hi``; ``None`` is unbounded on that side."""

    lo: Bound | None = None
    hi: Bound | None = None


EVERYTHING = Interval()


@dataclass(frozen=True)
class Scheme:
    """A version order: ``key`` makes a version comparable, ``successor`` names the next one."""

    key: Callable[[str], Any]
    successor: Callable[[str], str]

    def _lo(self, b: Bound | None) -> tuple[int, Any, int]:
        # Lower bounds in order: unbounded first, then by version; at one version
        # an inclusive bound starts before an exclusive one.
        return (0, None, 0) if b is None else (1, self.key(b.version), 0 if b.inclusive else 1)

    def _hi(self, b: Bound | None) -> tuple[int, Any, int]:
        return (2, None, 0) if b is None else (1, self.key(b.version), 1 if b.inclusive else 0)

    def is_empty(self, iv: Interval) -> bool:
        if iv.lo is None or iv.hi is None:
            return False
        lo, hi = self.key(iv.lo.version), self.key(iv.hi.version)
        return bool(lo > hi or (lo == hi and not (iv.lo.inclusive and iv.hi.inclusive)))

    def intersect(self, a: Interval, b: Interval) -> Interval:
        lo = max(a.lo, b.lo, key=self._lo)
        hi = min(a.hi, b.hi, key=self._hi)
        return Interval(lo, hi)

    def _touches(self, hi: Bound | None, lo: Bound | None) -> bool:
        """Whether an interval ending at ``hi`` overlaps or abuts one starting at ``lo``."""
        if hi is None or lo is None:
            return True
        h, low = self.key(hi.version), self.key(lo.version)
        return bool(low < h or (low == h and (hi.inclusive or lo.inclusive)))

    def union(self, intervals: Iterable[Interval]) -> list[Interval]:
        """The same set as sorted, disjoint, non-adjacent intervals."""
        items = sorted((iv for iv in intervals if not self.is_empty(iv)), key=lambda iv: self._lo(iv.lo))
        merged: list[Interval] = []
        for iv in items:
            if merged and self._touches(merged[-1].hi, iv.lo):
                last = merged[-1]
                merged[-1] = Interval(last.lo, max(last.hi, iv.hi, key=self._hi))
            else:
                merged.append(iv)
        return merged

    def complement(self, intervals: Iterable[Interval]) -> list[Interval]:
        gaps: list[Interval] = []
        start: Bound | None = None  # the first gap starts at -infinity
        for iv in self.union(intervals):
            if iv.lo is not None:
                gaps.append(Interval(start, Bound(iv.lo.version, not iv.lo.inclusive)))
            if iv.hi is None:
                return [g for g in gaps if not self.is_empty(g)]
            start = Bound(iv.hi.version, not iv.hi.inclusive)
        gaps.append(Interval(start, None))
        return [g for g in gaps if not self.is_empty(g)]

    def intersection(self, a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
        bs = self.union(b)
        return self.union(self.intersect(x, y) for x in self.union(a) for y in bs)

    def osv_ranges(self, intervals: Iterable[Interval], range_type: str) -> list[dict[str, Any]]:
        """One OSV range per interval (so ``fixed`` and ``last_affected`` never share one)."""
        ranges = []
        for iv in self.union(intervals):
            if iv.lo is None:
                start = "0"
            else:
                start = iv.lo.version if iv.lo.inclusive else self.successor(iv.lo.version)
            events: list[dict[str, str]] = [{"introduced": start}]
            if iv.hi is not None:
                events.append({"fixed" if not iv.hi.inclusive else "last_affected": iv.hi.version})
            ranges.append({"type": range_type, "events": events})
        return ranges


# -- semantic versions (npm, Node.js) ------------------------------------------

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Semantic Versioning 2.0 precedence (build metadata ignored)."""
    m = _SEMVER.match(version)
    if m is None:
        raise ValueError(f"{version!r} is not a semantic version")
    pre = m.group(4)
    ids: tuple[tuple[int, int | str], ...] = ()
    if pre:
        ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, ids)


def semver_successor(version: str) -> str:
    """The least version above ``version``: ``1.2.3`` -> ``1.2.4-0``, ``1.0.0-rc`` -> ``1.0.0-rc.0``."""
    m = _SEMVER.match(version)
    if m is None:
        raise ValueError(f"{version!r} is not a semantic version")
    if m.group(4):
        return f"{m.group(1)}.{m.group(2)}.{m.group(3)}-{m.group(4)}.0"
    return f"{m.group(1)}.{m.group(2)}.{int(m.group(3)) + 1}-0"


SEMVER_SCHEME = Scheme(semver_key, semver_successor)

"""Version intervals and their vers strings (https://github.com/package-url/purl-spec, VERSION-RANGE-SPEC).

Importers describe affected versions as intervals; :func:`render` merges and sorts
them with the ecosystem's version ordering (from univers) and writes the vers
string. Versions univers cannot order are kept as the source wrote them, in source
order, without merging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from univers.version_range import RANGE_CLASS_BY_SCHEMES


@dataclass(frozen=True)
class Interval:
    """``lo``..``hi``; None is unbounded. A single version is ``Interval(v, True, v, True)``."""

    lo: str | None
    lo_incl: bool
    hi: str | None
    hi_incl: bool

    @classmethod
    def point(cls, version: str) -> Interval:
        return cls(version, True, version, True)


EVERYTHING = Interval(None, False, None, False)

Key = Callable[[str], Any]


def version_key(scheme: str) -> Key | None:
    """univers' version class for ``scheme`` (vers schemes are purl types), if it has one."""
    range_class = RANGE_CLASS_BY_SCHEMES.get(scheme)
    version_class = getattr(range_class, "version_class", None)
    return version_class if callable(version_class) else None


def _cached(intervals: Sequence[Interval], key: Key) -> Key | None:
    """``key`` computed once per version of ``intervals``; None if univers cannot order one of them."""
    keys: dict[str, Any] = {}
    try:
        for iv in intervals:
            for version in (iv.lo, iv.hi):
                if version is not None and version not in keys:
                    keys[version] = key(version)
    except Exception:  # univers raises assorted errors for versions outside the scheme
        return None
    return keys.__getitem__


def sortable(intervals: Sequence[Interval], key: Key) -> bool:
    return _cached(intervals, key) is not None


def _lo_key(iv: Interval, key: Key) -> tuple[int, Any, int]:
    return (0, None, 0) if iv.lo is None else (1, key(iv.lo), 0 if iv.lo_incl else 1)


def _overlaps_or_touches(cur: Interval, nxt: Interval, key: Key) -> bool:
    if cur.hi is None or nxt.lo is None:
        return True
    hi, lo = key(cur.hi), key(nxt.lo)
    return bool(lo < hi or (lo == hi and (cur.hi_incl or nxt.lo_incl)))


def _later_hi(a: Interval, b: Interval, key: Key) -> tuple[str | None, bool]:
    if a.hi is None or b.hi is None:
        return None, False
    ka, kb = key(a.hi), key(b.hi)
    if ka == kb:
        return a.hi, a.hi_incl or b.hi_incl
    return (a.hi, a.hi_incl) if ka > kb else (b.hi, b.hi_incl)


def merge(intervals: Sequence[Interval], key: Key) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same versions."""
    key = _cached(intervals, key) or key
    out: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: _lo_key(i, key)):
        if out and _overlaps_or_touches(out[-1], iv, key):
            cur = out[-1]
            hi, hi_incl = _later_hi(cur, iv, key)
            out[-1] = Interval(cur.lo, cur.lo_incl, hi, hi_incl)
        else:
            out.append(iv)
    return out


def complement(intervals: Sequence[Interval], key: Key) -> list[Interval]:
    """Every version not in ``intervals``."""
    out: list[Interval] = []
    lo: str | None = None
    lo_incl = False
    started = False  # False until the first interval: the gap before it starts at -infinity
    for iv in merge(intervals, key):
        if iv.lo is not None:
            gap = Interval(lo if started else None, lo_incl, iv.lo, not iv.lo_incl)
            if not _empty(gap, key):
                out.append(gap)
        if iv.hi is None:
            return out
        lo, lo_incl, started = iv.hi, not iv.hi_incl, True
    out.append(Interval(lo if started else None, lo_incl, None, False))
    return out


def _empty(iv: Interval, key: Key) -> bool:
    if iv.lo is None or iv.hi is None:
        return False
    lo, hi = key(iv.lo), key(iv.hi)
    return bool(lo > hi or (lo == hi and not (iv.lo_incl and iv.hi_incl)))


def _enc(version: str) -> str:
    # vers separates constraints with "|" and starts them with comparators: escape what would confuse it.
    return quote(version, safe="!$&'()*+,;:@._~-/^")


def render(scheme: str, intervals: Sequence[Interval]) -> str:
    """The vers string for the union of ``intervals`` (``vers:<scheme>/*`` for every version)."""
    key = version_key(scheme)
    cached = _cached(intervals, key) if key is not None else None
    ordered = merge(intervals, cached) if cached is not None else list(dict.fromkeys(intervals))
    parts: list[str] = []
    for iv in ordered:
        if iv.lo is None and iv.hi is None:
            return f"vers:{scheme}/*"
        if iv.lo is not None and iv.lo == iv.hi and iv.lo_incl and iv.hi_incl:
            parts.append(_enc(iv.lo))
            continue
        if iv.lo is not None:
            parts.append((">=" if iv.lo_incl else ">") + _enc(iv.lo))
        if iv.hi is not None:
            parts.append(("<=" if iv.hi_incl else "<") + _enc(iv.hi))
    return f"vers:{scheme}/" + "|".join(parts)

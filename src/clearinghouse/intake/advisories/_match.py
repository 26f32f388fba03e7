"""A version against an OSV affected entry: does the entry name it, does it affect it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clearinghouse.domain import UnorderedVersion, version_parser


def _in_events(version: Any, events: list[tuple[str, Any]]) -> bool:
    """OSV "Evaluation": walk the events in version order; ``None`` is ``introduced: "0"``."""
    limits = [v for kind, v in events if kind == "limit" and v is not None]
    if limits and not any(version < limit for limit in limits):
        return False
    affected = False
    for kind, at in sorted(events, key=lambda e: (0, 0) if e[1] is None else (1, e[1])):
        if kind == "introduced" and (at is None or version >= at):
            affected = True
        elif at is not None and (
            (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at)
        ):
            affected = False
    return affected


def _parsed_events(rng: dict[str, Any], parse: Callable[[str], Any]) -> list[tuple[str, Any]]:
    events = []
    for event in rng.get("events", []):
        ((kind, value),) = event.items()
        if value in ("0", "*") and kind in ("introduced", "limit"):
            events.append((kind, None))
        else:
            events.append((kind, parse(value)))
    return events


def affects(version: str, ecosystem: str, ranges: list[dict[str, Any]], versions: list[str]) -> bool | None:
    """True if the entry affects ``version``, False if not, None if its data cannot say.

    The enumerated ``versions`` decide first (exactly, or equal under the
    ecosystem's ordering, so PyPI ``1.0`` is ``1.0.0``). Then each ECOSYSTEM
    or SEMVER range is evaluated in the ecosystem's order. A GIT range (commit
    hashes) can only be answered through the enumerated versions, and an
    ecosystem whose ordering is unknown cannot be answered at all.
    """
    if version in versions:
        return True
    uncertain = False
    parse = version_parser(ecosystem)
    if parse is not None and versions:
        try:
            wanted = parse(version)
        except UnorderedVersion:
            uncertain = True
        else:
            for listed in versions:
                try:
                    if parse(listed) == wanted:
                        return True
                except UnorderedVersion:
                    continue
    for rng in ranges:
        if rng.get("type") == "GIT":
            uncertain = uncertain or not versions
            continue
        range_parse = version_parser(ecosystem, rng.get("type", "ECOSYSTEM"))
        if range_parse is None:
            uncertain = True
            continue
        try:
            if _in_events(range_parse(version), _parsed_events(rng, range_parse)):
                return True
        except UnorderedVersion:
            uncertain = True
    if not ranges and not versions:
        uncertain = True  # an entry with neither says nothing about versions
    return None if uncertain else False


def _same(parse: Callable[[str], Any] | None, wanted: Any, candidate: str) -> bool:
    if parse is None or wanted is None:
        return False
    try:
        return bool(parse(candidate) == wanted)
    except UnorderedVersion:
        return False


def mentions(version: str, ecosystem: str, ranges: list[dict[str, Any]], versions: list[str]) -> bool:
    """Whether the entry names ``version``: among its enumerated versions, or as a range boundary.

    Names compare exactly or as equal under the ecosystem's ordering (PyPI
    ``1.0`` is ``1.0.0``); Git commit hashes are not versions.
    """
    candidates = list(versions)
    for rng in ranges:
        if rng.get("type") != "GIT":
            candidates.extend(
                v for event in rng.get("events", []) for v in event.values() if v not in ("0", "*")
            )
    if version in candidates:
        return True
    parse = version_parser(ecosystem)
    try:
        wanted = parse(version) if parse is not None else None
    except UnorderedVersion:
        return False
    return any(_same(parse, wanted, c) for c in candidates)

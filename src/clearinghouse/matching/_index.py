"""Which registered components a vulnerability affects, and which vulnerabilities affect a component.

:class:`MatchIndex` holds vulnerabilities and inventories (named lists of SBOM
components), both keyed by package: (ecosystem, normalized name), plus CPE
``vendor:product`` for generic products. A question touches only the packages
it names, so its cost follows the names involved, not the size of the index.

Within one package, the vulnerabilities' ranges are compiled into one sorted
list of boundary versions; the boundaries cut the version line into regions,
each knowing which vulnerabilities may cover it. A version is placed with one
binary search, and only those vulnerabilities are checked exactly
(:meth:`AffectedRange.check`, which also says why). Answers are remembered per
package and version until the package's vulnerabilities change.

Rules and confidences (see ``docs/matching.md``):

* ``purl-exact`` (1.0): the component's purl and the advisory's package have
  the same purl type, namespace and name (as the purl spec normalizes them).
* ``name-version`` (0.9): the same package only after the ecosystem's name
  normalization (PEP 503, case, Maven ``group:artifact``, a Go path whose
  ``/vN`` the SBOM left out), or named by ecosystem and name without a purl.
* ``cpe-fallback`` (0.5): only the component's CPE vendor and product equal a
  generic product's (a CVE or CSAF vendor/product the importers write as
  ``pkg:generic/<vendor>/<product>``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from clearinghouse.matching._names import (
    Cpe,
    PackageName,
    clear_name_caches,
    from_purl,
    generic_cpe_key,
    go_major_alias,
    package_name,
    parse_cpe,
)
from clearinghouse.matching._ranges import AffectedRange, Scheme, Verdict, clear_version_caches, parse_vers

PURL_EXACT = "purl-exact"
NAME_VERSION = "name-version"
CPE_FALLBACK = "cpe-fallback"
CONFIDENCE: dict[str, float] = {PURL_EXACT: 1.0, NAME_VERSION: 0.9, CPE_FALLBACK: 0.5}


# -- inputs --------------------------------------------------------------------------------------


class ComponentLike(Protocol):
    """An SBOM component as ``clearinghouse.matching._sbom.Component`` has it."""

    @property
    def purl(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...
    @property
    def ecosystem(self) -> str | None: ...
    @property
    def cpe(self) -> str | None: ...
    @property
    def bom_ref(self) -> str | None: ...
    @property
    def pointer(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ComponentRef:
    """A component given directly (tests, benchmarks, callers without an SBOM parser)."""

    purl: str | None = None
    name: str | None = None
    version: str | None = None
    ecosystem: str | None = None
    cpe: str | None = None
    bom_ref: str | None = None
    pointer: str | None = None


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One package a vulnerability affects, its affected versions, and where the advisory says so."""

    package: PackageName
    range: AffectedRange
    pointer: str = ""

    @classmethod
    def from_purl(
        cls, purl: str, *, vers: str | None = None, version: str | None = None, pointer: str = ""
    ) -> AffectedPackage:
        """A finding's package: a purl with a vers string, a version, or a version in the purl itself."""
        package, purl_version = from_purl(purl)
        if vers is not None:
            affected = parse_vers(vers)
        elif version is not None or purl_version is not None:
            affected = AffectedRange.exact(package.ecosystem, str(version or purl_version))
        else:
            affected = AffectedRange.every(package.ecosystem)
        return cls(package, affected, pointer)


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """A vulnerability's id and the packages it affects."""

    id: str
    affected: tuple[AffectedPackage, ...]

    @classmethod
    def from_osv(cls, record: Mapping[str, Any]) -> Vulnerability:
        """An OSV record; entries without a package (commit ranges of a repository) are left out.

        A package is its ``ecosystem`` and ``name``, or failing those its ``purl``.
        """
        out: list[AffectedPackage] = []
        for i, entry in enumerate(record.get("affected") or []):
            package = entry.get("package") if isinstance(entry, Mapping) else None
            if not isinstance(package, Mapping):
                continue
            purl = package.get("purl") if isinstance(package.get("purl"), str) else None
            if package.get("name") and package.get("ecosystem"):
                ecosystem = str(package["ecosystem"])
                named = package_name(ecosystem, str(package["name"]), purl)
            elif purl:
                try:
                    named = from_purl(purl)[0]
                except ValueError:
                    continue
                ecosystem = named.ecosystem
            else:
                continue
            affected = AffectedRange.from_osv(
                ecosystem, entry.get("ranges") or [], entry.get("versions") or []
            )
            out.append(AffectedPackage(named, affected, f"/affected/{i}"))
        return cls(str(record.get("id", "")), tuple(out))

    @classmethod
    def from_packages(cls, vuln_id: str, packages: Iterable[Mapping[str, Any]]) -> Vulnerability:
        """A finding's ``package`` objects as importers write them: ``{purl, vers}``, ``{purl, version}``."""
        return cls(
            vuln_id,
            tuple(
                AffectedPackage.from_purl(
                    str(p["purl"]), vers=p.get("vers"), version=p.get("version"), pointer=f"/package/{i}"
                )
                for i, p in enumerate(packages)
            ),
        )


# -- outputs -------------------------------------------------------------------------------------


class Match(NamedTuple):
    """A component a vulnerability affects (``affected`` True) or may affect (None: the data cannot say)."""

    vulnerability: str
    component: ComponentLike
    inventory: str
    version: str
    package: str  # the advisory's package ("PyPI/django")
    pointer: str  # where in the advisory ("/affected/0")
    matched: str  # the range (or listed version) that matched, as text
    rule: str
    confidence: float
    affected: bool | None
    reason: str

    def explain(self) -> str:
        c = self.component
        ident = c.purl or c.cpe or f"{c.ecosystem}/{c.name}"
        where = ", ".join(
            p for p in (self.inventory, f"bom-ref {c.bom_ref}" if c.bom_ref else "", c.pointer or "") if p
        )
        verdict = "affected" if self.affected else "may be affected"
        return (
            f"{ident} (version {self.version}{'; ' + where if where else ''}) is {verdict} by "
            f"{self.vulnerability} ({self.package} at {self.pointer or '/'}): {self.matched or self.reason}; "
            f"rule {self.rule}, confidence {self.confidence}"
        )


# -- per-package tables --------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class PackageEntry:
    """One advisory's affected package in a :class:`PackageTable`: the advisory's id, the
    package and its range, and the label a match shows."""

    vuln_id: str
    affected: AffectedPackage
    label: str


class _Regions:
    """One version order's boundary versions in a package, and which entries may cover each region.

    With sorted distinct boundaries ``b0 < b1 < ...``, region ``2j`` is the
    versions between ``b(j-1)`` and ``bj``, and region ``2j + 1`` is ``bj`` itself.
    """

    __slots__ = ("cover", "everyone", "keys", "scheme")

    def __init__(self, scheme: Scheme, members: list[tuple[int, PackageEntry]]) -> None:
        self.scheme = scheme
        self.everyone = [i for i, _ in members]
        raw: list[Any] = []
        for _, entry in members:
            rng = entry.affected.range
            for span in rng.spans:
                if span.scheme is scheme:
                    raw.extend(k for k in (span.lo_key, span.hi_key) if k is not None)
            if rng.scheme is scheme:
                raw.extend(rng.listed_keys()[0])
        raw.sort()
        keys: list[Any] = []
        for k in raw:
            if not keys or keys[-1] != k:
                keys.append(k)
        self.keys = keys
        cover: list[list[int]] = [[] for _ in range(2 * len(keys) + 1)]
        for i, entry in members:
            rng = entry.affected.range
            for span in rng.spans:
                if span.scheme is not scheme:
                    continue
                first = 0 if span.lo is None else self._point(span.lo_key) + (0 if span.lo_incl else 1)
                last = (
                    len(cover) - 1
                    if span.hi is None
                    else self._point(span.hi_key) - (0 if span.hi_incl else 1)
                )
                for r in range(first, last + 1):
                    if not cover[r] or cover[r][-1] != i:
                        cover[r].append(i)
            if rng.scheme is scheme:
                for k in rng.listed_keys()[0]:
                    r = self._point(k)
                    if not cover[r] or cover[r][-1] != i:
                        cover[r].append(i)
        self.cover = cover

    def _point(self, key: Any) -> int:
        return 2 * bisect.bisect_left(self.keys, key) + 1

    def candidates(self, version: str) -> list[int]:
        key = self.scheme.try_key(version)
        if key is None:
            return self.everyone  # the exact check says "cannot say" for each
        j = bisect.bisect_left(self.keys, key)
        if j < len(self.keys) and self.keys[j] == key:
            return self.cover[2 * j + 1]
        return self.cover[2 * j]


class PackageTable:
    """The entries of one package (one index key), with their compiled regions and remembered answers."""

    __slots__ = ("_always", "_memo", "_raw", "_regions", "entries")

    _MEMO_LIMIT = 4096

    def __init__(self) -> None:
        self.entries: list[PackageEntry] = []
        self._regions: list[_Regions] | None = None
        self._raw: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._memo: dict[str, tuple[tuple[PackageEntry, Verdict], ...]] = {}

    def add(self, entry: PackageEntry) -> None:
        self.entries.append(entry)
        self._invalidate()

    def remove(self, vuln_id: str) -> None:
        self.entries = [e for e in self.entries if e.vuln_id != vuln_id]
        self._invalidate()

    def _invalidate(self) -> None:
        self._regions = None
        self._memo.clear()

    def _build(self) -> list[_Regions]:
        by_scheme: dict[int, tuple[Scheme, list[tuple[int, PackageEntry]]]] = {}
        self._raw = {}
        self._always = []
        for i, entry in enumerate(self.entries):
            rng = entry.affected.range
            for scheme in rng.schemes():
                by_scheme.setdefault(id(scheme), (scheme, []))[1].append((i, entry))
            for version in rng.listed:
                self._raw.setdefault(version, []).append(i)
            if rng.unevaluable:
                self._always.append(i)
        self._regions = [_Regions(scheme, members) for scheme, members in by_scheme.values()]
        return self._regions

    def compile(self) -> None:
        if self._regions is None:
            self._build()

    def lookup(self, version: str) -> tuple[tuple[PackageEntry, Verdict], ...]:
        """The entries that affect ``version`` (or cannot say), each with its verdict."""
        found = self._memo.get(version)
        if found is not None:
            return found
        regions = self._regions if self._regions is not None else self._build()
        candidates: set[int] = set(self._raw.get(version, ()))
        candidates.update(self._always)
        for table in regions:
            candidates.update(table.candidates(version))
        out: list[tuple[PackageEntry, Verdict]] = []
        for i in sorted(candidates):
            entry = self.entries[i]
            verdict = entry.affected.range.check(version)
            if verdict.affected is not False:
                out.append((entry, verdict))
        result = tuple(out)
        if len(self._memo) >= self._MEMO_LIMIT:
            self._memo.clear()
        self._memo[version] = result
        return result


# -- the index -----------------------------------------------------------------------------------


class _Reg(NamedTuple):
    inventory: str
    component: ComponentLike
    package: PackageName | None
    version: str
    exact: tuple[str, str, str] | None  # the component's purl identity (None: no purl, or a Go /vN alias)
    bucket: dict[str, list[_Reg]]  # where it is filed (by version)


class _Identity(NamedTuple):
    package: PackageName | None
    version: str | None
    cpe: Cpe | None
    alias: str | None  # the Go ``/vN`` module path the SBOM left out
    exact: tuple[str, str, str] | None  # the purl identity, when the component gave a purl


_IDENTITIES: dict[tuple[str | None, ...], _Identity] = {}


def _identify(component: ComponentLike) -> _Identity:
    """What a component names: package, version, CPE (remembered per distinct spelling)."""
    purl, version, cpe_text = component.purl, component.version, component.cpe
    spelling = (purl, version, component.ecosystem, component.name, cpe_text)
    found = _IDENTITIES.get(spelling)
    if found is not None:
        return found
    package: PackageName | None = None
    if purl:
        try:
            package, purl_version = from_purl(purl)
        except ValueError:
            package, purl_version = None, None
        version = version or purl_version
    exact = package.purl if package is not None else None
    if package is None and component.name and component.ecosystem:
        package = package_name(component.ecosystem, component.name)
    cpe = parse_cpe(cpe_text) if cpe_text else None
    if not version and cpe is not None:
        version = cpe.version
    alias = None
    if package is not None and package.ecosystem == "Go":
        alias = go_major_alias(package.key, version)
    found = _Identity(package, version, cpe, alias, exact)
    if len(_IDENTITIES) >= 262_144:
        _IDENTITIES.clear()
    _IDENTITIES[spelling] = found
    return found


def component_keys(component: ComponentLike) -> tuple[str | None, str | None]:
    """``ecosystem/key`` of the package a component names, and of its Go ``/vN`` alias (lower-cased:
    what the stored components are looked up by; the index decides exactly)."""
    ident = _identify(component)
    package = ident.package
    if package is None:
        return None, None
    alias = f"Go/{ident.alias}".lower() if ident.alias is not None else None
    return f"{package.ecosystem}/{package.key}".lower()[:600], alias[:600] if alias else None


def clear_caches() -> None:
    """Forget every remembered identity and parsed version (benchmarks measure first passes with it)."""
    _IDENTITIES.clear()
    clear_name_caches()
    clear_version_caches()


def _variant_ok(component: PackageName | None, advisory: PackageName) -> bool:
    return component is None or not (
        component.variant and advisory.variant and component.variant != advisory.variant
    )


def _better(a: Match, b: Match) -> bool:
    """Whether ``a`` should stand for the pair rather than ``b``: affected first, then confidence."""
    return (a.affected is True, a.confidence) > (b.affected is True, b.confidence)


class MatchIndex:
    """Vulnerabilities and inventories, matched both ways."""

    def __init__(self) -> None:
        self._vulns: dict[str, Vulnerability] = {}
        self._tables: dict[tuple[str, str], PackageTable] = {}
        self._cpe_tables: dict[str, PackageTable] = {}
        self._components: dict[tuple[str, str], dict[str, list[_Reg]]] = {}
        self._cpe_components: dict[str, dict[str, list[_Reg]]] = {}
        self._inventories: dict[str, list[_Reg]] = {}

    # -- vulnerabilities ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._vulns)

    @property
    def component_count(self) -> int:
        """Registered components (each counted once, however many keys it is filed under)."""
        return sum(len({id(reg.component) for reg in regs}) for regs in self._inventories.values())

    def compile(self) -> None:
        """Compile every package's ranges now (otherwise each is compiled at its first question)."""
        for table in (*self._tables.values(), *self._cpe_tables.values()):
            table.compile()

    def add_vulnerability(self, vuln: Vulnerability) -> None:
        """Register (or replace) a vulnerability; later component queries see it."""
        if vuln.id in self._vulns:
            self.remove_vulnerability(vuln.id)
        self._vulns[vuln.id] = vuln
        for affected in vuln.affected:
            entry = PackageEntry(vuln.id, affected, str(affected.package))
            key = (affected.package.ecosystem, affected.package.key)
            self._tables.setdefault(key, PackageTable()).add(entry)
            cpe_key = generic_cpe_key(affected.package)
            if cpe_key is not None:
                self._cpe_tables.setdefault(cpe_key, PackageTable()).add(entry)

    def remove_vulnerability(self, vuln_id: str) -> None:
        vuln = self._vulns.pop(vuln_id, None)
        if vuln is None:
            return
        for affected in vuln.affected:
            key = (affected.package.ecosystem, affected.package.key)
            table = self._tables.get(key)
            if table is not None:
                table.remove(vuln_id)
                if not table.entries:
                    del self._tables[key]
            cpe_key = generic_cpe_key(affected.package)
            cpe_table = self._cpe_tables.get(cpe_key) if cpe_key is not None else None
            if cpe_key is not None and cpe_table is not None:
                cpe_table.remove(vuln_id)
                if not cpe_table.entries:
                    del self._cpe_tables[cpe_key]

    # -- inventories -------------------------------------------------------------------------

    def add_inventory(self, inventory: str, components: Iterable[ComponentLike]) -> list[Match]:
        """Register (or replace) an inventory's components, and return the vulnerabilities affecting them."""
        self.remove_inventory(inventory)
        regs: list[_Reg] = []
        out: list[Match] = []
        for component in components:
            ident = _identify(component)
            version = ident.version
            if not version:
                continue
            package = ident.package
            if package is not None:
                key = (package.ecosystem, package.key)
                bucket = self._components.get(key)
                if bucket is None:
                    bucket = self._components[key] = {}
                _file(regs, _Reg(inventory, component, package, version, ident.exact, bucket))
                if ident.alias is not None:
                    bucket = self._components.setdefault(("Go", ident.alias), {})
                    _file(regs, _Reg(inventory, component, package, version, None, bucket))
            if ident.cpe is not None:
                cpe_version = ident.cpe.version or version
                bucket = self._cpe_components.setdefault(ident.cpe.key, {})
                _file(regs, _Reg(inventory, component, package, cpe_version, None, bucket))
            self._match_one(out, component, ident, version, inventory)
        self._inventories[inventory] = regs
        return out

    def remove_inventory(self, inventory: str) -> None:
        for reg in self._inventories.pop(inventory, []):
            held = reg.bucket.get(reg.version)
            if held is not None:
                held[:] = [r for r in held if r is not reg]
                if not held:
                    del reg.bucket[reg.version]

    # -- direction (b): components -> vulnerabilities -------------------------------------

    def match(self, components: Iterable[ComponentLike], inventory: str = "") -> list[Match]:
        """The registered vulnerabilities affecting ``components`` (which need not be registered)."""
        out: list[Match] = []
        for component in components:
            ident = _identify(component)
            if ident.version:
                self._match_one(out, component, ident, ident.version, inventory)
        return out

    def _match_one(
        self, out: list[Match], component: ComponentLike, ident: _Identity, version: str, inventory: str
    ) -> None:
        first = len(out)
        package = ident.package
        if package is not None:
            table = self._tables.get((package.ecosystem, package.key))
            if table is not None:
                exact = ident.exact
                for entry, verdict in table.lookup(version):
                    advisory = entry.affected.package
                    if package.variant and advisory.variant and package.variant != advisory.variant:
                        continue
                    rule = PURL_EXACT if exact is not None and exact == advisory.purl else NAME_VERSION
                    out.append(_match(entry, verdict, component, inventory, version, rule))
            if ident.alias is not None:
                table = self._tables.get(("Go", ident.alias))
                if table is not None:
                    for entry, verdict in table.lookup(version):
                        out.append(_match(entry, verdict, component, inventory, version, NAME_VERSION))
        if ident.cpe is not None:
            table = self._cpe_tables.get(ident.cpe.key)
            if table is not None:
                cpe_version = ident.cpe.version or version
                seen = {m.vulnerability for m in out[first:]}
                for entry, verdict in table.lookup(cpe_version):
                    if entry.vuln_id not in seen:
                        out.append(_match(entry, verdict, component, inventory, cpe_version, CPE_FALLBACK))
        if len(out) - first > 1:
            out[first:] = _best_per_vulnerability(out[first:])

    # -- direction (a): a vulnerability -> components ------------------------------------

    def affected_by(self, vuln: Vulnerability) -> list[Match]:
        """The registered components ``vuln`` affects (``vuln`` need not be registered)."""
        out: list[Match] = []
        visited: set[int] = set()
        overlap = False  # whether a component may have been reached twice (then keep its best match)
        for affected in vuln.affected:
            entry = PackageEntry(vuln.id, affected, str(affected.package))
            advisory = affected.package
            sources: list[tuple[dict[str, list[_Reg]] | None, str | None]] = [
                (self._components.get((advisory.ecosystem, advisory.key)), None),
            ]
            cpe_key = generic_cpe_key(advisory)
            if cpe_key is not None:
                sources.append((self._cpe_components.get(cpe_key), CPE_FALLBACK))
            for bucket, fixed_rule in sources:
                if not bucket:
                    continue
                overlap = overlap or fixed_rule is not None or id(bucket) in visited
                visited.add(id(bucket))
                for version, regs in bucket.items():
                    verdict = affected.range.check(version)
                    if verdict.affected is False:
                        continue
                    for reg in regs:
                        if fixed_rule is not None:
                            rule = fixed_rule
                        elif not _variant_ok(reg.package, advisory):
                            continue
                        elif reg.exact is not None and reg.exact == advisory.purl:
                            rule = PURL_EXACT
                        else:
                            overlap = overlap or reg.exact is None  # a Go /vN alias, or no purl
                            rule = NAME_VERSION
                        out.append(_match(entry, verdict, reg.component, reg.inventory, version, rule))
        return _best_per_vulnerability(out) if overlap and len(out) > 1 else out


def _file(regs: list[_Reg], reg: _Reg) -> None:
    held = reg.bucket.get(reg.version)
    if held is None:
        reg.bucket[reg.version] = [reg]
    else:
        held.append(reg)
    regs.append(reg)


def _match(
    entry: PackageEntry, verdict: Verdict, component: ComponentLike, inventory: str, version: str, rule: str
) -> Match:
    return Match(
        entry.vuln_id,
        component,
        inventory,
        version,
        entry.label,
        entry.affected.pointer,
        verdict.matched or "",
        rule,
        CONFIDENCE[rule],
        verdict.affected,
        verdict.reason,
    )


def _best_per_vulnerability(matches: list[Match]) -> list[Match]:
    """One match per (component, inventory, vulnerability): the best-supported one, in first-seen order."""
    best: dict[tuple[int, str, str], int] = {}
    out: list[Match] = []
    for m in matches:
        key = (id(m.component), m.inventory, m.vulnerability)
        at = best.get(key)
        if at is None:
            best[key] = len(out)
            out.append(m)
        elif _better(m, out[at]):
            out[at] = m
    return out

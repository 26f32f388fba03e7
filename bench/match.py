"""Matching speed: 1,000 SBOMs x 500 components against every advisory in the corpus.

    uv run --frozen python bench/match.py                  # everything, the service path included
    uv run --frozen python bench/match.py --service-only   # only the service path (and its floor)
    [--sboms 1000] [--components 500] [--seed 7] [--pool 12] [--service N] [--database-url URL]
    BENCH_PROFILE=/tmp/match.prof ...                      # cProfile of the matching jobs

The issue's figure (issue 15: >= 100,000 component checks/s) is the **service path** line.

Reads the shared corpus (``CLEARINGHOUSE_CORPUS``, default ``<repo>/../shared/corpus``):
every OSV record of ``pypa-advisory-database``, ``ghsa-sample`` and
``osv-more-ecosystems`` (including the tar.gz bundles, and the rubysec and
Node.js security WG records converted to OSV), registered in one
:class:`MatchIndex`.

The SBOMs are made of real package names from those advisories, in the
ecosystems SBOMs name by purl (PyPI, npm, RubyGems, Maven, Go). Each name gets
a pool of ``--pool`` versions drawn from its advisories' ``versions`` lists and
range boundaries and from nearby versions (the next and previous patch, the
next major), so some components fall in a range and most do not; a component
picks a name at random and a version from the name's pool. One component in
twenty spells its name differently (case, ``_`` for ``-``), as SBOM tools do.

Printed figures (no assertions):

* **component checks per second**: components matched (identity, index
  lookup, range evaluation, explanations) per second of wall clock, through
  :meth:`MatchIndex.add_inventory` (registers and matches each SBOM) on a
  fresh index: the first pass, with every (package, version) evaluated for
  the first time; then again through :meth:`MatchIndex.match` with the
  per-package answers remembered.
* **floor and ratio**: in the same run, the cost of a plain dict lookup of
  each component's normalized name (purl parsed through the same cached
  identity function); the ratio is match time / floor time.
* **stored path** (what the ``matching.asset`` / ``matching.advisories`` jobs compute, without
  the database round trips): the advisories prepared as the stored matcher prepares imported
  rows (``_advisories._known``: informational and withdrawn ones left out, ids, severity), every
  SBOM matched with :meth:`MatchIndex.match`, and each match turned into its ``advisory_matches``
  row (explanation, first fixed version, fixed versions); with the ratio against the floor and
  the target of 100,000 component checks/s.
* **service path** (end to end): a fresh database (SQLite in a temporary folder, or
  ``--database-url``), the corpus and the KEV catalog imported with ``import_paths``, the SBOMs
  registered through ``register_asset`` (CycloneDX documents, each queuing ``matching.asset`` in
  its unit of work), then the queued jobs run as the worker runs them: component checks/s from the
  first job to the last, counting the ``advisory_matches`` rows written with their ledger record
  (batch events), ``new_match`` events and KEV reminders; the warm floor measured in the same run
  and the ratio; and how many stored rows no ledger event names (0 expected).
* **incremental**: a newly validated vulnerability (a copy of a corpus
  advisory under a new id) against the 500,000 registered components:
  :meth:`MatchIndex.affected_by` plus :meth:`MatchIndex.add_vulnerability`
  wall time, for the 20 advisories whose packages have the most registered
  components and for 200 random ones; and an extreme case, one vulnerability
  naming every package at every version (all 500,000 components match).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from packageurl import PackageURL

from clearinghouse.intake.advisories._loaders import OsvItem, Reader
from clearinghouse.matching import (
    AffectedPackage,
    AffectedRange,
    ComponentRef,
    MatchIndex,
    Vulnerability,
    clear_caches,
    package_name,
)
from clearinghouse.matching._names import from_purl

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SOURCES = ("pypa-advisory-database", "ghsa-sample", "osv-more-ecosystems")
PURL_TYPES = {"PyPI": "pypi", "npm": "npm", "RubyGems": "gem", "Maven": "maven", "Go": "golang"}


def corpus_root() -> Path:
    return Path(os.environ.get("CLEARINGHOUSE_CORPUS", DEFAULT_CORPUS))


def load_records(root: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for source in SOURCES:
        for item in Reader([root / source]).items():
            if isinstance(item, OsvItem):
                records.append(item.record)
    return records


_NUM = re.compile(r"(\d+)(?!.*\d)")


def nearby(version: str) -> list[str]:
    """The next and previous patch (last number +-1), and the next major."""
    out = []
    match = _NUM.search(version)
    if match:
        n = int(match.group(1))
        start, end = match.span(1)
        out.append(f"{version[:start]}{n + 1}{version[end:]}")
        if n > 0:
            out.append(f"{version[:start]}{n - 1}{version[end:]}")
    lead = re.match(r"^(v?)(\d+)", version)
    if lead:
        out.append(f"{lead.group(1)}{int(lead.group(2)) + 1}.0.0")
    return out


def version_pools(
    records: list[dict[str, Any]], rng: random.Random, size: int
) -> dict[tuple[str, str], list[str]]:
    listed: dict[tuple[str, str], set[str]] = defaultdict(set)
    bounds: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        for entry in record.get("affected") or []:
            package = entry.get("package") or {}
            ecosystem, name = package.get("ecosystem"), package.get("name")
            if ecosystem not in PURL_TYPES or not name:
                continue
            key = (ecosystem, name)
            listed[key].update(str(v) for v in entry.get("versions") or [])
            for rng_ in entry.get("ranges") or []:
                if rng_.get("type") == "GIT":
                    continue
                for event in rng_.get("events") or []:
                    for value in event.values():
                        if str(value) not in ("0", "*"):
                            bounds[key].add(str(value))
    pools: dict[tuple[str, str], list[str]] = {}
    for key in sorted(set(listed) | set(bounds)):
        seeds = sorted(listed[key] | bounds[key])
        if not seeds:
            continue
        # A few versions the advisories name, a few next to them, and the rest newer than
        # anything they name (where most deployed versions are).
        picked = rng.sample(seeds, min(len(seeds), max(1, size // 6)))
        near = sorted({n for v in picked for n in nearby(v)} - set(seeds))
        pool = picked + rng.sample(near, min(len(near), max(1, size // 4)))
        top = max((int(m.group(1)) for v in seeds if (m := re.match(r"^v?(\d+)", v))), default=0)
        prefix = "v" if key[0] == "Go" else ""
        newer = [f"{prefix}{top + a}.{b}.{c}" for a in (1, 2) for b in (0, 1, 3) for c in (0, 2)]
        pool += rng.sample(newer, max(0, min(len(newer), size - len(pool))))
        pools[key] = pool
    return pools


def purl_for(ecosystem: str, name: str, version: str, respell: bool) -> str:
    kind = PURL_TYPES[ecosystem]
    namespace = None
    if respell and ecosystem == "PyPI":
        name = name.replace("-", "_").title()
    elif respell and ecosystem in ("RubyGems", "npm"):
        name = name.upper() if ecosystem == "RubyGems" else name
    if ecosystem == "Maven":
        namespace, _, name = name.partition(":")
    elif ecosystem in ("npm", "Go") and "/" in name:
        namespace, _, name = name.rpartition("/")
    if ecosystem == "Go" and not version.startswith("v"):
        version = "v" + version
    return PackageURL(type=kind, namespace=namespace, name=name, version=version).to_string()


def make_sboms(
    pools: dict[tuple[str, str], list[str]], rng: random.Random, sboms: int, per_sbom: int
) -> list[list[ComponentRef]]:
    names = sorted(pools)
    cache: dict[tuple[str, str, str, bool], ComponentRef] = {}
    out = []
    for s in range(sboms):
        components = []
        for i in range(per_sbom):
            ecosystem, name = names[rng.randrange(len(names))]
            version = rng.choice(pools[(ecosystem, name)])
            respell = rng.random() < 0.05
            key = (ecosystem, name, version, respell)
            ref = cache.get(key)
            if ref is None:
                ref = ComponentRef(purl=purl_for(ecosystem, name, version, respell))
                cache[key] = ref
            components.append(
                ComponentRef(purl=ref.purl, version=None, bom_ref=f"sbom{s}-c{i}", pointer=f"/components/{i}")
            )
        out.append(components)
    return out


def fresh_copy(index: MatchIndex, vulns: list[Vulnerability]) -> MatchIndex:
    """A new index with the same vulnerabilities, compiled, with nothing remembered."""
    del index
    fresh = MatchIndex()
    for vuln in vulns:
        fresh.add_vulnerability(vuln)
    fresh.compile()
    return fresh


TARGET = 100_000  # component checks per second the stored path must sustain (issue 15)


def stored_path(
    records: list[dict[str, Any]], sboms: list[list[ComponentRef]], total: int, floor: float
) -> None:
    """The advisory matcher's compute path: rows prepared as imported, matched, rows built."""
    from types import SimpleNamespace

    from clearinghouse.matching._advisories import _known, _row
    from clearinghouse.matching.models import AssetComponent

    rows = [
        SimpleNamespace(
            id=str(r.get("id")),
            raw=r,
            withdrawn=r.get("withdrawn"),
            aliases=[a for a in r.get("aliases") or [] if isinstance(a, str)],
            summary=r.get("summary") or "",
        )
        for r in records
    ]
    t0 = time.perf_counter()
    known = _known(rows)  # type: ignore[arg-type]
    index = MatchIndex()
    for item in known.values():
        index.add_vulnerability(item.vuln)
    index.compile()
    t_prepare = time.perf_counter() - t0
    assets = [SimpleNamespace(id=f"asset-{s}", name=f"sbom-{s}") for s in range(len(sboms))]
    components = [
        [
            AssetComponent(
                asset_id=assets[s].id,
                purl=c.purl,
                name=c.name or "",
                version=c.version,
                pointer=c.pointer or "",
            )
            for c in sbom
        ]
        for s, sbom in enumerate(sboms)
    ]
    gc.collect()
    gc.freeze()
    built = 0
    t0 = time.perf_counter()
    for s, held in enumerate(components):
        for m in index.match(held, assets[s].id):
            _row(known[m.vulnerability], assets[s], m)  # type: ignore[arg-type]
            built += 1
    elapsed = time.perf_counter() - t0
    rate = total / elapsed
    print(
        f"stored path: {len(known):,} advisories prepared as imported ({len(rows) - len(known):,} left out: "
        f"withdrawn, informational or without packages) in {t_prepare:.1f} s; "
        f"{total:,} components matched and {built:,} advisory_matches rows built in {elapsed:.2f} s: "
        f"{rate:,.0f} component checks/s, {elapsed / floor:.1f}x the floor's time; "
        f"target {TARGET:,}/s {'met' if rate >= TARGET else 'NOT met'} ({rate / TARGET:.1f}x)"
    )


def _cyclonedx(name: str, sbom: list[ComponentRef]) -> bytes:
    import json

    components = []
    for c in sbom:
        assert c.purl is not None
        parsed = PackageURL.from_string(c.purl)
        components.append(
            {
                "type": "library",
                "group": parsed.namespace or None,
                "name": parsed.name,
                "version": parsed.version,
                "purl": c.purl,
                "bom-ref": c.bom_ref,
            }
        )
    for comp in components:
        if comp["group"] is None:
            del comp["group"]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name}},
        "components": components,
    }
    return json.dumps(doc).encode()


def service_path(
    root: Path, sboms: list[list[ComponentRef]], floor_rate: float, database_url: str | None
) -> None:
    """End to end through the service: the corpus imported, each SBOM registered through
    ``register_asset`` (queues ``matching.asset`` in its unit of work), then the queued jobs run
    as the worker runs them (cases and advisories matched, ``advisory_matches`` rows written with
    their ledger record, ``new_match`` events, KEV deadline reminders), committed per job."""
    import tempfile

    from sqlalchemy import func, select

    import clearinghouse.tasks_registry  # noqa: F401  (as the entry points do: every job is known)
    from clearinghouse.access import services as access
    from clearinghouse.config import Settings
    from clearinghouse.intake.advisories import import_paths
    from clearinghouse.ledger import unrecorded_rows
    from clearinghouse.matching import services as matching
    from clearinghouse.matching.models import AdvisoryMatch
    from clearinghouse.runtime import Runtime
    from clearinghouse.storage import Actor

    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLEARINGHOUSE_HOME": tmp, "CLEARINGHOUSE_JOB_BACKEND": "inprocess"}
        if database_url:
            env["CLEARINGHOUSE_DATABASE_URL"] = database_url
        runtime = Runtime(Settings.from_env(env))
        runtime.migrate()
        t0 = time.perf_counter()
        report = import_paths(runtime.uow, [root / s for s in SOURCES] + [root / "cisa-kev"])
        while runtime.jobs.run_pending():
            pass
        print(
            f"service path ({'PostgreSQL' if database_url else 'SQLite'}): {report.inserted:,} advisories "
            f"and the KEV catalog imported in {time.perf_counter() - t0:.1f} s"
        )
        with runtime.uow(Actor.system("bench")) as uow:
            org, _ = access.create_organization(uow, access.OPERATOR, "Bench Agency", "government_agency")
            uow.commit()
        subject = access.OPERATOR
        documents = [_cyclonedx(f"sbom-{s}", sbom) for s, sbom in enumerate(sboms)]
        t0 = time.perf_counter()
        for s, doc in enumerate(documents):
            with runtime.uow(Actor.system("bench")) as uow:
                matching.register_asset(
                    uow, subject, matching.AssetDraft(name=f"sbom-{s}", sbom=doc, org=org.id)
                )
                uow.commit()
        t_register = time.perf_counter() - t0
        total = sum(len(s) for s in sboms)
        print(f"  {len(sboms):,} SBOMs registered ({total:,} components) in {t_register:.1f} s")
        gc.collect()
        profiler = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        jobs = 0
        while ran := runtime.jobs.run_pending():
            jobs += ran
        elapsed = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.environ["BENCH_PROFILE"])
        with runtime.uow(Actor.system("bench"), write=False) as uow:
            stored = uow.session.scalar(select(func.count()).select_from(AdvisoryMatch)) or 0
            missing = unrecorded_rows(uow.session, limit=10)
        runtime.close()
    rate = total / elapsed
    floor_time = total / floor_rate
    print(
        f"  matching jobs: {jobs:,} jobs, {total:,} components matched, {stored:,} advisory_matches "
        f"rows stored in {elapsed:.1f} s: {rate:,.0f} component checks/s end to end; floor "
        f"{floor_rate:,.0f}/s; {elapsed / floor_time:.1f}x the floor's time; target {TARGET:,}/s "
        f"{'met' if rate >= TARGET else 'NOT met'} ({rate / TARGET:.2f}x); rows the ledger does not "
        f"name: {len(missing)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sboms", type=int, default=1000)
    parser.add_argument("--components", type=int, default=500)
    parser.add_argument("--pool", type=int, default=12, help="versions per package name")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--service",
        type=int,
        default=None,
        metavar="N",
        help="run the end-to-end service path on the first N SBOMs (default: all); 0 skips it",
    )
    parser.add_argument("--database-url", default=None, help="service path database (default: SQLite)")
    parser.add_argument("--service-only", action="store_true", help="skip the in-memory figures")
    args = parser.parse_args()
    root = corpus_root()
    if not (root / "README.md").is_file():
        sys.exit(f"the shared corpus is not at {root}; set CLEARINGHOUSE_CORPUS")
    rng = random.Random(args.seed)

    t0 = time.perf_counter()
    records = load_records(root)
    vulns = [Vulnerability.from_osv(r) for r in records]
    t_load = time.perf_counter() - t0
    entries = sum(len(v.affected) for v in vulns)
    print(
        f"corpus: {len(records):,} advisories, {entries:,} affected packages (read + parsed {t_load:.1f} s)"
    )

    pools = version_pools(records, rng, args.pool)
    sboms = make_sboms(pools, rng, args.sboms, args.components)
    total = sum(len(s) for s in sboms)
    distinct = len({c.purl for s in sboms for c in s})
    by_eco = Counter(k[0] for k in pools)
    print(
        f"SBOMs: {len(sboms):,} x {args.components} = {total:,} components; {len(pools):,} package names "
        f"({', '.join(f'{e} {n}' for e, n in by_eco.most_common())}), {distinct:,} distinct purl@version"
    )

    index = MatchIndex()
    t0 = time.perf_counter()
    for vuln in vulns:
        index.add_vulnerability(vuln)
    t_add = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.compile()
    print(
        f"index: {len(index):,} vulnerabilities registered in {t_add:.2f} s, "
        f"ranges compiled per package in {time.perf_counter() - t0:.2f} s"
    )
    raw_records = records
    del records
    gc.collect()
    gc.freeze()  # the corpus, the SBOMs and the index are long-lived: out of the collector's way

    names = set(index._tables)
    if args.service_only:
        t0 = time.perf_counter()
        for _ in range(2):  # the warm floor: the second pass
            t0 = time.perf_counter()
            for sbom in sboms:
                for c in sbom:
                    package = from_purl(c.purl)[0]  # type: ignore[arg-type]
                    (package.ecosystem, package.key) in names  # noqa: B015
        floor_warm = time.perf_counter() - t0
        print(f"floor (purl -> normalized name -> dict lookup), warm: {total / floor_warm:,.0f}/s")
        chosen = sboms[: args.service] if args.service else sboms
        service_path(root, chosen, total / floor_warm, args.database_url)
        return
    floor: dict[str, float] = {}
    checks: dict[str, float] = {}
    rules: Counter[str] = Counter()
    undetermined = hit = 0
    for phase in ("cold", "warm"):
        if phase == "cold":
            clear_caches()
        t0 = time.perf_counter()
        known = 0
        for sbom in sboms:
            for c in sbom:
                package = from_purl(c.purl)[0]  # type: ignore[arg-type]
                if (package.ecosystem, package.key) in names:
                    known += 1
        floor[phase] = time.perf_counter() - t0
        if phase == "cold":
            clear_caches()
            index = fresh_copy(index, vulns)
        t0 = time.perf_counter()
        for s, sbom in enumerate(sboms):
            found_matches = index.match(sbom, f"sbom-{s}")
            if phase == "cold":
                rules.update(m.rule for m in found_matches)
                undetermined += sum(m.affected is None for m in found_matches)
                hit += len({id(m.component) for m in found_matches})
        checks[phase] = time.perf_counter() - t0
    matches = sum(rules.values())
    pairs = 0
    for sbom in sboms:
        for c in sbom:
            package = from_purl(c.purl)[0]  # type: ignore[arg-type]
            table = index._tables.get((package.ecosystem, package.key))
            pairs += len(table.entries) if table is not None else 0
    print(
        f"work: {pairs:,} (component, advisory entry) pairs decided, "
        f"{pairs / total:.1f} advisory entries per component's package on average"
    )
    print(
        f"floor (purl -> normalized name -> dict lookup): cold {total / floor['cold']:,.0f}/s, "
        f"warm {total / floor['warm']:,.0f}/s ({known:,} names known)"
    )
    print(
        f"matches: {hit:,} components ({hit / total:.0%}) with {matches:,} matches "
        f"({', '.join(f'{r} {n:,}' for r, n in rules.most_common())}; {undetermined:,} of them cannot-say)"
    )
    for phase, what in (
        ("cold", "first pass, every package and version evaluated the first time"),
        ("warm", "answers remembered per package and version"),
    ):
        print(
            f"match ({what}): {total / checks[phase]:,.0f} component checks/s "
            f"({checks[phase]:.2f} s; {checks[phase] / floor[phase]:.1f}x the floor's time)"
        )

    stored_path(raw_records, sboms, total, floor["warm"])
    if args.service != 0:
        chosen = sboms[: args.service] if args.service else sboms
        service_path(root, chosen, total / floor["warm"], args.database_url)

    # Registering the inventories (and matching them, as add_inventory does).
    t0 = time.perf_counter()
    for s, sbom in enumerate(sboms):
        index.add_inventory(f"sbom-{s}", sbom)
    t_reg = time.perf_counter() - t0
    print(f"add_inventory (register + match): {total / t_reg:,.0f} components/s ({t_reg:.2f} s)")

    # Incremental: a newly validated vulnerability against the registered components.
    registered = Counter()
    for sbom in sboms:
        for c in sbom:
            assert c.purl is not None
            package = from_purl(c.purl)[0]
            registered[(package.ecosystem, package.key)] += 1
    weight = [
        (sum(registered[(a.package.ecosystem, a.package.key)] for a in r.affected), i)
        for i, r in enumerate(vulns)
    ]
    weight.sort(reverse=True)
    picks = [i for _, i in weight[:20]] + rng.sample(range(len(vulns)), 200)
    timings: list[tuple[float, int, str]] = []
    for i in picks:
        original = vulns[i]
        new = Vulnerability(f"NEW-{original.id}", original.affected)
        gc.disable()
        t0 = time.perf_counter()
        affected = index.affected_by(new)
        index.add_vulnerability(new)
        elapsed = time.perf_counter() - t0
        gc.enable()
        timings.append((elapsed * 1000, len(affected), original.id))
        index.remove_vulnerability(new.id)
    top = timings[:20]
    worst = max(timings)
    print(
        f"incremental: new vulnerability vs {index.component_count:,} components: "
        f"busiest 20 packages median {statistics.median(t for t, _, _ in top):.1f} ms, "
        f"max {max(t for t, _, _ in top):.1f} ms ({worst[2]}: {worst[1]:,} components affected); "
        f"200 random median {statistics.median(t for t, _, _ in timings[20:]):.2f} ms"
    )

    # Extreme case: one vulnerability naming every package in the SBOMs (every version affected),
    # so each of the 500,000 components is a match.
    everything = Vulnerability(
        "NEW-EVERYTHING",
        tuple(
            AffectedPackage(package_name(ecosystem, name), AffectedRange.every(ecosystem), f"/affected/{i}")
            for i, (ecosystem, name) in enumerate(sorted(pools))
        ),
    )
    t0 = time.perf_counter()
    affected = index.affected_by(everything)
    print(
        f"incremental, extreme: a vulnerability naming all {len(pools):,} packages: "
        f"{(time.perf_counter() - t0) * 1000:.0f} ms for {len(affected):,} matches"
    )


if __name__ == "__main__":
    main()

"""A flood of finders restating REAL advisories, with ground truth: what deduplication meets in practice.

    uv run python bench/restate.py --count 28000 --out /tmp/restate [--aliases some|none] [--seed 7]

Reads the shared corpus (pypa-advisory-database, ghsa-sample, osv-more-ecosystems) through
``bench/flood.py``'s loader and picks advisories (``--advisories``, default count / 7.5). Each
advisory is one true case per package; it is then reported several times, each time by one finder
in its own words:

* reworded summary and details (synonym swaps), sentences shuffled and some dropped, a finder's intro
  and outro sentences, now and then no summary at all (the title is then the details' first line);
* the finder's own report id (``ACME-2026-00042``): the OSV document's ``id``, the native finding's
  ``origin.document_id``, sometimes written in the text, and for careless native finders in
  ``aliases`` too;
* the affected versions nudged inside the range: the whole range, a version inside it, a narrower
  range (introduced later, or ``last_affected`` before the fix);
* with ``--aliases some``, the advisory's CVE/GHSA ids on about half the reports (a subset at times);
  with ``--aliases none``, none (zero-days);
* a CWE on some reports, none on the rest; never a code location (advisories name none).

Hard negatives are the rest of each package's advisories (the same package, another bug: TensorFlow,
Django, OSS-Fuzz projects have hundreds), plus advisories moved from another package of the same
ecosystem ("transplant", the package name rewritten).

Writes ``OUT/findings.ndjson`` (native findings, one a line), ``OUT/osv/NNNNNN.json`` (the same
reports as one OSV document per file, same order) and ``OUT/truth.json`` (the true case of each
report, in order). Deterministic in the corpus, ``count``, ``seed`` and ``aliases``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.flood import (
    GENERATORS,
    INTROS,
    OUTROS,
    Advisory,
    corpus_path,
    load_advisories,
    paraphrase,
    purl_of,
    sentences,
)

from clearinghouse.triage._fingerprint import version_key

SOURCES = ("pypa", "ghsa", "go", "psf", "oss-fuzz", "rubysec", "npm")
FINDER_PREFIXES = ("ACME", "BUGHOUND", "SENTINEL", "PATCHWISE", "WARDEN", "UNILAB", "OSSG", "TRIAGE")
_OSV_ECOSYSTEM = {"pypi": "PyPI", "npm": "npm", "gem": "RubyGems", "golang": "Go", "maven": "Maven"}
_REGISTRY_ALIAS = re.compile(r"^(CVE|GHSA)-", re.I)


@dataclass
class Bug:
    """One true case: an advisory's bug in one package (maybe transplanted from another package)."""

    key: str
    adv: Advisory
    purl_type: str
    namespace: str | None
    name: str
    title: str
    details: str
    kind: str  # "advisory" or "transplant"


@dataclass
class Restated:
    findings: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    truth: list[str]


def _transplant(donor: Advisory, target: Advisory) -> tuple[str, str]:
    def rename(text: str) -> str:
        return re.sub(rf"\b{re.escape(donor.name)}\b", target.name, text, flags=re.I)

    return rename(donor.title), rename(donor.details)


def pick_bugs(advisories: Sequence[Advisory], n: int, rng: Random, transplant_share: float) -> list[Bug]:
    """``n`` bugs: whole packages' advisories first (so each package's other advisories are there as
    hard negatives), and a share of advisories transplanted into a package of the same ecosystem."""
    usable = [a for a in advisories if a.details or a.title]
    by_package: dict[str, list[Advisory]] = defaultdict(list)
    for a in usable:
        by_package[a.package_key].append(a)
    packages = sorted(by_package)
    rng.shuffle(packages)
    bugs: list[Bug] = []
    for key in packages:
        group = by_package[key]
        take = group if len(group) <= 12 else rng.sample(group, 12)
        for a in take:
            bugs.append(
                Bug(f"{a.id}@{key}", a, a.purl_type, a.namespace, a.name, a.title, a.details, "advisory")
            )
        if len(bugs) >= n * (1 - transplant_share):
            break
    by_type: dict[str, list[Advisory]] = defaultdict(list)
    for a in usable:
        by_type[a.purl_type].append(a)
    hosts = [b.adv for b in bugs]
    while len(bugs) < n and hosts:
        host = rng.choice(hosts)
        donor = rng.choice(by_type[host.purl_type])
        if donor.package_key == host.package_key:
            continue
        title, details = _transplant(donor, host)
        key = f"{donor.id}->{host.package_key}"
        bugs.append(Bug(key, donor, host.purl_type, host.namespace, host.name, title, details, "transplant"))
    return bugs[:n]


def _bump(version: str, down: bool) -> str | None:
    parts = version.split(".")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].isdigit():
            value = int(parts[i]) + (-1 if down else 1)
            if value < 0:
                continue
            return ".".join([*parts[:i], str(value), *(["0"] * 0), *parts[i + 1 :]])
    return None


def _inside(v: str, lo: str | None, hi: str | None) -> bool:
    try:
        k = version_key(v)
        return (lo is None or k >= version_key(lo)) and (hi is None or k < version_key(hi))
    except Exception:  # pragma: no cover - odd version strings
        return False


def _affected(bug: Bug, rng: Random) -> tuple[list[tuple[str | None, str | None, bool]], str | None]:
    """(spans as (introduced, fixed or last_affected, is_last_affected), point version)."""
    spans = [s for s in bug.adv.spans if s[0] or s[1]] or list(bug.adv.spans)
    if not spans:
        versions = bug.adv.versions or bug.adv.commits[:1]
        return [], (rng.choice(versions) if versions else None)
    roll = rng.random()
    lo, hi = rng.choice(spans)
    if roll < 0.45:
        return [(s[0], s[1], False) for s in spans], None
    if roll < 0.75:
        options = [v for v in (lo, _bump(lo, False) if lo else None, _bump(hi, True) if hi else None) if v]
        options = [v for v in options if _inside(v, lo, hi)]
        if options:
            return [], rng.choice(options)
        return [(s[0], s[1], False) for s in spans], None
    if hi and rng.random() < 0.5:
        last = _bump(hi, True)
        if last and _inside(last, lo, hi):
            return [(lo, last, True)], None
    if lo:
        later = _bump(lo, False)
        if later and _inside(later, lo, hi):
            return [(later, hi, False)], None
    return [(lo, hi, False)], None


def _vers(purl_type: str, spans: list[tuple[str | None, str | None, bool]]) -> str:
    parts: list[str] = []
    for lo, hi, last in spans:
        if lo:
            parts.append(f">={lo}")
        if hi:
            parts.append(f"<={hi}" if last else f"<{hi}")
    return f"vers:{purl_type}/{'|'.join(parts) or '*'}"


def _text(bug: Bug, rng: Random, report_id: str, tool: str, model: str | None) -> tuple[str, str]:
    pkg = bug.name
    body = sentences(bug.details) or [bug.title]
    if len(body) > 2 and rng.random() < 0.7:
        rng.shuffle(body)
    if len(body) > 3:
        body = [s for s in body if rng.random() > 0.15] or body[:1]
    body = [paraphrase(s, rng, 0.5) for s in body]
    if rng.random() < 0.5:
        body.insert(
            0, rng.choice(INTROS).format(pkg=pkg, model=model or "our model", tool=tool, campaign="Q3")
        )
    if rng.random() < 0.4:
        body.append(rng.choice(OUTROS))
    if rng.random() < 0.3:
        body.append(f"Internal reference: {report_id}.")
    if bug.title and rng.random() < 0.85:
        title = paraphrase(bug.title, rng, 0.5)
        if rng.random() < 0.15:
            title = f"[{report_id}] {title}"
    else:
        title = body[0][:200]
    return title[:500], " ".join(body)[:100_000]


def restate(bug: Bug, rng: Random, aliases: str, seq: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One finder's report of ``bug``: (native finding, OSV document)."""
    tool, model, org = rng.choice(GENERATORS)
    prefix = FINDER_PREFIXES[GENERATORS.index((tool, model, org))]
    report_id = f"{prefix}-2026-{seq:05d}"
    title, details = _text(bug, rng, report_id, tool, model)
    spans, point = _affected(bug, rng)
    public = [a for a in bug.adv.aliases if _REGISTRY_ALIAS.match(a)]
    if bug.kind == "advisory" and bug.adv.id.split("-")[0] in ("GHSA", "PYSEC", "GO", "RUSTSEC", "OSV"):
        public.append(bug.adv.id)
    cited: list[str] = []
    if aliases == "some" and bug.kind == "advisory" and public and rng.random() < 0.5:
        cited = public if rng.random() < 0.7 else rng.sample(public, 1)
    cwes = [f"CWE-{c}" for c in bug.adv.cwes[:2]] if rng.random() < 0.4 else []
    purl = purl_of(bug.purl_type, bug.namespace, bug.name)
    package: dict[str, Any] = {"purl": purl}
    if point is not None:
        package["version"] = point
    if spans:
        package["vers"] = _vers(bug.purl_type, spans)
    if point is None and not spans:
        package["version"] = "0"
    native: dict[str, Any] = {
        "title": title,
        "description": details,
        "package": package,
        "cwe": cwes,
        "impact": {"claimed": "other"},
        "generator": {"tool": tool, "model": model, "organization": org},
        "aliases": [*cited, *([report_id] if rng.random() < 0.3 else [])],
        "origin": {"format": "native", "document_id": report_id},
    }
    if model is None:
        del native["generator"]["model"]
    eco = _OSV_ECOSYSTEM.get(bug.purl_type)
    osv_package: dict[str, Any] = (
        {
            "ecosystem": eco,
            "name": f"{bug.namespace}/{bug.name}" if bug.namespace and eco != "Maven" else bug.name,
        }
        if eco is not None
        else {"purl": purl}
    )
    if eco == "Maven" and bug.namespace:
        osv_package["name"] = f"{bug.namespace}:{bug.name}"
    entry: dict[str, Any] = {"package": osv_package}
    if spans:
        events: list[dict[str, str]] = []
        for lo, hi, last in spans:
            events.append({"introduced": lo or "0"})
            if hi:
                events.append({"last_affected" if last else "fixed": hi})
        entry["ranges"] = [{"type": "ECOSYSTEM" if eco else "SEMVER", "events": events}]
    else:
        entry["versions"] = [point or "0"]
    doc: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": report_id,
        "modified": "2026-06-01T00:00:00Z",
        "details": details,
        "affected": [entry],
    }
    if title != details[: len(title)]:
        doc["summary"] = title
    if cited:
        doc["aliases"] = cited
    if cwes:
        doc["database_specific"] = {"cwe_ids": cwes}
    return native, doc


def generate(
    count: int,
    *,
    seed: int = 7,
    aliases: str = "some",
    advisories: int | None = None,
    corpus: Path | None = None,
    loaded: Sequence[Advisory] | None = None,
) -> Restated:
    rng = Random(seed)
    advs = list(loaded) if loaded is not None else load_advisories(corpus or corpus_path(), SOURCES)
    n_bugs = advisories or max(1, round(count / 7.5))
    bugs = pick_bugs(advs, n_bugs, rng, transplant_share=0.1)
    # Every bug reported at least once; the rest of the reports spread unevenly (some bugs draw a crowd).
    slots = list(range(len(bugs)))
    weights = [min(rng.paretovariate(2.0), 6.0) for _ in bugs]
    slots += rng.choices(range(len(bugs)), weights=weights, k=max(0, count - len(bugs)))
    slots = slots[:count]
    rng.shuffle(slots)
    out = Restated([], [], [])
    for seq, b in enumerate(slots):
        native, doc = restate(bugs[b], rng, aliases, seq)
        out.findings.append(native)
        out.documents.append(doc)
        out.truth.append(bugs[b].key)
    return out


def write(flood: Restated, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "findings.ndjson").open("w", encoding="utf-8") as fh:
        for f in flood.findings:
            fh.write(json.dumps(f, separators=(",", ":")) + "\n")
    osv = out / "osv"
    osv.mkdir(exist_ok=True)
    for i, doc in enumerate(flood.documents):
        (osv / f"{i:06d}.json").write_text(json.dumps(doc), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(flood.truth), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=28_000)
    parser.add_argument("--advisories", type=int, default=None)
    parser.add_argument("--aliases", choices=("some", "none"), default="some")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    flood = generate(args.count, seed=args.seed, aliases=args.aliases, advisories=args.advisories)
    write(flood, args.out)
    print(
        f"{len(flood.findings):,} reports of {len(set(flood.truth)):,} bugs -> {args.out} "
        f"in {time.perf_counter() - start:.1f}s"
    )


if __name__ == "__main__":
    main()

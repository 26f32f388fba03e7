"""Range evaluation against the corpus: every listed version must be inside its entry's ranges.

For every OSV record of the shared corpus (pypa-advisory-database,
ghsa-sample, osv-more-ecosystems with its tar.gz bundles) whose affected
entries list explicit ``versions`` beside their ``ranges``, each listed
version is checked against the ranges alone (``ECOSYSTEM`` and ``SEMVER``;
``GIT`` ranges name commits and cannot be evaluated). A listed version the
ranges put outside is a disagreement; the set of disagreements must equal the
table in ``docs/matching.md``, where each has its reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clearinghouse.intake.advisories._loaders import OsvItem, Reader
from clearinghouse.matching import AffectedRange, MatchIndex, Vulnerability
from clearinghouse.matching._index import ComponentRef

SOURCES = ("pypa-advisory-database", "ghsa-sample", "osv-more-ecosystems")
DOC = Path(__file__).resolve().parents[1] / "docs" / "matching.md"


def documented() -> set[tuple[str, str, str]]:
    """(record id, package, version) rows of the table between the ``corpus-disagreements`` markers."""
    text = DOC.read_text()
    body = text.split("<!-- corpus-disagreements:begin -->")[1].split("<!-- corpus-disagreements:end -->")[0]
    rows = set()
    for line in body.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.match(r"^[A-Z]+-", cells[0]):
            for version in cells[2].split(","):
                rows.add((cells[0], cells[1], version.strip().strip("`")))
    return rows


def records(corpus: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(source folder, format, record): OSV as written, or rubysec / Node.js security WG converted to OSV."""
    for source in SOURCES:
        for item in Reader([corpus / source]).items():
            if isinstance(item, OsvItem):
                yield source, item.source_format, item.record


@pytest.fixture(scope="module")
def cross_check(corpus: Path) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    disagreements: dict[tuple[str, str, str], str] = {}
    samples: list[tuple[dict[str, Any], int, str]] = []
    for source, source_format, record in records(corpus):
        counts["records"] += 1
        counts[f"records ({source_format})"] += 1
        by_source[source] += 1
        checked_here = False
        for i, entry in enumerate(record.get("affected") or []):
            versions = [str(v) for v in entry.get("versions") or []]
            if not versions or not entry.get("ranges"):
                continue
            ordered = [r for r in entry["ranges"] if r.get("type") != "GIT"]
            if not ordered:
                counts["git-only entries"] += 1
                counts["git-only versions (not evaluable)"] += len(versions)
                continue
            package = entry.get("package") or {}
            rng = AffectedRange.from_osv(str(package.get("ecosystem", "")), ordered)
            counts["entries checked"] += 1
            checked_here = True
            for version in versions:
                verdict = rng.check(version)
                counts["versions checked"] += 1
                if verdict.affected is not True:
                    key = (str(record["id"]), str(package.get("name")), version)
                    disagreements[key] = verdict.reason
            if len(samples) < 400 and counts["entries checked"] % 7 == 0:
                samples.append((record, i, versions[len(versions) // 2]))
        counts["records checked"] += checked_here
    return {"counts": counts, "by_source": by_source, "disagreements": disagreements, "samples": samples}


def test_every_listed_version_is_inside_the_ranges(cross_check: dict[str, Any]) -> None:
    counts, disagreements = cross_check["counts"], cross_check["disagreements"]
    print(f"\ncorpus cross-check: {dict(counts)}; by source {dict(cross_check['by_source'])}")
    for key, reason in sorted(disagreements.items()):
        print(" ", *key, reason)
    assert cross_check["by_source"].keys() == set(SOURCES)
    assert counts["records checked"] > 2000 and counts["versions checked"] > 100_000
    assert set(disagreements) == documented()


def test_documented_table_is_parsed() -> None:
    rows = documented()
    assert ("PYSEC-2021-114", "wagtail", "2.11.6") in rows
    assert len(rows) == 9


def test_index_agrees_with_the_ranges_on_corpus_entries(cross_check: dict[str, Any]) -> None:
    """A sample of corpus entries through the index: a listed version matches, with its explanation."""
    index = MatchIndex()
    components = []
    for record, i, version in cross_check["samples"]:
        vuln = Vulnerability.from_osv(record)
        index.add_vulnerability(vuln)
        package = record["affected"][i]["package"]
        component = ComponentRef(name=package["name"], ecosystem=package["ecosystem"], version=version)
        components.append((record["id"], component))
    assert len(components) > 100
    for vuln_id, component in components:
        found = [m for m in index.match([component]) if m.vulnerability == vuln_id]
        assert found and found[0].affected is True, (vuln_id, component)
        assert found[0].rule == "name-version" and found[0].matched

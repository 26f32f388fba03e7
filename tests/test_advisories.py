"""Advisory data import (OSV, rubysec, Node.js security WG, CISA KEV) and the intake lookups."""

from __future__ import annotations

import copy
import gzip
import io
import itertools
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from clearinghouse.config import Settings
from clearinghouse.domain import canonical_ecosystem, normalize_name, split_ecosystem
from clearinghouse.intake.advisories import (
    Advisory,
    AdvisoryAffected,
    AdvisoryAlias,
    KevEntry,
    advisories_affecting,
    advisories_for_alias,
    import_paths,
    kev_entry,
    package_known,
    render_report,
    rich_progress,
    services,
    version_affected,
    version_known,
)
from clearinghouse.intake.advisories._convert import (
    gem_bump,
    gem_requirement,
    gem_successor,
    nodejs_to_osv,
    npm_range,
    rubysec_to_osv,
)
from clearinghouse.intake.advisories._intervals import SEMVER_SCHEME, semver_key, semver_successor
from clearinghouse.intake.advisories._loaders import load_yaml
from clearinghouse.intake.advisories._match import affects, mentions
from clearinghouse.intake.advisories._osv import RecordError
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor

READER = Actor.system("test")


def osv(adv_id: str, *, modified: str = "2024-01-01T00:00:00Z", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": adv_id,
        "modified": modified,
        "aliases": [],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Example_Pkg", "purl": "pkg:pypi/example-pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.4.2"}]}],
                "versions": ["1.0", "1.1", "1.4.1"],
            }
        ],
    }
    record.update(fields)
    return record


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def write_jsonl_gz(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def count(runtime: Runtime, model: type[Any]) -> int:
    with runtime.uow(READER, write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def kev_catalog(*entries: dict[str, Any], version: str = "2025.08.25") -> dict[str, Any]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": version,
        "count": len(entries),
        "vulnerabilities": list(entries),
    }


def kev(cve: str, **fields: Any) -> dict[str, Any]:
    entry = {
        "cveID": cve,
        "vendorProject": "Jenkins",
        "product": "Jenkins Command Line Interface (CLI)",
        "vulnerabilityName": "Jenkins CLI Path Traversal",
        "dateAdded": "2024-08-19",
        "shortDescription": "Jenkins CLI contains a path traversal vulnerability.",
        "requiredAction": "Apply mitigations per vendor instructions.",
        "dueDate": "2024-09-09",
        "knownRansomwareCampaignUse": "Known",
        "notes": "https://www.jenkins.io/security/advisory/2024-01-24/",
        "cwes": ["CWE-27"],
    }
    entry.update(fields)
    return entry


# -- import on SQLite and PostgreSQL -------------------------------------------------


def test_import_corpus_files_and_look_them_up(runtime: Runtime, corpus: Path) -> None:
    pypa = corpus / "pypa-advisory-database" / "vulns"
    ghsa = corpus / "ghsa-sample" / "github-advisory-database" / "advisories" / "github-reviewed"
    paths = [
        pypa / "aiohttp" / "PYSEC-2024-26.yaml",
        pypa / "django",
        ghsa / "2024" / "01" / "GHSA-8qpw-xqxj-h4r2" / "GHSA-8qpw-xqxj-h4r2.json",
        ghsa / "2024" / "01" / "GHSA-6f9g-cxwr-q5jr" / "GHSA-6f9g-cxwr-q5jr.json",
        corpus / "cisa-kev" / "known_exploited_vulnerabilities.json",
    ]
    report = import_paths(runtime.uow, paths)
    assert report.ok, report.errors
    django = len(list((pypa / "django").glob("*.yaml")))
    assert report.inserted == report.records == django + 3
    assert report.kev_entries == report.kev_inserted == 1404
    with runtime.uow(READER, write=False) as uow:
        s = uow.session
        assert advisories_for_alias(s, "ghsa-8qpw-xqxj-h4r2") == ["GHSA-8qpw-xqxj-h4r2", "PYSEC-2024-26"]
        assert advisories_for_alias(s, "CVE-2024-23829") == ["GHSA-8qpw-xqxj-h4r2", "PYSEC-2024-26"]
        assert advisories_for_alias(s, "CVE-2024-23897") == ["GHSA-6f9g-cxwr-q5jr"]
        entry = kev_entry(s, "cve-2024-23897")
        assert entry is not None and entry.vendor == "Jenkins" and entry.ransomware_use == "Known"
        assert package_known(s, "pypi", "AIOHTTP") and package_known(s, "PyPI", "Django")
        assert version_known(s, "PyPI", "aiohttp", "3.9.1") is True  # enumerated
        assert version_known(s, "PyPI", "aiohttp", "3.9.2") is True  # named as the fix
        assert version_known(s, "PyPI", "aiohttp", "99.0") is False
        assert version_affected(s, "PyPI", "aiohttp", "3.9.1") is True
        assert version_affected(s, "PyPI", "aiohttp", "3.9.2") is False
        assert "PYSEC-2024-26" in advisories_affecting(s, "pypi", "aiohttp", "3.9.1")
        stored = s.get(Advisory, "PYSEC-2024-26")
        assert stored is not None and stored.raw["modified"] == "2024-02-06T20:20:18.162431Z"
        assert stored.modified.isoformat() == "2024-02-06T20:20:18.162431+00:00"
        assert stored.database == "PYSEC" and stored.aliases == ["CVE-2024-23829", "GHSA-8qpw-xqxj-h4r2"]
        assert {a.ecosystem for a in stored.affected} == {"PyPI"}


def test_reimport_is_idempotent(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    for i in range(7):
        write_json(folder / f"TEST-{i}.json", osv(f"TEST-{i}", aliases=[f"CVE-2024-000{i}"]))
    first = import_paths(runtime.uow, [folder], chunk_size=3)
    assert (first.files, first.records, first.inserted, first.error_count) == (7, 7, 7, 0)
    tables = {m: count(runtime, m) for m in (Advisory, AdvisoryAffected, AdvisoryAlias)}
    assert tables == {Advisory: 7, AdvisoryAffected: 7, AdvisoryAlias: 14}
    again = import_paths(runtime.uow, [folder], chunk_size=3)
    assert (again.records, again.inserted, again.updated, again.unchanged) == (7, 0, 0, 7)
    assert {m: count(runtime, m) for m in tables} == tables
    with runtime.uow(READER, write=False) as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "advisories.imported")
        ).all()
        total = uow.session.scalar(select(func.count()).select_from(AuditEvent))
    assert len(events) == 2 and total == 2  # one summary event per import, none per row
    assert events[0].detail["inserted"] == 7 and events[1].detail["unchanged"] == 7


def test_newer_modified_replaces_and_older_is_passed_over(runtime: Runtime, tmp_path: Path) -> None:
    v1 = osv("TEST-1", aliases=["CVE-2024-1111"])
    import_paths(runtime.uow, [write_json(tmp_path / "v1" / "a.json", v1)])
    v2 = osv("TEST-1", modified="2024-02-01T00:00:00Z", aliases=["CVE-2024-2222"])
    v2["affected"][0]["package"] = {"ecosystem": "npm", "name": "Left-Pad"}
    report = import_paths(runtime.uow, [write_json(tmp_path / "v2" / "a.json", v2)])
    assert (report.updated, report.inserted) == (1, 0)
    with runtime.uow(READER, write=False) as uow:
        s = uow.session
        assert not package_known(s, "PyPI", "example-pkg") and package_known(s, "npm", "left-pad")
        assert advisories_for_alias(s, "CVE-2024-1111") == [] and advisories_for_alias(s, "CVE-2024-2222")
        assert s.scalar(select(func.count()).select_from(AdvisoryAffected)) == 1
    older = import_paths(runtime.uow, [tmp_path / "v1"])
    assert (older.stale, older.updated, older.unchanged) == (1, 0, 0)
    same_time = copy.deepcopy(v2)
    same_time["summary"] = "edited without a new modified"
    conflict = import_paths(runtime.uow, [write_json(tmp_path / "v3" / "a.json", same_time)])
    assert conflict.stale == 1 and "stored copy is kept" in conflict.skipped[0].reason
    with runtime.uow(READER, write=False) as uow:
        stored = uow.session.get(Advisory, "TEST-1")
        assert stored is not None and stored.summary is None and stored.aliases == ["CVE-2024-2222"]


def test_malformed_records_in_a_jsonl_bundle_are_reported_and_skipped(
    runtime: Runtime, tmp_path: Path
) -> None:
    bad_name = osv("TEST-BAD")
    del bad_name["affected"][0]["package"]["name"]
    bad_event = osv("TEST-EVT")
    bad_event["affected"][0]["ranges"][0]["events"].append({"fixed": "2", "introduced": "1"})
    bundle = write_jsonl_gz(
        tmp_path / "all.jsonl.gz",
        [
            json.dumps(osv("TEST-A")),
            json.dumps(bad_name),
            "{not json",
            "",
            json.dumps(osv("TEST-B", modified="yesterday")),
            json.dumps(bad_event),
            json.dumps(["a list"]),
            json.dumps({"hello": "world"}),
            json.dumps(osv("TEST-C")),
        ],
    )
    report = import_paths(runtime.uow, [bundle])
    assert (report.files, report.records, report.inserted, report.rejected) == (1, 8, 2, 6)
    where = {(e.line, e.pointer) for e in report.errors}
    assert where == {
        (2, "/affected/0/package/name"),
        (3, ""),
        (5, "/modified"),
        (6, "/affected/0/ranges/0/events/2"),
        (7, ""),
        (8, ""),
    }
    assert all(e.file == str(bundle) for e in report.errors)
    assert "line" not in str(report.errors[0]) and str(report.errors[0]).startswith(f"{bundle}:2 ")
    with runtime.uow(READER, write=False) as uow:
        ids = set(uow.session.scalars(select(Advisory.id)))
        aliases = set(uow.session.scalars(select(AdvisoryAlias.advisory_id)))
    assert ids == aliases == {"TEST-A", "TEST-C"}


def test_kev_import_and_lookup(runtime: Runtime, tmp_path: Path) -> None:
    catalog = kev_catalog(
        kev("CVE-2024-23897"),
        kev("CVE-2021-44228", vendorProject="Apache", dueDate="", knownRansomwareCampaignUse="Unknown"),
        kev("not-a-cve"),
        kev("CVE-2020-0001", dateAdded="someday"),
        kev("CVE-2020-0002", cwes="CWE-79"),
        kev("CVE-2020-0003", notes=7),
        "not an entry",
    )
    path = write_json(tmp_path / "known_exploited_vulnerabilities.json", catalog)
    report = import_paths(runtime.uow, [path])
    assert (report.kev_entries, report.kev_inserted, report.error_count) == (2, 2, 5)
    assert {e.pointer for e in report.errors} == {
        "/vulnerabilities/2/cveID",
        "/vulnerabilities/3/dateAdded",
        "/vulnerabilities/4/cwes",
        "/vulnerabilities/5/notes",
        "/vulnerabilities/6",
    }
    with runtime.uow(READER, write=False) as uow:
        log4j = kev_entry(uow.session, " cve-2021-44228 ")
        assert log4j is not None and log4j.vendor == "Apache" and log4j.due_date is None
        assert log4j.date_added.isoformat() == "2024-08-19" and log4j.cwes == ["CWE-27"]
        assert log4j.catalog_version == "2025.08.25"
        assert kev_entry(uow.session, "CVE-1999-0001") is None
    again = import_paths(runtime.uow, [path])
    assert (again.kev_inserted, again.kev_updated, again.kev_unchanged) == (0, 0, 2)
    catalog["vulnerabilities"][0]["knownRansomwareCampaignUse"] = "Unknown"
    changed = import_paths(runtime.uow, [write_json(tmp_path / "kev2.json", catalog)])
    assert (changed.kev_inserted, changed.kev_updated, changed.kev_unchanged) == (0, 1, 1)
    assert count(runtime, KevEntry) == 2


def test_alias_lookup(runtime: Runtime, tmp_path: Path) -> None:
    write_json(
        tmp_path / "a" / "1.json", osv("PYSEC-2024-1", aliases=["CVE-2024-9999", "GHSA-aaaa-bbbb-cccc"])
    )
    write_json(
        tmp_path / "a" / "2.json", osv("GHSA-aaaa-bbbb-cccc", aliases=["CVE-2024-9999", "cve-2024-9999"])
    )
    assert import_paths(runtime.uow, [tmp_path / "a"]).inserted == 2
    with runtime.uow(READER, write=False) as uow:
        s = uow.session
        assert advisories_for_alias(s, "cve-2024-9999") == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]
        assert advisories_for_alias(s, "GHSA-AAAA-BBBB-CCCC") == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]
        assert advisories_for_alias(s, "pysec-2024-1") == ["PYSEC-2024-1"]
        assert advisories_for_alias(s, "CVE-2000-0000") == []


def test_package_and_version_known_for_pypi(runtime: Runtime, tmp_path: Path) -> None:
    git_only = osv("TEST-GIT")
    git_only["affected"][0]["package"]["name"] = "git.only"
    git_only["affected"][0]["ranges"] = [
        {"type": "GIT", "repo": "https://example.org/r", "events": [{"introduced": "0"}, {"fixed": "abc"}]}
    ]
    git_only["affected"][0]["versions"] = []
    withdrawn = osv("TEST-GONE", withdrawn="2024-03-01T00:00:00Z")
    withdrawn["affected"][0]["package"]["name"] = "withdrawn-pkg"
    records = [osv("TEST-1"), git_only, withdrawn]
    import_paths(runtime.uow, [write_json(tmp_path / "all.json", records)])
    with runtime.uow(READER, write=False) as uow:
        s = uow.session
        for spelling in ("Example_Pkg", "example-pkg", "EXAMPLE.PKG", "example__pkg"):
            assert package_known(s, "PyPI", spelling), spelling
        assert package_known(s, "pypi", "example-pkg")  # a purl type names the ecosystem too
        assert not package_known(s, "npm", "example-pkg")
        assert not package_known(s, "PyPI", "examplepkg")
        assert not package_known(s, "PyPI", "withdrawn-pkg")  # withdrawn advisories do not count
        # Does the data name the version (enumerated, or a range boundary)?
        assert version_known(s, "PyPI", "example.pkg", "1.0") is True
        assert version_known(s, "PyPI", "example.pkg", "1.0.0") is True  # PEP 440: 1.0.0 == 1.0
        assert version_known(s, "PyPI", "example.pkg", "1.4.2") is True  # the fix
        assert version_known(s, "PyPI", "example.pkg", "1.2") is False
        assert version_known(s, "PyPI", "example.pkg", "not a version") is False
        assert version_known(s, "PyPI", "git-only", "1.0") is None  # no versions enumerated
        assert version_known(s, "PyPI", "unknown", "1.0") is False
        assert version_known(s, "PyPI", "withdrawn-pkg", "1.1") is False
        # Does a known advisory affect it?
        assert version_affected(s, "PyPI", "example.pkg", "1.0.0") is True
        assert version_affected(s, "PyPI", "example.pkg", "1.2") is True  # within the range
        assert version_affected(s, "PyPI", "example.pkg", "1.4.2") is False  # fixed
        assert version_affected(s, "PyPI", "example.pkg", "0.9") is False
        assert version_affected(s, "PyPI", "example.pkg", "not a version") is None
        assert version_affected(s, "PyPI", "git-only", "1.0") is None  # commits, no enumerated versions
        assert version_affected(s, "PyPI", "unknown", "1.0") is False
        assert version_affected(s, "PyPI", "withdrawn-pkg", "1.1") is False
        assert advisories_affecting(s, "PyPI", "Example-Pkg", "1.1") == ["TEST-1"]


def test_bundles_and_folders_of_every_kind(runtime: Runtime, tmp_path: Path) -> None:
    tar_path = tmp_path / "vulns.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        for name, data in [
            ("vulns/a/TEST-T1.yaml", "id: TEST-T1\nmodified: 2024-01-02T03:04:05Z\naffected: []\n"),
            ("vulns/b/TEST-T2.json", json.dumps(osv("TEST-T2"))),
            ("vulns/LICENSE", "text"),
            ("vulns/c/more.jsonl", json.dumps(osv("TEST-T3")) + "\n"),
        ]:
            blob = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    zip_path = tmp_path / "all.zip"
    with zipfile.ZipFile(zip_path, "w") as bundle:
        bundle.writestr("TEST-Z1.json", json.dumps(osv("TEST-Z1")))
        bundle.writestr("TEST-Z2.json.gz", gzip.compress(json.dumps(osv("TEST-Z2")).encode()))
    plain = tmp_path / "plain.ndjson"
    plain.write_text(json.dumps(osv("TEST-N1")) + "\n")
    folder = tmp_path / "tree"
    write_json(folder / "schema.json", {"$schema": "x", "properties": {}})
    write_json(folder / "vex.json", {"@context": "https://openvex.dev/ns/v0.2.0", "statements": []})
    write_json(folder / "manifest.json", [{"file": "x"}])
    write_json(folder / "other.json", {"hello": 1})
    write_json(folder / "number.json", 7)
    (folder / "README.md").write_text("# hi")
    (folder / ".hidden.json").write_text("{")
    progress: list[tuple[int, int]] = []
    report = import_paths(
        runtime.uow,
        [tar_path, zip_path, plain, folder],
        progress=lambda done, total: progress.append((done, total)),
    )
    assert report.ok, report.errors
    assert report.inserted == 6 and report.records == 6
    reasons = sorted(i.reason.split(" ")[1] for i in report.skipped)
    assert len(report.skipped) == 7 and "JSON" in reasons and "OpenVEX" in reasons
    assert progress[-1][0] == progress[-1][1] > 0
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))
    with runtime.uow(READER, write=False) as uow:
        t1 = uow.session.get(Advisory, "TEST-T1")
        assert t1 is not None and t1.raw["modified"] == "2024-01-02T03:04:05Z"  # YAML kept the string
        assert t1.source.endswith("vulns.tar.gz::vulns/a/TEST-T1.yaml") and t1.source_format == "osv"


def test_a_truncated_bundle_keeps_what_was_read(runtime: Runtime, tmp_path: Path) -> None:
    whole = gzip.compress(("\n".join(json.dumps(osv(f"TEST-{i}")) for i in range(400)) + "\n").encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    lines = tmp_path / "lines.json"  # JSON lines under a .json name
    lines.write_text(json.dumps(osv("TEST-LINE-1")) + "\n" + json.dumps(osv("TEST-LINE-2")) + "\n")
    report = import_paths(runtime.uow, [cut, lines])
    assert [e.reason.split(":")[0] for e in report.errors] == ["cannot read the bundle"]
    assert 0 < report.inserted - 2 < 400 and report.files == 2


def test_file_level_problems_are_reported(runtime: Runtime, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n  modified: x\n")
    (tmp_path / "broken.json").write_text('{"id": ')
    (tmp_path / "float.yaml").write_text(
        "id: TEST-F\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: x}\n"
        "  versions: [1.10]\n"
    )
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.tar.gz").write_bytes(b"not a tarball")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    (tmp_path / "list.json").write_text(json.dumps([osv("TEST-L1"), {"what": 1}, 3]))
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "scalar.json").write_text("3")
    names = [
        "broken.yaml",
        "broken.json",
        "float.yaml",
        "notes.txt",
        "bad.tar.gz",
        "bad.json.gz",
        "list.json",
        "other.json",
        "scalar.json",
        "missing.json",
    ]
    report = import_paths(runtime.uow, [tmp_path / n for n in names])
    by_file = {Path(e.file.split("::")[0]).name: e for e in report.errors}
    assert set(by_file) == set(names)
    assert by_file["broken.yaml"].line == 2 and "invalid YAML" in by_file["broken.yaml"].reason
    assert by_file["broken.json"].line == 1 and "invalid JSON" in by_file["broken.json"].reason
    assert by_file["float.yaml"].pointer == "/affected/0/versions/0"
    assert "no such file" in by_file["missing.json"].reason
    assert "not an advisory file type" in by_file["notes.txt"].reason
    assert {e.pointer for e in report.errors if e.file.endswith("list.json")} == {"/1", "/2"}
    assert report.inserted == 1


@pytest.mark.parametrize(
    ("record", "pointer"),
    [
        ([], ""),
        ({"modified": "2024-01-01T00:00:00Z"}, "/id"),
        ({"id": "has space"}, "/id"),
        ({"id": "X-1"}, "/modified"),
        ({"id": "X-1", "modified": 20240101}, "/modified"),
        ({"id": "X-1", "modified": "2024-01-01", "published": "soon"}, "/published"),
        ({"id": "X-1", "modified": "2024-01-01", "summary": 3}, "/summary"),
        ({"id": "X-1", "modified": "2024-01-01", "details": []}, "/details"),
        ({"id": "X-1", "modified": "2024-01-01", "aliases": "CVE-1"}, "/aliases"),
        ({"id": "X-1", "modified": "2024-01-01", "aliases": [""]}, "/aliases/0"),
        ({"id": "X-1", "modified": "2024-01-01", "aliases": ["A" * 201]}, "/aliases/0"),
        ({"id": "X-1", "modified": "2024-01-01", "aliases": ["A\x00"]}, "/aliases/0"),
        ({"id": "X-1", "modified": "2024-01-01", "severity": [{"type": "CVSS_V3"}]}, "/severity/0/score"),
        ({"id": "X-1", "modified": "2024-01-01", "severity": ["high"]}, "/severity/0"),
        ({"id": "X-1", "modified": "2024-01-01", "affected": ["x"]}, "/affected/0"),
        ({"id": "X-1", "modified": "2024-01-01", "affected": [{"package": "x"}]}, "/affected/0/package"),
        ({"id": "X-1", "modified": "2024-01-01", "affected": [{"ranges": ["r"]}]}, "/affected/0/ranges/0"),
        (
            {
                "id": "X-1",
                "modified": "2024-01-01",
                "affected": [{"ranges": [{"type": "SVN", "events": []}]}],
            },
            "/affected/0/ranges/0/type",
        ),
        (
            {
                "id": "X-1",
                "modified": "2024-01-01",
                "affected": [{"ranges": [{"type": "GIT", "events": []}]}],
            },
            "/affected/0/ranges/0/events",
        ),
        (
            {"id": "X-1", "modified": "2024-01-01", "affected": [{"versions": [True]}]},
            "/affected/0/versions/0",
        ),
        (
            {"id": "X-1", "modified": "2024-01-01", "affected": [{"versions": [""]}]},
            "/affected/0/versions/0",
        ),
        (
            {
                "id": "X-1",
                "modified": "2024-01-01",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "x", "purl": "pypi/x"}}],
            },
            "/affected/0/package/purl",
        ),
        ({"id": "X-1", "modified": "2024-01-01", "database_specific": {"n": float("nan")}}, ""),
    ],
)
def test_record_checks_name_the_bad_value(record: Any, pointer: str) -> None:
    import datetime as dt

    from clearinghouse.intake.advisories._osv import prepare

    with pytest.raises(RecordError) as caught:
        prepare(record, source="t", source_format="osv", now=dt.datetime.now(dt.UTC))
    assert caught.value.pointer == pointer
    assert str(caught.value).startswith(pointer or "/")


def test_a_chunk_the_database_refuses_is_written_record_by_record(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services._execute_plan

    def refuse_one(conn: Any, plan: Any) -> None:
        if "TEST-REFUSED" in plan.inserts:
            raise OperationalError("INSERT", {}, Exception("disk on fire"))
        real(conn, plan)

    monkeypatch.setattr(services, "_execute_plan", refuse_one)
    folder = tmp_path / "f"
    for name in ("TEST-1", "TEST-REFUSED", "TEST-2"):
        write_json(folder / f"{name}.json", osv(name))
    report = import_paths(runtime.uow, [folder])
    assert (report.inserted, report.rejected, report.records) == (2, 1, 3)
    assert report.errors[0].file.endswith("TEST-REFUSED.json") and "disk on fire" in report.errors[0].reason
    assert count(runtime, Advisory) == 2


def test_an_aborted_import_is_still_in_the_ledger(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services._write_batch
    calls: list[int] = []

    def fail_second(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(services, "_write_batch", fail_second)
    folder = tmp_path / "f"
    for i in range(5):
        write_json(folder / f"TEST-{i}.json", osv(f"TEST-{i}"))
    with pytest.raises(KeyboardInterrupt):
        import_paths(runtime.uow, [folder], chunk_size=2)
    assert count(runtime, Advisory) == 2
    with runtime.uow(READER, write=False) as uow:
        (event,) = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "advisories.imported"))
    assert event.detail["aborted"] is True and event.detail["inserted"] == 2


def test_rich_progress_and_report(runtime: Runtime, tmp_path: Path) -> None:
    bundle = write_jsonl_gz(tmp_path / "b.ndjson.gz", [json.dumps(osv("TEST-1"))] + ["{"] * 25)
    out = io.StringIO()
    console = Console(file=out, width=120)
    with rich_progress(console) as callback:
        report = import_paths(runtime.uow, [bundle], progress=callback)
    render_report(report, console, max_issues=3)
    text = out.getvalue()
    assert "inserted" in text and "and 22 more errors" in text and "records read as osv" in text


# -- converters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "inside", "outside"),
    [
        ("*", ["0.0.1", "99.0.0"], []),
        ("<=1.0.0", ["1.0.0", "0.1.0"], ["1.0.1"]),
        (">= 1.4.6 < 2.0.0 || >= 2.0.1", ["1.4.6", "2.0.1"], ["2.0.0", "1.4.5"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("^0.2", ["0.2.9"], ["0.3.0"]),
        ("^1.2.3", ["1.9.0"], ["2.0.0", "1.2.2"]),
        ("^0.x", ["0.9.0"], ["1.0.0"]),
        ("~1.2", ["1.2.7"], ["1.3.0"]),
        ("~0.8.0-pre", ["0.8.0-pre", "0.8.5"], ["0.9.0"]),
        (">1", ["2.0.0"], ["1.9.9"]),
        (">1.2.3", ["1.2.4"], ["1.2.3"]),
        ("<1.x", ["0.9.0"], ["1.0.0"]),
        ("<= 10", ["10.9.9"], ["11.0.0"]),
        ("1.2 - 2.3", ["1.2.0", "2.3.9"], ["2.4.0", "1.1.9"]),
        ("1.2.3 - 2.3.4", ["2.3.4"], ["2.3.5"]),
        ("1.x", ["1.5.0"], ["2.0.0"]),
        ("=3.0.0-rc.1", ["3.0.0-rc.1"], ["3.0.0"]),
        ("<=v2.0.0-alpha7", ["2.0.0-alpha6"], ["2.0.0"]),
    ],
)
def test_npm_ranges(expr: str, inside: list[str], outside: list[str]) -> None:
    intervals = npm_range(expr)
    ranges = SEMVER_SCHEME.osv_ranges(intervals, "SEMVER")
    for version in inside:
        assert affects(version, "npm", ranges, []) is True, (expr, version, ranges)
    for version in outside:
        assert affects(version, "npm", ranges, []) is False, (expr, version, ranges)


def test_npm_range_errors_and_semver_helpers() -> None:
    assert npm_range(">* || <*") == [] and SEMVER_SCHEME.osv_ranges([], "SEMVER") == []
    with pytest.raises(ValueError, match="cannot read"):
        npm_range(">=1.0.0 garbage")
    assert semver_successor("1.2.3") == "1.2.4-0" and semver_successor("1.0.0-rc") == "1.0.0-rc.0"
    assert (
        semver_key("1.0.0-alpha")
        < semver_key("1.0.0-alpha.1")
        < semver_key("1.0.0-beta")
        < semver_key("1.0.0")
    )
    for bad in ("1.2", "x"):
        with pytest.raises(ValueError, match="not a semantic version"):
            semver_key(bad)
        with pytest.raises(ValueError, match="not a semantic version"):
            semver_successor(bad)


def test_gem_requirements() -> None:
    assert gem_bump("4.2.5") == "4.3" and gem_bump("1") == "2" and gem_bump("2.0.0.beta1") == "2.1"
    assert gem_successor("1.13.7") == "1.13.8" and gem_successor("2.0.0-alpha") == "2.0.0-alpha.1"
    with pytest.raises(ValueError, match="not supported"):
        gem_requirement("!= 1.0")
    with pytest.raises(ValueError, match="cannot read"):
        gem_requirement(">= one")


def rubysec(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "gem": "actionpack",
        "cve": "2012-3424",
        "ghsa": "xxxx-yyyy-zzzz",
        "osvdb": 84243,
        "url": "https://example.org/a",
        "title": "Digest auth DoS",
        "date": "2012-07-26",
        "description": "Details.",
        "cvss_v2": 4.3,
        "patched_versions": ["~> 3.0.16", "~> 3.1.7", ">= 3.2.7"],
        "unaffected_versions": [">= 2.3.5, <= 2.3.14"],
        "related": {"url": ["https://example.org/a", "https://example.org/b"]},
    }
    doc.update(fields)
    return doc


def test_rubysec_conversion() -> None:
    record = rubysec_to_osv(rubysec(), "gems/actionpack/CVE-2012-3424.yml")
    assert record["id"] == "RUBYSEC-actionpack-CVE-2012-3424"
    assert record["aliases"] == ["CVE-2012-3424", "GHSA-xxxx-yyyy-zzzz", "OSVDB-84243"]
    assert record["published"] == record["modified"] == "2012-07-26T00:00:00Z"
    assert [r["url"] for r in record["references"]] == ["https://example.org/a", "https://example.org/b"]
    assert record["database_specific"]["rubysec"]["cvss_v2"] == 4.3
    (affected,) = record["affected"]
    assert affected["package"] == {
        "ecosystem": "RubyGems",
        "name": "actionpack",
        "purl": "pkg:gem/actionpack",
    }
    ranges = affected["ranges"]
    for version in ("2.3.4", "2.3.15", "3.0.15", "3.1.0.beta1", "3.1.6", "3.2.6"):
        assert affects(version, "RubyGems", ranges, []) is True, version
    for version in ("2.3.5", "2.3.14", "3.0.16", "3.0.20", "3.1.7", "3.2.7", "4.0.0"):
        assert affects(version, "RubyGems", ranges, []) is False, version
    engine = rubysec_to_osv(
        rubysec(
            gem=None, engine="jruby", cve=None, ghsa=None, patched_versions=None, unaffected_versions=None
        ),
        "rubies/jruby/OSVDB-84243.yml",
    )
    del engine["database_specific"]
    assert engine["id"] == "RUBYSEC-RUBY-jruby-OSVDB-84243"
    assert engine["affected"] == [
        {
            "package": {"ecosystem": "Ruby", "name": "jruby"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ]
    plain = rubysec_to_osv(rubysec(cve=None, ghsa=None, osvdb=None), "x/whatever.yml")
    assert plain["id"] == "RUBYSEC-actionpack-whatever"
    for doc, pointer in [
        (rubysec(gem=""), "/gem"),
        (rubysec(date="July"), "/date"),
        (rubysec(patched_versions=">= 1"), "/patched_versions"),
        (rubysec(unaffected_versions=["!= 1.0"]), "/unaffected_versions/0"),
    ]:
        with pytest.raises(RecordError) as caught:
            rubysec_to_osv(doc, "gems/x/CVE-1.yml")
        assert caught.value.pointer == pointer


def test_nodejs_security_wg_conversion() -> None:
    npm = {
        "id": 410,
        "title": "merge-options prototype pollution",
        "overview": "pollution",
        "created_at": "2018-02-17",
        "updated_at": "2018-04-09",
        "publish_date": "2018-04-09",
        "module_name": "@scope/Merge-Options",
        "cves": ["CVE-2018-3752"],
        "vulnerable_versions": "<=1.0.0 || >=2.0.0 <2.2.0",
        "patched_versions": ">=2.1.0",
        "references": ["https://hackerone.com/reports/311336"],
        "cvss_vector": "CVSS:3.0/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L",
    }
    record = nodejs_to_osv(npm, "npm", "410.json")
    assert record["id"] == "NSWG-ECO-410" and record["modified"] == "2018-04-09T00:00:00Z"
    assert record["affected"][0]["package"]["purl"] == "pkg:npm/%40scope/merge-options"
    assert record["severity"] == [{"type": "CVSS_V3", "score": npm["cvss_vector"]}]
    ranges = record["affected"][0]["ranges"]
    assert [affects(v, "npm", ranges, []) for v in ("1.0.0", "2.0.5", "2.1.0", "1.0.1")] == [
        True,
        True,
        False,
        False,
    ]
    core = {
        "cve": ["CVE-2017-1000381"],
        "vulnerable": "8.x || 7.x",
        "patched": "^8.1.4 || ^7.10.1",
        "description": "memory overread",
        "overview": "The c-ares function...\n",
        "affectedEnvironments": ["all"],
        "severity": "high",
        "cvss": "3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N",
    }
    converted = nodejs_to_osv(core, "core", "vuln/core/1.json")
    assert converted["id"] == "NSWG-COR-1" and converted["modified"] == "1970-01-01T00:00:00Z"
    assert converted["database_specific"]["nodejs_security_wg"]["modified_unknown"] is True
    assert converted["severity"][0]["score"].startswith("CVSS:3.0/")
    assert "published" not in converted
    assert converted["summary"] == "memory overread"
    core_ranges = converted["affected"][0]["ranges"]
    assert affects("8.1.3", "Node.js", core_ranges, []) and not affects("8.1.4", "Node.js", core_ranges, [])
    bare = nodejs_to_osv({**core, "description": None, "cvss": "AV:N"}, "core", "2.json")
    assert bare["summary"] == "The c-ares function..." and "severity" not in bare
    for doc, kind, pointer in [
        ({**npm, "vulnerable_versions": 3}, "npm", "/vulnerable_versions"),
        ({**npm, "patched_versions": "what?"}, "npm", "/patched_versions"),
        ({**npm, "module_name": ""}, "npm", "/module_name"),
        ({**npm, "cves": "CVE-1"}, "npm", "/cves"),
        ({**npm, "updated_at": "April"}, "npm", "/updated_at"),
    ]:
        with pytest.raises(RecordError) as caught:
            nodejs_to_osv(doc, kind, "1.json")
        assert caught.value.pointer == pointer


def test_nodejs_index_files(runtime: Runtime, tmp_path: Path) -> None:
    core = {"cve": ["CVE-1"], "vulnerable": "1.x", "patched": "^1.2.0", "overview": "o"}
    folder = tmp_path / "vuln" / "core"
    write_json(folder / "1.json", core)
    index = write_json(folder / "index.json", {"1": core})
    write_json(tmp_path / "vuln" / "deps" / "1.json", {"cve": ["CVE-2"], "reason": "not_present", "ref": "r"})
    walked = import_paths(runtime.uow, [tmp_path / "vuln"])
    assert walked.inserted == 1 and {i.reason.split()[1] for i in walked.skipped} == {"index", "Node.js"}
    named = import_paths(runtime.uow, [index])  # named on its own, an index is read
    assert named.unchanged == 1 and named.errors == []


# -- ecosystems and matching -----------------------------------------------------------


def test_ecosystem_names_and_normalization() -> None:
    assert split_ecosystem("Debian:11") == ("Debian", "11") and split_ecosystem("pypi") == ("PyPI", None)
    assert canonical_ecosystem("GEM") == "RubyGems" and canonical_ecosystem("Unheard Of") == "Unheard Of"
    assert normalize_name("PyPI", "Zope.Interface__X") == "zope-interface-x"
    assert normalize_name("crates.io", "Serde_JSON") == "serde-json"
    assert normalize_name("npm", "@Scope/Pkg") == "@scope/pkg"
    assert normalize_name("Go", "github.com/BurntSushi/toml") == "github.com/BurntSushi/toml"


def test_affects_edge_cases() -> None:
    eco = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "2.0"}, {"limit": "1.5"}]}]
    assert affects("1.0", "PyPI", eco, []) is True and affects("1.6", "PyPI", eco, []) is False
    assert affects("1.0", "Unknown", eco, []) is None  # no ordering for that ecosystem
    assert affects("1.0", "PyPI", [], []) is None  # an entry with neither ranges nor versions
    assert affects("1.0", "PyPI", [], ["1.0.0", "garbage!"]) is True
    assert affects("nope", "PyPI", [], ["1.0.0"]) is None
    assert affects("1.0", "PyPI", [{"type": "GIT", "events": [{"introduced": "0"}]}], ["2.0"]) is False
    assert load_yaml("when: 2024-01-01") == {"when": "2024-01-01"}
    git = [{"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]
    assert not mentions("abc123", "PyPI", git, [])  # a commit is not a version
    assert mentions("2.0.0", "PyPI", eco, ["junk!"]) and not mentions("3.0", "PyPI", eco, ["junk!"])
    assert mentions("1.0", "Unknown", [], ["1.0"]) and not mentions("1", "Unknown", [], ["1.0"])
    assert not mentions("?", "PyPI", [], ["1.0"])


# -- corpus scale (SQLite) -----------------------------------------------------------


def test_whole_corpus_imports_without_errors(corpus: Path, tmp_path: Path) -> None:
    runtime = Runtime(
        Settings.from_env(
            {"CLEARINGHOUSE_HOME": str(tmp_path / "home"), "CLEARINGHOUSE_JOB_BACKEND": "inprocess"}
        )
    )
    try:
        runtime.migrate()
        folders = ["pypa-advisory-database", "osv-more-ecosystems", "ghsa-sample", "cisa-kev"]
        report = import_paths(runtime.uow, [corpus / f for f in folders])
        assert report.ok, report.errors[:10]
        assert report.by_format == {"osv": 2661 + 4026 + 132 + 39, "rubysec": 1381, "nodejs-security-wg": 638}
        assert report.kev_entries == 1404
        # Five OSS-Fuzz advisories are filed twice (under the project and under its repo URL).
        assert (report.inserted, report.stale) == (report.records - 5, 5)
        again = import_paths(runtime.uow, [corpus / f for f in folders])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, report.inserted)
        with runtime.uow(READER, write=False) as uow:
            s = uow.session
            assert s.scalar(select(func.count()).select_from(Advisory)) == report.inserted
            assert version_affected(s, "RubyGems", "RedCloth", "4.2.9") is True
            assert version_affected(s, "RubyGems", "RedCloth", "4.3.3") is False
            assert version_known(s, "RubyGems", "RedCloth", "4.3.0") is True  # named as a fix
            assert version_known(s, "RubyGems", "RedCloth", "4.2.9") is None  # rubysec enumerates none
            assert "NSWG-ECO-410" in advisories_affecting(s, "npm", "merge-options", "1.0.0")
            assert "NSWG-COR-1" in advisories_affecting(s, "Node.js", "node", "8.1.3")
            assert "NSWG-COR-1" not in advisories_affecting(s, "Node.js", "node", "8.1.4")
            assert version_affected(s, "OSS-Fuzz", "php", "8.2.0") is None  # Git commits only
            assert advisories_for_alias(s, "CVE-2023-24329") == ["PSF-2023-1"]  # Git ranges, no package
            assert kev_entry(s, "CVE-2024-23897") is not None
    finally:
        runtime.close()

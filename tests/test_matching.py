"""Matching: affected ranges from every source, name normalization, and the index in both directions."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest
from univers import versions as uv

from clearinghouse.domain import Interval, render, version_parser
from clearinghouse.intake.advisories._loaders import load_yaml
from clearinghouse.intake.advisories._match import affects
from clearinghouse.matching import (
    CONFIDENCE,
    CPE_FALLBACK,
    NAME_VERSION,
    PURL_EXACT,
    AffectedPackage,
    AffectedRange,
    ComponentRef,
    MatchIndex,
    Vulnerability,
    clear_caches,
    from_purl,
    normalize,
    package_name,
    parse_cpe,
    parse_vers,
    scheme_for_ecosystem,
    scheme_for_vers,
)
from clearinghouse.matching._names import go_major_alias, variant_token
from clearinghouse.matching._ranges import Scheme, UnorderedVersion, legacy_pypi_key

# PYSEC-2023-61 as pypa/advisory-database publishes it (versions list shortened).
DJANGO = {
    "id": "PYSEC-2023-61",
    "aliases": ["CVE-2023-31047", "GHSA-r3xc-prgr-mg9p"],
    "affected": [
        {
            "package": {"name": "django", "ecosystem": "PyPI", "purl": "pkg:pypi/django"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "3.2"},
                        {"fixed": "3.2.19"},
                        {"introduced": "4.0"},
                        {"fixed": "4.1.9"},
                        {"introduced": "4.2"},
                        {"fixed": "4.2.1"},
                    ],
                }
            ],
            "versions": ["3.2", "3.2.1", "3.2.18", "3.2a1", "4.0", "4.1.8", "4.2"],
        }
    ],
}


def osv(
    vuln_id: str, ecosystem: str, name: str, events: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": extra.pop("type", "ECOSYSTEM"), "events": events}],
    }
    entry.update(extra)
    return {"id": vuln_id, "affected": [entry]}


def vuln(
    vuln_id: str, ecosystem: str, name: str, introduced: str, fixed: str | None = None, **extra: Any
) -> Vulnerability:
    events = [{"introduced": introduced}] + ([{"fixed": fixed}] if fixed else [])
    return Vulnerability.from_osv(osv(vuln_id, ecosystem, name, events, **extra))


def one(index: MatchIndex, component: ComponentRef, inventory: str = "inv") -> list[Any]:
    return index.match([component], inventory)


# -- a known advisory ----------------------------------------------------------------------------


def test_listed_version_matches_with_its_explanation() -> None:
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(DJANGO))
    component = ComponentRef(purl="pkg:pypi/django@3.2.18", bom_ref="django-ref", pointer="/components/3")
    (m,) = index.match([component], "acme/sbom-1")
    assert m.vulnerability == "PYSEC-2023-61"
    assert m.component is component and m.inventory == "acme/sbom-1" and m.version == "3.2.18"
    assert m.package == "PyPI/django" and m.pointer == "/affected/0"
    assert m.matched == "versions: 3.2.18"
    assert m.rule == PURL_EXACT and m.confidence == 1.0 and m.affected is True
    text = m.explain()
    for part in ("pkg:pypi/django@3.2.18", "3.2.18", "acme/sbom-1", "bom-ref django-ref", "/components/3"):
        assert part in text
    assert "PYSEC-2023-61" in text and "purl-exact" in text


def test_version_in_range_but_not_listed_names_the_range() -> None:
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(DJANGO))
    (m,) = one(index, ComponentRef(purl="pkg:pypi/django@3.2.5"))
    assert m.matched == "ECOSYSTEM introduced 3.2, fixed 3.2.19"
    (m,) = one(index, ComponentRef(purl="pkg:pypi/django@4.1.0"))
    assert m.matched == "ECOSYSTEM introduced 4.0, fixed 4.1.9"


@pytest.mark.parametrize("version", ["3.2.19", "4.1.9", "4.2.1", "3.1.14", "5.0"])
def test_version_just_outside_the_range_does_not_match(version: str) -> None:
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(DJANGO))
    assert one(index, ComponentRef(purl=f"pkg:pypi/django@{version}")) == []
    verdict = Vulnerability.from_osv(DJANGO).affected[0].range.check(version)
    assert verdict.affected is False and "outside" in verdict.reason


def test_equal_under_the_ecosystem_order_counts_as_listed() -> None:
    rng = AffectedRange.from_osv("PyPI", [], ["1.0", "2.0.1"])
    verdict = rng.check("1.0.0")
    assert verdict.affected is True and verdict.matched == "versions: 1.0"
    assert rng.contains("2.0.1") is True and rng.contains("2.0") is False


def test_real_advisory_from_the_corpus(corpus: Path) -> None:
    record = load_yaml((corpus / "pypa-advisory-database/vulns/django/PYSEC-2023-61.yaml").read_bytes())
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(record))
    assert [m.vulnerability for m in one(index, ComponentRef(purl="pkg:pypi/Django@4.1.8"))] == [
        "PYSEC-2023-61"
    ]
    assert one(index, ComponentRef(purl="pkg:pypi/django@4.1.9")) == []


# -- OSV range evaluation ------------------------------------------------------------------------


def ev(*events: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"type": "ECOSYSTEM", "events": [{k: v} for k, v in events]}]


@pytest.mark.parametrize(
    ("events", "inside", "outside"),
    [
        ((("introduced", "0"), ("fixed", "1.5")), ["0.1", "1.4.9", "1.5rc1"], ["1.5", "2.0"]),
        ((("introduced", "1.0"), ("last_affected", "1.4")), ["1.0", "1.4"], ["0.9", "1.4.1"]),
        ((("introduced", "1.0"),), ["1.0", "99"], ["0.9"]),
        ((("introduced", "0"), ("limit", "2.0")), ["1.9"], ["2.0", "3"]),
        (
            (("introduced", "1.0"), ("fixed", "1.2"), ("introduced", "2.0"), ("limit", "2.5")),
            ["2.4"],
            ["1.3", "2.5"],
        ),
        ((("fixed", "1.2"), ("introduced", "1.0")), ["1.1"], ["1.2", "0.5"]),  # events in any order
        ((("introduced", "1.0"), ("introduced", "1.1"), ("fixed", "1.3")), ["1.0", "1.2"], ["1.3"]),
        ((("introduced", "1.0"), ("fixed", "1.0")), [], ["1.0"]),
        ((("introduced", "0"), ("fixed", "1.0"), ("limit", "*")), ["0.5"], ["1.0"]),
    ],
)
def test_osv_events(events: tuple[tuple[str, str], ...], inside: list[str], outside: list[str]) -> None:
    rng = AffectedRange.from_osv("PyPI", ev(*events))
    for version in inside:
        assert rng.contains(version) is True, version
    for version in outside:
        assert rng.contains(version) is False, version
    # The same answers as the advisory store's evaluation (clearinghouse.intake.advisories._match).
    for version in inside + outside:
        assert affects(version, "PyPI", ev(*events), []) is rng.contains(version)


def test_semver_range_type_and_other_ecosystems() -> None:
    rng = AffectedRange.from_osv(
        "npm", [{"type": "SEMVER", "events": [{"introduced": "1.2.0"}, {"fixed": "1.4.0"}]}]
    )
    assert (
        rng.contains("1.3.9") is True
        and rng.contains("1.4.0") is False
        and rng.contains("1.4.0-rc.1") is True
    )
    go = AffectedRange.from_osv("Go", ev(("introduced", "0"), ("fixed", "1.20.5")))
    assert go.contains("v1.20.4") is True and go.contains("1.20.5") is False
    maven = AffectedRange.from_osv("Maven", ev(("introduced", "2.0-beta9"), ("fixed", "2.15.0")))
    assert (
        maven.contains("2.14.1") is True
        and maven.contains("2.0-beta8") is False
        and maven.contains("2.15.0") is False
    )
    gem = AffectedRange.from_osv("RubyGems", ev(("introduced", "0"), ("fixed", "5.2.4.3")))
    assert (
        gem.contains("5.2.4.2") is True
        and gem.contains("5.2.4.3") is False
        and gem.contains("5.2.4.3.rc1") is True
    )
    debian = AffectedRange.from_osv("Debian:11", ev(("introduced", "0"), ("fixed", "1.1.1n-0+deb11u4")))
    assert debian.ecosystem == "Debian"
    assert debian.contains("1.1.1n-0+deb11u3") is True and debian.contains("1.1.1n-0+deb11u4") is False
    alpine = AffectedRange.from_osv("Alpine:v3.16", ev(("introduced", "0"), ("fixed", "3.0.7-r0")))
    assert alpine.contains("3.0.6-r1") is True and alpine.contains("3.0.7-r0") is False
    nuget = AffectedRange.from_osv("NuGet", ev(("introduced", "0"), ("fixed", "13.0.1")))
    assert nuget.contains("12.0.3") is True and nuget.contains("13.0.1") is False
    cargo = AffectedRange.from_osv("crates.io", ev(("introduced", "0.1.0"), ("fixed", "0.3.2")))
    assert cargo.contains("0.3.1") is True and cargo.contains("0.3.2") is False


def test_cannot_say_has_a_reason() -> None:
    git = [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]
    verdict = AffectedRange.from_osv("PyPI", git).check("1.0")
    assert verdict.affected is None and "GIT" in verdict.reason
    # With a versions list, the list answers for the GIT range (as OSV enumerates it).
    assert AffectedRange.from_osv("OSS-Fuzz", git, ["v1.0"]).contains("v1.0") is True
    assert AffectedRange.from_osv("OSS-Fuzz", git, ["v1.0"]).contains("v1.1") is False
    unknown = AffectedRange.from_osv("Linux", ev(("introduced", "0"), ("fixed", "6.1")))
    assert unknown.contains("6.0") is None and "no version order" in unknown.check("6.0").reason
    empty = AffectedRange.from_osv("PyPI", [])
    assert empty.contains("1.0") is None and "neither" in empty.check("1.0").reason
    bad = AffectedRange.from_osv("npm", ev(("introduced", "0"), ("fixed", "not a version")))
    assert bad.contains("1.0.0") is None
    mixed = AffectedRange.from_osv(
        "npm", [*ev(("introduced", "1.0.0"), ("fixed", "1.1.0")), *ev(("introduced", "0"), ("fixed", "nope"))]
    )
    assert mixed.contains("1.0.5") is True and mixed.contains("2.0.0") is None
    semver = AffectedRange.from_osv("npm", ev(("introduced", "0"), ("fixed", "1.0.0")))
    verdict = semver.check("not-a-version")
    assert verdict.affected is None and "not a valid" in verdict.reason
    assert AffectedRange.from_osv("PyPI", [{"type": "WEIRD", "events": []}]).contains("1") is None


def test_pypi_legacy_versions_are_ordered_as_osv_orders_them() -> None:
    # Not PEP 440: ordered as packaging's LegacyVersion, before every PEP 440 version.
    rng = AffectedRange.from_osv("PyPI", ev(("introduced", "0"), ("fixed", "0.8.8")))
    for legacy in ("0.7.10p1", "2.0.0-final", "trunk", "2013-01-21T20:33:09+0100"):
        assert rng.contains(legacy) is True, legacy
    assert legacy_pypi_key("0.7.10p1") < legacy_pypi_key("0.7.11p1")
    assert legacy_pypi_key("0.3.2d.dev") < legacy_pypi_key("0.3.2d") < legacy_pypi_key("0.3.2e")
    pypi = scheme_for_ecosystem("PyPI")
    assert pypi is not None and pypi.key("99.0-foo") < pypi.key("0.0.1")
    later = AffectedRange.from_osv("PyPI", ev(("introduced", "1.0"), ("fixed", "2.0")))
    assert later.contains("1.5p1") is False  # legacy sorts before 1.0


def test_rubygems_key_orders_as_univers() -> None:
    versions = "1 1.0 1.0.0 1.a 1.0.a 1.0.0.a 1.0.1 1.0.a.1 1.0.0.1 2.0.0.rc1 2.0.0 2.0.0.pre".split()  # noqa: SIM905
    versions += ["2.0.0.pre.1", "2.0.0.b2", "0.9", "0.10", "1.0.0-1", "5.2.4.3", "5.2.4.3.rc1", "10"]
    gem = scheme_for_ecosystem("RubyGems")
    assert gem is not None
    for a, b in itertools.product(versions, repeat=2):
        ua, ub = uv.RubygemsVersion(a), uv.RubygemsVersion(b)
        assert (ua < ub) == (gem.key(a) < gem.key(b)), (a, b)
        assert (ua == ub) == (gem.key(a) == gem.key(b)), (a, b)


def test_orders_agree_with_the_advisory_store() -> None:
    samples = {
        "PyPI": ["1.0", "1.0.0", "1.0rc1", "1.0.post1", "1.0.dev0", "2!0.1", "1.0+local", "0.9"],
        "npm": ["1.0.0", "1.0.0-rc.1", "1.0.1", "0.9.9", "1.0.0-alpha"],
        "Go": ["v1.0.0", "1.0.1", "v0.0.0-20200101000000-abcdefabcdef", "2.0.0+incompatible"],
        "Maven": ["1.0", "1.0-SNAPSHOT", "1.0.1", "1.0-beta", "1.0.0.Final"],
        "Debian": ["1.0-1", "1:0.9-1", "1.0~rc1-1", "1.0-1+deb11u1"],
        "NuGet": ["1.0.0", "1.0.0-beta", "1.0.1", "1.0"],
        "Alpine": ["1.0-r0", "1.0-r1", "1.0_rc1-r0", "1.1-r0"],
    }
    rnd = random.Random(3)
    for ecosystem, versions in samples.items():
        mine, theirs = scheme_for_ecosystem(ecosystem), version_parser(ecosystem)
        assert mine is not None and theirs is not None
        for a, b in itertools.product(versions, repeat=2):
            assert (mine.key(a) < mine.key(b)) == (theirs(a) < theirs(b)), (ecosystem, a, b)
        rnd.shuffle(versions)


# -- vers strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vers", "inside", "outside"),
    [
        ("vers:pypi/>=1.0|<1.5", ["1.0", "1.4.9", "1.5rc1"], ["0.9", "1.5"]),
        ("vers:npm/<1.2.3|>=2.0.0|<2.1.0", ["1.2.2", "2.0.5"], ["1.2.3", "2.1.0", "1.9.0"]),
        ("vers:pypi/1.0|1.1", ["1.0", "1.1", "1.0.0"], ["1.0.1"]),
        ("vers:pypi/>=2.0", ["2.0", "9"], ["1.9"]),
        ("vers:pypi/*", ["0", "99"], []),
        ("vers:pypi/>=1.0|<2.0|!=1.5", ["1.4"], ["1.5", "2.0"]),
        ("vers:gem/>=4.2.5.1|<4.2.6", ["4.2.5.1"], ["4.2.5"]),
        ("vers:maven/>=2.0-beta9|<2.15.0", ["2.14.1"], ["2.15.0"]),
        ("vers:golang/>=v1.2.0|<v1.3.0", ["v1.2.5"], ["v1.3.0"]),
        ("vers:generic/>=2.0.0|<=2.14.1", ["2.14.1", "2.1"], ["2.15.0"]),
        ("vers:generic/<120.0.6099.109", ["120.0.6099.71", "120.0.6099", "119.1"], ["120.0.6099.109", "121"]),
        ("vers:deb/<1.1.1n-0%2Bdeb11u4", ["1.1.1n-0+deb11u3"], ["1.1.1n-0+deb11u4"]),
        ("vers:pypi/ >= 1.0 | < 1.5 ", ["1.2"], ["1.6"]),
        ("vers:pypi/>1.0|<=1.5", ["1.5", "1.1"], ["1.0"]),
        ("vers:pypi/>=1.0|>=2.0", ["1.0", "2.0", "3"], ["0.5"]),  # unmerged, as the spec evaluates it
    ],
)
def test_vers(vers: str, inside: list[str], outside: list[str]) -> None:
    rng = parse_vers(vers)
    for version in inside:
        assert rng.contains(version) is True, (vers, version, rng.check(version))
    for version in outside:
        assert rng.contains(version) is False, (vers, version, rng.check(version))


def test_vers_as_the_importers_render_it() -> None:
    intervals = [
        Interval("1.0", True, "1.4", False),
        Interval.point("2.0"),
        Interval("3.0", False, None, False),
    ]
    vers = render("pypi", intervals)
    assert vers == "vers:pypi/>=1.0|<1.4|2.0|>3.0"
    rng = parse_vers(vers)
    assert rng.ecosystem == "PyPI"
    expected = {"0.9": False, "1.0": True, "1.3": True, "1.4": False, "2.0": True, "2.1": False, "3.0": False}
    assert {v: rng.contains(v) for v in expected} == expected | {}
    assert rng.contains("3.1") is True
    assert rng.check("1.3").matched == "vers:pypi/>=1.0|<1.4"


def test_vers_errors_and_unordered() -> None:
    for bad in ("pypi/>=1.0", "vers:/1.0", "vers:pypi/", "vers:pypi/>=", "vers:pypi/|"):
        with pytest.raises(ValueError):
            parse_vers(bad)
    unknown = parse_vers("vers:weird/1.0|>=2.0")
    assert unknown.contains("1.0") is True and unknown.contains("3.0") is None
    assert parse_vers("vers:weird/*").contains("1") is None
    unordered = parse_vers("vers:npm/>=1.0.0|<not.a.version")
    assert unordered.contains("1.5.0") is None and "not a valid" in unordered.check("1.5.0").reason
    assert scheme_for_vers("nope") is None and scheme_for_vers("PYPI") is scheme_for_ecosystem("PyPI")


# -- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ecosystem", "a", "b"),
    [
        ("PyPI", "Django_REST.framework", "django-rest-framework"),
        ("npm", "@Babel/Core", "@babel/core"),
        ("npm", "babel/core", "@babel/core"),
        ("Maven", "org.apache.logging.log4j:log4j-core", "Org.Apache.Logging.Log4j:Log4j-Core"),
        ("Maven", "org/apache/logging/log4j/log4j-core", "org.apache.logging.log4j:log4j-core"),
        ("crates.io", "Serde_JSON", "serde-json"),
        ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
        ("RubyGems", "RedCloth", "redcloth"),
        ("Go", "https://github.com/foo/bar/", "github.com/foo/bar"),
        ("generic", "Microsoft/Internet Explorer", "microsoft/internet_explorer"),
        ("Debian", "OpenSSL", "openssl"),
    ],
)
def test_normalization(ecosystem: str, a: str, b: str) -> None:
    assert normalize(ecosystem, a) == normalize(ecosystem, b)


def test_go_paths_are_case_sensitive_and_know_major_suffixes() -> None:
    assert normalize("Go", "github.com/Sirupsen/logrus") != normalize("Go", "github.com/sirupsen/logrus")
    assert go_major_alias("github.com/foo/bar", "v2.3.0") == "github.com/foo/bar/v2"
    assert go_major_alias("github.com/foo/bar", "v2.3.0+incompatible") is None
    assert go_major_alias("github.com/foo/bar/v2", "v2.3.0") is None
    assert go_major_alias("github.com/foo/bar", "v1.9.0") is None
    assert go_major_alias("github.com/foo/bar", None) is None


def test_purls_and_package_names() -> None:
    pkg, version = from_purl("pkg:npm/%40babel/core@7.22.0")
    assert (pkg.ecosystem, pkg.name, pkg.key, version) == ("npm", "@babel/core", "@babel/core", "7.22.0")
    pkg, _ = from_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert (
        pkg.name == "org.apache.logging.log4j:log4j-core" and pkg.purl == package_name("Maven", pkg.name).purl
    )
    pkg, version = from_purl("pkg:golang/github.com/foo/bar/v2@v2.1.0")
    assert (pkg.ecosystem, pkg.key, version) == ("Go", "github.com/foo/bar/v2", "v2.1.0")
    pkg, _ = from_purl("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?distro=ubuntu-22.04")
    assert (pkg.ecosystem, pkg.variant) == ("Ubuntu", "22.04")
    pkg, version = from_purl("pkg:pypi/django")
    assert version is None and pkg.purl == ("pypi", "", "django")
    pkg, _ = from_purl("pkg:generic/apache/log4j@2.14.1")
    assert (pkg.ecosystem, pkg.key) == ("generic", "apache/log4j")
    with pytest.raises(ValueError):
        from_purl("not-a-purl")
    assert package_name("Debian:11", "openssl").variant == "11"
    assert package_name("Ubuntu:22.04:LTS", "openssl").variant == "22.04"
    assert package_name("PyPI", "Django", "pkg:pypi/django").purl == ("pypi", "", "django")
    assert package_name("PyPI", "x", "::bad::").purl == ("pypi", "", "x")
    assert package_name("OSS-Fuzz", "libxml2").purl is None
    assert variant_token("bullseye") is None and variant_token(None) is None


def test_cpe() -> None:
    cpe = parse_cpe("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*")
    assert cpe is not None and (cpe.vendor, cpe.product, cpe.version, cpe.key) == (
        "apache",
        "log4j",
        "2.14.1",
        "apache:log4j",
    )
    uri = parse_cpe("cpe:/a:Microsoft:Internet_Explorer:11")
    assert uri is not None and uri.key == "microsoft:internet_explorer" and uri.version == "11"
    escaped = parse_cpe(r"cpe:2.3:a:foo\:bar:baz:*:*:*:*:*:*:*:*")
    assert escaped is not None and escaped.vendor == "foo:bar" and escaped.version is None
    for bad in ("cpe:2.3:a:*:log4j", "pkg:pypi/x", "cpe:2.3:a"):
        assert parse_cpe(bad) is None


# -- the index: direction (b), components -> vulnerabilities ------------------------------------


def test_rules_and_confidences() -> None:
    index = MatchIndex()
    index.add_vulnerability(
        Vulnerability.from_osv(osv("V-1", "PyPI", "django-rest-framework", [{"introduced": "0"}]))
    )
    exact, respelled, named = (
        ComponentRef(purl="pkg:pypi/django-rest-framework@3.0"),
        ComponentRef(purl="pkg:pypi/Django_REST.Framework@3.0"),
        ComponentRef(name="django_rest_framework", ecosystem="pypi", version="3.0"),
    )
    (m1,) = one(index, exact)
    (m2,) = one(index, respelled)
    (m3,) = one(index, named)
    assert (m1.rule, m1.confidence) == (PURL_EXACT, 1.0)
    assert (m2.rule, m2.confidence) == (NAME_VERSION, 0.9)
    assert (m3.rule, m3.confidence) == (NAME_VERSION, 0.9)
    assert CONFIDENCE == {PURL_EXACT: 1.0, NAME_VERSION: 0.9, CPE_FALLBACK: 0.5}
    assert one(index, ComponentRef(purl="pkg:npm/django-rest-framework@3.0")) == []  # another ecosystem
    assert one(index, ComponentRef(purl="pkg:pypi/django-rest-framework")) == []  # no version
    assert one(index, ComponentRef(purl="::bad::", version="1.0")) == []


def test_maven_npm_and_go() -> None:
    index = MatchIndex()
    log4j = osv("GHSA-jfh8-c2jp-5v3q", "Maven", "org.apache.logging.log4j:log4j-core",
                [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}])  # fmt: skip
    index.add_vulnerability(Vulnerability.from_osv(log4j))
    (m,) = one(index, ComponentRef(purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"))
    assert m.rule == PURL_EXACT
    (m,) = one(index, ComponentRef(purl="pkg:maven/Org.Apache.Logging.Log4j/log4j-core@2.14.1"))
    assert m.rule == NAME_VERSION
    assert one(index, ComponentRef(purl="pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1")) == []

    index.add_vulnerability(vuln("N-1", "npm", "@babel/traverse", "0", "7.23.2", type="SEMVER"))
    (m,) = one(index, ComponentRef(purl="pkg:npm/%40babel/traverse@7.23.1"))
    assert m.rule == PURL_EXACT and m.matched == "SEMVER introduced 0, fixed 7.23.2"
    (m,) = one(index, ComponentRef(purl="pkg:npm/%40Babel/Traverse@7.0.0"))
    assert m.rule == NAME_VERSION

    index.add_vulnerability(vuln("GO-1", "Go", "github.com/foo/bar/v2", "2.0.0", "2.4.0"))
    (m,) = one(index, ComponentRef(purl="pkg:golang/github.com/foo/bar/v2@v2.3.0"))
    assert m.rule == PURL_EXACT
    (m,) = one(index, ComponentRef(purl="pkg:golang/github.com/foo/bar@v2.3.0"))  # SBOM dropped /v2
    assert m.rule == NAME_VERSION
    assert one(index, ComponentRef(purl="pkg:golang/github.com/foo/bar@v2.3.0+incompatible")) == []
    assert one(index, ComponentRef(purl="pkg:golang/github.com/Foo/bar/v2@v2.3.0")) == []  # case-sensitive


def test_distro_releases() -> None:
    index = MatchIndex()
    index.add_vulnerability(vuln("DSA-1", "Debian:11", "openssl", "0", "1.1.1n-0+deb11u4"))
    base = "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3"
    assert [m.rule for m in one(index, ComponentRef(purl=base + "?distro=debian-11"))] == [PURL_EXACT]
    assert one(index, ComponentRef(purl=base + "?distro=debian-12")) == []
    assert len(one(index, ComponentRef(purl=base + "?distro=bullseye"))) == 1  # codename: cannot tell
    assert len(one(index, ComponentRef(purl=base))) == 1


def test_cpe_fallback_for_generic_products() -> None:
    index = MatchIndex()
    cve = Vulnerability.from_packages(
        "CVE-2021-44228", [{"purl": "pkg:generic/apache/log4j", "vers": "vers:generic/>=2.0.0|<2.15.0"}]
    )
    index.add_vulnerability(cve)
    component = ComponentRef(
        purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        cpe="cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
    )
    (m,) = one(index, component)
    assert (m.rule, m.confidence, m.affected) == (CPE_FALLBACK, 0.5, True)
    assert m.matched == "vers:generic/>=2.0.0|<2.15.0" and m.pointer == "/package/0"
    assert one(index, ComponentRef(cpe="cpe:2.3:a:apache:log4j:2.15.0:*:*:*:*:*:*:*")) == []
    (m,) = one(index, ComponentRef(cpe="cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*", version="2.10.0"))
    assert m.version == "2.10.0"
    # The same generic product by purl is an exact purl match, and wins over the CPE.
    (m,) = one(index, ComponentRef(purl="pkg:generic/apache/log4j@2.14.1", cpe=component.cpe))
    assert m.rule == PURL_EXACT
    # Direction (a): the registered component is found through its CPE.
    index.add_inventory("acme", [component])
    (m,) = index.affected_by(cve)
    assert m.rule == CPE_FALLBACK and m.component is component
    index.remove_vulnerability("CVE-2021-44228")
    assert one(index, component) == []


def test_finding_packages_with_a_version() -> None:
    vuln = Vulnerability.from_packages(
        "CSAF-1",
        [
            {"purl": "pkg:pypi/jinja2", "version": "2.10"},
            {"purl": "pkg:npm/lodash@4.17.20"},
            {"purl": "pkg:gem/rack"},
        ],
    )
    index = MatchIndex()
    index.add_vulnerability(vuln)
    assert len(one(index, ComponentRef(purl="pkg:pypi/Jinja2@2.10.0"))) == 1
    assert one(index, ComponentRef(purl="pkg:pypi/jinja2@2.10.1")) == []
    assert len(one(index, ComponentRef(purl="pkg:npm/lodash@4.17.20"))) == 1
    assert len(one(index, ComponentRef(purl="pkg:gem/rack@1.0"))) == 1  # every version
    assert AffectedPackage.from_purl("pkg:pypi/x", vers="vers:pypi/<1").range.contains("0.5") is True
    assert AffectedRange.every("OSS-Fuzz").contains("1") is None


def test_undetermined_matches_are_reported_with_their_reason() -> None:
    index = MatchIndex()
    git = {"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}, {"fixed": "abc"}]}
    entry = {"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [git]}
    index.add_vulnerability(Vulnerability.from_osv({"id": "G-1", "affected": [entry]}))
    (m,) = one(index, ComponentRef(purl="pkg:pypi/x@1.0"))
    assert m.affected is None and "GIT" in m.reason and "may be affected" in m.explain()


def test_one_match_per_vulnerability_and_component() -> None:
    record = osv("V-2", "PyPI", "pkg", [{"introduced": "0"}, {"fixed": "2.0"}])
    record["affected"].append({"package": {"ecosystem": "PyPI", "name": "pkg"}, "versions": ["1.0"]})
    git = {"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "GIT", "events": []}]}
    record["affected"].append(git)
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(record))
    (m,) = one(index, ComponentRef(purl="pkg:pypi/pkg@1.0"))
    assert m.affected is True
    index.add_inventory("a", [ComponentRef(purl="pkg:pypi/pkg@1.0")])
    (m,) = index.affected_by(Vulnerability.from_osv(record))
    assert m.affected is True


def test_entries_without_a_package_are_left_out() -> None:
    vuln = Vulnerability.from_osv(
        {"id": "PSF-1", "affected": [{"ranges": [{"type": "GIT", "events": []}]}, "junk"]}
    )
    assert vuln.affected == ()
    semver = [{"type": "SEMVER", "events": [{"introduced": "0"}]}]
    by_purl = {"package": {"purl": "pkg:npm/%40scope/x"}, "ranges": semver}
    bad = {"package": {"purl": "nope"}, "versions": ["1"]}
    (affected,) = Vulnerability.from_osv({"id": "P-1", "affected": [bad, by_purl, {"package": {}}]}).affected
    assert (affected.package.ecosystem, affected.package.key, affected.pointer) == (
        "npm",
        "@scope/x",
        "/affected/1",
    )


# -- the index: direction (a), a vulnerability -> components, and changes ------------------------


def test_new_vulnerability_finds_registered_components() -> None:
    index = MatchIndex()
    a = [ComponentRef(purl="pkg:pypi/django@3.2.18", bom_ref="a1"), ComponentRef(purl="pkg:pypi/flask@2.0.0")]
    b = [ComponentRef(purl="pkg:pypi/Django@4.1.8", bom_ref="b1"), ComponentRef(purl="pkg:pypi/django@4.2.1")]
    assert index.add_inventory("org-a", a) == []
    assert index.add_inventory("org-b", b) == []
    assert index.component_count == 4
    found = index.affected_by(Vulnerability.from_osv(DJANGO))
    assert sorted((m.inventory, m.component.bom_ref, m.rule) for m in found) == [
        ("org-a", "a1", PURL_EXACT),
        ("org-b", "b1", PURL_EXACT),  # packageurl lowercases PyPI names: still the exact purl
    ]
    assert len(index) == 0  # affected_by does not register the vulnerability
    index.add_vulnerability(Vulnerability.from_osv(DJANGO))
    # Direction (b) for a changed inventory: org-a upgrades django.
    assert index.add_inventory("org-a", [ComponentRef(purl="pkg:pypi/django@3.2.19")]) == []
    assert [m.inventory for m in index.affected_by(Vulnerability.from_osv(DJANGO))] == ["org-b"]
    index.remove_inventory("org-b")
    assert index.affected_by(Vulnerability.from_osv(DJANGO)) == []
    assert index.component_count == 1


def test_changed_vulnerability_replaces_the_old_one() -> None:
    index = MatchIndex()
    index.add_vulnerability(vuln("V-3", "npm", "left-pad", "0", "1.1.0"))
    component = ComponentRef(purl="pkg:npm/left-pad@1.2.0")
    assert one(index, component) == []
    index.add_vulnerability(vuln("V-3", "npm", "left-pad", "0", "1.3.0"))
    assert [m.vulnerability for m in one(index, component)] == ["V-3"]
    assert len(index) == 1
    index.remove_vulnerability("V-3")
    index.remove_vulnerability("V-3")
    assert one(index, component) == [] and len(index) == 0


def test_go_alias_and_variants_in_direction_a() -> None:
    index = MatchIndex()
    short = ComponentRef(purl="pkg:golang/github.com/foo/bar@v2.3.0")
    full = ComponentRef(purl="pkg:golang/github.com/foo/bar/v2@v2.3.0")
    deb12 = ComponentRef(purl="pkg:deb/debian/openssl@1.0-1?distro=debian-12")
    deb11 = ComponentRef(purl="pkg:deb/debian/openssl@1.0-1?distro=debian-11")
    index.add_inventory("x", [short, full, deb12, deb11, ComponentRef(name="nameless")])
    go = Vulnerability.from_osv(osv("GO-2", "Go", "github.com/foo/bar/v2", [{"introduced": "0"}]))
    assert sorted((m.component.purl, m.rule) for m in index.affected_by(go)) == [
        (full.purl, PURL_EXACT),
        (short.purl, NAME_VERSION),
    ]
    deb = Vulnerability.from_osv(osv("DSA-2", "Debian:11", "openssl", [{"introduced": "0"}]))
    assert [m.component for m in index.affected_by(deb)] == [deb11]


def test_index_lookup_agrees_with_range_checks() -> None:
    """The compiled per-package regions only narrow the candidates: answers equal the exact checks."""
    rnd = random.Random(11)
    pool = [f"{a}.{b}.{c}" for a in range(4) for b in range(4) for c in range(4)]
    records = []
    for i in range(40):
        events: list[dict[str, str]] = []
        for lo, hi in sorted(tuple(sorted(rnd.sample(pool, 2))) for _ in range(rnd.randint(1, 3))):
            events += [{"introduced": lo}, {rnd.choice(["fixed", "last_affected"]): hi}]
        extra: dict[str, Any] = {"versions": rnd.sample(pool, 3)} if i % 3 == 0 else {}
        if i % 7 == 0:
            events.append({"limit": rnd.choice(pool)})
        records.append(osv(f"R-{i}", "npm", "pkg", events, **extra))
    index = MatchIndex()
    vulns = [Vulnerability.from_osv(r) for r in records]
    for vuln in vulns:
        index.add_vulnerability(vuln)
    index.compile()
    for version in [*pool, "4.0.0", "0.0.0-rc.1", "1.1.1-beta"]:
        expected = sorted(v.id for v in vulns if v.affected[0].range.contains(version))
        got = sorted(m.vulnerability for m in one(index, ComponentRef(purl=f"pkg:npm/pkg@{version}")))
        assert got == expected, version


def test_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Scheme, "_LIMIT", 2)
    scheme = Scheme("tiny", int)
    assert [scheme.key(v) for v in ("1", "2", "3", "1")] == [1, 2, 3, 1]
    with pytest.raises(UnorderedVersion):
        scheme.key("x")
    with pytest.raises(UnorderedVersion):
        scheme.key("x")
    assert scheme.try_key("y") is None and repr(scheme) == "Scheme('tiny')"
    clear_caches()
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv(DJANGO))
    assert len(one(index, ComponentRef(purl="pkg:pypi/django@3.2.18"))) == 1


def test_mixed_orders_unparseable_versions_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    ranges = [
        {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.1"}, {"weird": "3"}]},
    ]
    rng = AffectedRange.from_osv("PyPI", ranges)
    assert [s.name for s in rng.schemes()] == ["PyPI", "Semver"]
    assert rng.contains("1.1.0") is True and rng.contains("2.0.5") is True and rng.contains("1.5") is False
    assert rng.check("").affected is None
    assert AffectedRange.from_osv("PyPI", ranges[:1]).check("abc").affected is None
    monkeypatch.setattr("clearinghouse.matching._index.PackageTable._MEMO_LIMIT", 1)
    index = MatchIndex()
    index.add_vulnerability(
        Vulnerability.from_osv(
            {"id": "M-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "m"}, "ranges": ranges}]}
        )
    )
    index.add_vulnerability(vuln("M-2", "npm", "n", "1.0.0", "2.0.0"))
    assert [m.matched for m in one(index, ComponentRef(purl="pkg:pypi/m@1.1.0"))] == [
        "SEMVER introduced 1.0.0, fixed 1.2.0"
    ]
    assert [m.vulnerability for m in one(index, ComponentRef(purl="pkg:pypi/m@2.0.1"))] == ["M-1"]
    assert one(index, ComponentRef(purl="pkg:pypi/m@3.0")) == []
    (m,) = one(index, ComponentRef(purl="pkg:npm/n@not-a-version"))
    assert m.affected is None and "not a valid" in m.reason


def test_better_match_replaces_an_earlier_one() -> None:
    git = {"package": {"ecosystem": "PyPI", "name": "p"}, "ranges": [{"type": "GIT", "events": []}]}
    fixed = {"package": {"ecosystem": "PyPI", "name": "p"}, "versions": ["1.0"]}
    index = MatchIndex()
    index.add_vulnerability(Vulnerability.from_osv({"id": "B-1", "affected": [git, fixed]}))
    (m,) = one(index, ComponentRef(purl="pkg:pypi/p@1.0"))
    assert m.affected is True and m.pointer == "/affected/1"
    assert from_purl("pkg:hex/acme/phoenix@1.0")[0].name == "phoenix"
    assert package_name("GENERIC", "Apache/Log4j").key == "apache/log4j"

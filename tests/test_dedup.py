"""Deduplication of findings into cases: normalization, fingerprints, the index, and a small flood."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash

from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.triage._dedup import (
    DedupConfig,
    DedupIndex,
    Relation,
    alias_agreement,
    compare,
    location_agreement,
)
from clearinghouse.triage._fingerprint import (
    EMPTY_SIGNATURE,
    MINHASH_SEED,
    NUM_PERM,
    FindingFeatures,
    cwe_family,
    cwe_relation,
    exact_fingerprint,
    extract_features,
    extract_features_many,
    minhash_signature,
    minhash_signatures,
    normalize_affected,
    normalize_aliases,
    normalize_cwes,
    normalize_file,
    normalize_package,
    normalize_symbol,
    normalize_text,
    normalize_vers,
    parse_vers,
    pep503_name,
    shingle_hashes,
    stem,
    symbols_agree,
    text_tokens,
    to_minhash,
    version_key,
)

# ---------------------------------------------------------------------------- helpers

_WORD_TEXT = """alpha bravo charlie delta echo foxtrot golf hotel india juliet
kilo lima mike november oscar papa quebec romeo sierra tango"""
_OTHER_TEXT = """umbrella violin walrus xylophone yankee zebra anchor beacon cobalt dragon
falcon glacier harbor island jungle kettle lantern meadow nectar orchid"""
_FRUIT_TEXT = "apple banana cherry grape lemon mango olive peach pear plum"
WORDS, OTHER, FRUIT = _WORD_TEXT.split(), _OTHER_TEXT.split(), _FRUIT_TEXT.split()

DESCRIPTION = (
    "The parse_header function in the HTTP module of example does not validate the length of the "
    "Content-Range header before copying it into a fixed-size buffer. A remote attacker can send a "
    "crafted request that overflows the buffer and executes arbitrary code in the server process."
)
PARAPHRASE = (
    "Our AI agent discovered the following issue while auditing Example. A remote adversary can send "
    "a specially crafted request that overruns the buffer and runs attacker-chosen code in the server "
    "process. The parse_header routine in the HTTP module of example fails to validate the length of "
    "the Content-Range header before copying it into a fixed-size buffer (see "
    "https://github.com/example/example/commit/0123456789abcdef0123456789abcdef01234567)."
)


def finding(
    title: str = "Heap buffer overflow in parse_header",
    description: str = DESCRIPTION,
    *,
    purl: str = "pkg:pypi/example",
    version: str | None = "1.2.0",
    vers: str | None = None,
    cwe: tuple[str, ...] = ("CWE-787",),
    file: str | None = "src/example/http.py",
    symbol: str | None = "parse_header",
    aliases: tuple[str, ...] = (),
) -> FindingSubmission:
    package: dict[str, Any] = {"purl": purl}
    if version:
        package["version"] = version
    if vers:
        package["vers"] = vers
    data: dict[str, Any] = {
        "title": title,
        "description": description,
        "package": package,
        "cwe": list(cwe),
        "impact": {"claimed": "code_execution"},
        "generator": {"tool": "test-agent", "model": "model-x"},
        "aliases": list(aliases),
    }
    source = {k: v for k, v in (("file", file), ("symbol", symbol)) if v}
    if source:
        data["source"] = source
    return FindingSubmission.model_validate(data)


def feats(**kwargs: Any) -> FindingFeatures:
    return extract_features(finding(**kwargs))


# ---------------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Zope_Interface", "zope-interface"), ("zope.interface", "zope-interface"), ("A--B__c..D", "a-b-c-d")],
)
def test_pep503(name: str, expected: str) -> None:
    assert pep503_name(name) == expected


@pytest.mark.parametrize(
    ("purl", "key"),
    [
        ("pkg:pypi/Zope_Interface@5.0", "pypi:zope-interface"),
        ("pkg:pypi/zope.interface", "pypi:zope-interface"),
        ("pkg:npm/%40Babel/Core@7.0.0", "npm:@babel/core"),
        ("pkg:npm/@babel/core", "npm:@babel/core"),
        ("pkg:npm/Lodash@4.17.20", "npm:lodash"),
        ("pkg:maven/org.Apache.logging.log4j/log4j-core@2.14.0", "maven:org.apache.logging.log4j:log4j-core"),
        ("pkg:maven/log4j", "maven:log4j"),
        ("pkg:golang/github.com/Foo/Bar/v2@v2.1.0", "golang:github.com/foo/bar/v2"),
        ("pkg:golang/golang.org/x/net", "golang:golang.org/x/net"),
        ("pkg:github/Apache/Arrow", "github:apache/arrow"),
        ("pkg:gem/Rails@7.0.0?platform=ruby", "gem:rails"),
        ("pkg:generic/openssl@3.0.0", "generic:openssl"),
        ("pkg:deb/Debian/curl", "deb:debian/curl"),
    ],
)
def test_package_normalization(purl: str, key: str) -> None:
    assert normalize_package(purl).key == key


def test_npm_scope_without_at_gets_one() -> None:
    assert normalize_package("pkg:npm/babel/core").key == "npm:@babel/core"


def test_version_keys_order_releases_and_pre_releases() -> None:
    assert version_key("1.0rc1") < version_key("1.0") < version_key("1.0.1") < version_key("1.10")
    assert version_key("1.0") == version_key("1.0.0") == version_key("v1.0")
    assert version_key("2.0.dev1") < version_key("2.0a1") < version_key("2.0b1") < version_key("2.0")
    assert version_key("1.0") < version_key("1.0.post1")


def test_vers_normalized_and_parsed() -> None:
    assert normalize_vers("vers:PyPI/<2.32.0|>=v2.0") == "vers:pypi/>=2.0|<2.32.0"
    assert normalize_vers("vers:npm/*") == "vers:npm/*"
    assert normalize_vers("vers:pypi/=1.0|!=1.1") == "vers:pypi/1.0|!=1.1"
    spans = parse_vers("vers:pypi/>=4.0|<4.3|>=5.0|<5.2")
    assert len(spans) == 2
    assert parse_vers("vers:pypi/*") == ((None, True, None, True),)
    assert parse_vers("vers:pypi/>=3.0")[0][2] is None  # open above
    assert parse_vers("vers:pypi/<=2.0")[0][0] is None  # open below
    assert parse_vers("vers:pypi/=1.5")[0][0] == version_key("1.5")


def test_affected_relations() -> None:
    two_lines = normalize_affected(None, "vers:pypi/>=4.0|<4.3|>=5.0|<5.2")
    assert two_lines.relation(normalize_affected("4.2.1", None)) == "overlap"
    assert two_lines.relation(normalize_affected("4.5", None)) == "outside"
    assert two_lines.relation(normalize_affected(None, "vers:pypi/>=6.0")) == "disjoint"
    assert two_lines.relation(normalize_affected(None, "vers:pypi/<4.1")) == "overlap"
    assert two_lines.relation(normalize_affected(None, "vers:pypi/<4.0")) == "disjoint"
    assert two_lines.relation(normalize_affected(None, "vers:pypi/<5.2|>=4.0")) == "overlap"
    assert two_lines.relation(normalize_affected(None, "vers:pypi/>=4.0|<4.3|>=5.0|<5.2")) == "same"
    assert normalize_affected("1.0", None).relation(normalize_affected("v1.0.0", None)) == "same"
    assert normalize_affected("1.0", None).relation(normalize_affected("1.1", None)) == "neutral"
    assert normalize_affected(None, None).relation(two_lines) == "unknown"
    assert normalize_affected("1.0", None).relation(normalize_affected(None, "vers:pypi/")) == "unknown"
    inclusive = normalize_affected(None, "vers:pypi/<=2.0")
    assert inclusive.relation(normalize_affected(None, "vers:pypi/>=2.0")) == "overlap"
    assert normalize_affected(None, "vers:pypi/<2.0").relation(
        normalize_affected(None, "vers:pypi/>=2.0")
    ) == ("disjoint")
    assert normalize_affected("2.0", "vers:pypi/<3").text == "vers:pypi/<3"  # the range wins


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("./src/Foo.py", "src/foo.py"),
        ("src\\foo.py", "src/foo.py"),
        ("/src/foo.py:12", "src/foo.py"),
        ("src/foo.py:12:4", "src/foo.py"),
        ("a/src/foo.py", "src/foo.py"),
        ("https://github.com/o/r/blob/abc123/src/foo.py#L10-L20", "src/foo.py"),
        ("src//foo.py", "src/foo.py"),
        ("", None),
        (None, None),
    ],
)
def test_file_normalization(raw: str | None, expected: str | None) -> None:
    assert normalize_file(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("parse_header()", "parse_header"),
        ("Parser::parse_header(int n)", "parser.parse_header"),
        ("Parser#parseHeader", "parser.parseheader"),
        ("static int *copy_buf(char *p)", "copy_buf"),
        ("arrow::Status arrow::VisitArrayInline<arrow::X>", "arrow.visitarrayinline"),
        ("def handler", "handler"),
        ("`quote`", "quote"),
        ("  ", None),
        (None, None),
    ],
)
def test_symbol_normalization(raw: str | None, expected: str | None) -> None:
    assert normalize_symbol(raw) == expected


def test_symbols_agree_by_dotted_suffix() -> None:
    assert symbols_agree("parser.parse_header", "parse_header")
    assert symbols_agree("pkg.http.parser.parse", "parser.parse")
    assert not symbols_agree("parse_header", "parse")
    assert not symbols_agree("header", "parse_header")


def test_cwe_normalization_and_relations() -> None:
    assert normalize_cwes(["CWE-79", "cwe-79", "CWE-20"]) == (20, 79)
    assert cwe_relation((787,), (787, 125)) == "agree"
    assert cwe_relation((787,), (125,)) == "near"  # same family
    assert cwe_relation((20,), (89,)) == "near"  # a catch-all
    assert cwe_relation((89,), (20,)) == "near"
    assert cwe_relation((79,), (416,)) == "conflict"
    assert cwe_relation((), (79,)) == "unknown"
    assert 125 in cwe_family(787) and 787 not in cwe_family(787)


def test_aliases_normalized_and_compared() -> None:
    ghsa = "GHSA-2345-6789-cfgh"
    assert normalize_aliases([" cve-2021-1234 ", ghsa, "ACME-2026-1", "GHSA-x"]) == frozenset(
        {"CVE-2021-1234", ghsa.upper()}
    )
    cve1, cve2 = "CVE-2021-1001", "CVE-2021-1002"
    assert alias_agreement(frozenset({cve1}), frozenset({cve1, ghsa.upper()})) == "agree"
    assert alias_agreement(frozenset({cve1}), frozenset({cve2})) == "conflict"
    assert alias_agreement(frozenset({cve1}), frozenset({ghsa.upper()})) == "unknown"
    assert alias_agreement(frozenset(), frozenset({cve1})) == "unknown"
    # Two finders' own report ids are provenance: they neither agree nor conflict.
    assert alias_agreement(frozenset({"FINDER-1"}), frozenset({"FINDER-2"})) == "unknown"
    assert alias_agreement(frozenset({"PYSEC-2021-1"}), frozenset({"PYSEC-2021-2"})) == "conflict"


def test_text_normalization_strips_noise() -> None:
    text = (
        "Heap-based buffer over-read in stl_update_connects_remove_1 in ADMesh 0.98.4 and v2, "
        "see https://example.org/x?y=1 and commit b42dd4badf803bb9 at 0x7ffd1234, mail sec@example.org, "
        "line 1234, release 1.0rc1. The attackers are allowing exploitation."
    )
    tokens = text_tokens(text)
    assert "stl_update_connects_remove_1" in tokens
    for noise in (
        "https",
        "example",
        "b42dd4badf803bb9",
        "0x7ffd1234",
        "1234",
        "v2",
        "rc1",
        "the",
        "in",
        "sec",
    ):
        assert noise not in tokens
    assert "attacker" in tokens and "allow" in tokens  # stemmed
    assert normalize_text("The Vulnerability") == ""
    assert stem("validation") == "validate" and stem("class") == "class" and stem("abc") == "abc"
    assert stem("x86_64") == "x86_64"


def test_minhash_matches_datasketch_and_bulk() -> None:
    shingles = shingle_hashes([int(x) for x in np.arange(1, 300, 7)])
    ours = minhash_signature(shingles)
    theirs = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme="affine32", hashfunc=int)
    theirs.update_batch(shingles.tolist())
    assert np.array_equal(ours, theirs.hashvalues)
    sets = [shingles, np.empty(0, dtype=np.uint32), shingles[:5], shingles[5:]]
    bulk = minhash_signatures(sets, chunk_shingles=16)
    for row, s in zip(bulk, sets, strict=True):
        assert np.array_equal(row, minhash_signature(s))
    assert np.array_equal(bulk[1], EMPTY_SIGNATURE)
    assert shingle_hashes([]).size == 0
    assert to_minhash(ours).jaccard(to_minhash(minhash_signature(shingles[:40]))) > 0.5


def test_exact_fingerprint_ignores_noise() -> None:
    a = feats(
        purl="pkg:pypi/Zope_Interface", file="./src/x.py", symbol="Parser.parse()", cwe=("CWE-79", "CWE-20")
    )
    b = feats(
        purl="pkg:pypi/zope.interface",
        file="src\\x.py:10",
        symbol="Parser::parse",
        cwe=("cwe-20", "CWE-79"),
        title="Completely different title",
    )
    assert a.fingerprint == b.fingerprint and a.strong and b.strong
    assert feats(symbol="other").fingerprint != a.fingerprint
    assert feats(symbol=None).strong is False
    assert a.fingerprint == exact_fingerprint(a.package, a.affected.text, a.cwes, a.file, a.symbol)
    v1 = feats(version=None, purl="pkg:pypi/example@1.2.0")
    assert v1.fingerprint == feats(version="1.2.0").fingerprint


def test_bulk_features_equal_single() -> None:
    subs = [finding(), finding(description=PARAPHRASE, symbol=None), finding(description="")]
    for one, many in zip([extract_features(s) for s in subs], extract_features_many(subs), strict=True):
        assert one.fingerprint == many.fingerprint and one.text == many.text
        assert np.array_equal(one.signature, many.signature)


def test_mentions_and_location_agreement() -> None:
    with_symbol = feats()
    text_only = feats(symbol=None, file=None, description=DESCRIPTION)
    assert text_only.mentions("Parser.parse_header")
    assert not text_only.mentions("xy")
    assert location_agreement(with_symbol, text_only) == "mention"
    assert location_agreement(with_symbol, feats(symbol="other_func")) == "conflict"
    assert location_agreement(feats(symbol=None), feats(symbol=None)) == "file"
    assert location_agreement(feats(symbol=None), feats(symbol=None, file="src/other.py")) == "conflict"
    assert location_agreement(feats(symbol=None, file=None), feats(symbol=None)) == "unknown"
    # a short, ordinary symbol name in the text is no evidence
    assert location_agreement(feats(symbol="http"), feats(symbol=None, file=None)) == "unknown"


# ---------------------------------------------------------------------------- the index


def test_exact_duplicate_merges_with_confidence_one() -> None:
    index = DedupIndex()
    first = index.add("a", feats())
    assert first.relation is Relation.NEW and first.case_id == "a" and not first.auto_merge
    dup = index.add(
        "b", feats(title="Another title entirely", purl="pkg:pypi/Example", symbol="parse_header()")
    )
    assert dup.relation is Relation.DUPLICATE_OF
    assert dup.confidence == 1.0 and dup.auto_merge and dup.merged
    assert dup.case_id == dup.target_case == "a" and dup.reasons == ("exact fingerprint",)
    assert index.members("a") == ["a", "b"] and index.case_of("b") == "a"
    assert len(index) == 2 and "b" in index and index.case_count == 1


def test_paraphrased_near_duplicate_is_found() -> None:
    index = DedupIndex()
    index.add("a", feats())
    near = feats(
        title="Potential buffer overrun via parse_header() in example",
        description=PARAPHRASE,
        version="1.1.3",
        vers="vers:pypi/>=1.0|<1.3",
        symbol="example.http.parse_header",
        file="./src/example/http.py:120",
        cwe=("CWE-120",),
    )
    d = index.add("b", near)
    assert d.relation is Relation.DUPLICATE_OF and d.auto_merge, d
    assert 0.85 <= d.confidence < 1.0
    assert index.case_of("b") == "a"


def test_near_duplicate_without_symbol_matches_through_its_text() -> None:
    index = DedupIndex()
    index.add("a", feats())
    d = index.add("b", feats(symbol=None, file=None, description=PARAPHRASE, version="1.1.0"))
    assert d.relation is Relation.DUPLICATE_OF and d.target_case == "a"
    assert any("location=mention" in r for r in d.reasons)


def test_different_package_never_merged() -> None:
    index = DedupIndex()
    index.add("a", feats())
    for i, purl in enumerate(("pkg:pypi/example-fork", "pkg:npm/example", "pkg:github/example/example")):
        d = index.add(f"x{i}", feats(purl=purl))
        assert d.relation is Relation.NEW and d.case_id == f"x{i}"
    assert compare(feats(), feats(purl="pkg:pypi/other")).relation is Relation.NEW


def test_same_text_other_symbol_is_related_not_merged() -> None:
    index = DedupIndex()
    index.add("a", feats())
    d = index.add(
        "b", feats(symbol="parse_trailer", description=DESCRIPTION.replace("parse_header", "parse_trailer"))
    )
    assert d.relation is Relation.RELATED and not d.auto_merge
    assert d.case_id == "b" and d.target_case == "a"


def test_variant_versus_duplicate() -> None:
    index = DedupIndex()
    index.add("a", feats(version=None, vers="vers:pypi/>=1.0|<1.3"))
    overlapping = index.add("b", feats(version=None, vers="vers:pypi/>=1.2|<1.4", description=PARAPHRASE))
    assert overlapping.relation is Relation.DUPLICATE_OF and overlapping.auto_merge
    disjoint = index.add("c", feats(version=None, vers="vers:pypi/>=2.0|<2.1", description=PARAPHRASE))
    assert disjoint.relation is Relation.VARIANT_OF and not disjoint.auto_merge
    assert disjoint.case_id == "c" and disjoint.target_case == "a" and disjoint.confidence <= 0.8
    other_words = index.add("d", feats(title="t", description=" ".join(WORDS), version="1.1"))
    assert other_words.relation is Relation.VARIANT_OF and not other_words.auto_merge


def test_conflicting_cve_at_same_location_is_a_variant() -> None:
    a = feats(aliases=("CVE-2024-0001",))
    b = feats(aliases=("CVE-2024-0002",), description=PARAPHRASE, version="1.1")
    assert compare(a, b).relation is Relation.VARIANT_OF
    c = feats(aliases=("CVE-2024-0002",), symbol="other_fn", file="src/x.py", description=PARAPHRASE)
    assert compare(a, c).relation is Relation.RELATED
    shared = compare(a, feats(aliases=("CVE-2024-0001",), description=PARAPHRASE, version="1.1"))
    assert shared.relation is Relation.DUPLICATE_OF and shared.confidence >= 0.95


def test_chains_do_not_fuse_cases() -> None:
    a = feats(title="t", description=" ".join(WORDS), version="1.0")
    b = feats(title="t", description=" ".join(WORDS[10:] + OTHER[:10]), version="1.1")
    c = feats(title="t", description=" ".join(OTHER), version="1.2")
    assert compare(a, b).relation is Relation.DUPLICATE_OF
    assert compare(b, c).relation is Relation.DUPLICATE_OF
    assert compare(a, c).relation is not Relation.DUPLICATE_OF
    index = DedupIndex(DedupConfig(representative_novelty=1.01))  # b is indexed too
    index.add("A", a)
    assert index.add("B", b).case_id == "A"
    d = index.add("C", c)
    assert d.case_id == "C" and not d.auto_merge
    assert index.cases() == {"A": ["A", "B"], "C": ["C"]}


def test_k_members_can_admit_without_the_canonical() -> None:
    a = feats(title="t", description=" ".join(WORDS), version="1.0")
    b1 = feats(title="t", description=" ".join(WORDS[:10] + OTHER[:10]), version="1.1")
    b2 = feats(title="t", description=" ".join(WORDS[:10] + OTHER[:10][::-1]), version="1.3")
    d = feats(title="t", description=" ".join(OTHER[:10] + FRUIT), version="1.4")
    assert compare(d, a).relation is not Relation.DUPLICATE_OF
    index = DedupIndex(DedupConfig(representative_novelty=1.01))
    for fid, f in (("A", a), ("B1", b1), ("B2", b2)):
        index.add(fid, f)
    decision = index.add("D", d)
    assert decision.case_id == "A" and decision.target_id in ("B1", "B2")
    assert any("not the canonical" in r for r in decision.reasons)
    one_member = DedupIndex(DedupConfig(representative_novelty=1.01, k_members=3))
    for fid, f in (("A", a), ("B1", b1), ("B2", b2)):
        one_member.add(fid, f)
    assert one_member.add("D", d).case_id == "D"


def test_exact_fingerprint_of_a_single_member_does_not_chain() -> None:
    index = DedupIndex()
    index.add("A", feats(symbol="parse_header", description=" ".join(WORDS), version="1.0"))
    member = feats(symbol="parse_header", description=" ".join(WORDS[:14] + OTHER[:6]), version="1.1")
    assert index.add("B", member).case_id == "A"
    # same structure as B (fingerprint), but text unlike the canonical A: no exact-match chain through B
    far = feats(symbol="parse_header", description=" ".join(OTHER + FRUIT), version="1.1")
    assert far.fingerprint == member.fingerprint
    d = index.add("C", far)
    assert d.case_id == "C" and d.reasons != ("exact fingerprint",)
    # ... while an exact copy of the canonical's structure joins
    assert (
        index.add("D", feats(description=" ".join(OTHER), symbol="parse_header", version="1.0")).case_id
        == "A"
    )
    # two members with the fingerprint are enough
    index.confirm("C", "A")
    e = index.add("E", feats(symbol="parse_header", description=" ".join(FRUIT), version="1.1"))
    assert e.case_id == "A" and e.reasons == ("exact fingerprint",)


def test_case_size_cap_turns_merges_into_proposals() -> None:
    index = DedupIndex(DedupConfig(max_auto_case_size=2))
    index.add("a", feats())
    assert index.add("b", feats(description=PARAPHRASE)).auto_merge
    exact = index.add("c", feats())
    assert exact.relation is Relation.DUPLICATE_OF and not exact.auto_merge and exact.case_id == "c"
    assert any("analyst" in r for r in exact.reasons)
    fuzzy = index.add("d", feats(description=PARAPHRASE, version="1.0.1"))
    assert fuzzy.relation is Relation.DUPLICATE_OF and not fuzzy.auto_merge
    assert index.members("a") == ["a", "b"]
    assert index.confirm("d", "a") == {"d": "a"}  # the analyst is not capped
    assert index.members("a") == ["a", "b", "d"]


def test_weak_location_match_is_not_merged_when_ambiguous() -> None:
    index = DedupIndex()
    index.add("a", feats(symbol="read_chunk_header", description=DESCRIPTION.replace("parse_header", "it")))
    index.add("b", feats(symbol="read_chunk_footer", description=DESCRIPTION.replace("parse_header", "it")))
    d = index.add("c", feats(symbol=None, description=DESCRIPTION.replace("parse_header", "it")))
    assert d.relation is Relation.DUPLICATE_OF and not d.auto_merge
    assert any("ambiguous" in r for r in d.reasons)


def test_check_does_not_change_the_index() -> None:
    index = DedupIndex()
    index.add("a", feats())
    decision = index.check(feats(description=PARAPHRASE), "z")
    assert decision.relation is Relation.DUPLICATE_OF and "z" not in index
    assert len(index) == 1
    assert DedupIndex().check(feats()).reasons == ("no candidates",)


def test_unrelated_text_in_same_package_is_new() -> None:
    index = DedupIndex()
    index.add("a", feats(symbol=None, file=None, description=" ".join(WORDS)))
    d = index.add("b", feats(symbol=None, file=None, description=" ".join(WORDS[:8] + FRUIT + OTHER[:4])))
    # The same title, CWE and version may make it a proposal for an analyst, never a merge.
    assert not d.auto_merge and d.case_id == "b"
    assert d.relation in (Relation.NEW, Relation.RELATED) or d.confidence < 0.85


def test_split_and_confirm() -> None:
    index = DedupIndex()
    index.add("a", feats())
    index.add("b", feats(description=PARAPHRASE, version="1.2.1"))
    index.add("c", feats(version="1.2.2", title="Overflow in parse_header"))
    assert index.members("a") == ["a", "b", "c"]
    assert index.split("b") == {"b": "b"}
    assert index.case_of("b") == "b" and index.members("a") == ["a", "c"]
    assert index.split("b") == {}  # already alone
    assert index.confirm("b", "c") == {"b": "a"}  # any member names its case
    assert index.confirm("b", "a") == {}
    # splitting a canonical renames the rest of its case after the earliest member
    assert index.split("a") == {"b": "b", "c": "b"}
    assert index.cases() == {"a": ["a"], "b": ["b", "c"]}
    assert index.members("c") == [] and index.members("nope") == []
    # confirming a canonical into another case renames what it leaves behind
    index.add("d", feats(symbol="other_fn", file="src/other.py"))
    assert index.confirm("b", "d") == {"c": "c", "b": "d"}
    assert index.cases() == {"a": ["a"], "c": ["c"], "d": ["b", "d"]}
    # the renamed cases stay findable
    assert index.add("e", feats(version="1.2.2", title="Overflow in parse_header")).case_id in ("a", "c")
    with pytest.raises(KeyError):
        index.confirm("a", "missing")


def test_rebuild_from_stored_decisions() -> None:
    index = DedupIndex()
    stored: list[tuple[str, FindingFeatures, str]] = []
    for fid, f in (
        ("a", feats()),
        ("b", feats(description=PARAPHRASE)),
        ("c", feats(symbol="other_fn", file="src/other.py")),
        ("d", feats(version="2.0")),
    ):
        stored.append((fid, f, index.add(fid, f).case_id))
    index.split("d")
    stored[-1] = (stored[-1][0], stored[-1][1], "d")
    rebuilt = DedupIndex()
    for fid, f, case in stored:
        restored = rebuilt.add(fid, f, case_id=case)
        assert restored.reasons == ("restored",) and not restored.auto_merge
    assert rebuilt.cases() == index.cases()
    assert rebuilt.check(feats(version="1.2.0")).target_case == "a"
    with pytest.raises(KeyError):
        rebuilt.add("x", feats(), case_id="unknown")


def test_index_errors_and_growth() -> None:
    with pytest.raises(ValueError, match="NUM_PERM"):
        DedupIndex(DedupConfig(bands=40, rows=2))
    index = DedupIndex()
    index.add("a", feats())
    with pytest.raises(ValueError, match="already"):
        index.add("a", feats())
    for i in range(1100):  # past the first signature block
        index.add(f"n{i}", feats(purl=f"pkg:pypi/package-{i}"))
    assert len(index) == 1101 and index.case_count == 1101


# ---------------------------------------------------------------------------- a small flood


@pytest.fixture(scope="session")
def small_flood(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bench.flood import generate_flood

    flood = generate_flood(2_000, seed=11, corpus=corpus)
    path = tmp_path_factory.mktemp("flood") / "flood.ndjson.gz"
    flood.write(path)
    return path


def test_flood_is_deterministic_with_ground_truth(corpus: Path, small_flood: Path) -> None:
    from bench.flood import FloodConfig, generate_flood, read_flood, truth_path

    flood = read_flood(small_flood)
    assert truth_path(small_flood).name == "flood.truth.ndjson.gz"
    assert len(flood.findings) == len(flood.truth) == 2_000
    dup_share = 1 - len(set(flood.cases)) / len(flood.cases)
    assert 0.3 <= dup_share <= 0.6
    assert {t["kind"] for t in flood.truth} >= {"base"}
    for f in flood.findings[:200]:
        FindingSubmission.model_validate(f)
    again = generate_flood(300, seed=11, corpus=corpus, config=FloodConfig(dup_rate=0.5))
    assert (
        again.findings
        == generate_flood(300, seed=11, corpus=corpus, config=FloodConfig(dup_rate=0.5)).findings
    )
    with pytest.raises(ValueError):
        generate_flood(10, corpus=corpus, config=FloodConfig(dup_rate=1.0))


def test_small_flood_precision_and_recall(small_flood: Path) -> None:
    from bench.dedup import run

    lines: list[str] = []
    figures = run(small_flood, out=lines.append, show_errors=2)
    assert figures["count"] == 2_000
    assert figures["precision"] >= 0.9, lines
    assert figures["recall"] >= 0.9, lines
    assert any("pairwise precision" in line for line in lines)

"""Scoring of findings without a code location: term weights, fixes, titles (issue 12)."""

from __future__ import annotations

from typing import Any

import numpy as np

from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.triage._dedup import DedupConfig, DedupIndex, Relation, TermWeights, compare, text_overlap
from clearinghouse.triage._fingerprint import extract_features, fix_relation, normalize_affected

XSS = (
    "rails-html-sanitizer has an XSS vulnerability with certain configurations. An attacker can inject "
    "content when the application overrides the sanitizer's allowed tags to allow both {tags}. Code "
    "is only impacted if allowed tags are being overridden. This has been fixed in version {fix}."
)
XSS_REWORDED = (  # sentences shuffled, one dropped, words swapped
    "Code is only affected if allowed tags are being overridden. An adversary can inject content when "
    "the application overrides the sanitizer's allowed tags to permit both {tags}. rails-html-sanitizer "
    "has an XSS flaw with certain configurations."
)


def native(
    title: str, description: str, *, vers: str | None = None, version: str | None = None
) -> FindingSubmission:
    package: dict[str, Any] = {"purl": "pkg:gem/rails-html-sanitizer"}
    if vers:
        package["vers"] = vers
    if version:
        package["version"] = version
    return FindingSubmission.model_validate(
        {
            "title": title,
            "description": description,
            "package": package,
            "impact": {"claimed": "other"},
            "generator": {"tool": "t"},
        }
    )


def test_fix_relation() -> None:
    def rel(a: str, b: str) -> str:
        return fix_relation(normalize_affected(None, a), normalize_affected(None, b))

    assert rel("vers:gem/<1.4.4", "vers:gem/<1.4.4") == "agree"
    assert rel("vers:gem/<=1.4.3", "vers:gem/<1.4.4") == "agree"  # last affected just below the fix
    assert rel("vers:gem/<=1.4.9", "vers:gem/<1.5.0") == "agree"
    assert rel("vers:gem/>=1.2|<1.4.4", "vers:gem/<1.4.4") == "agree"
    assert rel("vers:gem/<1.4.4", "vers:gem/<1.6.1") == "differ"
    assert rel("vers:gem/<=1.0.0", "vers:gem/<5.0") == "differ"
    assert rel("vers:gem/<=1.6.1", "vers:gem/<1.6.1") == "agree"  # one number, off by one
    assert rel("vers:gem/<=1.6.2", "vers:gem/<1.6.1") == "differ"  # last affected above the fix
    assert rel("vers:gem/>=1.0", "vers:gem/<1.6.1") == "unknown"  # an open range names no fix
    assert fix_relation(normalize_affected("1.2", None), normalize_affected(None, "vers:gem/<2")) == "unknown"


def test_restatement_merges_without_location_or_cwe() -> None:
    index = DedupIndex()
    first = extract_features(
        native(
            "Possible XSS vulnerability with certain configurations",
            XSS.format(tags="select and style", fix="1.4.4"),
            vers="vers:gem/<1.4.4",
        )
    )
    again = extract_features(
        native(
            "Possible XSS flaw with certain configurations",
            XSS_REWORDED.format(tags="select and style"),
            vers="vers:gem/<=1.4.3",
        )
    )
    assert first.cwes == () and first.symbol is None and first.file is None
    index.add("a", first)
    d = index.add("b", again)
    assert d.relation is Relation.DUPLICATE_OF and d.auto_merge, d
    assert "fix=agree" in d.reasons
    assert index.case_of("b") == "a"


def test_same_package_different_bug_stays_apart() -> None:
    index = DedupIndex()
    tags = ("select and style", "math and style", "svg and style", "noscript and style")
    fixes = ("1.4.4", "1.4.5", "1.6.1", "1.6.2")
    for k, (t, fix) in enumerate(zip(tags, fixes, strict=True)):
        index.add(
            f"bug{k}",
            extract_features(
                native(
                    "Possible XSS vulnerability with certain configurations",
                    XSS.format(tags=t, fix=fix),
                    vers=f"vers:gem/<{fix}",
                )
            ),
        )
    other = extract_features(
        native(
            "Feasible XSS flaw with particular configurations",
            XSS_REWORDED.format(tags="mtext and style"),
            vers="vers:gem/<1.6.3",
        )
    )
    d = index.add("x", other)
    assert not d.auto_merge, d
    assert index.case_of("x") == "x"
    # The pair alone: the same text, but the ranges end at different fixes.
    a = extract_features(
        native("XSS", XSS.format(tags="select and style", fix="1.4.4"), vers="vers:gem/<1.4.4")
    )
    b = extract_features(
        native("XSS", XSS.format(tags="select and style", fix="1.4.4"), vers="vers:gem/<1.6.1")
    )
    s = compare(a, b)
    assert "fix=differ" in s.reasons
    assert s.confidence < compare(a, a).confidence


def test_term_weights_discount_a_packages_own_vocabulary() -> None:
    shared = XSS.format(tags="select and style", fix="1.4.4")
    a = extract_features(native("XSS", shared, vers="vers:gem/<1.4.4"))
    b = extract_features(
        native("XSS", XSS.format(tags="math and mtext", fix="1.4.4"), vers="vers:gem/<1.4.4")
    )
    plain = text_overlap(a, b)
    weights = TermWeights()
    for k in range(6):  # six other bugs of the package, in the same words
        other = extract_features(
            native("XSS", XSS.format(tags=f"tag{k}x and tag{k}y", fix="2"), vers="vers:gem/<2")
        )
        weights.add_finding(other.tokens)
        weights.add_case(other.package, other.tokens)
    for _ in range(20):  # and findings of other packages
        weights.add_finding(extract_features(native("Other", "unrelated words", version="1")).tokens)
    weighted = text_overlap(a, b, weights)
    assert weighted < plain
    # Weights are cached until the package takes a new case or the findings grow by an eighth.
    w1 = weights.weigh(a.package, a.tokens)
    assert weights.weigh(a.package, a.tokens) is w1
    weights.add_finding(b.tokens)  # one more finding: document frequencies barely move
    assert weights.weigh(a.package, a.tokens) is w1
    weights.add_case(b.package, b.tokens)  # a new case of the package: weighed again
    w2 = weights.weigh(a.package, a.tokens)
    assert w2 is not w1
    for _ in range(8):
        weights.add_finding(b.tokens)
    assert weights.weigh(a.package, a.tokens) is not w2
    assert weights.weigh(a.package, np.empty(0, dtype=np.uint32)).size == 0
    assert text_overlap(a, a, weights) == 1.0


def test_results_are_deterministic() -> None:
    subs = [
        native("Possible XSS vulnerability", XSS.format(tags=t, fix=f), vers=f"vers:gem/<{f}")
        for t, f in (("select and style", "1.4.4"), ("math and style", "1.5"), ("select and style", "1.4.4"))
    ]
    subs.append(native("Feasible XSS flaw", XSS_REWORDED.format(tags="math and style"), version="1.4.9"))

    def run(config: DedupConfig | None) -> list[tuple[str, str, float]]:
        index = DedupIndex(config)
        return [
            (d.relation.value, d.case_id, d.confidence)
            for d in (index.add(f"f{k}", extract_features(s)) for k, s in enumerate(subs))
        ]

    assert run(None) == run(None)
    assert run(DedupConfig(weigh_terms=False)) == run(DedupConfig(weigh_terms=False))
    assert run(None)[2][1] == "f0"


def test_all_versions_on_both_sides_is_no_evidence() -> None:
    text = XSS.format(tags="select and style", fix="1.4.4")
    a = extract_features(native("XSS", text, vers="vers:gem/*"))
    b = extract_features(native("XSS", text, vers="vers:gem/*"))
    assert a.affected.unbounded and not normalize_affected(None, "vers:gem/<2").unbounded
    assert "versions=unknown" in compare(a, b).reasons
    assert "versions=same" in compare(a, b, DedupConfig(unbounded_is_unknown=False)).reasons
    assert compare(a, b).confidence < compare(a, b, DedupConfig(unbounded_is_unknown=False)).confidence

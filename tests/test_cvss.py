"""CVSS scoring: every vector of the corpus's ``cvss-test-vectors`` scores exactly as its
file says, vectors normalize, and bad vectors are refused with the reason."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from clearinghouse.errors import InvalidInput
from clearinghouse.priority import CvssVersion, InvalidVector, Score, ScoreSource, Severity, parse_vector

# Vectors per version in the corpus files (RedHatProductSecurity/cvss @ 2f149099257a, 7,667 in all).
CORPUS_COUNTS = {
    CvssVersion.V2_0: 758,
    CvssVersion.V3_0: 2623,
    CvssVersion.V3_1: 2592,
    CvssVersion.V4_0: 1694,
}


def _spec_severity(version: CvssVersion, score: float) -> Severity:
    """The oracle: NVD's v2 ranges, and the v3/v4 qualitative rating scale."""
    if version is CvssVersion.V2_0:
        bands = [(3.9, Severity.LOW), (6.9, Severity.MEDIUM), (10.0, Severity.HIGH)]
    else:
        bands = [(0.0, Severity.NONE), (3.9, Severity.LOW), (6.9, Severity.MEDIUM), (8.9, Severity.HIGH)]
        bands.append((10.0, Severity.CRITICAL))
    return next(severity for top, severity in bands if score <= top)


def test_every_corpus_vector_scores_as_its_file_says(corpus: Path) -> None:
    files = sorted((corpus / "cvss-test-vectors" / "tests").glob("vectors_*"))
    assert len(files) == 11
    counts: Counter[CvssVersion] = Counter()
    wrong: list[str] = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            # v2/v3: "VECTOR - (base, temporal, environmental)"; v4: "VECTOR - (score,)" or "VECTOR - score".
            vector, sep, expected_text = line.rpartition(" - ")
            assert sep, f"{path.name}:{number}: no ' - ' in {line!r}"
            parsed = ast.literal_eval(expected_text)
            expected = parsed if isinstance(parsed, tuple) else (parsed,)
            score = parse_vector(vector)
            counts[score.version] += 1
            if score.version is CvssVersion.V4_0:
                got: tuple[float | None, ...] = (score.base_score,)
                assert score.temporal_score is None and score.environmental_score is None
            else:
                got = (score.base_score, score.temporal_score, score.environmental_score)
            if got != expected:
                wrong.append(f"{path.name}:{number}: {vector} scored {got}, the file says {expected}")
            assert score.severity is _spec_severity(score.version, score.base_score), vector
    assert not wrong, "\n".join(wrong[:20])
    assert counts == CORPUS_COUNTS


def test_normalized_vectors_score_the_same(corpus: Path) -> None:
    """For every corpus vector, the normalized vector is a fixed point and scores the same."""
    for path in sorted((corpus / "cvss-test-vectors" / "tests").glob("vectors_*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                score = parse_vector(line.rpartition(" - ")[0])
                assert parse_vector(score.vector) == score, line


@pytest.mark.parametrize(
    ("vector", "version", "base", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CvssVersion.V3_1, 9.8, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", CvssVersion.V3_1, 10.0, Severity.CRITICAL),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", CvssVersion.V3_0, 5.4, Severity.MEDIUM),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", CvssVersion.V3_1, 0.0, Severity.NONE),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            CvssVersion.V4_0,
            9.3,
            Severity.CRITICAL,
        ),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", CvssVersion.V2_0, 10.0, Severity.HIGH),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", CvssVersion.V2_0, 7.5, Severity.HIGH),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", CvssVersion.V2_0, 4.3, Severity.MEDIUM),
        ("AV:L/AC:H/Au:M/C:N/I:N/A:N", CvssVersion.V2_0, 0.0, Severity.LOW),  # NVD v2 has no "None"
    ],
)
def test_well_known_scores(vector: str, version: CvssVersion, base: float, severity: Severity) -> None:
    score = parse_vector(vector)
    assert (score.version, score.base_score, score.severity) == (version, base, severity)


def test_scores_carry_temporal_and_environmental_where_the_version_has_them() -> None:
    v2 = parse_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C")
    assert (v2.base_score, v2.temporal_score, v2.environmental_score) == (7.5, 5.9, None)
    v3 = parse_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:L/IR:L/AR:L")
    assert (v3.base_score, v3.temporal_score, v3.environmental_score) == (9.8, 8.8, 7.2)
    # v4 has one score, threat metrics included (vectors_threat4 in the corpus gives 4.1 for this one)
    v4 = parse_vector("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U")
    assert (v4.base_score, v4.temporal_score, v4.environmental_score) == (4.1, None, None)


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        # order restored, "not defined" values dropped, whitespace trimmed
        (
            "  CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:X/MAV:X  ",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        ("A:P/I:P/C:P/Au:N/AC:L/AV:N/E:ND/CDP:ND", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        (
            "CVSS:4.0/SA:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/E:X/U:Clear",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Clear",
        ),
    ],
)
def test_vectors_are_normalized(given: str, normalized: str) -> None:
    score = parse_vector(given)
    assert score.vector == normalized
    assert parse_vector(normalized) == score


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("", "empty CVSS vector"),
        ("   ", "empty CVSS vector"),
        ("CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "unsupported version prefix 'CVSS:3.2'"),
        ("cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "unsupported version prefix 'cvss:3.1'"),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS v2 vectors are written without a prefix"),
        ("CVSS:3.1", "no metrics after the prefix 'CVSS:3.1/'"),
        ("CVSS:4.0/", "no metrics after the prefix 'CVSS:4.0/'"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS v2.0: unknown metric 'PR' (a v3 or v4 vector needs"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "CVSS v3.1: unknown metric 'ZZ'"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P/XY:Z", "CVSS v2.0: unknown metric 'XY'"),
        ("CVSS:3.0/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric 'AV' (Attack Vector) has no value 'Q'"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "missing mandatory metric(s) A (Availability)"),
        ("CVSS:4.0/AV:N/AC:L", "CVSS v4.0: missing mandatory metric(s) AT (Attack Requirement), PR"),
        ("AV:N/AC:L/Au:N/C:P/I:P", "CVSS v2.0: missing mandatory metric(s) A (Availability Impact)"),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric 'AV' given twice"),
        ("CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "empty field"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "empty field"),
        ("CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "malformed field 'AVN' (expected METRIC:VALUE)"),
        ("CVSS:3.1/AV:N:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "malformed field 'AV:N:L'"),
    ],
)
def test_invalid_vectors_name_what_is_wrong(vector: str, reason: str) -> None:
    with pytest.raises(InvalidVector) as caught:
        parse_vector(vector)
    assert reason in caught.value.detail
    assert caught.value.vector == vector or vector.strip() == caught.value.vector
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 422


def test_score_is_an_immutable_value() -> None:
    score = parse_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert score == Score(CvssVersion.V3_1, score.vector, 9.8, Severity.CRITICAL, 9.8, 9.8)
    assert hash(score) == hash(parse_vector(score.vector))
    with pytest.raises(AttributeError):
        score.base_score = 1.0  # type: ignore[misc]


def test_score_sources() -> None:
    assert [s.value for s in ScoreSource] == ["finder", "vendor", "coordinator", "imported"]

"""CVSS v2, v3.0, v3.1 and v4.0 vectors: validated, normalized and scored.

The arithmetic is Red Hat's ``cvss`` package (``CVSS2``, ``CVSS3``, ``CVSS4``); this
module checks the vector first, so that what is wrong is named plainly (the prefix,
a metric, a value, a missing mandatory metric), and returns an immutable ``Score``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

# The cvss package ships no type information (no py.typed); its submodules
# constants2/3/4 are imported by the package itself.
import cvss  # type: ignore[import-untyped]

from clearinghouse.errors import InvalidInput


class InvalidVector(InvalidInput):
    """A CVSS vector that cannot be scored; ``detail`` says what is wrong with it."""

    def __init__(self, detail: str, vector: str | None = None) -> None:
        super().__init__(detail)
        self.vector = vector


class CvssVersion(enum.StrEnum):
    V2_0 = "2.0"
    V3_0 = "3.0"
    V3_1 = "3.1"
    V4_0 = "4.0"


class Severity(enum.StrEnum):
    NONE = "None"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


class ScoreSource(enum.StrEnum):
    """Who gave a score: the finder, the product's vendor, a coordinator, or an imported record."""

    FINDER = "finder"
    VENDOR = "vendor"
    COORDINATOR = "coordinator"
    IMPORTED = "imported"


@dataclass(frozen=True)
class Score:
    """A scored vector.

    ``vector`` is the normalized form: metrics in the specification's order, the
    "not defined" ones (``X``, or ``ND`` in v2) left out, and the ``CVSS:x.y/``
    prefix for v3 and v4 (v2 vectors have none). ``severity`` rates the base score.

    ``temporal_score`` and ``environmental_score`` exist for v2 and v3 only (v4
    folds threat and environmental metrics into its one score). For v3 they are
    always computed, as the specification defines them with every metric of the
    group not defined (note that in v3.1 the environmental formula for a changed
    scope differs from the base one, so it can differ from the base score by 0.1
    even when the vector has no environmental metric). For v2 they are None when
    the vector has no metric of the group, as NVD and the reference tools give them.
    """

    version: CvssVersion
    vector: str
    base_score: float
    severity: Severity
    temporal_score: float | None = None
    environmental_score: float | None = None


# Per version: metric -> allowed values, mandatory metrics, metric -> full name.
_CONSTANTS = {
    CvssVersion.V2_0: cvss.constants2,
    CvssVersion.V3_0: cvss.constants3,
    CvssVersion.V3_1: cvss.constants3,
    CvssVersion.V4_0: cvss.constants4,
}
_SPEC: dict[CvssVersion, tuple[dict[str, Any], list[str], dict[str, str]]] = {
    version: (c.METRICS_VALUE_NAMES, c.METRICS_MANDATORY, c.METRICS_ABBREVIATIONS)
    for version, c in _CONSTANTS.items()
}
_PREFIXES = {f"CVSS:{v}": v for v in (CvssVersion.V3_0, CvssVersion.V3_1, CvssVersion.V4_0)}


def _split_version(vector: str) -> tuple[CvssVersion, str]:
    """The version a vector declares, and the metrics part of it."""
    head, sep, rest = vector.partition("/")
    if head.upper().startswith("CVSS:"):
        version = _PREFIXES.get(head)
        if version is None:
            supported = ", ".join(f"'{p}/'" for p in _PREFIXES)
            hint = " (CVSS v2 vectors are written without a prefix)" if head.endswith(":2.0") else ""
            raise InvalidVector(f"unsupported version prefix '{head}': use {supported}{hint}", vector)
        if not sep or not rest:
            raise InvalidVector(f"no metrics after the prefix '{head}/'", vector)
        return version, rest
    return CvssVersion.V2_0, vector


def _check_metrics(version: CvssVersion, vector: str, metrics_part: str) -> None:
    """Name the first thing wrong with the metrics, as the specification of ``version`` has them."""
    allowed, mandatory, names = _SPEC[version]
    label = f"CVSS v{version}"
    seen: set[str] = set()
    for field in metrics_part.split("/"):
        if not field:
            raise InvalidVector(f"{label}: empty field (a doubled or trailing '/')", vector)
        metric, sep, value = field.partition(":")
        if not sep or not metric or not value or ":" in value:
            raise InvalidVector(f"{label}: malformed field '{field}' (expected METRIC:VALUE)", vector)
        if metric not in allowed:
            hint = ""
            if version is CvssVersion.V2_0 and metric in _SPEC[CvssVersion.V3_1][0]:
                hint = " (a v3 or v4 vector needs its 'CVSS:3.x/' or 'CVSS:4.0/' prefix)"
            raise InvalidVector(f"{label}: unknown metric '{metric}'{hint}", vector)
        if value not in allowed[metric]:
            choices = ", ".join(allowed[metric])
            raise InvalidVector(
                f"{label}: metric '{metric}' ({names[metric]}) has no value '{value}'; allowed: {choices}",
                vector,
            )
        if metric in seen:
            raise InvalidVector(f"{label}: metric '{metric}' given twice", vector)
        seen.add(metric)
    missing = [m for m in mandatory if m not in seen]
    if missing:
        listed = ", ".join(f"{m} ({names[m]})" for m in missing)
        raise InvalidVector(f"{label}: missing mandatory metric(s) {listed}", vector)


def _severity(version: CvssVersion, score: float) -> Severity:
    if version is CvssVersion.V2_0:
        # CVSS v2 defines no qualitative severity; these are NVD's v2 ranges
        # (https://nvd.nist.gov/vuln-metrics/cvss): Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0.
        if score < 4.0:
            return Severity.LOW
        return Severity.MEDIUM if score < 7.0 else Severity.HIGH
    # CVSS v3.x and v4.0 qualitative severity rating scale.
    if score == 0.0:
        return Severity.NONE
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    return Severity.HIGH if score < 9.0 else Severity.CRITICAL


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_vector(vector: str) -> Score:
    """Validate, normalize and score a CVSS v2, v3.0, v3.1 or v4.0 vector.

    Raises ``InvalidVector`` naming what is wrong: an unsupported prefix, an
    unknown metric or value, a repeated metric, a missing mandatory metric.
    """
    text = vector.strip()
    if not text:
        raise InvalidVector("empty CVSS vector", vector)
    version, metrics_part = _split_version(text)
    _check_metrics(version, text, metrics_part)
    try:
        if version is CvssVersion.V2_0:
            v2 = cvss.CVSS2(text)
            base, temporal, environmental = v2.scores()
            return Score(
                version,
                str(v2.clean_vector()),
                float(base),
                _severity(version, float(base)),
                _optional(temporal),
                _optional(environmental),
            )
        if version is CvssVersion.V4_0:
            v4 = cvss.CVSS4(text)
            base = float(v4.base_score)
            return Score(version, str(v4.clean_vector()), base, _severity(version, base))
        v3 = cvss.CVSS3(text)
        base, temporal, environmental = (float(s) for s in v3.scores())
        return Score(version, str(v3.clean_vector()), base, _severity(version, base), temporal, environmental)
    except cvss.CVSSError as exc:  # pragma: no cover - _check_metrics refuses what the library would
        raise InvalidVector(f"CVSS v{version}: {exc}", vector) from exc

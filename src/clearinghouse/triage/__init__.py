"""Triage: validation checks on each finding, deduplication into cases, finder-pipeline
reputation, and the analyst decisions that validate or reject.

``DedupIndex`` decides which findings are the same vulnerability (exact
fingerprint, MinHash LSH candidates, rapidfuzz confirmation, bounded chains);
``_cases`` keeps stored cases in step with it; ``_checks`` records each
automatic check on the finding; ``_reputation`` keeps each pipeline's Beta
posterior and intake budget.
"""

from clearinghouse.triage._cases import place_now
from clearinghouse.triage._checks import CheckOutcome, CheckResult, PackageCheckCache, run_intake_checks
from clearinghouse.triage._dedup import DedupConfig, DedupDecision, DedupIndex, Relation
from clearinghouse.triage._fingerprint import (
    FindingFeatures,
    exact_fingerprint,
    extract_features,
    extract_features_many,
    normalize_package,
)
from clearinghouse.triage._reputation import Standing, admit, record_decision, standing

__all__ = [
    "CheckOutcome",
    "CheckResult",
    "DedupConfig",
    "DedupDecision",
    "DedupIndex",
    "FindingFeatures",
    "PackageCheckCache",
    "Relation",
    "Standing",
    "admit",
    "exact_fingerprint",
    "extract_features",
    "extract_features_many",
    "normalize_package",
    "place_now",
    "record_decision",
    "run_intake_checks",
    "standing",
]

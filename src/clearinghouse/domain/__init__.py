"""The shared vocabulary every part of the clearinghouse speaks (the kernel).

Only plain values and small pure functions live here (the marking algebra, the advisory record,
ecosystems and version keys, public-registry ids, the §5(c) notice): nothing in ``domain`` imports
a feature, the database, the web or the settings. Features import these names from
``clearinghouse.domain``, never from its private modules. The native finding format (pydantic
models, heavier to import) is the public module :mod:`clearinghouse.domain.finding`.
"""

from clearinghouse.domain._csaf import (
    TLP_URL,
    ProductStatusSets,
    ProductTree,
    cpe_of,
    sorted_keys,
    timestamp,
    tlp_v1_label,
)
from clearinghouse.domain._ecosystems import (
    NODEJS,
    OSV_ECOSYSTEMS,
    RUBY,
    UnorderedVersion,
    canonical_ecosystem,
    ecosystem_of_purl_type,
    gem_key,
    normalize_name,
    split_ecosystem,
    version_parser,
)
from clearinghouse.domain._identity import DEFAULT_OFFICE, DEFAULT_SECTION, OperatingIdentity
from clearinghouse.domain._ids import public_ids, registry_kind
from clearinghouse.domain._jobs import CASE_SCORES_JOB, DEDUP_JOB, MATCH_CASE_JOB
from clearinghouse.domain._markings import TLP, Classification, Marking
from clearinghouse.domain._notice import (
    NOTICE_HEADING,
    PROMISE_WORDS,
    VOLUNTARY_NOTICE,
    VOLUNTARY_NOTICE_SHORT,
    notice_footer,
    promise_words_in,
)
from clearinghouse.domain._record import (
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    ProductStatement,
    ProductStatus,
    Publisher,
    PublisherSettingsLike,
    RangeEvent,
    RecordSource,
    Reference,
    Revision,
    Severity,
    VersionRange,
    VexJustification,
    publisher_of,
)
from clearinghouse.domain._vers import EVERYTHING, Interval, complement, render, sortable, version_key
from clearinghouse.domain._zones import zone

__all__ = [
    "CASE_SCORES_JOB",
    "DEDUP_JOB",
    "DEFAULT_OFFICE",
    "DEFAULT_SECTION",
    "EVERYTHING",
    "MATCH_CASE_JOB",
    "NODEJS",
    "NOTICE_HEADING",
    "OSV_ECOSYSTEMS",
    "PROMISE_WORDS",
    "RUBY",
    "TLP",
    "TLP_URL",
    "VOLUNTARY_NOTICE",
    "VOLUNTARY_NOTICE_SHORT",
    "AdvisoryRecord",
    "AffectedPackage",
    "Classification",
    "Credit",
    "Interval",
    "Marking",
    "OperatingIdentity",
    "ProductStatement",
    "ProductStatus",
    "ProductStatusSets",
    "ProductTree",
    "Publisher",
    "PublisherSettingsLike",
    "RangeEvent",
    "RecordSource",
    "Reference",
    "Revision",
    "Severity",
    "UnorderedVersion",
    "VersionRange",
    "VexJustification",
    "canonical_ecosystem",
    "complement",
    "cpe_of",
    "ecosystem_of_purl_type",
    "gem_key",
    "normalize_name",
    "notice_footer",
    "promise_words_in",
    "public_ids",
    "publisher_of",
    "registry_kind",
    "render",
    "sortable",
    "sorted_keys",
    "split_ecosystem",
    "timestamp",
    "tlp_v1_label",
    "version_key",
    "version_parser",
    "zone",
]

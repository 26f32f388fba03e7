"""The shared vocabulary every part of the clearinghouse speaks (the kernel).

Only plain values and small pure functions live here: nothing in ``domain`` imports a feature,
the database or the web. Features import these names from ``clearinghouse.domain``, never from
its private modules.
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
from clearinghouse.domain._notice import (
    NOTICE_HEADING,
    PROMISE_WORDS,
    VOLUNTARY_NOTICE,
    VOLUNTARY_NOTICE_SHORT,
    notice_footer,
    promise_words_in,
)
from clearinghouse.domain._vers import EVERYTHING, Interval, complement, render, sortable, version_key

__all__ = [
    "DEFAULT_OFFICE",
    "DEFAULT_SECTION",
    "EVERYTHING",
    "NODEJS",
    "NOTICE_HEADING",
    "OSV_ECOSYSTEMS",
    "PROMISE_WORDS",
    "RUBY",
    "TLP_URL",
    "VOLUNTARY_NOTICE",
    "VOLUNTARY_NOTICE_SHORT",
    "Interval",
    "OperatingIdentity",
    "ProductStatusSets",
    "ProductTree",
    "UnorderedVersion",
    "canonical_ecosystem",
    "complement",
    "cpe_of",
    "ecosystem_of_purl_type",
    "gem_key",
    "normalize_name",
    "notice_footer",
    "promise_words_in",
    "public_ids",
    "registry_kind",
    "render",
    "sortable",
    "sorted_keys",
    "split_ecosystem",
    "timestamp",
    "tlp_v1_label",
    "version_key",
    "version_parser",
]

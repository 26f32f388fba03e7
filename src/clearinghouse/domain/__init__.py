"""The shared vocabulary every part of the clearinghouse speaks (the kernel).

Only plain values and small pure functions live here: nothing in ``domain`` imports a feature,
the database or the web. Features import these names from ``clearinghouse.domain``, never from
its private modules.
"""

from clearinghouse.domain._identity import DEFAULT_OFFICE, DEFAULT_SECTION, OperatingIdentity
from clearinghouse.domain._notice import (
    NOTICE_HEADING,
    PROMISE_WORDS,
    VOLUNTARY_NOTICE,
    VOLUNTARY_NOTICE_SHORT,
    notice_footer,
    promise_words_in,
)

__all__ = [
    "DEFAULT_OFFICE",
    "DEFAULT_SECTION",
    "NOTICE_HEADING",
    "PROMISE_WORDS",
    "VOLUNTARY_NOTICE",
    "VOLUNTARY_NOTICE_SHORT",
    "OperatingIdentity",
    "notice_footer",
    "promise_words_in",
]

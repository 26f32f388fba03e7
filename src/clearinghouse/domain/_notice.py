"""What every participant is told: taking part is voluntary and creates no enforceable right.

EO 14409 §5(c): the order "is not intended to, and does not, create any right or benefit,
substantive or procedural, enforceable at law or in equity by any party". Participant-facing
text (sign-in, terms of grants and programmes, e-mails, the transparency report) carries the
statement below, and none of it may promise a service level or an outcome from the government
(``promise_words_in`` finds the words that would).
"""

from __future__ import annotations

import re

NOTICE_HEADING = "Voluntary participation"

VOLUNTARY_NOTICE = (
    "Taking part in the clearinghouse and its programmes is voluntary. Under section 5(c) of "
    "Executive Order 14409, taking part creates no right or benefit, substantive or procedural, "
    "enforceable at law or in equity by any party against the United States, its departments, "
    "agencies or entities, its officers, employees or agents, or any other person. Nothing here "
    "commits the government to a service level or to any outcome."
)

VOLUNTARY_NOTICE_SHORT = (
    "Voluntary: taking part creates no right or benefit enforceable at law (EO 14409 §5(c)); "
    "nothing here commits the government to a service level or an outcome."
)

# Words that would promise a service level or an outcome, or claim a right, from the government.
PROMISE_WORDS: tuple[str, ...] = (
    "guarantee",
    "guaranteed",
    "guarantees",
    "must respond within",
    "will respond within",
    "entitled",
    "entitlement",
    "we promise",
    "is assured",
    "warrant that",
)

_PROMISE = re.compile(r"\b(" + "|".join(re.escape(w) for w in PROMISE_WORDS) + r")\b", re.IGNORECASE)


def promise_words_in(text: str) -> list[str]:
    """The promise words found in ``text`` (case-insensitive, whole words), in order."""
    return [m.group(1).lower() for m in _PROMISE.finditer(text)]


def notice_footer(operator: str | None = None) -> str:
    """The plain-text footer of every message the clearinghouse sends to a participant."""
    run_by = f"This clearinghouse is run by {operator}. " if operator else ""
    return f"--\n{run_by}{VOLUNTARY_NOTICE}\n"

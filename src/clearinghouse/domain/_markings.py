"""Markings carried by every shareable object: TLP 2.0, classification and
compartments, the owning organization and optional sharing groups."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TLP(enum.StrEnum):
    """Traffic Light Protocol 2.0 labels, least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        return _TLP_ORDER.index(self)


_TLP_ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]


class Classification(enum.StrEnum):
    """Classification levels, UNCLASSIFIED < CUI < SECRET < TOP SECRET."""

    UNCLASSIFIED = "UNCLASSIFIED"
    CUI = "CUI"
    SECRET = "SECRET"
    TOP_SECRET = "TOP SECRET"

    @property
    def rank(self) -> int:
        return _CLASSIFICATION_ORDER.index(self)


_CLASSIFICATION_ORDER = [
    Classification.UNCLASSIFIED,
    Classification.CUI,
    Classification.SECRET,
    Classification.TOP_SECRET,
]


@dataclass(frozen=True)
class Marking:
    """The handling rules of one object (or one container of objects)."""

    owner_org_id: str
    tlp: TLP = TLP.AMBER
    classification: Classification = Classification.UNCLASSIFIED
    compartments: frozenset[str] = field(default_factory=frozenset)
    sharing_group_ids: frozenset[str] = field(default_factory=frozenset)

    def summary(self) -> str:
        """A banner line, e.g. ``SECRET//HCS TLP:RED``."""
        level = self.classification.value
        if self.compartments:
            level += "//" + "/".join(sorted(self.compartments))
        return f"{level} TLP:{self.tlp.value}"

"""Who runs this clearinghouse, and under which part of the order.

EO 14409 §2(d) gives the clearinghouse to the Secretary of the Treasury, in consultation with
the National Cyber Director, the Secretary of War through the Director of NSA and the Secretary
of Homeland Security through the Director of CISA. A deployment names its operating office at
``clearinghouse init`` (or ``CLEARINGHOUSE_OPERATOR_OFFICE``); the console's footer and the
e-mails say it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_OFFICE = "Department of the Treasury"
DEFAULT_SECTION = "EO 14409 §2(d)"
DETERMINATION_AUTHORITY = "the Director of the National Security Agency or the Director's designee"


@dataclass(frozen=True)
class OperatingIdentity:
    """The operating office and the section of the order it acts under."""

    office: str = DEFAULT_OFFICE
    section: str = DEFAULT_SECTION

    @property
    def sentence(self) -> str:
        """``Operated by the Department of the Treasury under EO 14409 §2(d).``"""
        office = self.office if self.office.lower().startswith("the ") else f"the {self.office}"
        return f"Operated by {office} under {self.section}."

    @property
    def determination_authority(self) -> str:
        return DETERMINATION_AUTHORITY

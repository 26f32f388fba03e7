"""CISA BOD 26-04 remediation clocks, from the outcome of the ``cisa_bod_26_04`` table.

The table (CERT/CC's ``cisa:DT_BOD2604:1.0.0``) decides on four points: In KEV,
Publicly Exposed, Automatable and Technical Impact. Its outcome point
(``cisa:BOD2604:1.0.0``) defines each timeline:

=====  ================================  =========================================================
key    name                              definition
=====  ================================  =========================================================
FSU    Fix on system upgrade             remediate at the asset's next scheduled major upgrade or
                                         rebuild
60D    60 days                           remediate within 60 days
14D    14 days                           remediate within 14 days
3D     3 days                            remediate within 3 days
3DF    3 days & forensic investigation   remediate within 3 days and carry out a forensic triage
                                         of the asset to assess whether it is compromised
=====  ================================  =========================================================

A clock runs in calendar days (24 hours each) from when the agency was notified;
"fix on system upgrade" has no date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from clearinghouse.priority._ssvc import Bod2604Timeline, TechnicalImpact, YesNo, bod_26_04


@dataclass(frozen=True)
class RemediationClock:
    days: int | None  # None: fix on system upgrade (no calendar deadline)
    forensic_triage: bool


BOD_26_04_CLOCKS: Mapping[Bod2604Timeline, RemediationClock] = MappingProxyType(
    {
        Bod2604Timeline.FIX_ON_SYSTEM_UPGRADE: RemediationClock(days=None, forensic_triage=False),
        Bod2604Timeline.DAYS_60: RemediationClock(days=60, forensic_triage=False),
        Bod2604Timeline.DAYS_14: RemediationClock(days=14, forensic_triage=False),
        Bod2604Timeline.DAYS_3: RemediationClock(days=3, forensic_triage=False),
        Bod2604Timeline.DAYS_3_FORENSIC: RemediationClock(days=3, forensic_triage=True),
    }
)


@dataclass(frozen=True)
class Deadline:
    """When a BOD 26-04 remediation is due: ``due_at`` (UTC) is None for "fix on system upgrade"."""

    outcome: Bod2604Timeline
    notified_at: dt.datetime
    due_at: dt.datetime | None
    forensic_triage: bool


def _utc(moment: dt.datetime, what: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(dt.UTC)


def deadline_for(outcome: Bod2604Timeline | str, notified_at: dt.datetime) -> Deadline:
    """The deadline of an outcome already decided (e.g. one stored with a case)."""
    timeline = Bod2604Timeline(outcome)
    clock = BOD_26_04_CLOCKS[timeline]
    start = _utc(notified_at, "notified_at")
    due = None if clock.days is None else start + dt.timedelta(days=clock.days)
    return Deadline(timeline, start, due, clock.forensic_triage)


def bod_26_04_deadline(
    *,
    in_kev: YesNo | bool | str,
    publicly_exposed: YesNo | bool | str,
    automatable: YesNo | bool | str,
    technical_impact: TechnicalImpact | str,
    notified_at: dt.datetime,
) -> Deadline:
    """Decide the BOD 26-04 timeline from the table and start its clock at ``notified_at``."""
    outcome = bod_26_04(
        in_kev=in_kev,
        publicly_exposed=publicly_exposed,
        automatable=automatable,
        technical_impact=technical_impact,
    )
    return deadline_for(outcome, notified_at)


def is_overdue(deadline: Deadline, now: dt.datetime) -> bool:
    """True once ``now`` is past the due time; never for "fix on system upgrade"."""
    return deadline.due_at is not None and _utc(now, "now") > deadline.due_at

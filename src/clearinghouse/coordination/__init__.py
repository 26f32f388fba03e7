"""Coordination: deconflicting who scans what (scan campaigns and their
overlaps), and taking a validated case to its vendors and out as an advisory.

* ``campaigns`` / ``_targets``: scan campaigns and their conflicts (scan deconfliction), a
  module of its own; the package's face below is the coordination workflow.
* ``_workflow``: vendor threads (one per case and vendor, marked for the
  vendor), per-product statuses and messages, the case's aliases, embargo and
  disclosure clock (``_clock``), publishing revisions of the advisory.
* ``_vex``: reading vendors' CycloneDX VEX, OpenVEX and CSAF VEX answers.
* ``_aliases``: a case's advisory id and aliases, shared by the workflow and the advisory.
* ``_advisory`` / ``_snapshot``: a case as an
  :class:`~clearinghouse.domain.AdvisoryRecord`, and back from JSON.

Exports read cases only through :func:`record_for_case`,
:func:`published_records` and :func:`case_id_for_alias`.
"""

from clearinghouse.coordination._aliases import case_id_for_alias
from clearinghouse.coordination._clock import (
    DEFAULT_DISCLOSURE_DAYS,
    EXPLOITED_DISCLOSURE_DAYS,
    REMINDER_DAYS,
    VENDOR_RESPONSE_SLA_DAYS,
    DeadlineItem,
    DeadlineKind,
    DeadlineState,
    disclosure_deadline,
    vendor_response_due,
)
from clearinghouse.coordination._snapshot import record_from_json, record_to_json
from clearinghouse.coordination._vex import VexFormat, VexStatement
from clearinghouse.coordination._vex import parse as parse_vex
from clearinghouse.coordination._workflow import (
    CoordinationView,
    DisclosureChange,
    ProductRef,
    StatusUpdate,
    apply_vex,
    assign_alias,
    coordination_of,
    deadline_of,
    deadlines,
    get_thread,
    notify_from_matching,
    notify_vendor,
    post_message,
    publish,
    published_records,
    record_for_case,
    revisions_of,
    set_disclosure,
    set_statuses,
    thread_messages,
    thread_products,
    thread_resource,
    visible_threads,
)

__all__ = [
    "DEFAULT_DISCLOSURE_DAYS",
    "EXPLOITED_DISCLOSURE_DAYS",
    "REMINDER_DAYS",
    "VENDOR_RESPONSE_SLA_DAYS",
    "CoordinationView",
    "DeadlineItem",
    "DeadlineKind",
    "DeadlineState",
    "DisclosureChange",
    "ProductRef",
    "StatusUpdate",
    "VexFormat",
    "VexStatement",
    "apply_vex",
    "assign_alias",
    "case_id_for_alias",
    "coordination_of",
    "deadline_of",
    "deadlines",
    "disclosure_deadline",
    "get_thread",
    "notify_from_matching",
    "notify_vendor",
    "parse_vex",
    "post_message",
    "publish",
    "published_records",
    "record_for_case",
    "record_from_json",
    "record_to_json",
    "revisions_of",
    "set_disclosure",
    "set_statuses",
    "thread_messages",
    "thread_products",
    "thread_resource",
    "vendor_response_due",
    "visible_threads",
]

"""SSVC decisions, looked up in CERT/CC's decision tables.

The tables are copied unmodified from CERTCC/SSVC (commit
``e3b00a25615845960cec9caa1388064739f17728``) into ``clearinghouse/data/ssvc/``,
with their license (``LICENSE``, and ``LICENSE-data`` for the JSON and CSV files):

- ``csv/<namespace>/<table>.csv`` holds the rows: one column per decision point,
  headed ``<name> v<version>`` (plus `` (<namespace>)`` outside ``ssvc``), the
  outcome last, each cell a value's name in lower case;
- ``json/<namespace>/<table>.json`` is the same table as CERT/CC's JSON, which
  also carries each decision point (namespace, key, version, definition, and
  each value's key, name and definition).

A decision is the outcome of the one row whose inputs are the given values:
each table is loaded once and its rows indexed by the tuple of input values.
Nothing here restates a rule. The typed enums below name the values each table
uses; loading a table checks that they match it exactly.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeAlias

from clearinghouse.errors import InvalidInput


class InvalidDecisionInput(InvalidInput):
    """A value a decision table does not take; ``detail`` names the decision point and what it allows."""

    def __init__(self, detail: str, decision_point: str | None = None, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.decision_point = decision_point
        self.allowed = allowed


class DecisionTableError(RuntimeError):
    """The shipped table files are inconsistent (a packaging error, not a user's)."""


class TableName(enum.StrEnum):
    COORDINATOR_TRIAGE = "coordinator_triage"
    COORDINATOR_PUBLISH = "coordinator_publish"
    SUPPLIER_PATCH_PRIORITY = "supplier_patch_priority"
    DEPLOYER_PATCH_PRIORITY = "deployer_patch_priority"
    CISA_COORDINATOR = "cisa_coordinator"
    BOD_26_04 = "bod_26_04"


# Each table's file, under data/ssvc/csv/ and data/ssvc/json/ (its CERT/CC name and version).
TABLE_FILES: Mapping[TableName, str] = {
    TableName.COORDINATOR_TRIAGE: "ssvc/coordinator_triage_1_0_0",
    TableName.COORDINATOR_PUBLISH: "ssvc/coordinator_publish_decision_table_1_0_0",
    TableName.SUPPLIER_PATCH_PRIORITY: "ssvc/supplier_patch_development_priority_1_0_0",
    TableName.DEPLOYER_PATCH_PRIORITY: "ssvc/deployer_patch_application_priority_1_0_0",
    TableName.CISA_COORDINATOR: "cisa/cisa_coordinator_2_0_3",
    TableName.BOD_26_04: "cisa/cisa_bod_26_04_1_0_0",
}


# --- The values of the decision points (each as the tables write it). ---------------------------


class YesNo(enum.StrEnum):
    """Report Public, Supplier Contacted, Automatable, In KEV, Publicly Exposed."""

    NO = "no"
    YES = "yes"


class Exploitation(enum.StrEnum):
    NONE = "none"
    PUBLIC_POC = "public poc"
    ACTIVE = "active"


class TechnicalImpact(enum.StrEnum):
    PARTIAL = "partial"
    TOTAL = "total"


class Utility(enum.StrEnum):
    LABORIOUS = "laborious"
    EFFICIENT = "efficient"
    SUPER_EFFECTIVE = "super effective"


class PublicSafetyImpact(enum.StrEnum):
    MINIMAL = "minimal"
    SIGNIFICANT = "significant"


class ReportCredibility(enum.StrEnum):
    NOT_CREDIBLE = "not credible"
    CREDIBLE = "credible"


class SupplierCardinality(enum.StrEnum):
    ONE = "one"
    MULTIPLE = "multiple"


class SupplierEngagement(enum.StrEnum):
    ACTIVE = "active"
    UNRESPONSIVE = "unresponsive"


class SupplierInvolvement(enum.StrEnum):
    FIX_READY = "fix ready"
    COOPERATIVE = "cooperative"
    UNCOOPERATIVE_UNRESPONSIVE = "uncooperative/unresponsive"


class PublicValueAdded(enum.StrEnum):
    LIMITED = "limited"
    AMPLIATIVE = "ampliative"
    PRECEDENCE = "precedence"


class SystemExposure(enum.StrEnum):
    SMALL = "small"
    CONTROLLED = "controlled"
    OPEN = "open"


class HumanImpact(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very high"


class MissionWellBeingImpact(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# --- The outcomes. -------------------------------------------------------------------------------


class CoordinatorTriage(enum.StrEnum):
    DECLINE = "decline"
    TRACK = "track"
    COORDINATE = "coordinate"


class PublishDecision(enum.StrEnum):
    DO_NOT_PUBLISH = "do not publish"
    PUBLISH = "publish"


class PatchPriority(enum.StrEnum):
    """Supplier patch development and deployer patch application priority."""

    DEFER = "defer"
    SCHEDULED = "scheduled"
    OUT_OF_CYCLE = "out-of-cycle"
    IMMEDIATE = "immediate"


class CisaLevel(enum.StrEnum):
    TRACK = "track"
    TRACK_STAR = "track*"
    ATTEND = "attend"
    ACT = "act"


class Bod2604Timeline(enum.StrEnum):
    """CISA BOD 26-04 remediation timelines (see ``bod_26_04_deadline`` for the clocks)."""

    FIX_ON_SYSTEM_UPGRADE = "fix on system upgrade"
    DAYS_60 = "60 days"
    DAYS_14 = "14 days"
    DAYS_3 = "3 days"
    DAYS_3_FORENSIC = "3 days & forensic investigation"


# Decision point (by parameter name) -> the enum of its values.
_INPUT_ENUMS: Mapping[str, type[enum.StrEnum]] = {
    "report_public": YesNo,
    "supplier_contacted": YesNo,
    "report_credibility": ReportCredibility,
    "supplier_cardinality": SupplierCardinality,
    "supplier_engagement": SupplierEngagement,
    "utility": Utility,
    "public_safety_impact": PublicSafetyImpact,
    "supplier_involvement": SupplierInvolvement,
    "exploitation": Exploitation,
    "public_value_added": PublicValueAdded,
    "technical_impact": TechnicalImpact,
    "system_exposure": SystemExposure,
    "automatable": YesNo,
    "human_impact": HumanImpact,
    "mission_and_well_being_impact": MissionWellBeingImpact,
    "in_kev": YesNo,
    "publicly_exposed": YesNo,
}
_OUTCOME_ENUMS: Mapping[TableName, type[enum.StrEnum]] = {
    TableName.COORDINATOR_TRIAGE: CoordinatorTriage,
    TableName.COORDINATOR_PUBLISH: PublishDecision,
    TableName.SUPPLIER_PATCH_PRIORITY: PatchPriority,
    TableName.DEPLOYER_PATCH_PRIORITY: PatchPriority,
    TableName.CISA_COORDINATOR: CisaLevel,
    TableName.BOD_26_04: Bod2604Timeline,
}


# --- Tables. -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionValue:
    key: str  # SSVC's short key, e.g. "P"
    name: str  # display name, e.g. "Public PoC"
    definition: str

    @property
    def label(self) -> str:
        """The value as the tables write it, e.g. ``public poc``."""
        return self.name.lower()


@dataclass(frozen=True)
class DecisionPoint:
    namespace: str
    key: str
    version: str
    name: str
    definition: str
    values: tuple[DecisionValue, ...]

    @property
    def id(self) -> str:
        """``namespace:key:version``, as SSVC writes it (e.g. ``ssvc:E:1.1.0``)."""
        return f"{self.namespace}:{self.key}:{self.version}"

    @property
    def param(self) -> str:
        """The keyword ``decide`` takes it by: its name in snake case (``mission_and_well_being_impact``)."""
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(v.label for v in self.values)

    @property
    def csv_header(self) -> str:
        suffix = "" if self.namespace == "ssvc" else f" ({self.namespace})"
        return f"{self.name} v{self.version}{suffix}"

    def value(self, label: str) -> DecisionValue:
        """The value with this label (as ``label_of`` returns it)."""
        return next(v for v in self.values if v.label == label)

    def label_of(self, given: object) -> str:
        """The label of a given value (an enum member, a name in any case, or a bool for yes/no)."""
        labels = self.labels
        if isinstance(given, bool) and set(labels) == {"yes", "no"}:
            return "yes" if given else "no"
        if isinstance(given, str):
            text = given.strip().lower()
            if text in labels:
                return text
        shown = ", ".join(repr(lbl) for lbl in labels)
        extra = " (or True/False)" if set(labels) == {"yes", "no"} else ""
        raise InvalidDecisionInput(
            f"{self.name} ({self.id}) must be one of {shown}{extra}; got {given!r}", self.param, labels
        )


@dataclass(frozen=True)
class DecisionTable:
    name: TableName
    namespace: str
    key: str
    version: str
    title: str
    inputs: tuple[DecisionPoint, ...]
    outcome: DecisionPoint
    index: Mapping[tuple[str, ...], str] = field(repr=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.namespace}:{self.key}:{self.version}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(p.param for p in self.inputs)

    def decide(self, **values: object) -> str:
        """The outcome label of the row whose inputs are ``values`` (keyed by each point's ``param``)."""
        params = self.params
        unknown = sorted(set(values) - set(params))
        if unknown:
            raise InvalidDecisionInput(
                f"{self.title} ({self.id}) has no decision point {', '.join(unknown)}; "
                f"it takes {', '.join(params)}",
                unknown[0],
            )
        missing = [p for p in self.inputs if p.param not in values]
        if missing:
            raise InvalidDecisionInput(
                f"{self.title} ({self.id}) needs {', '.join(p.param for p in missing)}",
                missing[0].param,
                missing[0].labels,
            )
        row = tuple(point.label_of(values[point.param]) for point in self.inputs)
        return self.index[row]


def _point(raw: Mapping[str, Any]) -> DecisionPoint:
    return DecisionPoint(
        namespace=raw["namespace"],
        key=raw["key"],
        version=raw["version"],
        name=raw["name"],
        definition=raw["definition"],
        values=tuple(DecisionValue(v["key"], v["name"], v["definition"]) for v in raw["values"]),
    )


def build_table(name: TableName, csv_text: str, json_text: str) -> DecisionTable:
    """A table from its CSV rows and its JSON description; ``DecisionTableError`` if they disagree,
    if a row is repeated or missing, or if a value differs from the typed enums above."""
    spec = json.loads(json_text)
    points = {p.csv_header: p for p in (_point(raw) for raw in spec["decision_points"].values())}
    outcome_id = spec["outcome"]
    reader = csv.reader(io.StringIO(csv_text))
    header = next(reader)
    if header[0] != "row" or len(header) < 3:
        raise DecisionTableError(f"{name}: the CSV header {header!r} is not 'row', inputs..., outcome")
    columns: list[DecisionPoint] = []
    for title in header[1:]:
        if title not in points:
            raise DecisionTableError(f"{name}: column {title!r} is no decision point of the JSON table")
        columns.append(points[title])
    if len(columns) != len(points):
        raise DecisionTableError(f"{name}: the CSV has {len(columns)} columns, the JSON {len(points)} points")
    *inputs, outcome = columns
    if outcome.id != outcome_id:
        raise DecisionTableError(f"{name}: the last column is {outcome.id}, the JSON outcome {outcome_id}")
    index: dict[tuple[str, ...], str] = {}
    for number, cells in enumerate(reader, start=1):
        if len(cells) != len(header):
            raise DecisionTableError(f"{name}: row {number} has {len(cells)} cells, not {len(header)}")
        for point, cell in zip(columns, cells[1:], strict=True):
            if cell not in point.labels:
                raise DecisionTableError(f"{name}: row {number}: {cell!r} is no value of {point.id}")
        row = tuple(cells[1:-1])
        if row in index:
            raise DecisionTableError(f"{name}: row {number} repeats the inputs {row}")
        index[row] = cells[-1]
    expected = math.prod(len(p.values) for p in inputs)
    if len(index) != expected:
        raise DecisionTableError(f"{name}: {len(index)} rows, but its inputs combine {expected} ways")
    for point in inputs:
        _check_enum(name, point, _INPUT_ENUMS.get(point.param))
    _check_enum(name, outcome, _OUTCOME_ENUMS[name])
    return DecisionTable(
        name=name,
        namespace=spec["namespace"],
        key=spec["key"],
        version=spec["version"],
        title=spec["name"],
        inputs=tuple(inputs),
        outcome=outcome,
        index=MappingProxyType(index),
    )


def _check_enum(name: TableName, point: DecisionPoint, values: type[enum.StrEnum] | None) -> None:
    if values is None:
        raise DecisionTableError(f"{name}: no enum for the decision point {point.param} ({point.id})")
    if {v.value for v in values} != set(point.labels) or len(values) != len(point.labels):
        enum_values = [v.value for v in values]
        raise DecisionTableError(
            f"{name}: {values.__name__} {enum_values} differs from {point.id} {point.labels}"
        )


def decision_table(name: TableName | str) -> DecisionTable:
    """The shipped table (loaded once)."""
    return _load(TableName(name))


@functools.cache
def _load(table: TableName) -> DecisionTable:
    data = resources.files("clearinghouse.data").joinpath("ssvc")
    stem = TABLE_FILES[table]
    return build_table(
        table,
        data.joinpath(f"csv/{stem}.csv").read_text(encoding="utf-8"),
        data.joinpath(f"json/{stem}.json").read_text(encoding="utf-8"),
    )


def decide(table: DecisionTable | TableName | str, /, **values: object) -> str:
    """The outcome (its label, e.g. ``"act"``) of ``table`` for the given decision-point values.

    Values are keyed by each decision point's name in snake case (``exploitation``,
    ``technical_impact``, ``mission_and_well_being_impact``...; see ``DecisionTable.params``)
    and given as the enum members above, their labels in any case, or bools for yes/no points.
    Raises ``InvalidDecisionInput`` naming the decision point and its allowed values.
    """
    resolved = table if isinstance(table, DecisionTable) else decision_table(table)
    return resolved.decide(**values)


# --- Named decisions. ----------------------------------------------------------------------------

_YesNo: TypeAlias = YesNo | bool | str


def coordinator_triage(
    *,
    report_public: _YesNo,
    supplier_contacted: _YesNo,
    report_credibility: ReportCredibility | str,
    supplier_cardinality: SupplierCardinality | str,
    supplier_engagement: SupplierEngagement | str,
    utility: Utility | str,
    public_safety_impact: PublicSafetyImpact | str,
) -> CoordinatorTriage:
    """SSVC Coordinator Triage 1.0.0: decline, track or coordinate a report."""
    return CoordinatorTriage(
        decide(
            TableName.COORDINATOR_TRIAGE,
            report_public=report_public,
            supplier_contacted=supplier_contacted,
            report_credibility=report_credibility,
            supplier_cardinality=supplier_cardinality,
            supplier_engagement=supplier_engagement,
            utility=utility,
            public_safety_impact=public_safety_impact,
        )
    )


def coordinator_publish(
    *,
    supplier_involvement: SupplierInvolvement | str,
    exploitation: Exploitation | str,
    public_value_added: PublicValueAdded | str,
) -> PublishDecision:
    """SSVC Coordinator Publish Decision Table 1.0.0: publish or not."""
    return PublishDecision(
        decide(
            TableName.COORDINATOR_PUBLISH,
            supplier_involvement=supplier_involvement,
            exploitation=exploitation,
            public_value_added=public_value_added,
        )
    )


def supplier_patch_priority(
    *,
    exploitation: Exploitation | str,
    utility: Utility | str,
    technical_impact: TechnicalImpact | str,
    public_safety_impact: PublicSafetyImpact | str,
) -> PatchPriority:
    """SSVC Supplier Patch Development Priority 1.0.0."""
    return PatchPriority(
        decide(
            TableName.SUPPLIER_PATCH_PRIORITY,
            exploitation=exploitation,
            utility=utility,
            technical_impact=technical_impact,
            public_safety_impact=public_safety_impact,
        )
    )


def deployer_patch_priority(
    *,
    exploitation: Exploitation | str,
    system_exposure: SystemExposure | str,
    automatable: _YesNo,
    human_impact: HumanImpact | str,
) -> PatchPriority:
    """SSVC Deployer Patch Application Priority 1.0.0."""
    return PatchPriority(
        decide(
            TableName.DEPLOYER_PATCH_PRIORITY,
            exploitation=exploitation,
            system_exposure=system_exposure,
            automatable=automatable,
            human_impact=human_impact,
        )
    )


def cisa_coordinator(
    *,
    exploitation: Exploitation | str,
    automatable: _YesNo,
    technical_impact: TechnicalImpact | str,
    mission_and_well_being_impact: MissionWellBeingImpact | str,
) -> CisaLevel:
    """CISA Coordinator 2.0.3: track, track*, attend or act."""
    return CisaLevel(
        decide(
            TableName.CISA_COORDINATOR,
            exploitation=exploitation,
            automatable=automatable,
            technical_impact=technical_impact,
            mission_and_well_being_impact=mission_and_well_being_impact,
        )
    )


def bod_26_04(
    *,
    in_kev: _YesNo,
    publicly_exposed: _YesNo,
    automatable: _YesNo,
    technical_impact: TechnicalImpact | str,
) -> Bod2604Timeline:
    """CISA BOD 26-04 1.0.0: the remediation timeline of a vulnerability on an asset."""
    return Bod2604Timeline(
        decide(
            TableName.BOD_26_04,
            in_kev=in_kev,
            publicly_exposed=publicly_exposed,
            automatable=automatable,
            technical_impact=technical_impact,
        )
    )

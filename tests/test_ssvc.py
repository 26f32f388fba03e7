"""SSVC decisions from CERT/CC's shipped tables (every row reproduced, inputs validated,
broken table files refused) and the CISA BOD 26-04 remediation clocks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from clearinghouse.errors import InvalidInput
from clearinghouse.priority import (
    BOD_26_04_CLOCKS,
    Bod2604Timeline,
    CisaLevel,
    CoordinatorTriage,
    DecisionTableError,
    Exploitation,
    HumanImpact,
    InvalidDecisionInput,
    MissionWellBeingImpact,
    PatchPriority,
    PublicSafetyImpact,
    PublicValueAdded,
    PublishDecision,
    ReportCredibility,
    SupplierCardinality,
    SupplierEngagement,
    SupplierInvolvement,
    SystemExposure,
    TableName,
    TechnicalImpact,
    Utility,
    YesNo,
    bod_26_04,
    bod_26_04_deadline,
    cisa_coordinator,
    coordinator_publish,
    coordinator_triage,
    deadline_for,
    decide,
    decision_table,
    deployer_patch_priority,
    is_overdue,
    supplier_patch_priority,
)
from clearinghouse.priority._ssvc import TABLE_FILES, build_table

# The tables as shipped in the source tree: the tests read these files, not a copy.
SSVC_DATA = Path(__file__).resolve().parents[1] / "src" / "clearinghouse" / "data" / "ssvc"

NAMED: dict[TableName, Callable[..., str]] = {
    TableName.COORDINATOR_TRIAGE: coordinator_triage,
    TableName.COORDINATOR_PUBLISH: coordinator_publish,
    TableName.SUPPLIER_PATCH_PRIORITY: supplier_patch_priority,
    TableName.DEPLOYER_PATCH_PRIORITY: deployer_patch_priority,
    TableName.CISA_COORDINATOR: cisa_coordinator,
    TableName.BOD_26_04: bod_26_04,
}
ROWS = {
    TableName.COORDINATOR_TRIAGE: 192,
    TableName.COORDINATOR_PUBLISH: 27,
    TableName.SUPPLIER_PATCH_PRIORITY: 36,
    TableName.DEPLOYER_PATCH_PRIORITY: 72,
    TableName.CISA_COORDINATOR: 36,
    TableName.BOD_26_04: 16,
}
NOTIFIED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _texts(name: TableName) -> tuple[str, str]:
    stem = TABLE_FILES[name]
    return (
        (SSVC_DATA / "csv" / f"{stem}.csv").read_text(encoding="utf-8"),
        (SSVC_DATA / "json" / f"{stem}.json").read_text(encoding="utf-8"),
    )


def _param(header: str) -> str:
    """'Mission and Well-Being Impact v1.0.0' -> 'mission_and_well_being_impact' (read here, not in src)."""
    name = re.sub(r" v\d+\.\d+\.\d+( \(\w+\))?$", "", header)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# --- Every row of every shipped table. ---------------------------------------------------------


@pytest.mark.parametrize("name", list(TableName))
def test_every_row_of_every_shipped_table_is_reproduced(name: TableName) -> None:
    csv_text, _ = _texts(name)
    rows = list(csv.reader(io.StringIO(csv_text)))
    header, body = rows[0], rows[1:]
    params = [_param(h) for h in header[1:-1]]
    assert len(body) == ROWS[name]
    for cells in body:
        values = dict(zip(params, cells[1:-1], strict=True))
        expected = cells[-1]
        assert NAMED[name](**values) == expected, (name, cells)
        assert decide(name, **values) == expected
        # Enum members and other spellings decide the same.
        shouted = {k: v.upper() for k, v in values.items()}
        assert decide(decision_table(name), **shouted) == expected


@pytest.mark.parametrize("name", list(TableName))
def test_json_and_csv_tables_agree(name: TableName) -> None:
    """CERT/CC publishes each table twice; the shipped JSON mapping is the CSV, row for row."""
    csv_text, json_text = _texts(name)
    table = decision_table(name)  # loaded by the package
    points = [*table.inputs, table.outcome]
    mapping = json.loads(json_text)["mapping"]
    rows = list(csv.reader(io.StringIO(csv_text)))[1:]
    assert len(mapping) == len(rows) == len(table.index) == ROWS[name]
    for entry, cells in zip(mapping, rows, strict=True):
        assert [p.value(cell).key for p, cell in zip(points, cells[1:], strict=True)] == [
            entry[p.id] for p in points
        ]


def test_the_package_loads_the_shipped_tables() -> None:
    """What ``decision_table`` reads (the package's data) is the file these tests check."""
    loaded = Path(str(resources.files("clearinghouse.data").joinpath("ssvc")))
    for stem in TABLE_FILES.values():
        assert (loaded / "csv" / f"{stem}.csv").read_bytes() == (
            SSVC_DATA / "csv" / f"{stem}.csv"
        ).read_bytes()


def test_bod_26_04_deadlines_follow_every_row_of_the_shipped_csv() -> None:
    csv_text, _ = _texts(TableName.BOD_26_04)
    rows = list(csv.reader(io.StringIO(csv_text)))
    params = [_param(h) for h in rows[0][1:-1]]
    for cells in rows[1:]:
        values = dict(zip(params, cells[1:-1], strict=True))
        deadline = bod_26_04_deadline(**values, notified_at=NOTIFIED)
        assert deadline.outcome == Bod2604Timeline(cells[-1]), cells
        clock = BOD_26_04_CLOCKS[deadline.outcome]
        assert deadline.forensic_triage is clock.forensic_triage
        expected = None if clock.days is None else NOTIFIED + dt.timedelta(days=clock.days)
        assert deadline.due_at == expected


def test_shipped_files_are_the_corpus_files(corpus: Path) -> None:
    source = corpus / "ssvc"
    shipped = SSVC_DATA
    pairs = [
        (shipped / "LICENSE", source / "LICENSE"),
        (shipped / "LICENSE-data", source / "data" / "LICENSE"),
    ]
    for stem in TABLE_FILES.values():
        pairs.append((shipped / "csv" / f"{stem}.csv", source / "data" / "csv" / f"{stem}.csv"))
        pairs.append(
            (shipped / "json" / f"{stem}.json", source / "data" / "json" / "decision_tables" / f"{stem}.json")
        )
    for ours, theirs in pairs:
        assert ours.read_bytes() == theirs.read_bytes(), ours
    data_files = {p for p in shipped.rglob("*") if p.is_file()}
    assert data_files == {ours for ours, _ in pairs} | {shipped / "README.md"}


def test_tables_describe_themselves() -> None:
    table = decision_table("cisa_coordinator")
    assert table is decision_table(TableName.CISA_COORDINATOR)  # loaded once
    assert (table.id, table.title) == ("cisa:DT_CO:2.0.3", "CISA Coordinator")
    assert table.params == (
        "exploitation",
        "automatable",
        "technical_impact",
        "mission_and_well_being_impact",
    )
    assert table.outcome.id == "cisa:CISA:1.1.0"
    assert table.inputs[0].id == "ssvc:E:1.1.0"
    assert table.inputs[0].labels == ("none", "public poc", "active")
    assert table.inputs[0].value("public poc").key == "P"
    assert decision_table("bod_26_04").params == (
        "in_kev",
        "publicly_exposed",
        "automatable",
        "technical_impact",
    )


# --- Well-known outcomes. ----------------------------------------------------------------------


def test_cisa_coordinator_well_known_outcomes() -> None:
    worst = cisa_coordinator(
        exploitation=Exploitation.ACTIVE,
        automatable=YesNo.YES,
        technical_impact=TechnicalImpact.TOTAL,
        mission_and_well_being_impact=MissionWellBeingImpact.HIGH,
    )
    assert worst is CisaLevel.ACT
    assert (
        cisa_coordinator(
            exploitation="none",
            automatable=False,
            technical_impact="partial",
            mission_and_well_being_impact="low",
        )
        is CisaLevel.TRACK
    )
    assert (
        cisa_coordinator(
            exploitation="none",
            automatable=False,
            technical_impact="total",
            mission_and_well_being_impact="high",
        )
        is CisaLevel.TRACK_STAR
    )


def test_bod_26_04_well_known_outcomes() -> None:
    assert (
        bod_26_04(
            in_kev=True, publicly_exposed=True, automatable=True, technical_impact=TechnicalImpact.TOTAL
        )
        is Bod2604Timeline.DAYS_3_FORENSIC
    )
    assert (
        bod_26_04(in_kev=False, publicly_exposed=False, automatable=False, technical_impact="partial")
        is Bod2604Timeline.FIX_ON_SYSTEM_UPGRADE
    )
    assert (
        bod_26_04(in_kev="yes", publicly_exposed="no", automatable="no", technical_impact="partial")
        is Bod2604Timeline.DAYS_14
    )


def test_other_tables_well_known_outcomes() -> None:
    assert (
        deployer_patch_priority(
            exploitation=Exploitation.ACTIVE,
            system_exposure=SystemExposure.OPEN,
            automatable=True,
            human_impact=HumanImpact.VERY_HIGH,
        )
        is PatchPriority.IMMEDIATE
    )
    assert (
        deployer_patch_priority(
            exploitation="none", system_exposure="small", automatable=False, human_impact="low"
        )
        is PatchPriority.DEFER
    )
    assert (
        supplier_patch_priority(
            exploitation=Exploitation.NONE,
            utility=Utility.LABORIOUS,
            technical_impact=TechnicalImpact.PARTIAL,
            public_safety_impact=PublicSafetyImpact.MINIMAL,
        )
        is PatchPriority.DEFER
    )
    assert (
        supplier_patch_priority(
            exploitation="active",
            utility="super effective",
            technical_impact="total",
            public_safety_impact="significant",
        )
        is PatchPriority.IMMEDIATE
    )
    assert (
        coordinator_publish(
            supplier_involvement=SupplierInvolvement.FIX_READY,
            exploitation=Exploitation.NONE,
            public_value_added=PublicValueAdded.LIMITED,
        )
        is PublishDecision.DO_NOT_PUBLISH
    )
    assert (
        coordinator_triage(
            report_public=False,
            supplier_contacted=False,
            report_credibility=ReportCredibility.NOT_CREDIBLE,
            supplier_cardinality=SupplierCardinality.ONE,
            supplier_engagement=SupplierEngagement.ACTIVE,
            utility=Utility.LABORIOUS,
            public_safety_impact=PublicSafetyImpact.MINIMAL,
        )
        is CoordinatorTriage.DECLINE
    )


# --- Input validation. -------------------------------------------------------------------------


def _worst_cisa(**override: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "exploitation": "active",
        "automatable": "yes",
        "technical_impact": "total",
        "mission_and_well_being_impact": "high",
    }
    return values | override


@pytest.mark.parametrize(
    ("values", "point", "message"),
    [
        (
            _worst_cisa(exploitation="poc"),
            "exploitation",
            "Exploitation (ssvc:E:1.1.0) must be one of 'none', 'public poc', 'active'; got 'poc'",
        ),
        (_worst_cisa(automatable="maybe"), "automatable", "'no', 'yes' (or True/False); got 'maybe'"),
        (_worst_cisa(technical_impact=True), "technical_impact", "one of 'partial', 'total'; got True"),
        (_worst_cisa(mission_and_well_being_impact=3), "mission_and_well_being_impact", "got 3"),
        (_worst_cisa(human_impact="high"), "human_impact", "has no decision point human_impact; it takes"),
    ],
)
def test_invalid_values_name_the_decision_point(values: dict[str, Any], point: str, message: str) -> None:
    with pytest.raises(InvalidDecisionInput) as caught:
        decide(TableName.CISA_COORDINATOR, **values)
    assert message in caught.value.detail
    assert caught.value.decision_point == point
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 422


def test_missing_values_are_named() -> None:
    with pytest.raises(InvalidDecisionInput) as caught:
        decide("bod_26_04", in_kev=True, automatable=True)
    assert (
        caught.value.detail
        == "CISA BOD 26-04 (cisa:DT_BOD2604:1.0.0) needs publicly_exposed, technical_impact"
    )
    assert caught.value.decision_point == "publicly_exposed" and caught.value.allowed == ("no", "yes")


def test_unknown_table() -> None:
    with pytest.raises(ValueError, match="nope"):
        decision_table("nope")


# --- Broken table files are refused when loaded. -----------------------------------------------


def _csv_edit(old: str, new: str, count: int = 1) -> Callable[[str, str], tuple[str, str]]:
    return lambda c, j: (c.replace(old, new, count), j)


def _json_edit(
    edit: Callable[[dict[str, Any]], None], csv_old: str = "", csv_new: str = ""
) -> Callable[[str, str], tuple[str, str]]:
    def apply(c: str, j: str) -> tuple[str, str]:
        spec = json.loads(j)
        edit(spec)
        return (c.replace(csv_old, csv_new) if csv_old else c), json.dumps(spec)

    return apply


def _rename_value(spec: dict[str, Any]) -> None:
    spec["decision_points"]["ssvc:TI:1.0.0"]["values"][1]["name"] = "Complete"


def _outcome(spec: dict[str, Any]) -> None:
    spec["outcome"] = "ssvc:TI:1.0.0"


def _extra_point(spec: dict[str, Any]) -> None:
    spec["decision_points"]["ssvc:X:1.0.0"] = dict(
        spec["decision_points"]["ssvc:TI:1.0.0"], key="X", name="Extra"
    )


def _renamed_point(spec: dict[str, Any]) -> None:
    point = spec["decision_points"].pop("ssvc:A:2.0.0")
    spec["decision_points"]["ssvc:A:2.0.0"] = dict(point, name="Automatic")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_csv_edit("row,", "line,"), "is not 'row', inputs..., outcome"),
        (
            _csv_edit("Automatable v2.0.0", "Automatable v9.0.0"),
            "column 'Automatable v9.0.0' is no decision point",
        ),
        (_json_edit(_extra_point), "the CSV has 5 columns, the JSON 6 points"),
        (_json_edit(_outcome), "the last column is cisa:BOD2604:1.0.0, the JSON outcome ssvc:TI:1.0.0"),
        (
            _csv_edit("0,no,no,no,partial,fix on system upgrade", "0,no,no,no,partial"),
            "row 1 has 5 cells, not 6",
        ),
        (
            _csv_edit("0,no,no,no,partial,", "0,no,no,nope,partial,"),
            "row 1: 'nope' is no value of ssvc:A:2.0.0",
        ),
        (
            _csv_edit("1,yes,no,no,partial,", "1,no,no,no,partial,"),
            "row 2 repeats the inputs ('no', 'no', 'no'",
        ),
        (
            _csv_edit("15,yes,yes,yes,total,3 days & forensic investigation\n", ""),
            "15 rows, but its inputs combine 16",
        ),
        (
            _json_edit(_rename_value, ",total,", ",complete,"),
            "TechnicalImpact ['partial', 'total'] differs from ssvc:TI:1.0.0",
        ),
        (
            _json_edit(_renamed_point, "Automatable v2.0.0", "Automatic v2.0.0"),
            "no enum for the decision point automatic",
        ),
    ],
)
def test_broken_table_files_are_refused(edit: Callable[[str, str], tuple[str, str]], message: str) -> None:
    csv_text, json_text = edit(*_texts(TableName.BOD_26_04))
    with pytest.raises(DecisionTableError) as caught:
        build_table(TableName.BOD_26_04, csv_text, json_text)
    assert message in str(caught.value)


def test_unbroken_table_builds() -> None:
    table = build_table(TableName.BOD_26_04, *_texts(TableName.BOD_26_04))
    assert table == decision_table(TableName.BOD_26_04)
    assert dict(table.index) == dict(decision_table(TableName.BOD_26_04).index)


# --- BOD 26-04 clocks. -------------------------------------------------------------------------


def test_bod_26_04_clocks_cover_the_table_and_follow_its_definitions() -> None:
    outcome = decision_table(TableName.BOD_26_04).outcome
    assert set(BOD_26_04_CLOCKS) == set(Bod2604Timeline) == {Bod2604Timeline(v) for v in outcome.labels}
    for value in outcome.values:
        clock = BOD_26_04_CLOCKS[Bod2604Timeline(value.label)]
        if clock.days is None:
            assert value.key == "FSU" and "next time the vulnerable asset receives" in value.definition
        else:
            assert value.name.startswith(f"{clock.days} days")
            assert f"within {clock.days} days" in value.definition
        assert clock.forensic_triage == ("forensic triage" in value.definition)
    assert [(c.days, c.forensic_triage) for c in BOD_26_04_CLOCKS.values()] == [
        (None, False),
        (60, False),
        (14, False),
        (3, False),
        (3, True),
    ]


def test_internet_exposed_kev_automatable_total_is_due_in_three_days_with_forensic_triage() -> None:
    deadline = bod_26_04_deadline(
        in_kev=True, publicly_exposed=True, automatable=True, technical_impact="total", notified_at=NOTIFIED
    )
    assert deadline.outcome is Bod2604Timeline.DAYS_3_FORENSIC
    assert deadline.forensic_triage is True
    assert deadline.due_at == dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)
    assert not is_overdue(deadline, NOTIFIED + dt.timedelta(days=2, hours=23))
    assert not is_overdue(deadline, NOTIFIED + dt.timedelta(days=3))
    assert is_overdue(deadline, NOTIFIED + dt.timedelta(days=3, seconds=1))


@pytest.mark.parametrize(
    ("in_kev", "exposed", "automatable", "impact", "days", "forensic"),
    [
        (False, True, True, "total", 3, False),
        (True, False, False, "total", 14, False),
        (False, True, False, "partial", 60, False),
        (False, False, False, "total", None, False),
    ],
)
def test_bod_26_04_deadlines(
    in_kev: bool, exposed: bool, automatable: bool, impact: str, days: int | None, forensic: bool
) -> None:
    deadline = bod_26_04_deadline(
        in_kev=in_kev,
        publicly_exposed=exposed,
        automatable=automatable,
        technical_impact=impact,
        notified_at=NOTIFIED,
    )
    assert deadline.forensic_triage is forensic
    assert deadline.notified_at == NOTIFIED
    if days is None:
        assert deadline.due_at is None
        assert not is_overdue(deadline, NOTIFIED + dt.timedelta(days=3650))
    else:
        assert deadline.due_at == NOTIFIED + dt.timedelta(days=days)
        assert is_overdue(deadline, NOTIFIED + dt.timedelta(days=days, minutes=1))


def test_deadlines_are_kept_in_utc() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    deadline = deadline_for("14 days", dt.datetime(2026, 3, 2, 22, 0, tzinfo=eastern))
    assert deadline.notified_at == dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC)
    assert deadline.due_at == dt.datetime(2026, 3, 17, 3, 0, tzinfo=dt.UTC)
    assert deadline.due_at is not None and deadline.due_at.tzinfo is dt.UTC
    assert not is_overdue(deadline, dt.datetime(2026, 3, 16, 22, 0, tzinfo=eastern))
    assert is_overdue(deadline, dt.datetime(2026, 3, 16, 22, 1, tzinfo=eastern))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="notified_at must be timezone-aware"):
        deadline_for(Bod2604Timeline.DAYS_3, dt.datetime(2026, 3, 2))
    deadline = deadline_for(Bod2604Timeline.DAYS_3, NOTIFIED)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        is_overdue(deadline, dt.datetime(2026, 3, 9))

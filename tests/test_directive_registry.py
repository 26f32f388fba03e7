"""The directive registry against the order as written.

``DIGEST`` below is written by hand from ``shared/policy/eo14409.md`` (the project's digest of EO
14409 and of CISA BOD 26-04), not from the seed file: every row of the registry must agree with it
on section, leads (and the office each acts through), those consulted and the due date.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clearinghouse.cli import app as cli_app
from clearinghouse.directives import Directive, seed_document
from clearinghouse.directives.services import ensure_seeded
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor

TREASURY = ("Secretary of the Treasury", "")
WAR_NSA = ("Secretary of War", "Director, National Security Agency")
DHS_CISA = ("Secretary of Homeland Security", "Director, Cybersecurity and Infrastructure Security Agency")
NCD = "National Cyber Director"
APST = "Assistant to the President for Science and Technology"
NIST = "Secretary of Commerce, through the Director of the National Institute of Standards and Technology"
SECTION_3_LEADS = [TREASURY, WAR_NSA, DHS_CISA]
SECTION_3_CONSULTED = [NCD, APST, NIST]

# key: (section, leads [(office, acting through)], consulted, due date or None for standing)
DIGEST: dict[str, tuple[str, list[tuple[str, str]], list[str], str | None]] = {
    "eo14409-2-national-security-systems": (
        "§2",
        [("Committee on National Security Systems", "")],
        [],
        "2026-07-02",
    ),
    "eo14409-2-war-department-systems": ("§2", [("Secretary of War", "")], [], "2026-07-02"),
    "eo14409-2c-civilian-federal-systems": (
        "§2(c)",
        [DHS_CISA],
        ["Director, Office of Management and Budget"],
        "2026-07-02",
    ),
    "eo14409-2d-clearinghouse": (
        "§2(d)",
        [TREASURY],
        [
            NCD,
            "Secretary of War, through the Director of the National Security Agency",
            "Secretary of Homeland Security, through the Director of the Cybersecurity and Infrastructure "
            "Security Agency",
        ],
        "2026-07-02",
    ),
    "eo14409-2-grant-programs": (
        "§2",
        [("Director, Office of Management and Budget", "")],
        [],
        "2026-07-02",
    ),
    "eo14409-2-hiring": ("§2", [("Director, Office of Personnel Management", "")], [], "2026-08-01"),
    "eo14409-3a-benchmarking": ("§3(a)", SECTION_3_LEADS, SECTION_3_CONSULTED, "2026-08-01"),
    "eo14409-3a-designation": ("§3(a)", [("Director, National Security Agency", "")], [], None),
    "eo14409-3b-voluntary-framework": ("§3(b)", SECTION_3_LEADS, SECTION_3_CONSULTED, "2026-08-01"),
    "eo14409-3c-no-release-gate": ("§3(c)", SECTION_3_LEADS, [], None),
    "eo14409-4-enforcement": ("§4", [("Attorney General", "")], [], None),
    "bod-26-04-agency-policies": (
        "required actions",
        [("Heads of federal civilian executive branch agencies", "")],
        ["Director, Cybersecurity and Infrastructure Security Agency"],
        "2026-08-07",
    ),
    "bod-26-04-full-use": (
        "required actions",
        [("Heads of federal civilian executive branch agencies", "")],
        ["Director, Cybersecurity and Infrastructure Security Agency"],
        "2026-12-07",
    ),
}


def _leads(row: dict[str, Any] | Directive) -> list[tuple[str, str]]:
    leads = row["leads"] if isinstance(row, dict) else row.leads
    return [(lead["office"], lead["acting_through"]) for lead in leads]


def test_every_row_agrees_with_the_digest(runtime: Runtime) -> None:
    runtime.migrate()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = {d.key: d for d in uow.session.scalars(select(Directive))}
    assert set(rows) == set(DIGEST)
    for key, (section, leads, consulted, due) in DIGEST.items():
        d = rows[key]
        assert d.section == section, key
        assert _leads(d) == leads, key
        assert (d.actor, d.acting_through) == leads[0], key
        assert d.consulted == consulted, key
        assert (d.due_date.isoformat() if d.due_date else None) == due, key
        assert d.standing == (due is None), key
        assert d.note.strip(), f"{key} says where it came from"
        assert d.deliverable.strip(), key
    # The clearinghouse is the Treasury's; "Treasury" is nowhere a consulted office of it.
    assert "Treasury" in rows["eo14409-2d-clearinghouse"].actor
    assert not any("Commerce" in office for office, _ in _leads(rows["eo14409-3a-benchmarking"]))


def test_the_seed_file_counts_days_from_signing() -> None:
    document = seed_document()
    assert document["signed_on"] == "2026-06-02"
    for item in document["directives"]:
        if item["instrument"] == "EO 14409" and not item.get("standing"):
            due = dt.date(2026, 6, 2) + dt.timedelta(days=item["due_days"])
            assert due.isoformat() == DIGEST[item["key"]][3], item["key"]


def test_a_registry_seeded_by_an_earlier_release_is_corrected_through_the_ledger(runtime: Runtime) -> None:
    runtime.migrate()
    # What the earlier release loaded: the clearinghouse with the wrong office, and no leads.
    with runtime.uow(Actor.system("test")) as uow:
        row = uow.session.scalar(select(Directive).where(Directive.key == "eo14409-2d-clearinghouse"))
        assert row is not None
        row.key, row.actor, row.acting_through, row.leads = (
            "eo14409-2-clearinghouse",
            "Secretary of Homeland Security",
            "Director, Cybersecurity and Infrastructure Security Agency",
            [],
        )
        old_id = row.id
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        assert ensure_seeded(uow) == 1
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        fixed = uow.session.get(Directive, old_id)
        assert fixed is not None and fixed.key == "eo14409-2d-clearinghouse"
        assert _leads(fixed) == [TREASURY]
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == old_id).order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.action == "directive.corrected"
    with runtime.uow(Actor.system("test")) as uow:
        assert ensure_seeded(uow) == 0  # once


def test_directives_list_as_json_names_the_treasury_and_the_section_3_leads(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.migrate()
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(runtime.settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    result = CliRunner().invoke(cli_app, ["directives", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {d["key"]: d for d in json.loads(result.stdout)}
    house = listed["eo14409-2d-clearinghouse"]
    assert house["due_date"] == "2026-07-02" and house["leads"][0]["office"] == "Secretary of the Treasury"
    section3 = [d for d in listed.values() if d["section"].startswith("§3") and d["due_date"]]
    assert len(section3) == 2
    for d in section3:
        assert d["due_date"] == "2026-08-01"
        assert [(lead["office"], lead["acting_through"]) for lead in d["leads"]] == SECTION_3_LEADS
    # A pipe gets every due date whole.
    table = CliRunner().invoke(cli_app, ["directives", "list"])
    assert table.exit_code == 0, table.output
    for due in ("2026-07-02", "2026-08-01", "2026-08-07", "2026-12-07"):
        assert due in table.stdout
    csv_out = CliRunner().invoke(cli_app, ["directives", "list", "--format", "csv", "--overdue"])
    assert csv_out.exit_code == 0 and csv_out.stdout.splitlines()[0].startswith("id,key,instrument")


def test_the_seed_file_is_what_the_package_ships() -> None:
    shipped = Path(__file__).resolve().parents[1] / "src/clearinghouse/data/directives/eo14409.json"
    assert json.loads(shipped.read_text("utf-8")) == seed_document()

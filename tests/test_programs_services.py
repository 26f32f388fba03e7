"""Programs and enforcement services: each refusal names the field at fault."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clearinghouse.access import Forbidden, Subject
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.enforcement import services as enforcement
from clearinghouse.errors import ClearinghouseError
from clearinghouse.programs import services
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from tests.support.factories import make_org, make_user, subject_of


def refusal(runtime: Runtime, call: Callable[[Any], object]) -> str | None:
    with runtime.uow(Actor.system("test")) as uow:
        try:
            call(uow)
        except ClearinghouseError as exc:
            return exc.pointer
    raise AssertionError("not refused")


def test_program_service_refusals(runtime: Runtime) -> None:
    cisa = make_org(runtime, "CISA", "government_agency")
    hospital = make_org(runtime, "Hospital", "critical_infrastructure_operator")
    admin = subject_of(runtime, make_user(runtime, "boss", cisa, ["admin"]))
    nurse = subject_of(runtime, make_user(runtime, "nurse", hospital, ["partner"]))
    auditor = subject_of(runtime, make_user(runtime, "aud", hospital, ["auditor"]))
    good = services.ProgramDraft(name="p", terms="t", capacity=1, tool_name="tool")
    changes: list[tuple[dict[str, Any], str]] = [
        ({"name": " "}, "/name"),
        ({"tool_name": " "}, "/tool_name"),
        ({"terms": " "}, "/terms"),
        ({"capacity": 0}, "/capacity"),
        ({"grant_days": 0}, "/grant_days"),
        ({"eligible_sectors": ["moon"]}, "/eligible_sectors/0"),
    ]
    for change, pointer in changes:
        draft = dataclasses.replace(good, **change)

        def create(uow: Any, d: services.ProgramDraft = draft) -> object:
            return services.create_program(uow, admin, d)

        assert refusal(runtime, create) == pointer
    with runtime.uow(Actor.system("test")) as uow:
        program, _ = services.create_program(uow, admin, good)
        uow.commit()
    long = services.ApplicationDraft("healthcare", "small", "x" * 20_001)
    assert refusal(runtime, lambda uow: services.apply(uow, nurse, program.id, long)) == "/justification"
    with runtime.uow(Actor.system("test")) as uow, pytest.raises(Forbidden):
        services.apply(uow, auditor, program.id, services.ApplicationDraft("healthcare", "small"))
    with runtime.uow(Actor.system("test")) as uow:
        application, _ = services.apply(
            uow, nurse, program.id, services.ApplicationDraft("healthcare", "small")
        )
        uow.commit()
    naive = services.Decision(True, "ok", starts_at=dt.datetime(2030, 1, 1), ends_at=dt.datetime(2030, 2, 1))
    assert refusal(runtime, lambda uow: services.decide(uow, admin, application.id, naive)) == "/starts_at"
    with runtime.uow(Actor.system("test")) as uow:
        _, grant = services.decide(uow, admin, application.id, services.Decision(True, "ok"))
        uow.commit()
    assert grant is not None
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert [a.id for a in services.list_applications(uow.session, nurse, program_id=program.id)] == [
            application.id
        ]
        assert [g.id for g in services.list_grants(uow.session, nurse, program_id=program.id)] == [grant.id]
        with pytest.raises(ClearinghouseError):
            services.my_access(uow.session, dataclasses.replace(admin, org_id=None), program.id)

    now = utcnow()

    def usage(start: dt.datetime, end: dt.datetime, who: Subject = nurse) -> Callable[[Any], object]:
        return lambda uow: services.report_usage(
            uow, who, grant.id, services.UsageDraft(start, end, {"n": 1})
        )

    assert refusal(runtime, usage(dt.datetime(2030, 1, 1), dt.datetime(2030, 1, 2))) == "/period_start"
    assert refusal(runtime, usage(now, now)) == "/period_end"
    assert refusal(runtime, usage(now - dt.timedelta(days=3), now)) == "/period_start"
    assert refusal(runtime, usage(grant.starts_at, now + dt.timedelta(days=1))) == "/period_end"
    with runtime.uow(Actor.system("test")) as uow, pytest.raises(Forbidden):
        services.report_usage(uow, auditor, grant.id, services.UsageDraft(grant.starts_at, now, {}))


def test_enforcement_service_refusals(runtime: Runtime) -> None:
    from clearinghouse.enforcement import IncidentReport

    hospital = make_org(runtime, "Hospital", "critical_infrastructure_operator")
    nurse = subject_of(runtime, make_user(runtime, "nurse", hospital, ["partner"]))
    liaison = subject_of(
        runtime,
        make_user(
            runtime, "agent", make_org(runtime, "FBI", "government_agency"), ["law_enforcement_liaison"]
        ),
    )
    report = IncidentReport.model_validate(
        {"title": "t", "reporter_kind": "victim", "affected_system": "s", "ai_involvement": ["other"]}
    )
    orphan = dataclasses.replace(nurse, org_id=None)
    assert refusal(
        runtime, lambda uow: enforcement.report_incident(uow, runtime.envelope, orphan, report)
    ) == ("/reporter_org")
    with runtime.uow(Actor.system("test")) as uow:
        incident, _ = enforcement.report_incident(uow, runtime.envelope, nurse, report)
        uow.commit()
    too_long = enforcement.EvidenceFile(filename="x" * 256, content=b"1")
    big = enforcement.EvidenceFile(filename="big", content=b"1" * (enforcement.MAX_EVIDENCE_BYTES + 1))
    odd = enforcement.EvidenceFile(filename="a", content=b"1", media_type="m" * 201)
    for file, pointer in [(too_long, "/filename"), (big, "/content"), (odd, "/media_type")]:
        call = lambda uow, f=file: enforcement.add_evidence(uow, runtime.envelope, nurse, incident.id, f)  # noqa: E731
        assert refusal(runtime, call) == pointer
    with runtime.uow(Actor.system("test")) as uow:
        evidence, _ = enforcement.add_evidence(
            uow, runtime.envelope, nurse, incident.id, enforcement.EvidenceFile("a.txt", b"abc")
        )
        uow.commit()
    reason = "r" * (enforcement.MAX_REASON + 1)

    def read(uow: Any) -> object:
        return enforcement.read_evidence(uow, runtime.envelope, liaison, incident.id, evidence.id, reason)

    assert refusal(runtime, read) == "/reason"
    naive = enforcement.Move(state="under_review")
    with runtime.uow(Actor.system("test")) as uow:
        enforcement.move_incident(uow, liaison, incident.id, naive)
        uow.commit()
    when = enforcement.Move(state="referred", office="FBI", referred_at=dt.datetime(2026, 6, 1))
    assert (
        refusal(runtime, lambda uow: enforcement.move_incident(uow, liaison, incident.id, when))
        == "/referred_at"
    )
    bogus = enforcement.Move(state="teleported")
    assert (
        refusal(runtime, lambda uow: enforcement.move_incident(uow, liaison, incident.id, bogus)) == "/state"
    )


def test_cli_refusals(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    make_user(
        runtime, "nurse", make_org(runtime, "Hospital", "critical_infrastructure_operator"), ["partner"]
    )
    env = {"CLEARINGHOUSE_HOME": str(settings.home), "CLEARINGHOUSE_DATABASE_URL": settings.database_url}
    cli = CliRunner()
    missing = cli.invoke(
        cli_app, ["incident", "report", "--user", "nurse", str(tmp_path / "none.json")], env=env
    )
    assert missing.exit_code == 2 and "no such file" in missing.output
    (tmp_path / "bad.json").write_text("{")
    assert (
        cli.invoke(
            cli_app, ["incident", "report", "--user", "nurse", str(tmp_path / "bad.json")], env=env
        ).exit_code
        == 2
    )
    (tmp_path / "list.json").write_text("[]")
    listed = cli.invoke(
        cli_app, ["incident", "report", "--user", "nurse", str(tmp_path / "list.json")], env=env
    )
    assert listed.exit_code == 2 and "one JSON object" in listed.output
    absent = cli.invoke(cli_app, ["evidence", "add", "--user", "nurse", "x", str(tmp_path / "none")], env=env)
    assert absent.exit_code == 2
    hidden = cli.invoke(cli_app, ["incident", "move", "--user", "nurse", "no-such", "closed"], env=env)
    assert hidden.exit_code == 2 and "not found" in hidden.output
    (tmp_path / "key.pem").write_text("not a key")
    (tmp_path / "b.zip").write_bytes(b"zip?")
    bad_key = cli.invoke(
        cli_app, ["evidence", "verify", str(tmp_path / "b.zip"), "--key", str(tmp_path / "key.pem")]
    )
    assert bad_key.exit_code == 2
    broken = cli.invoke(cli_app, ["evidence", "verify", str(tmp_path / "b.zip")], env=env)
    assert broken.exit_code == 1 and "not a zip" in broken.output
    bad_env = {"CLEARINGHOUSE_JOB_BACKEND": "nope"}
    assert cli.invoke(cli_app, ["incident", "list", "--user", "nurse"], env=bad_env).exit_code == 2
    assert cli.invoke(cli_app, ["programs", "list"], env=bad_env).exit_code == 2
    assert cli.invoke(cli_app, ["programs", "list"], env=env).exit_code == 0

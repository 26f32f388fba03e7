"""The frontier model review over HTTP and the command line: who sees what,
the 30-day access window, classified policies, CEL errors as problems,
clocks, findings made with a model, and the absence of any release gate."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.main import get_command
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.frontier import models as frontier_models
from clearinghouse.frontier import services
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from clearinghouse.triage import services as triage
from tests.support.factories import make_org, make_token, make_user, subject_of
from tests.support.frontier_fixtures import TERMS

API = "/api/v1/frontier"


def _headers(runtime: Runtime, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, user)}"}


@pytest.fixture
def people(runtime: Runtime) -> dict[str, dict[str, str]]:
    lab = make_org(runtime, "Frontier Labs", "ai_developer")
    rival = make_org(runtime, "Rival AI", "ai_developer")
    gov = make_org(runtime, "Review Agency", "government_agency")
    make_org(runtime, "Grid Defender", "critical_infrastructure_operator")
    make_user(runtime, "dev", lab, ["model_developer"], clearance="CUI")
    make_user(runtime, "rival", rival, ["model_developer"])
    make_user(runtime, "eva", gov, ["evaluator"], clearance="TOP SECRET")
    make_user(runtime, "low", gov, ["evaluator"], clearance="CUI")
    make_user(runtime, "nsa", gov, ["determination_authority"], clearance="TOP SECRET")
    return {name: _headers(runtime, name) for name in ("dev", "rival", "eva", "low", "nsa")}


def _model(client: TestClient, dev: dict[str, str], planned: dt.datetime) -> dict[str, Any]:
    body = {
        "name": "Falcon",
        "version": "2.0",
        "description": "A coding model.",
        "planned_partner_release_at": planned.isoformat(),
        "planned_public_release_at": (planned + dt.timedelta(days=30)).isoformat(),
    }
    made = client.post(f"{API}/models", json=body, headers=dev)
    assert made.status_code == 201, made.text
    assert client.post(f"{API}/models", json=body, headers=dev).status_code == 200  # the same again
    out: dict[str, Any] = made.json()
    return out


def _grant_body(model_id: str, starts: dt.datetime, ends: dt.datetime) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "terms": TERMS,
        "endpoint": {
            "base_url": "https://models.example/v1",
            "api_key": "sk-live-9",
            "model_name": "falcon-2",
        },
        "need_to_know": ["eva"],
    }


def test_developer_sees_its_model_grant_and_only_released_determination(
    runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    dev, rival, eva, low, nsa = (people[k] for k in ("dev", "rival", "eva", "low", "nsa"))
    planned = utcnow().replace(microsecond=0) + dt.timedelta(days=20)
    with TestClient(create_app(runtime)) as client:
        model = _model(client, dev, planned)
        mid = model["id"]
        assert model["marking"]["banner"] == "CUI TLP:RED"
        assert model["earliest_access_start"] == (planned - dt.timedelta(days=30)).isoformat().replace(
            "+00:00", "Z"
        )
        # 31 days before the planned partner release: refused, naming the field and the reason.
        early = client.post(
            f"{API}/grants", json=_grant_body(mid, planned - dt.timedelta(days=31), planned), headers=dev
        )
        assert early.status_code == 422
        problem = early.json()
        assert problem["errors"][0]["pointer"] == "/starts_at"
        assert "no earlier than 30 days before the planned release to trusted partners" in problem["detail"]
        made = client.post(
            f"{API}/grants", json=_grant_body(mid, utcnow() - dt.timedelta(hours=1), planned), headers=dev
        )
        assert made.status_code == 201, made.text
        grant = made.json()
        assert grant["status"] == "proposed" and grant["days_left"] in (19, 20)
        assert "sk-live-9" not in made.text
        accept = {"terms_sha256": grant["terms_sha256"]}
        assert client.post(f"{API}/grants/{grant['id']}:accept", json=accept, headers=dev).status_code == 403
        accepted = client.post(f"{API}/grants/{grant['id']}:accept", json=accept, headers=eva)
        assert accepted.status_code == 200 and accepted.json()["status"] == "active"
        # The developer sees its model and grant; the rival sees nothing, not even that they exist.
        assert [m["id"] for m in client.get(f"{API}/models", headers=dev).json()] == [mid]
        assert client.get(f"{API}/grants/{grant['id']}", headers=dev).json()["status"] == "active"
        for path in (f"/models/{mid}", f"/grants/{grant['id']}", f"/models/{mid}/findings"):
            missing = client.get(f"{API}{path}", headers=rival)
            assert missing.status_code == 404
            nowhere = path.replace(mid, "0" * 36).replace(grant["id"], "0" * 36)
            assert missing.json()["detail"] == client.get(f"{API}{nowhere}", headers=rival).json()["detail"]
        assert client.get(f"{API}/models", headers=rival).json() == []
        assert client.get(f"{API}/grants", headers=rival).json() == []
        # A classified policy: the evaluator cleared below SECRET cannot see it.
        policy = client.post(
            f"{API}/policies",
            json={
                "name": "cyber-frontier",
                "thresholds": [
                    {"name": "offense", "expression": "ctf.tier3.pass_at_10 >= 0.3 || vuln_id.f1 >= 0.9"}
                ],
            },
            headers=eva,
        )
        assert policy.status_code == 201, policy.text
        pid = policy.json()["id"]
        assert policy.json()["marking"]["classification"] == "SECRET"
        assert client.get(f"{API}/policies/{pid}", headers=low).status_code == 404
        assert client.get(f"{API}/policies", headers=low).json() == []
        assert client.get(f"{API}/policies/{pid}", headers=dev).status_code == 404
        bad = client.post(
            f"{API}/policies",
            json={"name": "broken", "thresholds": [{"name": "a", "expression": "ctf.tier3 >= "}]},
            headers=eva,
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/thresholds/0/expression"
        assert "not a valid CEL expression" in bad.json()["detail"]
        # A determination: recorded by the authority only, seen by the developer once released.
        det_body = {"model_id": mid, "outcome": "covered", "rationale": "Tier-3 CTF solved."}
        assert client.post(f"{API}/determinations", json=det_body, headers=eva).status_code == 403
        det = client.post(f"{API}/determinations", json=det_body, headers=nsa)
        assert det.status_code == 201, det.text
        did = det.json()["id"]
        assert client.get(f"{API}/determinations/{did}", headers=dev).status_code == 404
        assert client.get(f"{API}/determinations", headers=dev).json() == []
        release = client.post(
            f"{API}/determinations/{did}:releasability", json={"released": True}, headers=nsa
        )
        assert release.status_code == 200 and release.json()["releasability"] == "released"
        seen = client.get(f"{API}/determinations/{did}", headers=dev)
        assert seen.status_code == 200 and seen.json()["outcome"] == "covered"
        assert client.get(f"{API}/determinations/{did}", headers=rival).status_code == 404
        # Trusted partner: both sides agree.
        partner = client.post(
            f"{API}/partners",
            json={
                "model_id": mid,
                "partner_org": "Grid Defender",
                "purpose": "Hunt bugs in grid software",
                "starts_at": planned.isoformat(),
                "ends_at": (planned + dt.timedelta(days=30)).isoformat(),
                "obligations": ["submit findings through intake", "no redistribution"],
            },
            headers=dev,
        )
        assert partner.status_code == 201, partner.text
        assert partner.json()["status"] == "proposed"
        agreed = client.post(f"{API}/partners/{partner.json()['id']}:agree", headers=nsa)
        assert agreed.json()["status"] == "agreed"
        assert [p["id"] for p in client.get(f"{API}/partners?model_id={mid}", headers=eva).json()] == [
            partner.json()["id"]
        ]
        # Clocks: the window's days left; the developer withdraws and the clock is gone.
        clocks = client.get(f"{API}/clocks", headers=dev).json()
        assert [(c["kind"], c["object_id"]) for c in clocks] == [("access_window", grant["id"])]
        assert clocks[0]["days_left"] in (19, 20) and not clocks[0]["overdue"]
        withdrawn = client.post(f"{API}/grants/{grant['id']}:withdraw", json={"reason": "pause"}, headers=dev)
        assert withdrawn.json()["status"] == "withdrawn"
        assert client.get(f"{API}/clocks", headers=dev).json() == []
        assert client.get(f"{API}/grants/{grant['id']}/uses", headers=dev).json() == []


def test_inquiry_clock_and_findings_made_with_the_model(
    runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    dev, eva = people["dev"], people["eva"]
    partner_org = make_org(runtime, "Bug Hunters", "security_researcher")
    make_user(runtime, "hunter", partner_org, ["partner"])
    hunter = _headers(runtime, "hunter")
    staff = make_org(runtime, "Clearinghouse Staff", "government_agency")
    analyst = make_user(runtime, "triager", staff, ["analyst"])
    planned = utcnow() + dt.timedelta(days=45)
    with TestClient(create_app(runtime)) as client:
        mid = _model(client, dev, planned)["id"]
        inquiry = client.post(f"{API}/inquiries", json={"model_id": mid, "question": "Covered?"}, headers=dev)
        assert inquiry.status_code == 201 and inquiry.json()["days_left"] in (29, 30)
        assert client.post(f"{API}/inquiries", json={"model_id": mid}, headers=dev).status_code == 200
        due = client.get(f"{API}/clocks?within_days=30", headers=eva).json()
        assert [c["kind"] for c in due] == ["inquiry"]
        assert client.get(f"{API}/clocks?within_days=10", headers=eva).json() == []
        ids = []
        for i, version in enumerate(["2.0", "2.0", "1.0", None]):
            generator: dict[str, Any] = {
                "tool": "hunter-kit",
                "model": "falcon",
                "organization": "Bug Hunters",
            }
            if version:
                generator["model_version"] = version
            finding = {
                "title": f"Heap overflow in parser #{i}",
                "package": {"purl": f"pkg:pypi/parser-lib@1.{i}.0"},
                "impact": {"claimed": "code_execution"},
                "generator": generator,
            }
            stored = client.post("/api/v1/findings", json=finding, headers=hunter)
            assert stored.status_code == 201, stored.text
            ids.append(stored.json()["id"])
        with runtime.uow(Actor.user(analyst)) as uow:
            triage.decide(uow, subject_of(runtime, analyst), ids[0], validate=True)
            uow.commit()
        summary = client.get(f"{API}/models/{mid}/findings", headers=dev).json()
        assert summary["total"] == 3 and summary["validated"] == 1 and summary["pending"] == 2
        assert summary["version_unspecified"] == 1 and summary["validated_share"] == 1.0
        assert summary["finding_ids"] == []  # the developer may not read the partner's findings
        assert sorted(client.get(f"{API}/models/{mid}/findings", headers=eva).json()["finding_ids"]) == []
        withdrawn = client.post(f"{API}/inquiries/{inquiry.json()['id']}:withdraw", headers=dev)
        assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["days_left"] is None


# -- no release gate (EO 14409 section 3(c)) --------------------------------------

GATE_WORDS = re.compile(
    r"approv|block|delay|clear(ed)?[-_ ]?for|permit|licen[cs]|preclear|authori[sz]e[-_ ]?release|"
    r"embargo|veto|suspend|postpone",
    re.IGNORECASE,
)


def _gate_free(text: str) -> bool:
    return GATE_WORDS.search(text) is None


def test_no_endpoint_state_or_command_can_gate_a_release(runtime: Runtime) -> None:
    """Section 3(c): nothing approves, blocks or delays a model's release."""
    spec = create_app(runtime).openapi()
    frontier_ops = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/frontier"):
            continue
        for method, op in item.items():
            frontier_ops.append((method, path, op.get("summary", ""), op.get("operationId", "")))
    assert frontier_ops, "the frontier routes are mounted"
    for _method, path, summary, operation in frontier_ops:
        assert _gate_free(path), path
        assert _gate_free(operation), operation
        assert _gate_free(summary), summary
    # No route writes a model but its developer's own register/patch, and no model field is a gate.
    model_writes = [
        (m, p) for m, p, _s, _o in frontier_ops if p.startswith("/api/v1/frontier/models") and m != "get"
    ]
    assert model_writes == [
        ("post", "/api/v1/frontier/models"),
        ("patch", "/api/v1/frontier/models/{model_id}"),
    ]
    model_columns = set(frontier_models.FrontierModel.__table__.columns.keys())
    assert not any(c for c in model_columns if not _gate_free(c)) and "status" not in model_columns
    assert "state" not in model_columns
    # Every state of every frontier enum: none is an approval, a block or a delay.
    enums = [v for v in vars(frontier_models).values() if isinstance(v, type) and issubclass(v, enum.Enum)]
    assert len(enums) >= 5
    for kind in enums:
        for member in kind:
            assert _gate_free(member.name) and _gate_free(str(member.value)), f"{kind.__name__}.{member.name}"
    # Every column of every frontier table.
    for table in frontier_models.FrontierModel.metadata.sorted_tables:
        if table.name.startswith("frontier_") and not table.name.startswith("frontier_eval"):
            for column in table.columns.keys():  # noqa: SIM118 - the names
                assert _gate_free(column), f"{table.name}.{column}"
    # The policy's actions for this part.
    from clearinghouse.access import Action

    for action in Action:
        if action.value.startswith("frontier."):
            assert _gate_free(action.value.replace("partner.approve", "partner")), action
    # Every CLI command under `models` and `determine`.
    group: Any = get_command(cli_app)
    names = []
    for name in ("models", "determine"):
        command = group.commands[name]
        names.append(name)
        for sub in getattr(command, "commands", {}).values():
            names.append(sub.name)
            names.extend(p.name for p in sub.params if p.name)
    assert "register" in names and "grant" in names
    for name in names:
        assert _gate_free(name), name


def test_government_cannot_move_a_planned_release(
    runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    planned = utcnow() + dt.timedelta(days=20)
    with TestClient(create_app(runtime)) as client:
        mid = _model(client, people["dev"], planned)["id"]
        later = {
            "planned_partner_release_at": (planned + dt.timedelta(days=90)).isoformat(),
            "planned_public_release_at": (planned + dt.timedelta(days=120)).isoformat(),
        }
        for who in ("eva", "nsa"):
            assert client.patch(f"{API}/models/{mid}", json=later, headers=people[who]).status_code == 403
        moved = client.patch(f"{API}/models/{mid}", json=later, headers=people["dev"])
        assert moved.status_code == 200


def test_models_and_determine_from_the_command_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runtime: Runtime
) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    lab = make_org(runtime, "Frontier Labs", "ai_developer")
    gov = make_org(runtime, "Review Agency", "government_agency")
    make_user(runtime, "dev", lab, ["model_developer"])
    make_user(runtime, "eva", gov, ["evaluator"], clearance="SECRET")
    make_user(runtime, "nsa", gov, ["determination_authority"], clearance="SECRET")
    runner = CliRunner()
    planned = (utcnow() + dt.timedelta(days=20)).date()
    result: Any = runner.invoke(
        cli_app,
        [
            "models",
            "register",
            "--user",
            "dev",
            "--name",
            "Falcon",
            "--version",
            "2",
            "--partner-release",
            str(planned),
        ],
    )
    assert result.exit_code == 0, result.output
    model_id = re.search(r"id=(\S+)", result.output).group(1)  # type: ignore[union-attr]
    assert "registered model Falcon 2" in result.output
    listed = runner.invoke(cli_app, ["models", "list", "--user", "eva"])
    assert listed.exit_code == 0 and "Falcon" in listed.output
    # Not a terminal (a pipe): the id and the release date whole; JSON with the full release time.
    assert model_id in listed.output and "…" not in listed.output
    as_json = runner.invoke(cli_app, ["models", "list", "--user", "eva", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    (falcon,) = [m for m in json.loads(as_json.output) if m["id"] == model_id]
    partner = dt.datetime.fromisoformat(falcon["partner_release"])
    assert partner.tzinfo is not None and partner.date().isoformat() in listed.output
    assert falcon["name"] == "Falcon" and falcon["public_release"] is None
    as_csv = runner.invoke(cli_app, ["models", "list", "--user", "eva", "--format", "csv"])
    assert as_csv.output.splitlines()[0] == "id,name,version,partner_release,public_release,marking"
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps(TERMS))
    common = [
        "--user",
        "dev",
        "--terms",
        str(terms),
        "--endpoint",
        "https://m.example/v1",
        "--endpoint-model",
        "f",
    ]
    too_early = str(planned - dt.timedelta(days=31))
    refused = runner.invoke(
        cli_app,
        ["models", "grant", model_id, *common, "--starts", too_early, "--ends", str(planned)],
        env={"CLEARINGHOUSE_MODEL_API_KEY": "sk-1"},
    )
    assert refused.exit_code == 2 and "/starts_at" in refused.output and "30 days" in refused.output
    granted = runner.invoke(
        cli_app,
        [
            "models",
            "grant",
            model_id,
            *common,
            "--starts",
            str(dt.date.today()),
            "--ends",
            str(planned),
            "--need-to-know",
            "eva",
        ],
        env={"CLEARINGHOUSE_MODEL_API_KEY": "sk-1"},
    )
    assert granted.exit_code == 0, granted.output
    grant_id = re.search(r"access id=(\S+)", granted.output).group(1)  # type: ignore[union-attr]
    digest = re.search(r"sha256=([0-9a-f]{64})", granted.output).group(1)  # type: ignore[union-attr]
    accepted = runner.invoke(
        cli_app, ["models", "accept", grant_id, "--user", "eva", "--terms-sha256", digest]
    )
    assert accepted.exit_code == 0, accepted.output
    inquired = runner.invoke(
        cli_app, ["models", "inquire", model_id, "--user", "dev", "--question", "Covered?"]
    )
    assert inquired.exit_code == 0 and "is open" in inquired.output
    clocks = runner.invoke(cli_app, ["models", "clocks", "--user", "dev"])
    assert clocks.exit_code == 0 and "access_window" in clocks.output and "inquiry" in clocks.output
    denied = runner.invoke(
        cli_app, ["determine", model_id, "--user", "eva", "--outcome", "covered", "--rationale", "r"]
    )
    assert denied.exit_code == 2
    det = runner.invoke(
        cli_app, ["determine", model_id, "--user", "nsa", "--outcome", "not_covered", "--rationale", "below"]
    )
    assert det.exit_code == 0, det.output
    det_id = re.search(r"determination (\S+):", det.output).group(1)  # type: ignore[union-attr]
    released = runner.invoke(cli_app, ["models", "releasability", det_id, "--user", "nsa", "--released"])
    assert released.exit_code == 0 and "released" in released.output
    withdrawn = runner.invoke(cli_app, ["models", "withdraw", grant_id, "--user", "dev", "--reason", "done"])
    assert withdrawn.exit_code == 0 and "withdrew" in withdrawn.output
    assert runner.invoke(cli_app, ["models", "list", "--user", "nobody"]).exit_code == 2
    bad_date = runner.invoke(
        cli_app,
        ["models", "register", "--user", "dev", "--name", "X", "--version", "1", "--partner-release", "soon"],
    )
    assert bad_date.exit_code == 2 and "ISO 8601" in bad_date.output
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert services.is_covered(uow.session, model_id) is False

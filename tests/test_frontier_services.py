"""Frontier model review, use case by use case: models, inquiries, access
grants and the endpoint, determinations and their release, trusted partners,
findings made with a model, clocks. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from clearinghouse.access import Classification, Forbidden, Marking, NotFound
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import (
    EndpointCredential,
    is_covered,
    model_exists,
    model_for_grant,
    open_endpoint,
    services,
    trusted_partner_agreed,
)
from clearinghouse.frontier._cel import Threshold
from clearinghouse.frontier.models import AccessGrant, Designation, GrantStatus
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from tests.support.frontier_fixtures import PLANNED, TERMS, World, grant, make_world, register

INSIDE = PLANNED - dt.timedelta(days=10)


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def test_developer_sees_its_model_and_another_developer_nothing(world: World) -> None:
    model_id = register(world)
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        model = services.get_model(uow.session, world.dev, model_id)
        assert model.marking.classification is Classification.CUI
        assert [m.id for m in services.list_models(uow.session, world.dev)] == [model_id]
        for outsider in (world.other_dev, world.analyst, world.partner):
            with pytest.raises(NotFound):
                services.get_model(uow.session, outsider, model_id)
            assert services.list_models(uow.session, outsider) == []
        # Cleared government roles see it.
        assert services.get_model(uow.session, world.evaluator, model_id).id == model_id
        assert model_exists(uow.session, model_id) and not model_exists(uow.session, "nope")


def test_register_is_idempotent_and_refuses_others(world: World) -> None:
    first = register(world)
    assert register(world) == first
    with world.runtime.uow(world.actor(world.dev)) as uow:
        with pytest.raises(Conflict) as err:
            services.register_model(
                uow, world.dev, services.ModelDraft("Falcon", "2.0", PLANNED + dt.timedelta(days=1))
            )
        assert err.value.pointer == "/version"
        with pytest.raises(InvalidInput) as bad:
            services.register_model(
                uow,
                world.dev,
                services.ModelDraft(
                    "Hawk", "1", PLANNED, planned_public_release_at=PLANNED - dt.timedelta(1)
                ),
            )
        assert bad.value.pointer == "/planned_public_release_at"
        with pytest.raises(InvalidInput) as ancient:
            services.register_model(
                uow, world.dev, services.ModelDraft("Hawk", "1", dt.datetime(1, 1, 2, tzinfo=dt.UTC))
            )
        assert ancient.value.pointer == "/planned_partner_release_at"
        for outsider in (world.evaluator, world.partner):
            with pytest.raises(Forbidden):
                services.register_model(uow, outsider, services.ModelDraft("X", "1", PLANNED))


def test_only_the_developer_changes_planned_dates(world: World) -> None:
    model_id = register(world)
    later = PLANNED + dt.timedelta(days=7)
    with world.runtime.uow(world.actor(world.authority)) as uow, pytest.raises(Forbidden):
        services.update_model(
            uow, world.authority, model_id, services.ModelChanges(planned_partner_release_at=later)
        )
    with world.runtime.uow(world.actor(world.dev)) as uow:
        model = services.update_model(
            uow,
            world.dev,
            model_id,
            services.ModelChanges(description="new", planned_partner_release_at=later),
        )
        uow.commit()
    assert model.planned_partner_release_at == later and model.description == "new"


def test_window_opened_31_days_before_is_refused(world: World) -> None:
    model_id = register(world)
    with pytest.raises(InvalidInput) as err:
        grant(world, model_id, starts_at=PLANNED - dt.timedelta(days=31))
    assert err.value.pointer == "/starts_at"
    assert "no earlier than 30 days before the planned release to trusted partners" in err.value.detail
    assert "starts 31 days before" in err.value.detail
    with pytest.raises(InvalidInput) as late:
        grant(world, model_id, ends_at=PLANNED + dt.timedelta(hours=1))
    assert late.value.pointer == "/ends_at"
    # Exactly 30 days is allowed.
    assert grant(world, model_id, starts_at=PLANNED - dt.timedelta(days=30))


def test_grant_terms_and_need_to_know_are_checked(world: World) -> None:
    model_id = register(world)
    base = services.GrantDraft(
        model_id=model_id,
        starts_at=INSIDE,
        ends_at=PLANNED,
        terms=TERMS,
        endpoint=services.EndpointDraft("https://m.example/v1", "k", "falcon"),
        need_to_know=["eva"],
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"terms": {**TERMS, "use": " "}}, "/terms/use"),
        ({"terms": {**TERMS, "extra": "x"}}, "/terms/extra"),
        ({"endpoint": services.EndpointDraft("ftp://m", "k", "f")}, "/endpoint/base_url"),
        ({"endpoint": services.EndpointDraft("https://m", "", "f")}, "/endpoint/api_key"),
        ({"endpoint": services.EndpointDraft("https://m", "k", " ")}, "/endpoint/model_name"),
        ({"need_to_know": ["eva", "ghost"]}, "/need_to_know/1"),
        ({"need_to_know": ["dev"]}, "/need_to_know/0"),
        ({"ends_at": INSIDE}, "/ends_at"),
    ]
    for change, pointer in cases:
        draft = services.GrantDraft(**{**base.__dict__, **change})
        with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(InvalidInput) as err:
            services.grant_access(uow, world.dev, world.runtime.envelope, draft, now=INSIDE)
        assert err.value.pointer == pointer, change
    with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(InvalidInput) as closed:
        services.grant_access(uow, world.dev, world.runtime.envelope, base, now=PLANNED)
    assert closed.value.pointer == "/ends_at"
    with world.runtime.uow(world.actor(world.other_dev)) as uow, pytest.raises(NotFound):
        services.grant_access(uow, world.other_dev, world.runtime.envelope, base, now=INSIDE)


def test_grant_lifecycle_endpoint_use_and_ledger(world: World) -> None:
    model_id = register(world)
    early = PLANNED - dt.timedelta(days=40)
    grant_id = grant(world, model_id, accept=False)
    again = grant(world, model_id, accept=False)
    assert again == grant_id  # same request: same grant
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        stored = services.get_grant(uow.session, world.dev, grant_id)
        assert stored.status_at(early) is GrantStatus.PROPOSED
        assert b"sk-secret-123" not in stored.endpoint_ciphertext
        assert services.model_for_grant(uow.session, world.dev, grant_id).id == model_id
        with pytest.raises(NotFound):
            model_for_grant(uow.session, world.other_dev, grant_id)
    # The developer cannot accept for the government; the terms digest must match.
    with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(Forbidden):
        services.accept_grant(uow, world.dev, grant_id, stored.terms_sha256)
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict):
        services.accept_grant(uow, world.evaluator, grant_id, "0" * 64)
    # Not yet accepted: nobody can use it.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict):
        open_endpoint(uow, world.evaluator, grant_id, "ctf run", envelope=world.runtime.envelope, now=INSIDE)
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        services.accept_grant(uow, world.evaluator, grant_id, stored.terms_sha256, ["eva", "nsa"], now=early)
        services.accept_grant(uow, world.evaluator, grant_id, stored.terms_sha256, now=early)  # again: same
        uow.commit()
    # Scheduled: the window has not opened.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict) as sched:
        open_endpoint(uow, world.evaluator, grant_id, "ctf run", envelope=world.runtime.envelope, now=early)
    assert "scheduled" in sched.value.detail
    # Active: on the list, it opens; off the list (cleared or not) it does not.
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        cred = open_endpoint(
            uow, world.evaluator, grant_id, "ctf run", envelope=world.runtime.envelope, now=INSIDE
        )
        uow.commit()
    assert cred == EndpointCredential(
        "https://models.example/v1", "sk-secret-123", "falcon-2", grant_id, model_id
    )
    assert "sk-secret" not in repr(cred)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        open_endpoint(
            uow, world.authority, grant_id, "spot check", envelope=world.runtime.envelope, now=INSIDE
        )
        uow.commit()
    for outsider, error in (
        (world.low_evaluator, Forbidden),
        (world.dev, Forbidden),
        (world.other_dev, NotFound),
    ):
        with world.runtime.uow(world.actor(outsider)) as uow, pytest.raises(error):
            open_endpoint(uow, outsider, grant_id, "x", envelope=world.runtime.envelope, now=INSIDE)
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(InvalidInput):
        open_endpoint(uow, world.evaluator, grant_id, " ", envelope=world.runtime.envelope, now=INSIDE)
    # Every use is in the ledger, and the developer can read them.
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        uses = services.endpoint_uses(uow.session, world.dev, grant_id)
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == services.ENDPOINT_USED)
        ).all()
    assert [u.purpose for u in uses] == ["ctf run", "spot check"]
    assert [u.user_id for u in uses] == [world.evaluator.user_id, world.authority.user_id]
    assert len(events) == 2 and all(e.object_id == grant_id for e in events)
    # The grant ends by itself when the window closes.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict) as ended:
        open_endpoint(uow, world.evaluator, grant_id, "late", envelope=world.runtime.envelope, now=PLANNED)
    assert "ended" in ended.value.detail


def test_developer_withdraws_at_any_time(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Forbidden):
        services.withdraw_grant(uow, world.evaluator, grant_id)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        withdrawn = services.withdraw_grant(uow, world.dev, grant_id, "paused the programme")
        services.withdraw_grant(uow, world.dev, grant_id, "again")  # nothing changes
        uow.commit()
    assert withdrawn.status_at(INSIDE) is GrantStatus.WITHDRAWN
    assert withdrawn.withdrawal_reason == "paused the programme"
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict) as err:
        open_endpoint(uow, world.evaluator, grant_id, "x", envelope=world.runtime.envelope, now=INSIDE)
    assert "withdrawn" in err.value.detail
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict):
        services.accept_grant(uow, world.evaluator, grant_id, withdrawn.terms_sha256)
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        events = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == grant_id).order_by(AuditEvent.seq)
        ).all()
    assert events == ["frontier_grant.created", "frontier_grant.accepted", "frontier_grant.withdrawn"]


def _policy(world: World, expression: str, classification: Classification = Classification.SECRET) -> str:
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        policy, _ = services.define_policy(
            uow,
            world.evaluator,
            services.PolicyDraft(
                name="cyber-frontier",
                thresholds=[Threshold("offense", expression)],
                marking=Marking(owner_org_id=world.gov_org, classification=classification),
            ),
        )
        uow.commit()
    return policy.id


def test_policies_are_versioned_validated_and_classified(world: World) -> None:
    first = _policy(world, "ctf.tier3.pass_at_10 >= 0.3 || vuln_id.f1 >= 0.9")
    assert _policy(world, "ctf.tier3.pass_at_10 >= 0.3 || vuln_id.f1 >= 0.9") == first  # unchanged
    second = _policy(world, "ctf.tier3.pass_at_10 >= 0.25")
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        versions = [(p.name, p.version) for p in services.list_policies(uow.session, world.evaluator)]
        assert versions == [("cyber-frontier", 2), ("cyber-frontier", 1)]
        assert services.get_policy(uow.session, world.evaluator, second).version == 2
        # An evaluator cleared below SECRET, a developer, an analyst: nothing.
        for outsider in (world.low_evaluator, world.dev, world.analyst):
            with pytest.raises(NotFound):
                services.get_policy(uow.session, outsider, first)
            assert services.list_policies(uow.session, outsider) == []
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        with pytest.raises(InvalidInput) as err:
            services.define_policy(
                uow,
                world.evaluator,
                services.PolicyDraft(
                    "p", [Threshold("a", "x > 1"), Threshold("b", "ctf >= ")], Marking(world.gov_org)
                ),
            )
        assert (
            err.value.pointer == "/thresholds/1/expression"
            and "not a valid CEL expression" in err.value.detail
        )
        with pytest.raises(InvalidInput):
            services.define_policy(
                uow, world.evaluator, services.PolicyDraft("p", [], Marking(world.gov_org))
            )
        with pytest.raises(InvalidInput) as dup:
            services.define_policy(
                uow,
                world.evaluator,
                services.PolicyDraft(
                    "p", [Threshold("a", "true"), Threshold("a", "true")], Marking(world.gov_org)
                ),
            )
        assert dup.value.pointer == "/thresholds/1/name"
        for outsider in (world.low_evaluator, world.dev):
            with pytest.raises(Forbidden):
                services.define_policy(
                    uow,
                    outsider,
                    services.PolicyDraft(
                        "p",
                        [Threshold("a", "true")],
                        Marking(world.gov_org, classification=Classification.SECRET),
                    ),
                )


def _recommend(world: World, policy_id: str, model_id: str, metrics: dict[str, float]) -> str:
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        policy = services.get_policy(uow.session, world.evaluator, policy_id)
        model = services.get_model(uow.session, world.evaluator, model_id)
        rec = services.recommend_from_metrics(uow, world.evaluator, policy, model, "campaign-1", metrics)
        uow.commit()
    return rec.id


def test_determination_is_seen_by_the_developer_only_once_released(world: World) -> None:
    model_id = register(world)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        inquiry, created = services.open_inquiry(uow, world.dev, model_id, "Is Falcon covered?")
        again, created_again = services.open_inquiry(uow, world.dev, model_id)
        uow.commit()
    assert created and not created_again and again.id == inquiry.id
    policy_id = _policy(world, "ctf.tier3.pass_at_10 >= 0.3 || vuln_id.f1 >= 0.9")
    rec_id = _recommend(world, policy_id, model_id, {"ctf.tier3.pass_at_10": 0.4, "vuln_id.f1": 0.5})
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        rec = services.get_recommendation(uow.session, world.evaluator, rec_id)
        assert rec.covered
        assert rec.evaluations[0]["values"] == {"ctf.tier3.pass_at_10": 0.4, "vuln_id.f1": 0.5}
        with pytest.raises(NotFound):
            services.get_recommendation(uow.session, world.dev, rec_id)
    draft = services.DeterminationDraft(model_id, Designation.COVERED, "Tier-3 CTF at 0.4.", rec_id)
    # Only the determination authority determines.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Forbidden):
        services.determine(uow, world.evaluator, draft)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        with pytest.raises(InvalidInput):
            services.determine(
                uow, world.authority, services.DeterminationDraft(model_id, Designation.COVERED, " ")
            )
        with pytest.raises(InvalidInput):
            services.determine(
                uow,
                world.authority,
                services.DeterminationDraft(model_id, Designation.COVERED, "r", "missing"),
            )
        det = services.determine(uow, world.authority, draft)
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        assert is_covered(uow.session, model_id)
        with pytest.raises(NotFound):
            services.get_determination(uow.session, world.dev, det.id)
        assert services.list_determinations(uow.session, world.dev, model_id) == []
        assert services.get_inquiry(uow.session, world.dev, inquiry.id).status == "open"
    # Withholding keeps it hidden; releasing shows it and answers the inquiry.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Forbidden):
        services.decide_releasability(uow, world.evaluator, det.id, True)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        services.decide_releasability(uow, world.authority, det.id, False, "pending review")
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow, pytest.raises(NotFound):
        services.get_determination(uow.session, world.dev, det.id)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        services.decide_releasability(uow, world.authority, det.id, True, "releasable")
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        seen = services.get_determination(uow.session, world.dev, det.id)
        assert seen.outcome == "covered" and seen.rationale == "Tier-3 CTF at 0.4."
        answered = services.get_inquiry(uow.session, world.dev, inquiry.id)
        assert answered.status == "answered" and answered.determination_id == det.id
        with pytest.raises(NotFound):
            services.get_determination(uow.session, world.other_dev, det.id)
        # The recommendation (government work) stays unreleased.
        assert services.list_recommendations(uow.session, world.dev, model_id) == []
        assert [r.id for r in services.list_recommendations(uow.session, world.evaluator, model_id)] == [
            rec_id
        ]


def test_inquiry_withdrawal(world: World) -> None:
    model_id = register(world)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        inquiry, _ = services.open_inquiry(uow, world.dev, model_id)
        uow.commit()
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Forbidden):
        services.withdraw_inquiry(uow, world.evaluator, inquiry.id)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        assert services.withdraw_inquiry(uow, world.dev, inquiry.id).status == "withdrawn"
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        assert [i.status for i in services.list_inquiries(uow.session, world.dev, model_id)] == ["withdrawn"]
        assert services.list_inquiries(uow.session, world.other_dev) == []


def _cover(world: World, model_id: str, *, release: bool = True) -> None:
    with world.runtime.uow(world.actor(world.authority)) as uow:
        det = services.determine(
            uow, world.authority, services.DeterminationDraft(model_id, Designation.COVERED, "covered")
        )
        if release:
            services.decide_releasability(uow, world.authority, det.id, True)
        uow.commit()


def test_trusted_partners_need_both_sides(world: World) -> None:
    model_id = register(world)
    start, end = PLANNED, PLANNED + dt.timedelta(days=60)
    draft = services.PartnerDraft(
        model_id,
        "Grid Defender",
        "Find bugs in grid software",
        start,
        end,
        ["report findings through intake"],
    )
    with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(Conflict):
        services.propose_partner(uow, world.dev, draft)  # not covered yet
    _cover(world, model_id, release=False)
    with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(Conflict):
        services.propose_partner(uow, world.dev, draft)  # covered but not released to the developer
    _cover(world, model_id)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        for change, pointer in (
            ({"partner_org": "nobody"}, "/partner_org"),
            ({"partner_org": "Frontier Labs"}, "/partner_org"),
            ({"purpose": ""}, "/purpose"),
            ({"ends_at": start}, "/ends_at"),
            ({"obligations": []}, "/obligations"),
        ):
            with pytest.raises(InvalidInput) as err:
                services.propose_partner(
                    uow, world.dev, services.PartnerDraft(**{**draft.__dict__, **change})
                )
            assert err.value.pointer == pointer
        partner, created = services.propose_partner(uow, world.dev, draft)
        assert created and services.propose_partner(uow, world.dev, draft) == (partner, False)
        uow.commit()
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        assert not trusted_partner_agreed(uow.session, model_id, world.partner_org, start)
        with pytest.raises(NotFound):
            services.get_partner(uow.session, world.partner, partner.id)  # not agreed: not shown to it
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Forbidden):
        services.agree_partner(uow, world.evaluator, partner.id)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        agreed = services.agree_partner(uow, world.authority, partner.id)
        services.agree_partner(uow, world.authority, partner.id)
        uow.commit()
    assert agreed.status == "agreed"
    with world.runtime.uow(world.actor(world.partner), write=False) as uow:
        assert trusted_partner_agreed(uow.session, model_id, world.partner_org, start)
        assert not trusted_partner_agreed(uow.session, model_id, world.partner_org, end)
        assert not trusted_partner_agreed(uow.session, model_id, world.other_dev_org, start)
        assert (
            services.get_partner(uow.session, world.partner, partner.id).purpose
            == "Find bugs in grid software"
        )
        assert [p.id for p in services.list_partners(uow.session, world.dev, model_id)] == [partner.id]
        with pytest.raises(NotFound):
            services.get_model(
                uow.session, world.partner, model_id
            )  # the partner sees its grant, not the file
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.withdraw_partner(uow, world.dev, partner.id)
        uow.commit()
    with world.runtime.uow(world.actor(world.dev)) as uow:
        assert not trusted_partner_agreed(uow.session, model_id, world.partner_org, start)
        with pytest.raises(Conflict):
            services.agree_partner(uow, world.dev, partner.id)


def test_is_covered_follows_the_latest_determination(world: World) -> None:
    model_id = register(world)
    with world.runtime.uow(world.actor(world.authority), write=False) as uow:
        assert not is_covered(uow.session, model_id)
    _cover(world, model_id)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        services.determine(
            uow, world.authority, services.DeterminationDraft(model_id, Designation.NOT_COVERED, "re-run")
        )
        uow.commit()
    with world.runtime.uow(world.actor(world.authority), write=False) as uow:
        assert not is_covered(uow.session, model_id)


def test_clocks_show_days_left(world: World) -> None:
    model_id = register(world)
    other_model = register(world, "Kestrel", "1")
    grant(world, model_id)
    withdrawn = grant(world, other_model)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.withdraw_grant(uow, world.dev, withdrawn)
        inquiry, _ = services.open_inquiry(uow, world.dev, model_id, now=PLANNED - dt.timedelta(days=41))
        uow.commit()
    now = PLANNED - dt.timedelta(days=12)
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        items = services.clocks(uow.session, world.dev, now=now)
        assert [(c.kind, c.days_left, c.overdue) for c in items] == [
            ("inquiry", 1, False),
            ("access_window", 12, False),
        ]
        assert items[1].status == "active"
        assert services.clocks(uow.session, world.dev, within_days=5, now=now)[0].object_id == inquiry.id
        assert services.clocks(uow.session, world.other_dev, now=now) == []
        late = services.clocks(uow.session, world.evaluator, now=PLANNED - dt.timedelta(days=5))
        assert late[0].kind == "inquiry" and late[0].overdue and late[0].days_left == -6
        after = services.clocks(uow.session, world.dev, now=PLANNED + dt.timedelta(days=40))
        assert [c.kind for c in after] == ["inquiry"]  # the window ended by itself


def test_grant_stored_status_is_computed_not_stored(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        stored = uow.session.get(AccessGrant, grant_id)
        assert stored is not None
        assert stored.status_at(PLANNED - dt.timedelta(days=31)) is GrantStatus.SCHEDULED
        assert stored.status_at(INSIDE) is GrantStatus.ACTIVE
        assert stored.status_at(PLANNED) is GrantStatus.ENDED
        assert [g.id for g in services.list_grants(uow.session, world.evaluator, model_id)] == [grant_id]
        assert services.list_grants(uow.session, world.other_dev) == []

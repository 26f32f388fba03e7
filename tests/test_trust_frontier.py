"""Issue 14, defect 12: the frontier review leftovers."""

from __future__ import annotations

import datetime as dt

import pytest

from clearinghouse.access import TLP, Classification, Forbidden, Marking
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import services
from clearinghouse.frontier.evaluation.models import EvalCampaign
from clearinghouse.frontier.models import AccessGrant, Designation, GrantStatus
from clearinghouse.runtime import Runtime
from tests.support.factories import make_user, subject_of
from tests.support.frontier_fixtures import PLANNED, World, grant, make_world, register

INSIDE = PLANNED - dt.timedelta(days=10)


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def test_moving_the_release_earlier_ends_grants_there(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    earlier = PLANNED - dt.timedelta(days=12)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.update_model(
            uow, world.dev, model_id, services.ModelChanges(planned_partner_release_at=earlier)
        )
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        stored = uow.session.get(AccessGrant, grant_id)
        assert stored is not None and stored.ends_at == earlier
        assert stored.status_at(earlier + dt.timedelta(days=1)) is GrantStatus.ENDED
    # A window wholly after the new date is withdrawn.
    later_start = grant(world, model_id, starts_at=earlier - dt.timedelta(days=5), ends_at=earlier)
    even_earlier = earlier - dt.timedelta(days=7)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.update_model(
            uow, world.dev, model_id, services.ModelChanges(planned_partner_release_at=even_earlier)
        )
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        assert uow.session.get(AccessGrant, later_start).withdrawn_at is not None  # type: ignore[union-attr]


def test_accepting_again_with_another_need_to_know_list_is_refused(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        stored = services.get_grant(uow.session, world.evaluator, grant_id)
        with pytest.raises(Conflict) as refused:
            services.accept_grant(uow, world.evaluator, grant_id, stored.terms_sha256, ["nsa"], now=INSIDE)
        assert refused.value.pointer == "/need_to_know"
        same = services.accept_grant(uow, world.evaluator, grant_id, stored.terms_sha256, ["eva"], now=INSIDE)
        assert same.need_to_know == stored.need_to_know


def test_campaigns_need_a_grant_that_can_still_be_used(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        assert services.model_for_grant(uow.session, world.evaluator, grant_id, now=INSIDE).id == model_id
        with pytest.raises(Conflict) as ended:
            services.model_for_grant(uow.session, world.evaluator, grant_id, now=PLANNED)
        assert ended.value.pointer == "/grant_id" and "ended" in ended.value.detail
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.withdraw_grant(uow, world.dev, grant_id, "done")
        uow.commit()
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow, pytest.raises(Conflict):
        services.model_for_grant(uow.session, world.evaluator, grant_id, now=INSIDE)


def test_a_partner_grant_wholly_in_the_past_is_refused(world: World) -> None:
    model_id = register(world)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        det = services.determine(
            uow, world.authority, services.DeterminationDraft(model_id, Designation.COVERED, "covered")
        )
        services.decide_releasability(uow, world.authority, det.id, True)
        uow.commit()
    past = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    draft = services.PartnerDraft(
        model_id, "Grid Defender", "grid", past, past + dt.timedelta(days=30), ["report findings"]
    )
    with world.runtime.uow(world.actor(world.dev)) as uow, pytest.raises(InvalidInput) as refused:
        services.propose_partner(uow, world.dev, draft)
    assert refused.value.pointer == "/ends_at"


def test_the_use_log_hides_campaigns_the_reader_may_not_read(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    rt = world.runtime
    with rt.uow(world.actor(world.evaluator)) as uow:
        campaign = EvalCampaign(name="compartmented", grant_id=grant_id, model_id=model_id, suite_ids=[])
        campaign.set_marking(
            Marking(world.gov_org, TLP.RED, Classification.SECRET, compartments=frozenset({"HCS"}))
        )
        uow.session.add(campaign)
        uow.flush()
        services.open_endpoint(
            uow,
            world.evaluator,
            grant_id,
            f"evaluation campaign {campaign.id}",
            envelope=rt.envelope,
            now=INSIDE,
        )
        uow.commit()
    hcs = subject_of(
        rt, make_user(rt, "hcs", world.gov_org, ["evaluator"], clearance="TOP SECRET", compartments=["HCS"])
    )
    with rt.uow(world.actor(world.evaluator), write=False) as uow:
        for reader in (world.evaluator, world.dev):
            uses = services.endpoint_uses(uow.session, reader, grant_id)
            assert [u.purpose for u in uses] == ["evaluation campaign (not shown)"]
            assert campaign.id not in repr(uses)
        assert [u.purpose for u in services.endpoint_uses(uow.session, hcs, grant_id)] == [
            f"evaluation campaign {campaign.id}"
        ]


def test_refusals_name_what_was_tried(world: World) -> None:
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        with pytest.raises(Forbidden, match="not allowed to withdraw this frontier_grant"):
            services.withdraw_grant(uow, world.evaluator, grant_id)
        with pytest.raises(Forbidden, match="not allowed to change this frontier_model"):
            services.update_model(uow, world.evaluator, model_id, services.ModelChanges(description="x"))
        with pytest.raises(Forbidden, match="not allowed to open an inquiry about this frontier_model"):
            services.open_inquiry(uow, world.evaluator, model_id)


def test_thirty_days_and_a_second_is_not_thirty_one_days(world: World) -> None:
    model_id = register(world)
    with pytest.raises(InvalidInput) as refused:
        grant(world, model_id, starts_at=PLANNED - dt.timedelta(days=30, seconds=1))
    assert "starts 30 days and 1 second before it" in refused.value.detail
    assert "31 days" not in refused.value.detail
    assert services.describe_span(dt.timedelta(days=2, hours=1, minutes=3)) == "2 days, 1 hour and 3 minutes"

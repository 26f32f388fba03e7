"""The seven invariants of EO 14409 that the clearinghouse must never break, one test each.

Each test names the section of the order it holds the code to (see ``shared/policy/eo14409.md``).
They exercise the real services, API and pages on both databases; the detailed behaviour lives in
the feature tests (``test_frontier_*``, ``test_programs*``, ``test_notifications``), this module is
the one place a reader checks that the order as written still holds.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clearinghouse.access import Forbidden, NotFound
from clearinghouse.api.app import create_app
from clearinghouse.domain import VOLUNTARY_NOTICE, promise_words_in
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import services
from clearinghouse.frontier.models import Designation, GrantStatus
from clearinghouse.frontier.services import open_endpoint, trusted_partner_agreed
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user
from tests.support.frontier_fixtures import PLANNED, World, grant, make_world, register

INSIDE = PLANNED - dt.timedelta(days=10)
TEMPLATES = Path(__file__).resolve().parents[1] / "src/clearinghouse/web/templates"


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def _cover(world: World, model_id: str, *, release: bool) -> str:
    with world.runtime.uow(world.actor(world.authority)) as uow:
        det = services.determine(
            uow, world.authority, services.DeterminationDraft(model_id, Designation.COVERED, "tier 3 at 0.4")
        )
        if release:
            services.decide_releasability(uow, world.authority, det.id, True, "releasable")
        uow.commit()
    return det.id


def test_section_3c_no_step_approves_blocks_or_delays_a_release(world: World) -> None:
    """§3(c): a designation, a withdrawn grant or a refused partner changes nothing about when the
    developer releases; only the developer moves its own release dates."""
    model_id = register(world)
    grant_id = grant(world, model_id)
    _cover(world, model_id, release=True)
    with world.runtime.uow(world.actor(world.dev)) as uow:
        services.withdraw_grant(uow, world.dev, grant_id, "changed plans")
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        model = services.get_model(uow.session, world.dev, model_id)
        assert model.planned_partner_release_at == PLANNED  # untouched by any government step
    for government in (world.evaluator, world.authority):
        with world.runtime.uow(world.actor(government)) as uow, pytest.raises((Forbidden, NotFound)):
            services.update_model(
                uow,
                government,
                model_id,
                services.ModelChanges(planned_partner_release_at=PLANNED + dt.timedelta(days=90)),
            )
    with world.runtime.uow(world.actor(world.dev)) as uow:
        moved = services.update_model(
            uow,
            world.dev,
            model_id,
            services.ModelChanges(planned_partner_release_at=PLANNED - dt.timedelta(days=5)),
        )
        uow.commit()
    assert moved.planned_partner_release_at == PLANNED - dt.timedelta(days=5)
    columns = set(type(moved).__table__.columns.keys())
    assert not columns & {"status", "state", "approved", "cleared", "blocked", "release_allowed"}


def test_section_3b_ii_access_starts_at_most_30_days_before_the_trusted_partner_release(world: World) -> None:
    """§3(b)(ii): access for up to 30 days before the release to other trusted partners."""
    model_id = register(world)
    with pytest.raises(InvalidInput) as early:
        grant(world, model_id, starts_at=PLANNED - dt.timedelta(days=30, seconds=1))
    assert early.value.pointer == "/starts_at"
    with pytest.raises(InvalidInput) as past_release:
        grant(world, model_id, ends_at=PLANNED + dt.timedelta(seconds=1))
    assert past_release.value.pointer == "/ends_at"
    assert grant(world, model_id, starts_at=PLANNED - dt.timedelta(days=30))


def test_section_3a_only_the_determination_authority_determines(world: World) -> None:
    """§3(a): the Director of NSA (the determination authority role) makes the determination."""
    model_id = register(world)
    draft = services.DeterminationDraft(model_id, Designation.COVERED, "tier 3 at 0.4")
    for other in (world.evaluator, world.analyst, world.dev, world.partner):
        with world.runtime.uow(world.actor(other)) as uow, pytest.raises((Forbidden, NotFound)):
            services.determine(uow, other, draft)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        assert services.determine(uow, world.authority, draft).outcome == "covered"


def test_section_3a_developers_see_assessments_only_as_released(world: World) -> None:
    """§3(a): assessments are shared with developers as appropriate, by a separate decision."""
    model_id = register(world)
    det_id = _cover(world, model_id, release=False)
    with world.runtime.uow(world.actor(world.dev), write=False) as uow, pytest.raises(NotFound):
        services.get_determination(uow.session, world.dev, det_id)
    with world.runtime.uow(world.actor(world.authority)) as uow:
        services.decide_releasability(uow, world.authority, det_id, True, "releasable")
        uow.commit()
    with world.runtime.uow(world.actor(world.dev), write=False) as uow:
        assert services.get_determination(uow.session, world.dev, det_id).outcome == "covered"
    with world.runtime.uow(world.actor(world.other_dev), write=False) as uow, pytest.raises(NotFound):
        services.get_determination(uow.session, world.other_dev, det_id)


def test_section_3b_withdrawal_at_any_time_stops_use(world: World) -> None:
    """§3(b): access is voluntary: the developer withdraws at any time and every use stops."""
    model_id = register(world)
    grant_id = grant(world, model_id)
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        open_endpoint(uow, world.evaluator, grant_id, "ctf run", envelope=world.runtime.envelope, now=INSIDE)
        uow.commit()
    with world.runtime.uow(world.actor(world.dev)) as uow:
        withdrawn = services.withdraw_grant(uow, world.dev, grant_id, "paused")
        uow.commit()
    assert withdrawn.status_at(INSIDE) is GrantStatus.WITHDRAWN
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises(Conflict):
        open_endpoint(uow, world.evaluator, grant_id, "again", envelope=world.runtime.envelope, now=INSIDE)


def test_section_3b_iii_trusted_partners_only_by_joint_selection(world: World) -> None:
    """§3(b)(iii): developer and government select trusted partners together; neither alone.
    Either side may propose (and so agree); the partner has access only once the other agrees."""
    model_id = register(world)
    _cover(world, model_id, release=True)
    start = PLANNED
    for proposer, other, partner_org in (
        (world.authority, world.dev, world.partner_org),
        (world.dev, world.authority, world.other_dev_org),
    ):
        draft = services.PartnerDraft(
            model_id,
            partner_org,
            "Find bugs in grid software",
            start,
            start + dt.timedelta(days=30),
            ["report"],
        )
        with world.runtime.uow(world.actor(proposer)) as uow:
            partner, _ = services.propose_partner(uow, proposer, draft)
            services.agree_partner(uow, proposer, partner.id)  # agreeing again: still one side
            uow.commit()
        with world.runtime.uow(world.actor(world.dev), write=False) as uow:
            assert not trusted_partner_agreed(uow.session, model_id, partner_org, start)
        with world.runtime.uow(world.actor(other)) as uow:
            services.agree_partner(uow, other, partner.id)
            uow.commit()
        with world.runtime.uow(world.actor(world.dev), write=False) as uow:
            assert trusted_partner_agreed(uow.session, model_id, partner_org, start)
    # Nobody outside the two sides takes part in the choice.
    with world.runtime.uow(world.actor(world.evaluator)) as uow, pytest.raises((Forbidden, NotFound)):
        services.agree_partner(uow, world.evaluator, partner.id)


_PROMISE = re.compile(r"guarantee|must respond within|entitled", re.IGNORECASE)


def test_section_5c_voluntary_and_no_enforceable_rights(runtime: Runtime) -> None:
    """§5(c): participant-facing text says taking part is voluntary and creates no enforceable
    right, and none of it promises a service level or an outcome."""
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text("utf-8")
        assert not promise_words_in(text) and not _PROMISE.search(text), template.name
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "root", house, ["admin"])
    root = {"Authorization": f"Bearer {make_token(runtime, 'root', ['read', 'write', 'admin'])}"}
    with TestClient(create_app(runtime)) as client:
        for path in ("/signin", "/transparency"):
            page = client.get(path)
            assert page.status_code == 200 and VOLUNTARY_NOTICE in page.text, path
            assert "no right or benefit enforceable at law" in page.text, path  # the footer, every page
        refused = client.post(
            "/api/v1/programs",
            json={
                "name": "Scanner access",
                "description": "AI-enabled scanning for rural hospitals",
                "tool_name": "scanner",
                "terms": "We guarantee a fix within 7 days.",
                "capacity": 5,
                "grant_days": 30,
            },
            headers=root,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["pointer"] == "/terms"
    # The footer every e-mail carries.
    from clearinghouse.domain import notice_footer

    assert VOLUNTARY_NOTICE in notice_footer("the Department of the Treasury")
    assert runtime.settings.identity.sentence == (
        "Operated by the Department of the Treasury under EO 14409 §2(d)."
    )

"""Issue 14, defect 3: "released to" narrows who may read, never overrides
clearance, compartments or role."""

from __future__ import annotations

import pytest

from clearinghouse.access import Classification, NotFound
from clearinghouse.frontier import services
from clearinghouse.frontier.models import Designation
from clearinghouse.runtime import Runtime
from tests.support.factories import make_user, subject_of
from tests.support.frontier_fixtures import World, make_world, register


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def _released(
    world: World, model_id: str, classification: Classification, compartments: frozenset[str]
) -> str:
    rt = world.runtime
    authority = subject_of(
        rt,
        make_user(
            rt,
            f"nsa-{len(compartments)}",
            world.gov_org,
            ["determination_authority"],
            clearance="TOP SECRET",
            compartments=sorted(compartments),
        ),
    )
    with world.runtime.uow(world.actor(authority)) as uow:
        det = services.determine(
            uow,
            authority,
            services.DeterminationDraft(
                model_id,
                Designation.COVERED,
                "Solved tier-3 CTF with secret technique.",
                classification=classification,
                compartments=compartments,
            ),
        )
        services.decide_releasability(uow, authority, det.id, True, "releasable")
        uow.commit()
    return det.id


def test_a_released_secret_determination_needs_clearance_and_the_developer_role(world: World) -> None:
    model_id = register(world)
    det_id = _released(world, model_id, Classification.SECRET, frozenset())
    rt = world.runtime
    contact = subject_of(rt, make_user(rt, "contact", world.dev_org, ["vendor_contact"]))
    cleared_contact = subject_of(
        rt, make_user(rt, "contact2", world.dev_org, ["vendor_contact"], clearance="TOP SECRET")
    )
    auditor = subject_of(rt, make_user(rt, "aud", world.dev_org, ["auditor"], clearance="TOP SECRET"))
    low_dev = subject_of(rt, make_user(rt, "lowdev", world.dev_org, ["model_developer"], clearance="CUI"))
    secret_dev = subject_of(
        rt, make_user(rt, "secdev", world.dev_org, ["model_developer"], clearance="SECRET")
    )
    with rt.uow(world.actor(world.dev), write=False) as uow:
        for outsider in (contact, cleared_contact, auditor, low_dev):
            with pytest.raises(NotFound):
                services.get_determination(uow.session, outsider, det_id)
            assert services.list_determinations(uow.session, outsider, model_id) == []
        seen = services.get_determination(uow.session, secret_dev, det_id)
        assert seen.rationale.startswith("Solved")


def test_a_released_compartmented_determination_needs_the_compartments(world: World) -> None:
    model_id = register(world)
    det_id = _released(world, model_id, Classification.CUI, frozenset({"HCS"}))
    rt = world.runtime
    plain = subject_of(rt, make_user(rt, "plain", world.dev_org, ["model_developer"], clearance="TOP SECRET"))
    held = subject_of(
        rt, make_user(rt, "held", world.dev_org, ["model_developer"], clearance="CUI", compartments=["HCS"])
    )
    with rt.uow(world.actor(world.dev), write=False) as uow:
        with pytest.raises(NotFound):
            services.get_determination(uow.session, plain, det_id)
        assert services.get_determination(uow.session, held, det_id).id == det_id

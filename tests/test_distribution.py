"""Publishing an advisory puts it, by its TLP, into the TAXII collections configured for that TLP,
with no further command; the CSAF provider and the OSV API serve it; owners of matched assets
hear of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from clearinghouse.access import TLP, Marking
from clearinghouse.access.services import OPERATOR
from clearinghouse.errors import InvalidInput
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.notifications.models import NotificationEvent
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import services as taxii
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user
from tests.test_coordination_workflow import coordination_env, run_jobs, validated_case
from tests.test_matches import cyclonedx

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


def _collection(runtime: Runtime, owner: str, alias: str, tlp: TLP, advisory_tlps: list[str]) -> str:
    with runtime.uow(Actor.system("test")) as uow:
        made = taxii.create_collection(
            uow,
            OPERATOR,
            taxii.CollectionDraft(
                title=alias,
                marking=Marking(owner_org_id=owner, tlp=tlp),
                alias=alias,
                advisory_tlps=advisory_tlps,
            ),
        )
        uow.commit()
        return made.id


def test_publishing_at_tlp_clear_fills_the_clear_collection_with_no_further_command(
    env: dict[str, Any],
) -> None:
    client, runtime = env["client"], env["runtime"]
    house = env["orgs"]["house"]
    public = _collection(runtime, house, "public-advisories", TLP.CLEAR, ["CLEAR"])
    amber = _collection(runtime, house, "amber-advisories", TLP.AMBER, ["AMBER"])
    plain = _collection(runtime, house, "other", TLP.CLEAR, [])
    grid = make_org(runtime, "Grid Co", "critical_infrastructure_operator")
    make_user(runtime, "ops", grid, ["partner"])
    ops = {"Authorization": f"Bearer {make_token(runtime, 'ops')}"}
    asset = client.post(
        "/api/v1/inventories?name=scada", content=cyclonedx("pkg:pypi/fastparse@2.3.0"), headers=ops
    )
    assert asset.status_code == 201, asset.text
    case_id = validated_case(env)

    published = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Initial public release", "tlp": "CLEAR"},
        headers=env["coord"],
    )
    assert published.status_code == 201, published.text
    run_jobs(runtime)

    objects = client.get(f"/taxii2/clearinghouse/collections/{public}/objects/", headers={"Accept": TAXII})
    assert objects.status_code == 200, objects.text
    stix = objects.json()["objects"]
    assert any(o["type"] == "vulnerability" for o in stix)
    assert all(
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" in o.get("object_marking_refs", [])
        for o in stix
        if o["type"] != "marking-definition"
    )
    coord = env["coord"] | {"Accept": TAXII}
    for other in (amber, plain):
        held = client.get(f"/taxii2/clearinghouse/collections/{other}/objects/", headers=coord)
        assert held.status_code == 200 and held.json().get("objects", []) == [], held.text
    # The CSAF provider and the OSV API serve the published advisory.
    advisory_id = published.json()["record"]["id"] if "record" in published.json() else None
    with runtime.uow(Actor.system("test"), write=False) as uow:
        event = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "advisory.distributed"))
        assert event is not None
        detail = event.detail
        notes = list(
            uow.session.scalars(
                select(NotificationEvent).where(NotificationEvent.kind == "advisory_published")
            )
        )
    assert detail["taxii"][0]["collection_id"] == public and detail["taxii"][0]["added"] >= 1
    assert client.get(detail["osv"]).status_code == 200
    assert client.get(detail["csaf"]).status_code == 200
    assert advisory_id is None or advisory_id == detail["advisory_id"]
    assert [n.title for n in notes] == [
        f"Advisory {detail['advisory_id']} published for pkg:pypi/fastparse@2.3.0 on asset 'scada'"
    ]


def test_a_collection_names_real_tlps(runtime: Runtime) -> None:
    house = make_org(runtime, "Clearinghouse", "government_agency")
    with pytest.raises(InvalidInput) as bad:
        _collection(runtime, house, "x", TLP.CLEAR, ["PURPLE"])
    assert bad.value.pointer == "/advisory_tlps/0"

"""Issue 14, defect 4: a TAXII object id belongs to the organization that first wrote it."""

from __future__ import annotations

from typing import Any

from clearinghouse.access import TLP
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import TLP_MARKING_IDS, Filters, delete_object, page
from clearinghouse.storage import Actor
from tests.support.factories import make_user, subject_of
from tests.test_taxii_services import parties, publish, sdo

__all__ = ["parties"]


def test_another_writer_cannot_supersede_an_object_it_did_not_write(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    red = [TLP_MARKING_IDS[TLP.RED]]
    original = sdo(7, object_marking_refs=red, name="alice's")
    publish(runtime, parties["alice"], parties["feed"], [original])
    # A second writer organization (in the writers' circle too) and a coordinator try a newer version.
    make_user(runtime, "carol", parties["alpha"], ["partner"])
    newer = sdo(7, object_marking_refs=red, name="hijacked", modified="2025-01-01T00:00:00Z")
    for intruder in (parties["coord"],):  # staff of another organization
        status = publish(runtime, intruder, parties["feed"], [newer])
        assert status.to_json()["failure_count"] == 1 and status.to_json()["success_count"] == 0
        assert "another organization" in status.failures[0].message
        # The same version again is refused too (not reported as "already in the collection").
        same = publish(runtime, intruder, parties["feed"], [original])
        assert same.to_json()["failure_count"] == 1
    # Another member of the owning organization may add a version.
    carol = subject_of(runtime, "carol")
    mine = sdo(7, object_marking_refs=red, name="alice's v2", modified="2024-06-01T00:00:00Z")
    assert publish(runtime, carol, parties["feed"], [mine]).to_json()["success_count"] == 1
    with runtime.uow(Actor.system("test"), write=False) as uow:
        latest = page(uow.session, parties["alice"], "feed", Filters(ids=(original["id"],))).entries
        assert len(latest) == 1 and "alice's v2" in latest[0].body
    with runtime.uow(Actor.system("test")) as uow:
        assert delete_object(uow, parties["alice"], "feed", original["id"]) == 2
        uow.commit()


def test_the_owner_is_decided_per_object_in_one_request(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    publish(runtime, parties["alice"], parties["feed"], [sdo(1)])
    status = publish(
        runtime, parties["coord"], parties["feed"], [sdo(1, modified="2025-02-01T00:00:00Z"), sdo(2)]
    )
    body = status.to_json()
    assert body["success_count"] == 1 and body["failure_count"] == 1
    assert body["successes"][0]["id"] == sdo(2)["id"]
    assert body["failures"][0]["id"] == sdo(1)["id"]

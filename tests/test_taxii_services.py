"""TAXII services, checks and CLI without HTTP: STIX checks and timestamps,
adding and reading through the policy, the page query against the policy
object by object, idempotency, the ledger, and ``clearinghouse taxii ...``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from clearinghouse.access import TLP, Action, Forbidden, Marking, NotFound, Subject, can
from clearinghouse.access import services as access
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.errors import InvalidInput
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import (
    TLP_MARKING_IDS,
    CollectionDraft,
    Filters,
    StixError,
    TaxiiObject,
    add_objects,
    check_object,
    create_collection,
    delete_object,
    get_status,
    list_collections,
    page,
)
from clearinghouse.sharing.taxii._stix import format_timestamp, parse_timestamp
from clearinghouse.sharing.taxii.services import (
    MAX_OBJECTS_PER_REQUEST,
    list_all_collections,
    object_resource,
)
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_user, subject_of


def sdo(n: int, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.UUID(int=n + 1)}",
        "created": "2024-05-01T10:00:00Z",
        "modified": "2024-05-01T10:00:00Z",
        "name": f"family {n}",
        "is_family": True,
    }
    obj.update(extra)
    return obj


# -- checks ------------------------------------------------------------------------------


def test_timestamps_round_trip_at_microsecond_precision() -> None:
    assert format_timestamp(parse_timestamp("2016-11-01T03:04:05.123456Z")) == "2016-11-01T03:04:05.123456Z"
    assert parse_timestamp("2016-11-01T03:04:05Z") == parse_timestamp("2016-11-01T03:04:05.000Z")
    assert parse_timestamp("2016-11-01T05:04:05+02:00") == parse_timestamp("2016-11-01T03:04:05Z")
    assert parse_timestamp("2016-11-01T03:04:05.123456789Z") == parse_timestamp("2016-11-01T03:04:05.123456Z")
    for bad in ("yesterday", "2016-13-01T00:00:00Z", "2016-11-01 03:04:05Z", "2016-11-01T03:04:05"):
        with pytest.raises(StixError):
            parse_timestamp(bad)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "JSON object"),
        ({"type": "Bad_Type", "id": "x"}, "'type'"),
        ({"type": "malware"}, "'id' is required"),
        ({"type": "malware", "id": "indicator--6b4e6c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f"}, "is not malware--"),
        ({"type": "malware", "id": "malware--nope"}, "is not malware--"),
        (sdo(1, spec_version="3.0"), "spec_version"),
        (sdo(1, created=5), "'created' must be"),
        (sdo(1, modified="soon"), "'modified'"),
        (sdo(1, modified="2020-01-01T00:00:00Z"), "earlier than 'created'"),
        (sdo(1, object_marking_refs="marking-definition--x"), "object_marking_refs"),
        (sdo(1, description="x" * 1_000_001), "at most"),
    ],
)
def test_bad_objects_say_why(obj: Any, message: str) -> None:
    with pytest.raises(StixError, match=message):
        check_object(obj)


def test_object_checks_derive_version_spec_version_and_tlp() -> None:
    record = check_object(sdo(1, object_marking_refs=[TLP_MARKING_IDS[TLP.GREEN], TLP_MARKING_IDS[TLP.RED]]))
    assert record.tlp is TLP.RED and record.version == "2024-05-01T10:00:00Z"
    assert record.media_type == "application/stix+json;version=2.1"
    legacy = {k: v for k, v in sdo(2).items() if k != "spec_version"}
    assert check_object(legacy).spec_version == "2.0"
    only_created = {k: v for k, v in sdo(3).items() if k != "modified"}
    assert check_object(only_created).version == "2024-05-01T10:00:00Z"
    sco = check_object({"type": "domain-name", "id": f"domain-name--{uuid.uuid4()}", "value": "example.com"})
    assert sco.spec_version == "2.1" and sco.version is None and sco.tlp is None
    # TLP 1.0 ids (STIX 2.1's predefined markings) count too; unknown markings are ignored.
    white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    assert check_object(sdo(4, object_marking_refs=[white, "marking-definition--x"])).tlp is TLP.CLEAR


# -- services ----------------------------------------------------------------------------


@pytest.fixture
def parties(runtime: Runtime) -> dict[str, Any]:
    gov = make_org(runtime, "Agency", "government_agency")
    alpha = make_org(runtime, "Alpha", "software_vendor")
    beta = make_org(runtime, "Beta", "software_vendor")
    make_user(runtime, "coord", gov, ["coordinator"])
    make_user(runtime, "alice", alpha, ["partner"])
    make_user(runtime, "bob", beta, ["partner"])
    make_user(runtime, "audra", beta, ["auditor"])
    with runtime.uow(Actor.system("test")) as uow:
        group, _ = access.create_sharing_group(uow, access.OPERATOR, "circle", "", [alpha])
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        feed = create_collection(
            uow,
            access.OPERATOR,
            CollectionDraft(
                "Feed",
                Marking(gov, TLP.GREEN, sharing_group_ids=frozenset({group.id})),
                writer_groups=["circle"],
                alias="feed",
            ),
        )
        uow.commit()
    return {
        "runtime": runtime,
        "gov": gov,
        "alpha": alpha,
        "beta": beta,
        "group": group.id,
        "feed": feed.id,
        "coord": subject_of(runtime, "coord"),
        "alice": subject_of(runtime, "alice"),
        "bob": subject_of(runtime, "bob"),
        "audra": subject_of(runtime, "audra"),
    }


def publish(runtime: Runtime, subject: Subject, collection: str, objects: list[Any]) -> Any:
    with runtime.uow(Actor.user(subject.user_id or "x")) as uow:
        status = add_objects(uow, subject, collection, objects)
        uow.commit()
    return status


def test_the_page_query_agrees_with_the_policy_object_by_object(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    objects = [sdo(i, object_marking_refs=[TLP_MARKING_IDS[tlp]]) for i, tlp in enumerate(TLP)]
    objects.append(sdo(99))  # no TLP marking: the collection's
    publish(runtime, parties["alice"], parties["feed"], objects[:3])
    publish(runtime, parties["coord"], parties["feed"], objects[3:])
    with runtime.uow(Actor.system("test"), write=False) as uow:
        from clearinghouse.sharing.taxii import get_collection

        collection = get_collection(uow.session, parties["coord"], parties["feed"])
        rows = uow.session.execute(
            select(TaxiiObject.stix_id, TaxiiObject.tlp, TaxiiObject.owner_org_id)
        ).all()
        for name in ("alice", "bob", "coord", "audra"):
            subject: Subject = parties[name]
            expected = {
                stix_id
                for stix_id, tlp, owner in rows
                if can(subject, Action.READ, object_resource(collection, stix_id, TLP(tlp), owner))
            }
            got = {e.stix_id for e in page(uow.session, subject, "feed", Filters(versions=("all",))).entries}
            assert got == expected, name
    # Spot checks of what that means: bob (outside the circle) sees GREEN and CLEAR only.
    with runtime.uow(Actor.system("test"), write=False) as uow:
        bob_sees = {e.stix_id for e in page(uow.session, parties["bob"], "feed", Filters()).entries}
    assert bob_sees == {objects[0]["id"], objects[1]["id"], objects[5]["id"]}


def test_add_objects_is_idempotent_and_recorded_in_the_ledger(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    obj = sdo(1)
    first = publish(runtime, parties["alice"], parties["feed"], [obj, obj])
    assert len(first.successes) == 2 and first.successes[1].message == "already in the collection"
    again = publish(runtime, parties["alice"], parties["feed"], [obj])
    assert again.to_json()["success_count"] == 1
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(TaxiiObject)) == 1
        events = list(
            uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "taxii.objects.added"))
        )
        assert events[0].detail["objects"][0][:2] == [obj["id"], obj["modified"]]
        assert len(events[0].detail["objects"][0][2]) == 64  # SHA-256 of the stored JSON
        assert events[1].detail["objects"] == []
        status = get_status(uow.session, parties["alice"], first.id)
        assert status.to_json()["successes"][0]["id"] == obj["id"]
        with pytest.raises(NotFound):
            get_status(uow.session, parties["bob"], first.id)
        with pytest.raises(NotFound):
            get_status(uow.session, parties["alice"], str(uuid.uuid4()))


def test_writes_are_refused_to_those_the_policy_refuses(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    for name in ("bob", "audra"):
        with pytest.raises(Forbidden), runtime.uow(Actor.system("test")) as uow:
            add_objects(uow, parties[name], parties["feed"], [sdo(1)])
    with pytest.raises(NotFound), runtime.uow(Actor.system("test")) as uow:
        add_objects(uow, parties["alice"], "no-such-collection", [sdo(1)])
    with pytest.raises(InvalidInput, match="at most"), runtime.uow(Actor.system("test")) as uow:
        add_objects(uow, parties["alice"], parties["feed"], [{}] * (MAX_OBJECTS_PER_REQUEST + 1))
    # bob may read the object alice sent, but only she (or staff) may delete it.
    publish(runtime, parties["alice"], parties["feed"], [sdo(5)])
    with pytest.raises(Forbidden), runtime.uow(Actor.system("test")) as uow:
        delete_object(uow, parties["bob"], parties["feed"], sdo(5)["id"])
    with runtime.uow(Actor.system("test")) as uow:
        assert delete_object(uow, parties["coord"], "feed", sdo(5)["id"]) == 1
        uow.commit()


def test_collections_are_managed_by_staff_only(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    good = CollectionDraft("X", Marking(parties["gov"], TLP.CLEAR))
    with pytest.raises(Forbidden), runtime.uow(Actor.system("test")) as uow:
        create_collection(uow, parties["alice"], good)
    bad_drafts = [
        (CollectionDraft(" ", Marking(parties["gov"])), "/title"),
        (CollectionDraft("X", Marking("nope")), "/marking/owner_org"),
        (CollectionDraft("X", Marking(parties["gov"]), writer_orgs=["nope"]), "/writer_orgs/0"),
        (CollectionDraft("X", Marking(parties["gov"]), writer_groups=["nope"]), "/writer_groups/0"),
        (CollectionDraft("X", Marking(parties["gov"]), alias="feed"), "/alias"),
        (CollectionDraft("X", Marking(parties["gov"]), id=parties["feed"]), "/id"),
    ]
    for draft, pointer in bad_drafts:
        with pytest.raises(InvalidInput) as caught, runtime.uow(Actor.system("test")) as uow:
            create_collection(uow, access.OPERATOR, draft)
        assert caught.value.pointer == pointer
    with runtime.uow(Actor.system("test")) as uow:
        fixed = create_collection(
            uow, parties["coord"], CollectionDraft("Fixed", good.marking, id="fixed-id")
        )
        uow.commit()
    assert fixed.id == "fixed-id"
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert [c.title for c in list_collections(uow.session, parties["bob"])] == ["Feed", "Fixed"]
        assert [count for _, count in list_all_collections(uow.session, access.OPERATOR)] == [0, 0]
        with pytest.raises(Forbidden):
            list_all_collections(uow.session, parties["bob"])


def test_filters_on_pages(parties: dict[str, Any]) -> None:
    runtime: Runtime = parties["runtime"]
    ident = sdo(1)["id"]
    versions = [sdo(1, modified=f"2024-0{m}-01T10:00:00Z") for m in (6, 7, 8)]
    publish(runtime, parties["coord"], parties["feed"], versions)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        session, coord = uow.session, parties["coord"]

        def versions_of(**kw: Any) -> list[str]:
            return [e.version for e in page(session, coord, "feed", Filters(**kw)).entries]

        assert versions_of() == ["2024-08-01T10:00:00Z"]
        assert versions_of(versions=("first", "last")) == ["2024-06-01T10:00:00Z", "2024-08-01T10:00:00Z"]
        assert versions_of(versions=("2024-07-01T10:00:00.000Z",)) == ["2024-07-01T10:00:00Z"]
        assert versions_of(versions=("all",), limit=2) == ["2024-06-01T10:00:00Z", "2024-07-01T10:00:00Z"]
        first = page(session, coord, "feed", Filters(versions=("all",), limit=1))
        assert first.more and first.next is not None
        second = page(session, coord, "feed", Filters(versions=("all",), limit=1, next=first.next))
        assert [e.version for e in second.entries] == ["2024-07-01T10:00:00Z"]
        assert versions_of(ids=(ident,), types=("malware",), spec_versions=("2.1",)) == [
            "2024-08-01T10:00:00Z"
        ]
        assert versions_of(types=("indicator",)) == []
        assert page(session, coord, "feed", Filters(types=("indicator",))).next is None
        with pytest.raises(NotFound):
            page(session, coord, "feed", Filters(), object_id="malware--00000000-0000-4000-8000-000000000000")


# -- CLI ---------------------------------------------------------------------------------


def test_cli_adds_lists_and_publishes(
    runtime: Runtime, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``runtime`` initialises the data folder (its ledger key): commands refuse one init never made.
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["org", "add", "Agency X", "--kind", "government_agency"]).exit_code == 0
    assert runner.invoke(cli_app, ["org", "add", "Vendor Y", "--kind", "software_vendor"]).exit_code == 0
    add = ["taxii", "collection", "add", "Advisories", "--org", "Agency X", "--tlp", "GREEN"]
    added = runner.invoke(
        cli_app,
        [*add, "--writer-org", "Vendor Y", "--alias", "advisories", "--description", "published advisories"],
    )
    assert added.exit_code == 0, added.output
    assert "created collection Advisories" in added.output
    refused = runner.invoke(cli_app, ["taxii", "collection", "add", "Other", "--org", "Nobody"])
    assert refused.exit_code == 2 and "no organization" in refused.output
    taken = runner.invoke(
        cli_app, ["taxii", "collection", "add", "Dup", "--org", "Agency X", "--alias", "advisories"]
    )
    assert taken.exit_code == 2 and "/alias" in taken.output

    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [sdo(1), sdo(2)]})
    )
    published = runner.invoke(cli_app, ["taxii", "publish", str(bundle), "--collection", "advisories"])
    assert published.exit_code == 0, published.output
    assert "2 added, 0 failed" in published.output
    partly = tmp_path / "partly.json"
    partly.write_text(json.dumps([sdo(3), {"type": "malware"}]))
    result = runner.invoke(cli_app, ["taxii", "publish", str(partly), "--collection", "advisories"])
    assert result.exit_code == 1 and "1 added, 1 failed" in result.output
    listed = runner.invoke(cli_app, ["taxii", "collection", "list"])
    assert listed.exit_code == 0 and "advisories" in listed.output and "TLP:GREEN" in listed.output
    assert " 3 " in listed.output  # three objects stored
    as_json = runner.invoke(cli_app, ["taxii", "collection", "list", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    (advisories,) = [c for c in json.loads(as_json.output) if c["alias"] == "advisories"]
    assert advisories["objects"] == 3 and "TLP:GREEN" in advisories["marking"]
    assert advisories["id"] in listed.output  # a pipe: the id whole

    (tmp_path / "junk.json").write_text("{nope")
    (tmp_path / "scalar.json").write_text("3")
    for name, message in (
        ("junk.json", "is not JSON"),
        ("scalar.json", "expected a bundle"),
        ("none.json", "no such"),
    ):
        bad = runner.invoke(cli_app, ["taxii", "publish", str(tmp_path / name), "--collection", "advisories"])
        assert bad.exit_code == 2 and message in bad.output, name
    missing = runner.invoke(cli_app, ["taxii", "publish", str(bundle), "--collection", "nope"])
    assert missing.exit_code == 2 and "not found" in missing.output

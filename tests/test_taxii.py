"""The TAXII 2.1 server end to end through taxii2-client 2.3 against a live
uvicorn (SQLite and PostgreSQL): discovery, API root, collections, adding,
paging, manifest, versions, filters, delete, status, content negotiation and
who sees which marked object."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import uvicorn
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages  # type: ignore[import-untyped]

from clearinghouse.access import TLP, Marking
from clearinghouse.access import services as access
from clearinghouse.api.app import create_app
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import TLP_MARKING_IDS, CollectionDraft, add_objects, create_collection
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user, subject_of

TAXII = "application/taxii+json;version=2.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def indicator(
    n: int, *, modified: str = "2024-01-01T00:00:00.000Z", tlp: TLP | None = None, ident: str | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--{uuid.UUID(int=n)}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '10.0.{n // 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP_MARKING_IDS[tlp]]
    return obj


@dataclass
class World:
    runtime: Runtime
    url: str
    root: str
    gov: str
    alpha: str  # in the sharing group
    beta: str  # outside it
    group: str
    admin_token: str
    alpha_token: str
    beta_token: str
    green: str  # TLP:GREEN collection, alpha may write
    clear: str  # TLP:CLEAR collection
    amber: str  # TLP:AMBER collection shared with the group


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    gov = make_org(runtime, "Clearinghouse", "government_agency")
    alpha = make_org(runtime, "Alpha Power", "critical_infrastructure_operator")
    beta = make_org(runtime, "Beta Water", "critical_infrastructure_operator")
    make_user(runtime, "root", gov, ["admin", "coordinator"])
    make_user(runtime, "alice", alpha, ["partner"])
    make_user(runtime, "bob", beta, ["partner"])
    with runtime.uow(Actor.system("test")) as uow:
        group, _ = access.create_sharing_group(uow, access.OPERATOR, "energy-isac", "", [alpha])
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        green = create_collection(
            uow,
            access.OPERATOR,
            CollectionDraft(
                "Indicators", Marking(gov, TLP.GREEN), "community feed", writer_orgs=["Alpha Power"]
            ),
        )
        clear = create_collection(
            uow, access.OPERATOR, CollectionDraft("Public", Marking(gov, TLP.CLEAR), alias="public")
        )
        amber = create_collection(
            uow,
            access.OPERATOR,
            CollectionDraft(
                "Energy ISAC",
                Marking(gov, TLP.AMBER, sharing_group_ids=frozenset({group.id})),
                writer_groups=[group.id],
            ),
        )
        uow.commit()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    yield World(
        runtime=runtime,
        url=url,
        root=f"{url}/taxii2/clearinghouse/",
        gov=gov,
        alpha=alpha,
        beta=beta,
        group=group.id,
        admin_token=make_token(runtime, "root", ["read", "write", "admin"]),
        alpha_token=make_token(runtime, "alice", ["read", "write"]),
        beta_token=make_token(runtime, "bob", ["read", "write"]),
        green=green.id,
        clear=clear.id,
        amber=amber.id,
    )
    server.should_exit = True
    thread.join(timeout=10)


def collection(world: World, collection_id: str, token: str | None) -> Collection:
    url = f"{world.root}collections/{collection_id}/"
    if token is None:
        return Collection(url)
    return Collection(url, user="token", password=token)


def all_objects(col: Collection, per_request: int, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for envelope in as_pages(col.get_objects, per_request=per_request, **filters):
        found.extend(envelope.get("objects", []))
    return found


def test_discovery_api_root_and_collections(world: World) -> None:
    server = Server(f"{world.url}/taxii2/", user="alice", password=world.alpha_token)
    assert server.title == "Clearinghouse TAXII 2.1 server"
    assert server.default is not None and server.default.url == world.root
    root: ApiRoot = server.api_roots[0]
    assert root.versions == [TAXII]
    assert root.max_content_length > 0
    by_title = {c.title: c for c in root.collections}
    # alpha reads GREEN, CLEAR and (as a group member) the AMBER collection; it may write to two.
    assert set(by_title) == {"Indicators", "Public", "Energy ISAC"}
    assert by_title["Indicators"].can_read and by_title["Indicators"].can_write
    assert by_title["Energy ISAC"].can_write
    assert not by_title["Public"].can_write
    assert by_title["Public"].alias == "public"
    assert by_title["Indicators"].description == "community feed"

    beta_root = ApiRoot(world.root, user="bob", password=world.beta_token)
    assert {c.title for c in beta_root.collections} == {"Indicators", "Public"}
    assert not any(c.can_write for c in beta_root.collections)
    anonymous = ApiRoot(world.root)
    assert [c.title for c in anonymous.collections] == ["Public"]
    # A collection by alias, through the same endpoint.
    public = httpx.get(f"{world.root}collections/public/", headers={"Accept": TAXII})
    assert public.json()["id"] == world.clear and public.json()["can_read"] is True


def test_add_objects_status_and_pagination_return_each_object_once(world: World) -> None:
    col = collection(world, world.green, world.alpha_token)
    objects = [indicator(n) for n in range(230)]
    bad = [{"type": "indicator", "id": "malware--00000000-0000-4000-8000-000000000000"}, "not an object"]
    status = col.add_objects({"objects": objects[:120] + bad + objects[120:]})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (
        232,
        230,
        2,
        0,
    )
    assert "/objects/120" in status.failures[0]["message"]
    # The status resource, read back by its requester (and nobody else but staff).
    status.refresh()
    assert status.success_count == 230
    beta_status = httpx.get(
        f"{world.root}status/{status.id}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.beta_token}"},
    )
    assert beta_status.status_code == 404
    admin_status = httpx.get(
        f"{world.root}status/{status.id}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.admin_token}"},
    )
    assert admin_status.json()["failure_count"] == 2

    reader = collection(world, world.green, world.beta_token)
    found = all_objects(reader, 37)
    assert [o["id"] for o in found] == [o["id"] for o in objects]
    assert found[0] == objects[0]  # served exactly as sent

    manifest: list[dict[str, Any]] = []
    for envelope in as_pages(reader.get_manifest, per_request=50):
        manifest.extend(envelope["objects"])
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
    added = [m["date_added"] for m in manifest]
    assert added == sorted(added) and len(set(added)) == len(added)

    # Headers and added_after: the next page starts after the last date on this one.
    first = httpx.get(
        f"{world.root}collections/{world.green}/objects/",
        params={"limit": 10},
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.beta_token}"},
    )
    assert first.headers["content-type"] == TAXII
    assert first.headers["X-TAXII-Date-Added-First"] == added[0]
    assert first.headers["X-TAXII-Date-Added-Last"] == added[9]
    assert first.json()["more"] is True
    after = reader.get_objects(added_after=added[9], limit=5)
    assert [o["id"] for o in after["objects"]] == [o["id"] for o in objects[10:15]]
    rest = reader.get_objects(added_after=added[-1])
    assert rest == {"more": False}


def test_versions_filters_and_object_endpoint(world: World) -> None:
    col = collection(world, world.green, world.alpha_token)
    ident = f"indicator--{uuid.uuid4()}"
    stamps = ["2024-01-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]
    versions = [indicator(1, modified=m, ident=ident) for m in stamps]
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "Poison Ivy",
        "is_family": True,
    }
    legacy = {  # STIX 2.0: no spec_version
        "type": "malware",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2017-01-01T00:00:00.000Z",
        "modified": "2017-01-01T00:00:00.000Z",
        "name": "old",
        "labels": ["trojan"],
    }
    observable = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": f"ipv4-addr--{uuid.uuid4()}",
        "value": "1.2.3.4",
    }
    status = col.add_objects({"objects": [*versions, malware, legacy, observable]})
    assert status.success_count == 6
    # Idempotent: the same versions again succeed without being stored twice.
    again = col.add_objects({"objects": [versions[0], observable]})
    assert again.success_count == 2 and again.failure_count == 0

    latest = col.get_object(ident)
    assert [o["modified"] for o in latest["objects"]] == ["2024-03-01T00:00:00.000Z"]
    first = col.get_object(ident, version="first")
    assert [o["modified"] for o in first["objects"]] == ["2024-01-01T00:00:00.000Z"]
    every = col.get_object(ident, version="all")
    assert sorted(o["modified"] for o in every["objects"]) == sorted(stamps)
    one = col.get_object(ident, version="2024-02-01T00:00:00Z")
    assert [o["modified"] for o in one["objects"]] == ["2024-02-01T00:00:00.000Z"]
    history = col.object_versions(ident)
    assert sorted(history["versions"]) == sorted(stamps)
    assert history["more"] is False

    assert {o["id"] for o in all_objects(col, 100)} == {ident, malware["id"], legacy["id"], observable["id"]}
    assert len(all_objects(col, 100, version="all")) == 6
    assert {o["id"] for o in all_objects(col, 100, type="malware")} == {malware["id"], legacy["id"]}
    assert {o["id"] for o in all_objects(col, 100, type=["malware", "ipv4-addr"])} == {
        malware["id"],
        legacy["id"],
        observable["id"],
    }
    assert [o["id"] for o in all_objects(col, 100, id=malware["id"])] == [malware["id"]]
    assert [o["id"] for o in all_objects(col, 100, spec_version="2.0")] == [legacy["id"]]
    manifest = col.get_manifest(id=legacy["id"])
    assert manifest["objects"][0]["media_type"] == "application/stix+json;version=2.0"
    # The observable has no created/modified: its version is its date added.
    observed = col.get_manifest(id=observable["id"])["objects"][0]
    assert observed["version"] == observed["date_added"]

    # Delete one version: the previous one becomes the latest.
    col.delete_object(ident, version="2024-03-01T00:00:00.000Z")
    assert [o["modified"] for o in col.get_object(ident)["objects"]] == ["2024-02-01T00:00:00.000Z"]
    # Delete the object (every version): gone.
    col.delete_object(ident)
    with pytest.raises(requests.HTTPError, match="404"):
        col.get_object(ident)
    with pytest.raises(requests.HTTPError, match="404"):
        col.delete_object(ident)


def test_negotiation_and_errors(world: World) -> None:
    objects_url = f"{world.root}collections/{world.green}/objects/"
    auth = {"Authorization": f"Bearer {world.alpha_token}"}
    for accept in ("application/json", "application/taxii+json;version=2.0", "*/*", ""):
        r = httpx.get(objects_url, headers={**auth, "Accept": accept})
        assert r.status_code == 406, accept
        assert r.headers["content-type"] == TAXII
        assert r.json()["http_status"] == "406"
    # The TAXII type without a version means the newest (2.1); several ranges are fine.
    assert httpx.get(objects_url, headers={**auth, "Accept": "application/taxii+json"}).status_code == 200
    many = "text/html, application/taxii+json; version=2.1; q=0.9"
    assert httpx.get(objects_url, headers={**auth, "Accept": many}).status_code == 200

    envelope = json.dumps({"objects": [indicator(1)]})
    for content_type in ("application/json", "application/stix+json;version=2.1", "text/plain"):
        r = httpx.post(
            objects_url, content=envelope, headers={**auth, "Accept": TAXII, "Content-Type": content_type}
        )
        assert r.status_code == 415, content_type
        assert r.json()["title"] == "Unsupported media type"
    post = {**auth, "Accept": TAXII, "Content-Type": TAXII}
    assert httpx.post(objects_url, content=b"{not json", headers=post).status_code == 400
    assert httpx.post(objects_url, content=b'{"objects": 3}', headers=post).status_code == 422

    get = {**auth, "Accept": TAXII}
    for path in (
        "collections/no-such-collection/",
        "collections/no-such-collection/objects/",
        f"collections/{world.green}/objects/indicator--{uuid.uuid4()}/",
        f"collections/{world.green}/objects/indicator--{uuid.uuid4()}/versions/",
        f"status/{uuid.uuid4()}/",
    ):
        r = httpx.get(world.root + path, headers=get)
        assert r.status_code == 404, path
        assert r.json()["http_status"] == "404"
    assert httpx.get(objects_url, params={"added_after": "yesterday"}, headers=get).status_code == 400
    assert httpx.get(objects_url, params={"next": "zz"}, headers=get).status_code == 400
    assert httpx.get(objects_url, params={"limit": 0}, headers=get).status_code == 400
    assert httpx.get(objects_url, params={"match[version]": "soon"}, headers=get).status_code == 400

    bad_token = httpx.get(objects_url, headers={"Accept": TAXII, "Authorization": "Bearer chs_nope"})
    assert bad_token.status_code == 401
    assert "Basic" in bad_token.headers["www-authenticate"]
    assert httpx.get(objects_url, headers={"Accept": TAXII, "Authorization": "Basic %%%"}).status_code == 401
    with pytest.raises(requests.HTTPError, match="401"):
        collection(world, world.green, "wrong").get_objects()

    # A reader who may not write is refused; the anonymous are not told the collection exists.
    reader = {"Authorization": f"Bearer {world.beta_token}", "Accept": TAXII, "Content-Type": TAXII}
    assert httpx.post(objects_url, content=envelope, headers=reader).status_code == 403
    anonymous = httpx.post(objects_url, content=envelope, headers={"Accept": TAXII, "Content-Type": TAXII})
    assert anonymous.status_code == 404


def test_amber_object_never_reaches_a_partner_outside_its_sharing_group(world: World) -> None:
    writer = collection(world, world.green, world.alpha_token)
    amber = indicator(7, tlp=TLP.AMBER)
    red = indicator(8, tlp=TLP.RED)
    green = indicator(9, tlp=TLP.GREEN)
    clear = indicator(10, tlp=TLP.CLEAR)
    status = writer.add_objects({"objects": [amber, red, green, clear]})
    assert status.success_count == 4

    outsider = collection(world, world.green, world.beta_token)
    seen = {o["id"] for o in all_objects(outsider, 1)}
    assert seen == {green["id"], clear["id"]}
    assert {m["id"] for m in outsider.get_manifest(version="all")["objects"]} == seen
    for hidden in (amber, red):
        with pytest.raises(requests.HTTPError, match="404"):
            outsider.get_object(hidden["id"])
        with pytest.raises(requests.HTTPError, match="404"):
            outsider.object_versions(hidden["id"])
    assert {o["id"] for o in all_objects(writer, 2)} == {amber["id"], red["id"], green["id"], clear["id"]}

    # In the AMBER collection shared with the group: members read, outsiders don't even see it.
    group_col = collection(world, world.amber, world.alpha_token)
    assert group_col.add_objects({"objects": [indicator(11)]}).success_count == 1
    assert len(all_objects(group_col, 10)) == 1
    r = httpx.get(
        f"{world.root}collections/{world.amber}/objects/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.beta_token}"},
    )
    assert r.status_code == 404
    # Staff read AMBER (on the community's behalf) but not RED they were not named on.
    staff = collection(world, world.green, world.admin_token)
    assert amber["id"] in {o["id"] for o in all_objects(staff, 50)}
    assert red["id"] not in {o["id"] for o in all_objects(staff, 50)}
    # Anonymous: only the TLP:CLEAR collection, and only its TLP:CLEAR objects.
    publisher = subject_of(world.runtime, "root")
    with world.runtime.uow(Actor.user("root")) as uow:
        add_objects(uow, publisher, world.clear, [indicator(20), indicator(21, tlp=TLP.GREEN)])
        uow.commit()
    anonymous = collection(world, world.clear, None)
    assert [o["name"] for o in all_objects(anonymous, 10)] == ["indicator 20"]
    r = httpx.get(f"{world.root}collections/{world.green}/objects/", headers={"Accept": TAXII})
    assert r.status_code == 404


def test_delete_needs_rights_over_the_object(world: World) -> None:
    alpha_col = collection(world, world.green, world.alpha_token)
    obj = indicator(1)
    alpha_col.add_objects({"objects": [obj]})
    # bob may read it but not write to the collection; alice (its sender) deletes it.
    r = httpx.delete(
        f"{world.root}collections/{world.green}/objects/{obj['id']}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.beta_token}"},
    )
    assert r.status_code == 403
    alpha_col.delete_object(obj["id"])
    assert alpha_col.get_objects() == {"more": False}

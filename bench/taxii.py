"""TAXII 2.1 read speed: ``GET .../objects/`` walked page by page (following
``next``) over 1,000, 10,000 and 100,000 objects, on our server and on
medallion 3.0.0 (the OASIS reference server, memory backend) loaded with the
same objects, in one run.

    uv run python bench/taxii.py [--sizes 1000 10000 100000] [--page 1000]
                                 [--medallion-timeout 300] [--database-url URL]

medallion lives in its own environment, ``bench/.venv-medallion`` (created
with ``uv venv`` + ``uv pip install medallion==3.0.0`` when missing; the only
network this script uses). Both servers run as subprocesses on 127.0.0.1 and
are read by the same client (httpx, keep-alive, HTTP Basic). Our server uses
SQLite in a temporary folder unless ``--database-url`` names another database.

Prints objects/s and requests/s for each server and size, the ratio ours /
medallion at each size (target: at least 50x at 10,000) and our rate at the
smallest size over our rate at the largest (target: within a factor of 2).
medallion's memory backend matches every manifest entry against every object
on a first page (quadratic in the collection's size); a walk that has not
finished within ``--medallion-timeout`` seconds is reported as an upper bound
on its rate (and a lower bound on the ratio), never as a figure it did not
reach. No assertion: figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from clearinghouse.access import TLP, Marking
from clearinghouse.access import services as access
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import CollectionDraft, add_objects, create_collection
from clearinghouse.storage import Actor

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MEDALLION_VENV = HERE / ".venv-medallion"
MEDALLION_VERSION = "3.0.0"
TAXII = "application/taxii+json;version=2.1"
LOAD_CHUNK = 5000
console = Console()


def stix_objects(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct STIX 2.1 indicators, about 400 bytes each."""
    out = []
    for i in range(n):
        minute, second = divmod(i % 3600, 60)
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=(seed << 64) | i, version=4)}",
                "created": f"2025-01-01T00:{minute:02d}:{second:02d}.000Z",
                "modified": f"2025-06-01T00:{minute:02d}:{second:02d}.000Z",
                "name": f"Botnet command server {i}",
                "description": "Command-and-control endpoint seen in AI-assisted intrusion campaigns.",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
                "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z",
            }
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(
    url: str, auth: tuple[str, str], process: subprocess.Popen[bytes], limit: float = 120
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {process.returncode}")
        try:
            if httpx.get(url, headers={"Accept": TAXII}, auth=auth, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not start within {limit} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Walk:
    objects: int
    requests: int
    seconds: float
    finished: bool = True

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


def client(auth: tuple[str, str], timeout: float) -> httpx.Client:
    """One keep-alive client per server, made before any timing (making one costs milliseconds)."""
    return httpx.Client(headers={"Accept": TAXII}, auth=auth, timeout=timeout)


def walk(http: httpx.Client, url: str, page: int, expected: int) -> Walk:
    """Every object of a collection, a page at a time, following ``next``."""
    seen: set[str] = set()
    requests = 0
    params: dict[str, Any] = {"limit": page}
    start = time.perf_counter()
    while True:
        try:
            response = http.get(url, params=params)
        except httpx.TimeoutException:
            return Walk(len(seen), requests, time.perf_counter() - start, finished=False)
        response.raise_for_status()
        requests += 1
        envelope = response.json()
        for obj in envelope.get("objects", []):
            if obj["id"] in seen:
                raise RuntimeError(f"{url} returned {obj['id']} twice")
            seen.add(obj["id"])
        if not envelope.get("more"):
            break
        params = {"limit": page, "next": envelope["next"]}
    seconds = time.perf_counter() - start
    if len(seen) != expected:
        raise RuntimeError(f"{url} returned {len(seen)} objects, not {expected}")
    return Walk(len(seen), requests, seconds)


def best_walk(http: httpx.Client, url: str, page: int, expected: int, budget: float) -> Walk:
    """The fastest of repeated walks (at least one; more while under ``budget`` seconds, at most 20)."""
    best = walk(http, url, page, expected)
    spent = best.seconds
    runs = 1
    while best.finished and spent < budget and runs < 20:
        again = walk(http, url, page, expected)
        spent += again.seconds
        runs += 1
        if again.seconds < best.seconds:
            best = again
    return best


# -- our server ------------------------------------------------------------------------


def load_ours(runtime: Runtime, datasets: dict[int, list[dict[str, Any]]]) -> tuple[str, dict[int, str]]:
    """An organization, a publisher and one TLP:GREEN collection per size; returns a token and the ids."""
    with runtime.uow(Actor.system("bench")) as uow:
        org, _ = access.create_organization(uow, access.OPERATOR, "Bench Agency", "government_agency")
        user, _ = access.create_user(
            uow, access.OPERATOR, access.NewUser(username="publisher", org=org.id, roles=["coordinator"])
        )
        issued = access.issue_token(uow, access.OPERATOR, user.id, scopes=["read", "write"])
        publisher = access.subject_for(uow.session, user, ["read", "write"])
        uow.commit()
    token, org_id = issued.secret, org.id
    ids: dict[int, str] = {}
    for size, objects in datasets.items():
        with runtime.uow(Actor.system("bench")) as uow:
            draft = CollectionDraft(f"bench {size}", Marking(org_id, TLP.GREEN))
            ids[size] = create_collection(uow, access.OPERATOR, draft).id
            uow.commit()
        start = time.perf_counter()
        for offset in range(0, len(objects), LOAD_CHUNK):
            with runtime.uow(Actor.user(publisher.user_id or "publisher")) as uow:
                status = add_objects(uow, publisher, ids[size], objects[offset : offset + LOAD_CHUNK])
                uow.commit()
            if status.failures:
                raise RuntimeError(f"our server refused {len(status.failures)} objects: {status.failures[0]}")
        console.print(f"  ours: loaded {size:,} objects in {time.perf_counter() - start:.1f} s")
    return token, ids


# -- medallion -------------------------------------------------------------------------


def medallion_python() -> Path:
    python = MEDALLION_VENV / "bin" / "python"
    if not python.exists():
        uv = shutil.which("uv")
        if uv is None:
            raise SystemExit("uv is needed to create bench/.venv-medallion")
        console.print(f"creating {MEDALLION_VENV} with medallion=={MEDALLION_VERSION}")
        subprocess.run([uv, "venv", "--quiet", "--python", "3.11", str(MEDALLION_VENV)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), f"medallion=={MEDALLION_VERSION}"],
            check=True,
        )
    check = f"import importlib.metadata as m; assert m.version('medallion') == '{MEDALLION_VERSION}'"
    subprocess.run([str(python), "-c", check], check=True)
    return python


def medallion_data(objects: list[dict[str, Any]], collection_id: str) -> dict[str, Any]:
    """The memory backend's file: one API root, one collection holding ``objects`` and their manifest."""
    base = time.time() - len(objects)
    manifest = [
        {
            "id": obj["id"],
            "date_added": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i // 1000))
            + f".{i % 1000:03d}000Z",
            "version": obj["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for i, obj in enumerate(objects)
    ]
    return {
        "/discovery": {
            "title": "medallion bench",
            "default": "http://127.0.0.1/api1/",
            "api_roots": ["http://127.0.0.1/api1/"],
        },
        "api1": {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": collection_id,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }


def start_medallion(
    python: Path, folder: Path, objects: list[dict[str, Any]], page: int
) -> tuple[subprocess.Popen[bytes], str]:
    collection_id = str(uuid.uuid4())
    data = folder / f"medallion-{len(objects)}.json"
    data.write_text(json.dumps(medallion_data(objects, collection_id)))
    config = folder / f"medallion-{len(objects)}.config.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                    "session_timeout": 3600,
                },
                "users": {"bench": "bench"},
                "taxii": {"max_page_size": page},
            }
        )
    )
    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/taxii2/", ("bench", "bench"), process)
    return process, f"{base}/api1/collections/{collection_id}/objects/"


# -- run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--page", type=int, default=1000, help="objects a request (limit), for both servers")
    parser.add_argument(
        "--medallion-timeout", type=float, default=300, help="seconds medallion may take for one request"
    )
    parser.add_argument("--budget", type=float, default=5.0, help="seconds of repeated walks per measurement")
    parser.add_argument("--database-url", default=None, help="ours: default SQLite in a temporary folder")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    python = medallion_python()
    datasets = {size: stix_objects(size, seed) for seed, size in enumerate(sizes, start=1)}

    results: dict[int, tuple[Walk, Walk]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "CLEARINGHOUSE_HOME": str(folder / "home"),
            "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
            "CLEARINGHOUSE_LOG_LEVEL": "WARNING",
        }
        if args.database_url:
            env["CLEARINGHOUSE_DATABASE_URL"] = args.database_url
        runtime = Runtime(Settings.from_env({k: v for k, v in env.items() if k.startswith("CLEARINGHOUSE_")}))
        runtime.migrate()
        console.print("loading our server")
        token, ids = load_ours(runtime, datasets)
        runtime.close()
        port = free_port()
        ours = subprocess.Popen(
            [sys.executable, "-m", "clearinghouse", "serve", "--port", str(port), "--no-jobs"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        auth = ("publisher", token)
        ours_walks: dict[int, Walk] = {}
        try:
            wait_until_up(f"http://127.0.0.1:{port}/taxii2/", auth, ours)
            http = client(auth, 60)
            for size in sizes:
                url = f"http://127.0.0.1:{port}/taxii2/clearinghouse/collections/{ids[size]}/objects/"
                walk(http, url, args.page, size)  # warm up
                ours_walks[size] = best_walk(http, url, args.page, size, args.budget)
                w = ours_walks[size]
                console.print(
                    f"  ours {size:>7,}: {w.objects_per_s:>10,.0f} objects/s {w.requests_per_s:>8,.1f} req/s"
                )
        finally:
            stop(ours)

        for size in sizes:
            console.print(f"medallion {MEDALLION_VERSION}: {size:,} objects")
            process, url = start_medallion(python, folder, datasets[size], args.page)
            try:
                http = client(("bench", "bench"), args.medallion_timeout)
                m = walk(http, url, args.page, size)
                if m.finished and m.seconds < args.budget:
                    m = best_walk(http, url, args.page, size, args.budget)
            finally:
                stop(process)
            state = "" if m.finished else f" (unfinished after {m.seconds:.0f} s)"
            console.print(f"  medallion {size:>7,}: {m.objects_per_s:>10,.1f} objects/s{state}")
            results[size] = (ours_walks[size], m)

    table = Table(title=f"GET objects, {args.page} a page, every object once (following next)")
    for column in (
        "objects",
        "ours objects/s",
        "ours req/s",
        "medallion objects/s",
        "medallion req/s",
        "ours/medallion",
    ):
        table.add_column(column, justify="right")
    for size in sizes:
        o, m = results[size]
        if m.finished:
            m_rate, m_req, ratio = (
                f"{m.objects_per_s:,.1f}",
                f"{m.requests_per_s:,.2f}",
                f"{o.objects_per_s / m.objects_per_s:,.0f}x",
            )
        else:
            # Not one page within the timeout: at most one page's objects in that time.
            bound = max(m.objects, args.page) / m.seconds
            m_rate, m_req, ratio = (
                f"< {bound:,.1f}",
                f"< {1 / m.seconds:,.4f}",
                f"> {o.objects_per_s / bound:,.0f}x",
            )
        table.add_row(
            f"{size:,}", f"{o.objects_per_s:,.0f}", f"{o.requests_per_s:,.1f}", m_rate, m_req, ratio
        )
    console.print(table)
    small, large = results[sizes[0]][0], results[sizes[-1]][0]
    console.print(
        f"ours at {sizes[0]:,} / ours at {sizes[-1]:,}: {small.objects_per_s / large.objects_per_s:.2f} "
        "(target: within a factor of 2)"
    )
    if 10_000 in results:
        o, m = results[10_000]
        note = "" if m.finished else " (lower bound)"
        rate = m.objects_per_s if m.finished else max(m.objects, args.page) / m.seconds
        console.print(
            f"ours / medallion at 10,000: {o.objects_per_s / rate:,.0f}x{note} (target: at least 50x)"
        )


if __name__ == "__main__":
    main()

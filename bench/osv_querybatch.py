"""``POST /v1/querybatch`` latency with 1,000 package queries against the full shared corpus.

    uv run python bench/osv_querybatch.py [--queries 1000] [--rounds 40] [--seed 5]
    uv run python bench/osv_querybatch.py --corpus ../shared/corpus --home /tmp/osvbench

Loads every advisory database of the shared corpus (PyPA, the GHSA sample, the
PSF, OSS-Fuzz, RubySec and Node.js security-wg data: about 9,000 records) with
the importer ``clearinghouse import`` uses, into a fresh SQLite database, then
serves the API with uvicorn on 127.0.0.1 in a child process and sends
``--rounds`` batches of ``--queries`` package queries (ecosystem, name and
version) over HTTP, one batch at a time, each batch drawn afresh, after one
warm-up batch (which builds the in-memory index).

The queries are drawn (seeded) from the stored affected packages: a listed
version, a range boundary, or a version no advisory names, plus a tenth for
packages no advisory names, as a scan of a real dependency list would be.

Printed figures:

* p50, p90 and p99 latency of one batch, end to end (client to server and back);
  target p50 < 100 ms;
* the floor: the same 1,000 lookups on the same in-memory index, in-process,
  with no HTTP, no JSON and no policy (``ImportedIndex.lookup``), p50 over the
  same number of rounds; and the ratio of the API's p50 to it;
* how many queries matched and how many advisories the answers carry.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import select

from clearinghouse.config import Settings
from clearinghouse.intake.advisories import AdvisoryAffected, import_paths
from clearinghouse.runtime import Runtime
from clearinghouse.sharing._osv_api import ImportedIndex, PackageQuery, imported_index
from clearinghouse.storage import Actor

DATABASES = (
    "pypa-advisory-database",
    "ghsa-sample",
    "osv-more-ecosystems",
)


def _default_corpus() -> Path:
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


def load(runtime: Runtime, corpus: Path) -> int:
    started = time.perf_counter()
    report = import_paths(runtime.uow, [corpus / name for name in DATABASES])
    took = time.perf_counter() - started
    print(
        f"imported {report.inserted:,} advisories ({report.records:,} records read, "
        f"{report.rejected} rejected) in {took:.1f} s"
    )
    return report.inserted


def make_queries(runtime: Runtime, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with runtime.uow(Actor.system("bench"), write=False) as uow:
        rows = uow.session.execute(
            select(
                AdvisoryAffected.ecosystem,
                AdvisoryAffected.name,
                AdvisoryAffected.ranges,
                AdvisoryAffected.versions,
            )
        ).all()
    rows.sort(key=lambda r: (r.ecosystem, r.name))
    queries: list[dict[str, Any]] = []
    while len(queries) < count:
        if rng.random() < 0.1:
            queries.append(
                {
                    "package": {"ecosystem": "PyPI", "name": f"unknown-{rng.randrange(10**9)}"},
                    "version": "1.0",
                }
            )
            continue
        row = rng.choice(rows)
        boundaries = [
            v
            for rng_ in row.ranges
            if rng_.get("type") != "GIT"
            for e in rng_["events"]
            for v in e.values()
            if v != "0"
        ]
        choices = list(row.versions) + boundaries + ["0.0.1", "999.0.0"]
        queries.append(
            {"package": {"ecosystem": row.ecosystem, "name": row.name}, "version": rng.choice(choices)}
        )
    return queries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


SERVER = """
import sys
import uvicorn
from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
settings = Settings.from_env({"CLEARINGHOUSE_HOME": sys.argv[1], "CLEARINGHOUSE_JOB_BACKEND": "inprocess"})
uvicorn.run(create_app(Runtime(settings)), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def measure(
    url: str, warmup: list[dict[str, Any]], batches: list[list[dict[str, Any]]]
) -> tuple[list[float], int, int]:
    """Latency of each batch (ms), answers with advisories, advisories in all answers."""
    latencies: list[float] = []
    matched = hits = 0
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        client.post(url, json={"queries": warmup}).raise_for_status()
        print(f"first batch (builds the index): {(time.perf_counter() - started) * 1000:.0f} ms")
        for batch in batches:
            body = json.dumps({"queries": batch}).encode()
            started = time.perf_counter()
            response = client.post(url, content=body, headers={"Content-Type": "application/json"})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            results = response.json()["results"]
            matched += sum(1 for r in results if r.get("vulns"))
            hits += sum(len(r.get("vulns", [])) for r in results)
    return latencies, matched, hits


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=_default_corpus())
    parser.add_argument("--home", type=Path, default=None, help="data folder (default: a temporary one)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="osvbench-"))
    settings = Settings.from_env({"CLEARINGHOUSE_HOME": str(home), "CLEARINGHOUSE_JOB_BACKEND": "inprocess"})
    runtime = Runtime(settings)
    runtime.migrate()
    load(runtime, args.corpus)
    # A batch of queries drawn afresh for each round, so that no round repeats another's
    # questions and remembered answers help only as much as real overlap between scans does.
    warmup = make_queries(runtime, args.queries, args.seed - 1)
    batches = [make_queries(runtime, args.queries, args.seed + i) for i in range(args.rounds)]

    # The server in its own process (as deployed): the client's work does not share its GIL.
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(home), str(port)])
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health", server)
        latencies, matched, hits = measure(f"http://127.0.0.1:{port}/v1/querybatch", warmup, batches)
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The floor: a fresh index of the same data (nothing remembered), warmed with the same
    # first batch, then the same batches' lookups in this process, with nothing else.
    with runtime.uow(Actor.system("bench"), write=False) as uow:
        index = ImportedIndex.load(uow.session, imported_index(uow.session).fingerprint)
    runtime.close()

    def parsed(batch: list[dict[str, Any]]) -> list[PackageQuery]:
        return [PackageQuery(q["package"]["ecosystem"], q["package"]["name"], q["version"]) for q in batch]

    for query in parsed(warmup):
        index.lookup(query)
    floor: list[float] = []
    floor_hits = 0
    for batch in batches:
        queries = parsed(batch)
        started = time.perf_counter()
        floor_hits += sum(len(index.lookup(q)) for q in queries)
        floor.append((time.perf_counter() - started) * 1000)

    p50 = statistics.median(latencies)
    floor_p50 = statistics.median(floor)
    print(f"{args.queries:,} queries a batch, {args.rounds} batches: {matched:,} answers with advisories")
    print(f"{hits:,} advisories in all answers (the floor found {floor_hits:,})")
    print(
        f"/v1/querybatch latency: p50 {p50:.1f} ms, p90 {percentile(latencies, 90):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms (target p50 < 100 ms: {'met' if p50 < 100 else 'NOT met'})"
    )
    print(f"floor (the same lookups on the index, in-process): p50 {floor_p50:.1f} ms")
    print(f"ratio API / floor (p50): {p50 / floor_p50:.2f}")


if __name__ == "__main__":
    main()

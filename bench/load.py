"""A bounded load test on loopback: a real ``clearinghouse serve`` on SQLite,
many concurrent clients, mixed reads and writes.

    uv run python bench/load.py [--clients 50] [--duration 60] [--max-requests 30000]

Starts the service in a subprocess on a free port of 127.0.0.1 with a fresh
data folder (``init``: schema, ledger key, admin), makes a finder, an analyst
and their tokens with the CLI, then runs ``--clients`` clients for
``--duration`` seconds (or until ``--max-requests``), each looping over a
weighted mix: submit a finding (write), list findings, read a case, the
priority queue, whoami, and ``/api/v1/health``. Prints requests, errors
(5xx, transport errors, unexpected 4xx), p50 and p99 overall and for writes,
and the floor — the health check's p50 in the same run — with the ratio.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

WRITES = {"submit"}
MIX = [("submit", 25), ("list", 20), ("case", 15), ("queue", 15), ("whoami", 15), ("health", 10)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clearinghouse", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _finding(i: int) -> dict[str, Any]:
    return {
        "title": f"Heap overflow in parser #{i}",
        "description": f"parse_header copies the Cookie header into a fixed buffer (load test {i}).",
        "package": {"purl": f"pkg:pypi/loadtest-{i % 40}@1.{i % 7}.0"},
        "cwe": ["CWE-122"],
        "impact": {"claimed": "denial_of_service"},
        "reproducer": {"steps": [f"send a 70000-byte Cookie header ({i})"]},
        "generator": {"tool": "bench", "model": "none", "organization": "Lab"},
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run_clients(
    base: str, tokens: dict[str, str], clients: int, duration: float, max_requests: int
) -> tuple[dict[str, list[float]], dict[str, int], list[str]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    case_ids: list[str] = []
    budget = [max_requests]
    deadline = time.monotonic() + duration
    ops = [name for name, weight in MIX for _ in range(weight)]
    finder = {"Authorization": f"Bearer {tokens['finder']}"}
    analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
    counter = [0]

    async def one(client: httpx.AsyncClient, rng: random.Random) -> None:
        op = rng.choice(ops)
        if op == "case" and not case_ids:
            op = "list"
        started = time.perf_counter()
        try:
            if op == "submit":
                counter[0] += 1
                response = await client.post("/api/v1/findings", json=_finding(counter[0]), headers=finder)
                ok = response.status_code in (200, 201)
            elif op == "list":
                response = await client.get("/api/v1/findings?limit=20", headers=analyst)
                ok = response.status_code == 200
                if ok:
                    body = response.json()
                    items = body.get("items", body) if isinstance(body, dict) else body
                    for item in items[:5] if isinstance(items, list) else []:
                        if isinstance(item, dict) and item.get("case_id") and len(case_ids) < 500:
                            case_ids.append(str(item["case_id"]))
            elif op == "case":
                response = await client.get(f"/api/v1/cases/{rng.choice(case_ids)}", headers=analyst)
                ok = response.status_code == 200
            elif op == "queue":
                response = await client.get("/api/v1/queue?limit=20", headers=analyst)
                ok = response.status_code == 200
            elif op == "whoami":
                response = await client.get("/api/v1/whoami", headers=finder)
                ok = response.status_code == 200
            else:
                response = await client.get("/api/v1/health")
                ok = response.status_code == 200
            if not ok:
                errors[op] += 1
                if len(samples) < 5:
                    samples.append(f"{op}: {response.status_code} {response.text[:200]}")
        except httpx.HTTPError as exc:
            errors[op] += 1
            if len(samples) < 5:
                samples.append(f"{op}: {type(exc).__name__} {exc}")
        latencies[op].append(time.perf_counter() - started)

    async def worker(n: int) -> None:
        rng = random.Random(n)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                await one(client, rng)

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return latencies, errors, samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--max-requests", type=int, default=30_000)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="clearinghouse-load-"))
    env = {
        **os.environ,
        "CLEARINGHOUSE_HOME": str(home),
        "CLEARINGHOUSE_DATABASE_URL": f"sqlite:///{home / 'clearinghouse.db'}",
        "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
        "CLEARINGHOUSE_LOG_LEVEL": "WARNING",
    }
    _cli(env, "init")
    _cli(env, "org", "add", "Lab", "--kind", "ai_developer")
    _cli(env, "org", "add", "House", "--kind", "government_agency")
    _cli(env, "user", "add", "finder", "--org", "Lab", "--role", "partner")
    _cli(env, "user", "add", "analyst", "--org", "House", "--role", "analyst")
    tokens = {}
    for user in ("finder", "analyst"):
        out = _cli(env, "token", "create", "--user", user, "--scope", "read", "--scope", "write", "--json")
        tokens[user] = json.loads(out)["secret"]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "clearinghouse", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit(f"the server exited: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        started = time.perf_counter()
        latencies, errors, samples = asyncio.run(
            _run_clients(base, tokens, args.clients, args.duration, args.max_requests)
        )
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            import shutil

            shutil.rmtree(home, ignore_errors=True)

    everything = [v for values in latencies.values() for v in values]
    writes = [v for op in WRITES for v in latencies.get(op, [])]
    floor = _pct(latencies.get("health", []), 0.5)
    total = len(everything)
    print(f"clients {args.clients}, {elapsed:.1f} s, {total} requests ({total / elapsed:.0f}/s), SQLite")
    print(f"errors: {sum(errors.values())} {dict(errors) if errors else ''}")
    for sample in samples:
        print(f"  e.g. {sample}")
    print(f"all:    p50 {_pct(everything, 0.5) * 1000:8.1f} ms   p99 {_pct(everything, 0.99) * 1000:8.1f} ms")
    print(f"writes: p50 {_pct(writes, 0.5) * 1000:8.1f} ms   p99 {_pct(writes, 0.99) * 1000:8.1f} ms")
    for op in sorted(latencies):
        values = latencies[op]
        print(
            f"  {op:7s} n={len(values):6d}  p50 {_pct(values, 0.5) * 1000:8.1f} ms  "
            f"p99 {_pct(values, 0.99) * 1000:8.1f} ms"
        )
    print(
        f"floor (health p50 in this run): {floor * 1000:.1f} ms; "
        f"p50 / floor = {_pct(everything, 0.5) / floor:.1f}x, "
        f"p99 / floor = {_pct(everything, 0.99) / floor:.1f}x"
    )
    target = not errors and _pct(everything, 0.99) < 0.5
    print(f"target (0 errors, p99 < 500 ms): {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()

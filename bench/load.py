"""A bounded load test on loopback: a real ``clearinghouse serve`` on SQLite,
many concurrent clients, mixed reads and writes, with a floor measured in the same run.

    uv run python bench/load.py --clients 50 --seconds 60

Everything it needs is made here, from a fresh data folder: ``clearinghouse init``, then one setup
process (a developer organization with a finder, an agency with an analyst, a read/write token each),
then ``clearinghouse serve`` on a free port of 127.0.0.1 (SQLite, in-process jobs, as a default
install runs). Nothing leaves 127.0.0.1; the folder is removed at the end (``--keep`` keeps it).

Each client loops over a weighted mix of the API: submit a finding (write), list findings, read a
case, the priority queue, whoami (reads), and ``/api/v1/health``. The run has two passes over the
same server and data:

1. the floor: ``--floor-clients`` (1) client for ``--floor-seconds`` — what each operation costs
   with nothing queued in front of it, on this machine, now;
2. the load: ``--clients`` clients for ``--seconds`` (or ``--max-requests``).

It prints errors (5xx, transport errors, unexpected 4xx), p50/p95/p99 per class (reads, writes,
health) and overall, throughput, the floor's figures, the ratio of each to its floor, the machine's
load average before and after, and whether the target holds (0 errors, p99 < 500 ms). On a
machine shared with other work the absolute figures grow with its load; the ratio to the floor
(measured minutes apart on the same machine) is the fairer figure to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MIX = [("submit", 25), ("list", 20), ("case", 15), ("queue", 15), ("whoami", 15), ("health", 10)]
CLASSES = {"writes": ("submit",), "reads": ("list", "case", "queue", "whoami"), "health": ("health",)}
TARGET_P99_S = 0.5

SETUP = """
import json
from clearinghouse.access import services as access
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor

runtime = Runtime.from_env()
tokens = {}
with runtime.uow(Actor.system("bench"), write=True) as uow:
    access.create_organization(uow, access.OPERATOR, "Lab", "ai_developer")
    access.create_organization(uow, access.OPERATOR, "House", "government_agency")
    for name, org, role in (("finder", "Lab", "partner"), ("analyst", "House", "analyst")):
        access.create_user(uow, access.OPERATOR, access.NewUser(username=name, org=org, roles=[role]))
    uow.flush()
    for user in ("finder", "analyst"):
        issued = access.issue_token(uow, access.OPERATOR, user, name="load bench", scopes=["read", "write"])
        tokens[user] = issued.secret
    uow.commit()
runtime.close()
print(json.dumps(tokens))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
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


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


@dataclass
class Pass:
    """What one pass measured: latencies (s) per operation, errors and a few samples of them."""

    clients: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = float("nan")  # seconds of CPU the server process used during the pass

    def of(self, ops: tuple[str, ...] | None = None) -> list[float]:
        return [v for op, values in self.latencies.items() if ops is None or op in ops for v in values]

    @property
    def requests(self) -> int:
        return len(self.of())


class Mix:
    """The shared state of the clients: a finding counter and the case ids seen so far."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.finder = {"Authorization": f"Bearer {tokens['finder']}"}
        self.analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
        self.case_ids: list[str] = []
        self.counter = 0
        self.ops = [name for name, weight in MIX for _ in range(weight)]

    async def one(self, client: httpx.AsyncClient, rng: random.Random, out: Pass) -> None:
        op = rng.choice(self.ops)
        if op == "case" and not self.case_ids:
            op = "list"
        started = time.perf_counter()
        try:
            if op == "submit":
                self.counter += 1
                response = await client.post(
                    "/api/v1/findings", json=_finding(self.counter), headers=self.finder
                )
                ok = response.status_code in (200, 201)
            elif op == "list":
                response = await client.get("/api/v1/findings?limit=20", headers=self.analyst)
                ok = response.status_code == 200
                if ok:
                    for item in response.json()[:5]:
                        if item.get("case_id") and len(self.case_ids) < 500:
                            self.case_ids.append(str(item["case_id"]))
            elif op == "case":
                case_id = rng.choice(self.case_ids)
                response = await client.get(f"/api/v1/cases/{case_id}", headers=self.analyst)
                ok = response.status_code == 200
            elif op == "queue":
                response = await client.get("/api/v1/queue?limit=20", headers=self.analyst)
                ok = response.status_code == 200
            elif op == "whoami":
                response = await client.get("/api/v1/whoami", headers=self.finder)
                ok = response.status_code == 200
            else:
                response = await client.get("/api/v1/health")
                ok = response.status_code == 200
            if not ok:
                out.errors[op] += 1
                if len(out.samples) < 5:
                    out.samples.append(f"{op}: {response.status_code} {response.text[:200]}")
        except httpx.HTTPError as exc:
            out.errors[op] += 1
            if len(out.samples) < 5:
                out.samples.append(f"{op}: {type(exc).__name__} {exc}")
        out.latencies[op].append(time.perf_counter() - started)


async def run_pass(base: str, mix: Mix, clients: int, seconds: float, max_requests: int) -> Pass:
    """``clients`` clients, each with one keep-alive connection, looping over the mix."""
    out = Pass(clients)
    budget = [max_requests]
    deadline = time.monotonic() + seconds

    async def client_loop(n: int) -> None:
        rng = random.Random(n)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                await mix.one(client, rng, out)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    out.elapsed = time.perf_counter() - started
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads), from /proc; NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, base: str, mix: Mix, clients: int, seconds: float, max_requests: int) -> Pass:
    """One pass, with the server's CPU time over it."""
    cpu = cpu_seconds(pid)
    out = asyncio.run(run_pass(base, mix, clients, seconds, max_requests))
    out.server_cpu = cpu_seconds(pid) - cpu
    return out


def _ms(value: float) -> str:
    return f"{value * 1000:8.1f}"


def report(floor: Pass, load: Pass, before: str, after: str) -> bool:
    """Print the figures; True when the target holds."""
    print(f"machine load average before: {before}; after: {after} ({os.cpu_count()} CPUs)")
    for run in (floor, load):
        name = "floor" if run is floor else "load "
        errors = sum(run.errors.values())
        print(
            f"{name}: {run.clients:3d} clients, {run.elapsed:5.1f} s, {run.requests} requests "
            f"({run.requests / run.elapsed:.0f}/s), errors {errors} {dict(run.errors) if errors else ''}"
        )
        print(
            f"       server CPU {run.server_cpu:.1f} s = {run.server_cpu / run.requests * 1000:.2f} ms "
            f"a request ({run.server_cpu / run.elapsed:.2f} cores)"
        )
        for sample in run.samples:
            print(f"    e.g. {sample}")
    print(
        f"\n{'':10s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}"
        "   floor p50/p99 ms   p50 and p99 / floor"
    )
    rows: list[tuple[str, tuple[str, ...] | None]] = [(name, ops) for name, ops in CLASSES.items()]
    rows.append(("all", None))
    rows.extend((f"  {op}", (op,)) for op, _ in MIX)
    for name, ops in rows:
        values, base = load.of(ops), floor.of(ops)
        if not values:
            continue
        f50, f99 = pct(base, 0.5), pct(base, 0.99)
        print(
            f"{name:10s} {len(values):6d} {_ms(pct(values, 0.5))} {_ms(pct(values, 0.95))} "
            f"{_ms(pct(values, 0.99))}"
            f"   {_ms(f50)} {_ms(f99)}   {pct(values, 0.5) / f50:6.1f}x {pct(values, 0.99) / f99:6.1f}x"
        )
    p99 = pct(load.of(), 0.99)
    held = not load.errors and p99 < TARGET_P99_S
    print(
        f"\ntarget (0 errors, p99 < {TARGET_P99_S * 1000:.0f} ms at {load.clients} clients): "
        f"{'met' if held else 'NOT met'} — errors {sum(load.errors.values())}, p99 {p99 * 1000:.1f} ms"
    )
    return held


def background(db: Path) -> str:
    """What the in-process worker did and has left: jobs by name and status, findings not yet
    placed in a case (read straight from the database file, after the server stopped)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"background jobs: unknown ({exc})"
    with conn:
        jobs = conn.execute(
            "SELECT name, status, count(*) FROM jobs GROUP BY name, status ORDER BY name"
        ).fetchall()
        unplaced = conn.execute("SELECT count(*) FROM findings WHERE case_id IS NULL").fetchone()[0]
        findings = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    runs = ", ".join(f"{name} {status} {count}" for name, status, count in jobs) or "none"
    return f"background jobs: {runs}; findings {findings}, not yet in a case {unplaced}"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", "--duration", type=float, default=60.0, dest="seconds")
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--floor-clients", type=int, default=1)
    parser.add_argument("--floor-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    before = _loadavg()
    home = Path(tempfile.mkdtemp(prefix="clearinghouse-load-"))
    env = {
        **os.environ,
        "CLEARINGHOUSE_HOME": str(home),
        "CLEARINGHOUSE_DATABASE_URL": f"sqlite:///{home / 'clearinghouse.db'}",
        "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
        "CLEARINGHOUSE_LOG_LEVEL": "WARNING",
    }
    server: subprocess.Popen[str] | None = None
    try:
        _run(env, "-m", "clearinghouse", "init", "--no-ask")
        tokens = json.loads(_run(env, "-c", SETUP).strip().splitlines()[-1])
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "clearinghouse", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(1200):
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
        mix = Mix(tokens)
        asyncio.run(run_pass(base, mix, 2, 3.0, 200))  # warm-up: first requests, a few cases
        floor = measured(server.pid, base, mix, args.floor_clients, args.floor_seconds, args.max_requests)
        load = measured(server.pid, base, mix, args.clients, args.seconds, args.max_requests)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        after = _loadavg()
        jobs = background(home / "clearinghouse.db") if server is not None else ""
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    held = report(floor, load, before, after)
    print(jobs)
    if args.json is not None:
        figures = {
            run_name: {
                "clients": run.clients,
                "seconds": run.elapsed,
                "requests": run.requests,
                "errors": dict(run.errors),
                "server_cpu_ms_per_request": run.server_cpu / run.requests * 1000,
                **{
                    cls: {f"p{q}": pct(run.of(ops), q / 100) for q in (50, 95, 99)}
                    for cls, ops in [*CLASSES.items(), ("all", None)]
                },
            }
            for run_name, run in (("floor", floor), ("load", load))
        }
        args.json.write_text(json.dumps({"target_met": held, **figures}, indent=2))


if __name__ == "__main__":
    main()

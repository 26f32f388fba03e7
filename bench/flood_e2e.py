"""Deduplication end to end through a real service, against the in-memory index in the same run.

    uv run python bench/flood_e2e.py [--count 4000] [--aliases some|none] [--via native|osv]
        [--flood DIR] [--database-url URL --workers N] [--port 8765]

1. A restated flood (``bench/restate.py``: real advisories reworded, shuffled, with finders' report
   ids, nudged versions, hard negatives) is generated, or read from ``--flood``.
2. A fresh service starts: ``clearinghouse init`` and ``clearinghouse serve`` in a temporary home
   (SQLite, jobs in the server process), or with ``--database-url`` (PostgreSQL) ``serve --no-jobs``
   and ``--workers`` ``clearinghouse worker`` processes.
3. The findings are submitted with the real client (``intake/_client.py``, what ``clearinghouse
   submit`` runs): native NDJSON in one file, or one OSV document per file.
4. It waits until no finding is left unplaced, reads every finding back through
   ``GET /api/v1/findings`` (its ``case_id`` and duplicate check), and prints pairwise precision and
   recall of the automatic merges, and with every duplicate proposal accepted; findings/s end to end
   (submit to last placement); peak RSS (VmHWM) of the server and each worker.
5. The floor, in this process: the same findings read the same way, then features and the in-memory
   :class:`DedupIndex` alone; its time, quality and the ratio end-to-end time / floor time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.restate import generate, write
from bench.restate_eval import accept_all, quality, run_index, submissions

from clearinghouse.access import services as access
from clearinghouse.config import Settings
from clearinghouse.intake._client import Client, submit_files
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor

_PROPOSAL = re.compile(r"possibly duplicate_of (\S+) ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _setup_users(env: dict[str, str]) -> tuple[str, str]:
    """A finder (write) and an analyst (reads every finding); returns their tokens."""
    runtime = Runtime(Settings.from_env(env))
    try:
        tokens = []
        with runtime.uow(Actor.system("bench")) as uow:
            for username, org, kind, roles in (
                ("finder", "Finder Lab", "security_researcher", ["partner"]),
                ("analyst", "Clearinghouse", "government_agency", ["analyst"]),
            ):
                o, _ = access.create_organization(uow, access.OPERATOR, org, kind)
                u, _ = access.create_user(
                    uow, access.OPERATOR, access.NewUser(username=username, org=o.id, roles=roles)
                )
                uow.flush()
                tokens.append(access.issue_token(uow, access.OPERATOR, u.id, scopes=["read", "write"]).secret)
            uow.commit()
        return tokens[0], tokens[1]
    finally:
        runtime.close()


def _get(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def _wait_placed(base: str, token: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _get(f"{base}/api/v1/findings?state=checked&limit=1", token):
            return
        time.sleep(0.2)
    raise TimeoutError("findings were still waiting for deduplication")


def _read_all(base: str, token: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    after = ""
    while True:
        page = _get(f"{base}/api/v1/findings?limit=500{'&after=' + after if after else ''}", token)
        for f in page:
            out[f["id"]] = f
        if len(page) < 500:
            return out
        after = page[-1]["id"]


def run_service(
    flood: Path, via: str, database_url: str | None, workers: int, port: int, server_src: Path | None = None
) -> dict[str, Any]:
    truth: list[str] = json.loads((flood / "truth.json").read_text())
    with tempfile.TemporaryDirectory(prefix="flood-e2e-") as home:
        env = {**os.environ, "CLEARINGHOUSE_HOME": home, "CLEARINGHOUSE_LOG_LEVEL": "WARNING"}
        if database_url:
            env["CLEARINGHOUSE_DATABASE_URL"] = database_url
        if server_src is not None:  # another checkout's server code (a baseline), the same client
            env["PYTHONPATH"] = str(server_src)
        cli = [sys.executable, "-m", "clearinghouse"]
        subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
        finder, analyst = _setup_users(env)
        serve = [*cli, "serve", "--port", str(port)] + (["--no-jobs"] if database_url else [])
        procs = {"server": subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL)}
        for w in range(workers if database_url else 0):
            procs[f"worker{w + 1}"] = subprocess.Popen([*cli, "worker"], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1800):  # start-up on a busy 2-core machine can take a while
                try:
                    urllib.request.urlopen(f"{base}/api/v1/health", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            ids: list[str] = []

            def record(_owners: list[Path], report: dict[str, Any]) -> None:
                items = sorted(report["items"], key=lambda i: i["index"])
                if report["problems"]:
                    raise RuntimeError(f"refused: {report['problems'][:3]}")
                ids.extend(i["id"] for i in items)

            files = [flood / "findings.ndjson"] if via == "native" else sorted((flood / "osv").glob("*.json"))
            t0 = time.perf_counter()
            submit_files(Client(base, finder), files, on_report=record)
            submitted = time.perf_counter() - t0
            _wait_placed(base, analyst, timeout=3600)
            seconds = time.perf_counter() - t0
            rss = {name: _peak_rss(p.pid) for name, p in procs.items()}
            stored = _read_all(base, analyst)
        finally:
            for p in procs.values():
                p.send_signal(signal.SIGINT)
            for p in procs.values():
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    if len(ids) != len(truth):
        raise RuntimeError(f"{len(ids)} findings stored for {len(truth)} submitted")
    pred = [stored[i]["case_id"] or i for i in ids]
    missing = sum(1 for i in ids if stored[i]["case_id"] is None)
    proposals: dict[str, str] = {}
    for i in ids:
        for check in stored[i]["checks"]:
            m = _PROPOSAL.search(check["reason"]) if check["name"] == "duplicate" else None
            if m:
                proposals[i] = m.group(1)
    accepted = _accept(ids, pred, proposals, stored)
    return {
        "seconds": seconds,
        "submit_seconds": submitted,
        "per_s": len(ids) / seconds,
        "rss": rss,
        "without_case": missing,
        **quality(pred, accepted, truth),
    }


def _accept(
    ids: list[str], pred: list[str], proposals: dict[str, str], stored: dict[str, dict[str, Any]]
) -> list[str]:
    parent = {c: c for c in pred}
    for c in (stored[t]["case_id"] or t for t in proposals.values()):
        parent.setdefault(c, c)

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, c in zip(ids, pred, strict=True):
        target = proposals.get(i)
        if target is not None:
            a, b = find(c), find(stored[target]["case_id"] or target)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(c) for c in pred]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4_000)
    parser.add_argument("--aliases", choices=("some", "none"), default="some")
    parser.add_argument("--via", choices=("native", "osv"), default="native")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flood", type=Path, default=None, help="a flood written by bench/restate.py")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite in a temp home)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--server-src", type=Path, default=None, help="run another checkout's src (baseline)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flood-") as tmp:
        flood = args.flood
        if flood is None:
            flood = Path(tmp)
            write(generate(args.count, seed=args.seed, aliases=args.aliases), flood)
        n = len(json.loads((flood / "truth.json").read_text()))
        e2e = run_service(
            flood, args.via, args.database_url, args.workers, args.port or _free_port(), args.server_src
        )
        truth: list[str] = json.loads((flood / "truth.json").read_text())
        subs = submissions(flood, args.via)
        index, decisions, floor_s = run_index(subs)
    pred = [index.case_of(f"f{i}") for i in range(n)]
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{n:,} findings via {args.via} on {db} ({args.workers if args.database_url else 0} workers)")
    print(
        f"  service: auto-merge precision {e2e['precision']:.3f} recall {e2e['recall']:.3f}; "
        f"proposals accepted precision {e2e['precision_accepted']:.3f} recall {e2e['recall_accepted']:.3f}"
    )
    print(
        f"  service: {e2e['per_s']:,.0f} findings/s end to end ({e2e['seconds']:.1f}s; submit "
        f"{e2e['submit_seconds']:.1f}s); {e2e['without_case']} without a case; peak RSS "
        + ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in e2e["rss"].items())
    )
    q = quality(pred, accept_all(pred, decisions), truth)
    print(
        f"  floor quality: auto-merge precision {q['precision']:.3f} recall {q['recall']:.3f}; "
        f"proposals accepted recall {q['recall_accepted']:.3f}"
    )
    print(
        f"  floor (in-memory index alone): {n / floor_s:,.0f} findings/s ({floor_s:.1f}s); "
        f"end to end / floor = {e2e['seconds'] / floor_s:.1f}x"
    )


if __name__ == "__main__":
    main()

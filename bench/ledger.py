"""Ledger speed: appends per second through the unit of work, and verification
per second, each against a floor measured in the same process (hashing the
same canonical records with nothing else: no database, no ORM).

    uv run python bench/ledger.py [--events 20000] [--database-url URL]

Prints events/s for each and the ratio to the floor. No assertion: a figure.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from rich.console import Console

from clearinghouse.config import Settings
from clearinghouse.ledger import verify_ledger
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, canonical_json


def floor_rate(n: int) -> float:
    """Hash-chaining n event-shaped records in memory: the least work a ledger must do."""
    prev = "0" * 64
    start = time.perf_counter()
    for seq in range(1, n + 1):
        body = canonical_json(
            {
                "seq": seq,
                "occurred_at": "2026-11-26T00:00:00.000000Z",
                "actor": "system:bench",
                "action": "bench.recorded",
                "object_type": None,
                "object_id": str(seq),
                "state_digest": None,
                "detail": {"i": seq},
                "prev_hash": prev,
            }
        )
        prev = hashlib.sha256(body.encode()).hexdigest()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-commit", type=int, default=100, help="events appended per transaction")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLEARINGHOUSE_HOME": tmp, "CLEARINGHOUSE_JOB_BACKEND": "inprocess"}
        if args.database_url:
            env["CLEARINGHOUSE_DATABASE_URL"] = args.database_url
        runtime = Runtime(Settings.from_env(env))
        runtime.migrate()
        start = time.perf_counter()
        written = 0
        while written < args.events:
            with runtime.uow(Actor.system("bench")) as uow:
                for _ in range(min(args.per_commit, args.events - written)):
                    written += 1
                    uow.record("bench.recorded", None, str(written), i=written)
                uow.commit()
        append_rate = written / (time.perf_counter() - start)
        start = time.perf_counter()
        with runtime.uow(Actor.system("bench"), write=False) as uow:
            report = verify_ledger(uow.session, Path(tmp) / "keys", runtime.signing_key)
        verify_rate = report.events_checked / (time.perf_counter() - start)
        assert report.ok, report.problems
        runtime.close()
    floor = floor_rate(args.events)
    db = "PostgreSQL" if args.database_url else "SQLite"
    console.print(f"database: {db}; events: {written}; events per commit: {args.per_commit}")
    console.print(f"floor (in-memory hash chain): {floor:,.0f} events/s")
    console.print(
        f"append (unit of work): {append_rate:,.0f} events/s, ratio to floor {append_rate / floor:.3f}"
    )
    console.print(
        f"verify:                {verify_rate:,.0f} events/s, ratio to floor {verify_rate / floor:.3f}"
    )


if __name__ == "__main__":
    main()

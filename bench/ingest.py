"""Advisory ingest speed: ``import_paths`` end to end on SQLite, against a floor
measured in the same run on the same files.

    uv run python bench/ingest.py [--corpus PATH] [--copies 2] [--chunk 500] [--rounds 3]

Two inputs:

- a gzipped OSV JSON-lines bundle, made here from the corpus's OSV records
  (pypa YAML, oss-fuzz tarball, PSF and GHSA JSON), ``--copies`` times over
  with the ids of the extra copies suffixed so every record is new;
- the pypa advisory-database YAML tree (one small file per record).

The floor is the least work any importer must do for the same input: read and
parse the same files (``json.loads`` per line; the C YAML loader per file),
serialize the JSON columns, and ``executemany`` rows of the same tables (an
advisory row, its affected rows, its alias rows) with the bare ``sqlite3``
module into a fresh file database (WAL, synchronous=NORMAL, one transaction
per chunk), with no checks, no hashing, no upsert and no SQLAlchemy.

Each is measured ``--rounds`` times, floor and end to end in turn, and the best
round of each is kept (the machine may be shared). Prints records/s for each
and the ratio floor/end-to-end. No assertion.
Targets (2 cores): JSON-lines >= 4,000 records/s at a ratio <= 4; YAML ratio <= 2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import create_engine

from clearinghouse.config import Settings
from clearinghouse.intake.advisories import import_paths
from clearinghouse.intake.advisories._loaders import load_yaml
from clearinghouse.intake.advisories.models import Advisory, AdvisoryAffected, AdvisoryAlias
from clearinghouse.runtime import Runtime

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


# -- inputs -------------------------------------------------------------------------


def corpus_records(corpus: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((corpus / "pypa-advisory-database" / "vulns").rglob("*.yaml")):
        yield load_yaml(path.read_bytes())
    with tarfile.open(corpus / "osv-more-ecosystems" / "oss-fuzz-vulns" / "vulns.tar.gz") as tar:
        for member in tar:
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                yield load_yaml(extracted.read())
    for folder in ("osv-more-ecosystems/psf-advisory-database", "ghsa-sample"):
        for path in sorted((corpus / folder).rglob("*.json")):
            doc = json.loads(path.read_bytes())
            if isinstance(doc, dict) and "modified" in doc:
                yield doc


def make_bundle(corpus: Path, out: Path, copies: int) -> int:
    unique: dict[str, dict[str, Any]] = {}
    for record in corpus_records(corpus):
        unique.setdefault(record["id"], record)  # a few OSS-Fuzz records are filed twice
    records = list(unique.values())
    n = 0
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=6) as bundle:
        for copy in range(copies):
            for record in records:
                if copy:
                    record = {**record, "id": f"{record['id']}-c{copy}"}
                bundle.write(json.dumps(record) + "\n")
                n += 1
    return n


# -- the floor: parse + bare sqlite3 executemany -------------------------------------

_TABLES = [Advisory.__table__, AdvisoryAffected.__table__, AdvisoryAlias.__table__]


def _floor_db(path: Path) -> sqlite3.Connection:
    engine = create_engine(f"sqlite:///{path}")
    Advisory.metadata.create_all(engine, tables=_TABLES)  # type: ignore[arg-type]
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _rows(record: dict[str, Any], source: str, now: str) -> tuple[tuple[Any, ...], list[Any], list[Any]]:
    adv_id = record["id"]
    dumps = json.dumps
    advisory = (
        adv_id,
        record["modified"],
        record.get("published"),
        record.get("withdrawn"),
        record.get("summary"),
        dumps(record.get("aliases", [])),
        dumps(record.get("severity", [])),
        adv_id.split("-", 1)[0],
        "osv",
        source,
        dumps(record),
        "",
        now,
    )
    affected = [
        (
            adv_id,
            a["package"]["ecosystem"],
            None,
            a["package"]["name"],
            a["package"]["name"].lower(),
            a["package"].get("purl"),
            dumps(a.get("ranges", [])),
            dumps(a.get("versions", [])),
        )
        for a in record.get("affected", [])
        if "package" in a
    ]
    aliases = [(alias, adv_id) for alias in {adv_id, *record.get("aliases", [])}]
    return advisory, affected, aliases


def _flush(db: sqlite3.Connection, adv: list[Any], aff: list[Any], ali: list[Any]) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO advisories (id, modified, published, withdrawn, summary, aliases, severity, database,"
        " source_format, source, raw, content_hash, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        adv,
    )
    db.executemany(
        "INSERT INTO advisory_affected (advisory_id, ecosystem, ecosystem_variant, name, normalized_name,"
        " purl, ranges, versions) VALUES (?,?,?,?,?,?,?,?)",
        aff,
    )
    db.executemany("INSERT OR IGNORE INTO advisory_aliases (alias, advisory_id) VALUES (?,?)", ali)
    db.execute("COMMIT")
    adv.clear()
    aff.clear()
    ali.clear()


def floor(records: Iterator[tuple[dict[str, Any], str]], db_path: Path, chunk: int) -> tuple[int, float]:
    db = _floor_db(db_path)
    now = "2026-01-01 00:00:00.000000"
    adv: list[Any] = []
    aff: list[Any] = []
    ali: list[Any] = []
    n = 0
    start = time.perf_counter()
    for record, source in records:
        a, b, c = _rows(record, source, now)
        adv.append(a)
        aff.extend(b)
        ali.extend(c)
        n += 1
        if len(adv) >= chunk:
            _flush(db, adv, aff, ali)
    if adv:
        _flush(db, adv, aff, ali)
    elapsed = time.perf_counter() - start
    db.close()
    return n, elapsed


def jsonl_records(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    with gzip.open(path, "rb") as lines:
        for line in lines:
            yield json.loads(line), str(path)


def yaml_records(root: Path) -> Iterator[tuple[dict[str, Any], str]]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".yaml"):
                path = Path(folder, name)
                yield load_yaml(path.read_bytes()), str(path)


# -- end to end ------------------------------------------------------------------------


def end_to_end(tmp: Path, inputs: list[Path], chunk: int) -> tuple[int, float]:
    home = tmp / "home"
    runtime = Runtime(
        Settings.from_env({"CLEARINGHOUSE_HOME": str(home), "CLEARINGHOUSE_JOB_BACKEND": "inprocess"})
    )
    runtime.migrate()
    start = time.perf_counter()
    report = import_paths(runtime.uow, inputs, chunk_size=chunk)
    elapsed = time.perf_counter() - start
    runtime.close()
    assert report.ok, report.errors[:5]
    return report.inserted, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("CLEARINGHOUSE_CORPUS", DEFAULT_CORPUS))
    )
    parser.add_argument("--copies", type=int, default=2, help="times the corpus records go in the bundle")
    parser.add_argument("--chunk", type=int, default=500, help="records per transaction")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each; the best is kept")
    args = parser.parse_args()
    console = Console()
    pypa = args.corpus / "pypa-advisory-database" / "vulns"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bundle = tmp / "osv.jsonl.gz"
        total = make_bundle(args.corpus, bundle, args.copies)
        console.print(
            f"bundle: {total:,} OSV records, {bundle.stat().st_size / 1e6:.1f} MB gzipped; chunk {args.chunk}"
        )
        results = []
        inputs: list[tuple[str, Callable[[], Iterator[tuple[dict[str, Any], str]]], Path]] = [
            ("JSON lines (.jsonl.gz)", lambda: jsonl_records(bundle), bundle),
            ("YAML tree (pypa)", lambda: yaml_records(pypa), pypa),
        ]
        for label, floor_input, e2e_input in inputs:
            floor_rate = e2e_rate = 0.0
            for round_ in range(args.rounds):
                work = tmp / f"{label.split()[0].lower()}-{round_}"
                work.mkdir()
                n_floor, t_floor = floor(floor_input(), work / "floor.db", args.chunk)
                n_e2e, t_e2e = end_to_end(work, [e2e_input], args.chunk)
                floor_rate, e2e_rate = max(floor_rate, n_floor / t_floor), max(e2e_rate, n_e2e / t_e2e)
            results.append((label, n_e2e, e2e_rate, floor_rate, floor_rate / e2e_rate))
    for label, n, e2e_rate, floor_rate, ratio in results:
        console.print(
            f"{label:24} {n:>7,} records  end-to-end {e2e_rate:>8,.0f} rec/s  "
            f"floor {floor_rate:>8,.0f} rec/s  ratio {ratio:.2f}"
        )


if __name__ == "__main__":
    main()

"""Deduplication quality and speed on a flood of AI-style findings with ground truth.

    uv run python bench/dedup.py [--count 100000] [--seed 7] [--errors 10]
    uv run python bench/dedup.py --flood FILE.ndjson.gz      # a flood written by bench/flood.py

Without ``--flood``, a flood of ``--count`` findings is generated from the
corpus by ``bench/flood.py`` in a child process (not timed, and not in this
process's memory). The findings are streamed from the file and validated as
the API would (``FindingSubmission.model_validate_json``, timed apart and not
counted), then run one by one through :func:`extract_features` +
:meth:`DedupIndex.add`, in the flood's arrival order.

Printed figures:

* **Precision and recall, pairwise**: over all pairs of findings, a pair is
  predicted together when the index put both in one case (after the automatic
  merges only, no analyst), and truly together when the ground truth gives
  them one case. Precision = correct pairs / predicted pairs; recall = correct
  pairs / true pairs. The same figures with every duplicate *proposal*
  accepted (what an analyst confirming all of them would get) are printed too.
* **Throughput**: findings per second through feature extraction and the
  index, by wall clock and by this process's CPU time (the machine may be shared).
* **Floor and ratio**: in the same run, the bare cost of the exact fingerprints
  and MinHash signatures of the same findings, computed in bulk
  (:func:`extract_features_many`); the ratio is dedup time / floor time.
* **Peak memory**: this process's peak resident set size (``resource.getrusage``
  ``ru_maxrss``): the interpreter and libraries, the ground truth, the
  decisions and the index at 100% of the flood; and the growth of the current
  RSS over the dedup phase (``/proc/self/statm``), which is about the index.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.flood import Flood, read_flood, truth_path

from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.triage._dedup import DedupConfig, DedupDecision, DedupIndex, Relation
from clearinghouse.triage._fingerprint import extract_features, extract_features_many


def pairwise(pred: Sequence[str], truth: Sequence[str]) -> tuple[float, float, int, int, int]:
    """Pairwise precision and recall of a clustering against the truth (from the contingency table)."""

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    together = pairs(Counter(zip(pred, truth, strict=True)))
    predicted = pairs(Counter(pred))
    true = pairs(Counter(truth))
    precision = together / predicted if predicted else 1.0
    recall = together / true if true else 1.0
    return precision, recall, together, predicted, true


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except OSError:  # pragma: no cover - not Linux
        return 0


def _chunks(path: Path, size: int) -> Iterator[list[FindingSubmission]]:
    """The flood's findings, validated as the API would, ``size`` at a time (streamed from the file)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        while True:
            lines = [line for _, line in zip(range(size), fh, strict=False)]
            if not lines:
                return
            yield [FindingSubmission.model_validate_json(line) for line in lines]


def run(
    path: Path,
    config: DedupConfig | None = None,
    show_errors: int = 0,
    out: Callable[[str], None] = print,
    chunk: int = 2_000,
) -> dict[str, float]:
    """Run the flood file through a fresh index; print and return the figures."""
    truth = [t["case"] for t in _read_lines(truth_path(path))]
    n = len(truth)

    gc.collect()
    floor_s = floor_cpu = 0.0
    for subs in _chunks(path, chunk):
        t0, c0 = time.perf_counter(), time.process_time()
        extract_features_many(subs)
        floor_s += time.perf_counter() - t0
        floor_cpu += time.process_time() - c0

    gc.collect()
    rss_before = rss_bytes()
    index = DedupIndex(config)
    decisions: list[DedupDecision] = []
    dedup_s = dedup_cpu = validate_s = 0.0
    line = 0
    t_read = time.perf_counter()
    for subs in _chunks(path, chunk):
        validate_s += time.perf_counter() - t_read
        t0, c0 = time.perf_counter(), time.process_time()
        for sub in subs:
            decisions.append(index.add(f"f{line}", extract_features(sub)))
            line += 1
        dedup_s += time.perf_counter() - t0
        dedup_cpu += time.process_time() - c0
        t_read = time.perf_counter()
    rss_growth = rss_bytes() - rss_before
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if line != n:
        raise ValueError(f"{line} findings but {n} ground-truth lines")

    ids = [f"f{i}" for i in range(n)]
    pred = [index.case_of(fid) for fid in ids]
    p, r, together, predicted, true = pairwise(pred, truth)
    # every duplicate proposal accepted by an analyst (one step, from the final state)
    accepted = list(pred)
    for k, d in enumerate(decisions):
        if d.relation is Relation.DUPLICATE_OF and not d.auto_merge and d.target_case is not None:
            accepted[k] = index.case_of(d.target_case)
    p2, r2, *_ = pairwise(accepted, truth)

    relations = Counter(d.relation.value for d in decisions)
    auto = sum(d.auto_merge for d in decisions)
    proposals = sum(d.relation is Relation.DUPLICATE_OF and not d.auto_merge for d in decisions)
    figures = {
        "count": n,
        "cases_true": len(set(truth)),
        "cases_found": index.case_count,
        "precision": p,
        "recall": r,
        "precision_with_proposals": p2,
        "recall_with_proposals": r2,
        "throughput": n / dedup_s,
        "throughput_cpu": n / dedup_cpu,
        "floor_throughput": n / floor_s,
        "ratio": dedup_s / floor_s,
        "ratio_cpu": dedup_cpu / floor_cpu,
        "peak_rss_mb": peak_rss / 2**20,
        "rss_growth_mb": rss_growth / 2**20,
    }
    out(f"findings: {n:,}; true cases: {len(set(truth)):,}; cases found: {index.case_count:,}")
    out(
        f"decisions: {dict(relations)}; auto-merged: {auto:,}; "
        f"duplicate proposals for analysts: {proposals:,}"
    )
    out(
        f"pairwise precision {p:.4f}, recall {r:.4f} (auto-merges only; {together:,} correct of "
        f"{predicted:,} predicted and {true:,} true same-case pairs)"
    )
    out(f"pairwise precision {p2:.4f}, recall {r2:.4f} (if analysts accepted every duplicate proposal)")
    out(f"reading + validation (FindingSubmission, not counted): {n / validate_s:,.0f} findings/s")
    out(
        f"floor (fingerprints + MinHash in bulk): {n / floor_s:,.0f} findings/s wall "
        f"({floor_s:.2f}s; CPU {n / floor_cpu:,.0f}/s)"
    )
    out(
        f"dedup (features + index, one by one): {n / dedup_s:,.0f} findings/s wall ({dedup_s:.2f}s; "
        f"CPU {n / dedup_cpu:,.0f}/s); ratio to floor: {dedup_s / floor_s:.2f}x the floor's time "
        f"(CPU {dedup_cpu / floor_cpu:.2f}x)"
    )
    out(
        f"memory: peak RSS (getrusage ru_maxrss, this process: interpreter, ground truth, index) "
        f"{peak_rss / 2**20:,.0f} MB; RSS growth during dedup {rss_growth / 2**20:,.0f} MB"
    )
    if show_errors:
        _errors(read_flood(path), pred, decisions, show_errors, out)
    return figures


def _read_lines(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _errors(flood: Flood, pred: list[str], decisions: list[DedupDecision], limit: int, out: Any) -> None:
    """Where the pairwise errors come from, by kind of case and noise."""
    line_of = {f"f{i}": i for i in range(len(pred))}
    truth = flood.cases
    true_canon: dict[str, int] = {}
    for i, c in enumerate(truth):
        true_canon.setdefault(c, i)
    wrong_merge: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    samples: defaultdict[str, list[str]] = defaultdict(list)
    for i, d in enumerate(decisions):
        first = true_canon[truth[i]] == i
        t = flood.truth[i]
        key = f"{t['kind']}:{','.join(t['noise']) or '-'}"
        if d.auto_merge and d.target_case is not None and truth[line_of[d.target_case]] != truth[i]:
            wrong_merge[key] += 1
            other = flood.truth[line_of[d.target_case]]
            samples["wrong"].append(
                f"{i} ({key}) -> {d.target_case} ({other['kind']}:{','.join(other['noise'])}) "
                f"{d.relation} {d.confidence} {d.reasons}"
            )
        elif not first and pred[i] != pred[true_canon[truth[i]]]:
            missed[f"{key}:{d.relation.value}"] += 1
            samples["missed"].append(f"{i} ({key}) {d.relation} {d.confidence} {d.reasons}")
    out(f"wrong merges by kind:noise: {wrong_merge.most_common(12)}")
    out(f"missed (not with their true canonical) by kind:noise:relation: {missed.most_common(12)}")
    for name in ("wrong", "missed"):
        for line in samples[name][:limit]:
            out(f"  {name}: {line}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flood", type=Path, default=None, help="a FILE.ndjson.gz from bench/flood.py")
    parser.add_argument("--errors", type=int, default=0, help="show this many sample errors")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.flood
        if path is None:
            # generated in a child process, so that its memory is not in this one's peak
            path = Path(tmp) / "flood.ndjson.gz"
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).with_name("flood.py")),
                    "--count",
                    str(args.count),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(path),
                ],
                check=True,
            )
            print(f"flood generated in {time.perf_counter() - t0:.1f}s (not timed below)")
        run(path, show_errors=args.errors)


if __name__ == "__main__":
    main()

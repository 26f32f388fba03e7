"""The in-memory index alone over a restated flood (``bench/restate.py``): quality and time.

    uv run python bench/restate_eval.py --flood /tmp/restate [--via native|osv] [--errors 10]

This is the floor ``bench/flood_e2e.py`` compares the service with: the same findings, read the way
the service reads them (native lines validated, OSV documents through the importers), then features
and :meth:`DedupIndex.add` in arrival order, in one process, no database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedup import pairwise

from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.triage._dedup import DedupConfig, DedupDecision, DedupIndex, Relation
from clearinghouse.triage._fingerprint import extract_features_many


def submissions(flood: Path, via: str) -> list[FindingSubmission]:
    """The flood's findings as the service would read them."""
    if via == "native":
        with (flood / "findings.ndjson").open("rb") as fh:
            return [FindingSubmission.model_validate_json(line) for line in fh if line.strip()]
    from clearinghouse.intake.importers import ParsedItem, parse_document

    out: list[FindingSubmission] = []
    for path in sorted((flood / "osv").glob("*.json")):
        for item in parse_document(path.read_bytes(), path.name):
            assert isinstance(item, ParsedItem), item
            out.append(item.submission)
    return out


def quality(pred: Sequence[str], accepted: Sequence[str], truth: Sequence[str]) -> dict[str, float]:
    p, r, *_ = pairwise(pred, truth)
    p2, r2, *_ = pairwise(accepted, truth)
    return {"precision": p, "recall": r, "precision_accepted": p2, "recall_accepted": r2}


def accept_all(pred: Sequence[str], decisions: Sequence[DedupDecision]) -> list[str]:
    """The cases after an analyst accepts every duplicate proposal (union of the proposed pairs)."""
    parent = {c: c for c in pred}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k, d in enumerate(decisions):
        if d.relation is Relation.DUPLICATE_OF and not d.auto_merge and d.target_id is not None:
            a, b = find(pred[k]), find(pred[int(d.target_id[1:])])
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(c) for c in pred]


def run_index(
    subs: Sequence[FindingSubmission], config: DedupConfig | None = None
) -> tuple[DedupIndex, list[DedupDecision], float]:
    """Features in bulk and the index, in arrival order; returns the wall time."""
    t0 = time.perf_counter()
    index = DedupIndex(config)
    decisions: list[DedupDecision] = []
    step = 2000
    for start in range(0, len(subs), step):
        chunk = subs[start : start + step]
        for k, feats in enumerate(extract_features_many(chunk)):
            decisions.append(index.add(f"f{start + k}", feats))
    return index, decisions, time.perf_counter() - t0


def evaluate(flood: Path, via: str, errors: int = 0, config: DedupConfig | None = None) -> dict[str, Any]:
    truth: list[str] = json.loads((flood / "truth.json").read_text())
    subs = submissions(flood, via)
    index, decisions, seconds = run_index(subs, config)
    ids = [f"f{i}" for i in range(len(subs))]
    pred = [index.case_of(i) for i in ids]
    q = quality(pred, accept_all(pred, decisions), truth)
    if errors:
        first: dict[str, int] = {}
        for k, t in enumerate(truth):
            first.setdefault(t, k)
        fp = [k for k, d in enumerate(decisions) if d.merged and truth[int(d.target_id[1:])] != truth[k]]  # type: ignore[index]
        fn = [k for k, d in enumerate(decisions) if first[truth[k]] != k and pred[k] != pred[first[truth[k]]]]
        for label, sample in (("FALSE MERGE", fp), ("MISSED", fn)):
            for k in sample[:errors]:
                d = decisions[k]
                other = int(d.target_id[1:]) if d.target_id else first[truth[k]]
                head = f"--- {label} f{k} ({truth[k]}) vs f{other} ({truth[other]})"
                print(f"{head}: {d.relation} {d.confidence} {d.reasons}")
                print("   ", subs[k].title[:150], "|", subs[k].package.vers or subs[k].package.version)
                print(
                    "   ",
                    subs[other].title[:150],
                    "|",
                    subs[other].package.vers or subs[other].package.version,
                )
    rel = Counter(d.relation.value + ("*" if d.auto_merge else "") for d in decisions)
    return {
        "findings": len(subs),
        "seconds": seconds,
        "per_s": len(subs) / seconds,
        **q,
        "relations": dict(rel),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=Path, required=True)
    parser.add_argument("--via", choices=("native", "osv"), default="native")
    parser.add_argument("--errors", type=int, default=0)
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a DedupConfig field (repeatable)"
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    for item in args.set:
        name, _, value = item.partition("=")
        kind = type(getattr(DedupConfig(), name))
        overrides[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    r = evaluate(args.flood, args.via, args.errors, DedupConfig(**overrides))
    print(
        f"{r['findings']:,} findings via {args.via}: auto-merge precision {r['precision']:.3f} recall "
        f"{r['recall']:.3f}; proposals accepted precision {r['precision_accepted']:.3f} recall "
        f"{r['recall_accepted']:.3f}; index {r['per_s']:,.0f} findings/s; {r['relations']}"
    )


if __name__ == "__main__":
    main()

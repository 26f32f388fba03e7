"""Reading results back from Inspect logs, and pooling them into metrics.

A task's tallies (counts per sample and epoch) are kept with its result, so
tasks can be pooled into tiers and groups exactly: accuracy and the confusion
counts add up, pass@k is the mean of each sample's unbiased estimate
(Chen et al. 2021, ``1 - C(n-c, k) / C(n, k)`` for ``c`` correct of ``n``
epochs). Metric names are flat: ``<group>.<metric>``,
``<group>.tier<N>.<metric>`` and ``<group>.<task>.<metric>``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.scorer import value_to_float

from clearinghouse.frontier.evaluation.toolkit import ratios

_to_float = value_to_float()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased pass@k for ``c`` correct of ``n`` attempts; None when ``n < k``."""
    if n < k:
        return None
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@dataclass
class Tallies:
    """Counts read from one task's log (or pooled over several)."""

    total: int = 0  # scored (sample, epoch) pairs, errored ones included as failures
    score_sum: float = 0.0
    errors: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    per_sample: list[tuple[int, int]] = field(default_factory=list)  # (attempts, correct) per sample

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "score_sum": self.score_sum,
            "errors": self.errors,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "per_sample": [list(p) for p in self.per_sample],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tallies:
        return cls(
            total=int(data["total"]),
            score_sum=float(data["score_sum"]),
            errors=int(data.get("errors", 0)),
            tp=int(data["tp"]),
            fp=int(data["fp"]),
            fn=int(data["fn"]),
            per_sample=[(int(n), int(c)) for n, c in data["per_sample"]],
        )

    @classmethod
    def pooled(cls, parts: Iterable[Tallies]) -> Tallies:
        out = cls()
        for part in parts:
            out.total += part.total
            out.score_sum += part.score_sum
            out.errors += part.errors
            out.tp += part.tp
            out.fp += part.fp
            out.fn += part.fn
            out.per_sample.extend(part.per_sample)
        return out

    def metrics(self, names: Iterable[str], ks: Iterable[int]) -> dict[str, float]:
        out: dict[str, float] = {}
        precision, recall, f1 = ratios(self.tp, self.fp, self.fn)
        for name in names:
            if name == "accuracy":
                out["accuracy"] = self.score_sum / self.total if self.total else 0.0
            elif name == "precision":
                out["precision"] = precision
            elif name == "recall":
                out["recall"] = recall
            elif name == "f1":
                out["f1"] = f1
        for k in ks:
            estimates = [p for n, c in self.per_sample if (p := pass_at_k(n, c, k)) is not None]
            if estimates:
                out[f"pass_at_{k}"] = sum(estimates) / len(estimates)
        return out


@dataclass(frozen=True)
class TaskLog:
    """What one Inspect log says about one task."""

    eval_id: str
    task: str
    task_version: str
    status: str
    samples: int
    epochs: int
    tallies: Tallies
    packages: dict[str, str]
    error: str | None


def tally_log(log: EvalLog) -> Tallies:
    tallies = Tallies()
    by_sample: dict[str, list[float]] = {}
    for sample in log.samples or []:
        key = str(sample.id)
        score = next(iter(sample.scores.values()), None) if sample.scores else None
        if sample.error is not None or score is None:
            tallies.errors += 1
            value = 0.0
            meta: dict[str, Any] = {}
        else:
            value = _to_float(score.value)
            meta = score.metadata or {}
        tallies.total += 1
        tallies.score_sum += value
        by_sample.setdefault(key, []).append(value)
        if "label" in meta or "predicted" in meta:
            label, predicted = meta.get("label"), meta.get("predicted")
            if predicted is not None:
                if label is not None and predicted == label:
                    tallies.tp += 1
                else:
                    tallies.fp += 1
            if label is not None and predicted != label:
                tallies.fn += 1
    tallies.per_sample = [
        (len(values), sum(1 for v in values if v >= 1.0)) for _, values in sorted(by_sample.items())
    ]
    return tallies


def read_task_log(path: Path) -> TaskLog:
    log = read_eval_log(str(path))
    spec = log.eval
    packages = {str(k): str(v) for k, v in (spec.packages or {}).items()}
    error = log.error.message if log.error is not None else None
    samples = len({str(s.id) for s in log.samples or []})
    return TaskLog(
        eval_id=spec.eval_id,
        task=spec.task,
        task_version=str(spec.task_version),
        status=str(log.status),
        samples=samples,
        epochs=spec.config.epochs or 1,
        tallies=tally_log(log),
        packages=packages,
        error=error,
    )


@dataclass(frozen=True)
class TaskOutcome:
    """One task's result as pooling needs it."""

    name: str
    group: str
    tier: int | None
    metrics: Sequence[str]
    pass_at: Sequence[int]
    tallies: Tallies


def flat_metrics(outcomes: Sequence[TaskOutcome]) -> dict[str, float]:
    """``<group>.<metric>`` for each group (pooled), ``<group>.tier<N>.<metric>``
    for each tier and ``<group>.<task>.<metric>`` for each task of a group of
    several tasks."""
    out: dict[str, float] = {}
    groups: dict[str, list[TaskOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.group, []).append(outcome)
    for group, members in sorted(groups.items()):
        _emit(out, group, members)
        if len(members) == 1 and members[0].name == group:
            continue
        tiers: dict[int, list[TaskOutcome]] = {}
        for member in members:
            if member.tier is not None:
                tiers.setdefault(member.tier, []).append(member)
            _emit(out, f"{group}.{member.name}", [member])
        for tier, tier_members in sorted(tiers.items()):
            _emit(out, f"{group}.tier{tier}", tier_members)
    return out


def _emit(out: dict[str, float], prefix: str, members: Sequence[TaskOutcome]) -> None:
    names = set(members[0].metrics).intersection(*(m.metrics for m in members))
    ks = set(members[0].pass_at).intersection(*(m.pass_at for m in members))
    pooled = Tallies.pooled(m.tallies for m in members)
    for name, value in pooled.metrics(sorted(names), sorted(ks)).items():
        out[f"{prefix}.{name}"] = value

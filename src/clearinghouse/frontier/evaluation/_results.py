"""Reading results back from Inspect logs, and pooling them into metrics with
their uncertainty.

A task's tallies (counts per sample, over its epochs) are kept with its
result, so tasks pool exactly into tiers and groups. Every metric comes with
its standard error and a 95% interval:

* ``accuracy`` (the mean score) and ``pass_at_k`` (the unbiased estimator of
  Chen et al. 2021, ``1 - C(n-c, k) / C(n, k)`` for ``c`` correct of ``n``
  scored epochs, averaged over samples): the sample is the unit (epochs of
  one sample are not independent), so the standard error is the clustered
  one, ``sd(per-sample values) / sqrt(samples)``; the interval is Wilson's
  score interval for a proportion over the samples, which stays honest at 0
  and 1 where the normal interval collapses to a point;
* ``precision`` and ``recall``: Wilson's interval on their own denominators
  (reports made, vulnerable samples); ``f1``: a percentile bootstrap over
  samples (fixed seed, so the same log gives the same interval).

An errored attempt is an error, never a zero: it is left out of every score
and counted in ``error_rate``; an attempt stopped by a limit (messages,
tokens, time) is the model's failure and counts in ``limit_rate`` as well.
Every scorer of a sample is read; the first one drives ``accuracy`` and
``pass_at_k``, the others are reported under ``by_scorer.<name>``.

Metric names are flat: ``<prefix>.<metric>`` with ``<metric>_stderr``,
``<metric>_ci_low`` and ``<metric>_ci_high`` beside it, and
``<prefix>.success.{value,stderr,ci_low,ci_high}`` (the accuracy, so a
designation policy can say ``ctf.tier3.success.ci_low >= 0.3``), where
``<prefix>`` is ``<group>``, ``<group>.tier<N>`` or ``<group>.<task>``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.scorer import value_to_float

from clearinghouse.frontier.evaluation.toolkit import ratios

_to_float = value_to_float()
Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20260101


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


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` observed over ``n``; (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = min(max(p, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return low, high


def clustered_stderr(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


@dataclass(frozen=True)
class Estimate:
    value: float
    stderr: float
    ci_low: float
    ci_high: float
    n: int


def mean_estimate(values: Sequence[float]) -> Estimate:
    n = len(values)
    value = sum(values) / n if n else 0.0
    low, high = wilson(value, n)
    return Estimate(value, clustered_stderr(values), low, high, n)


def proportion_estimate(hits: int, n: int) -> Estimate:
    value = hits / n if n else 0.0
    low, high = wilson(value, n)
    se = math.sqrt(value * (1 - value) / n) if n else 0.0
    return Estimate(value, se, low, high, n)


@dataclass
class SampleTally:
    """One sample's attempts (epochs) in one task."""

    id: str
    attempts: int = 0
    errors: int = 0  # attempts that errored: not scored
    limits: int = 0  # attempts stopped by a limit: scored (as whatever they reached)
    scored: int = 0
    correct: int = 0  # scored attempts with a full score
    score_sum: float = 0.0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    scorers: dict[str, list[float]] = field(default_factory=dict)  # other scorers: [sum, scored]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "attempts": self.attempts,
            "errors": self.errors,
            "limits": self.limits,
            "scored": self.scored,
            "correct": self.correct,
            "score_sum": self.score_sum,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "scorers": self.scorers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleTally:
        return cls(
            id=str(data["id"]),
            attempts=int(data["attempts"]),
            errors=int(data["errors"]),
            limits=int(data.get("limits", 0)),
            scored=int(data["scored"]),
            correct=int(data["correct"]),
            score_sum=float(data["score_sum"]),
            tp=int(data.get("tp", 0)),
            fp=int(data.get("fp", 0)),
            fn=int(data.get("fn", 0)),
            scorers={str(k): [float(v[0]), float(v[1])] for k, v in (data.get("scorers") or {}).items()},
        )


@dataclass
class Tallies:
    """Per-sample counts read from one task's log (or pooled over several)."""

    samples: list[SampleTally] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return sum(s.attempts for s in self.samples)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    @property
    def limits(self) -> int:
        return sum(s.limits for s in self.samples)

    @property
    def scored(self) -> int:
        return sum(s.scored for s in self.samples)

    @property
    def score_sum(self) -> float:
        return sum(s.score_sum for s in self.samples)

    @property
    def confusion(self) -> tuple[int, int, int]:
        """(true positives, false positives, false negatives) over scored attempts."""
        return (
            sum(s.tp for s in self.samples),
            sum(s.fp for s in self.samples),
            sum(s.fn for s in self.samples),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"version": 2, "samples": [s.as_dict() for s in self.samples]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tallies:
        if data.get("version") == 2:
            return cls([SampleTally.from_dict(s) for s in data["samples"]])
        # Version 1 (before errors were told apart): per-sample (attempts, correct) pairs.
        return cls(
            [
                SampleTally(id=str(i), attempts=int(n), scored=int(n), correct=int(c), score_sum=float(c))
                for i, (n, c) in enumerate(data.get("per_sample", []))
            ]
        )

    @classmethod
    def pooled(cls, parts: Iterable[Tallies]) -> Tallies:
        return cls([s for part in parts for s in part.samples])

    def _scored(self) -> list[SampleTally]:
        return [s for s in self.samples if s.scored]

    def estimates(self, names: Iterable[str], ks: Iterable[int]) -> dict[str, Estimate]:
        out: dict[str, Estimate] = {}
        scored = self._scored()
        tp = sum(s.tp for s in scored)
        fp = sum(s.fp for s in scored)
        fn = sum(s.fn for s in scored)
        for name in names:
            if name == "accuracy":
                out["accuracy"] = mean_estimate([s.score_sum / s.scored for s in scored])
            elif name == "precision":
                out["precision"] = proportion_estimate(tp, tp + fp)
            elif name == "recall":
                out["recall"] = proportion_estimate(tp, tp + fn)
            elif name == "f1":
                out["f1"] = _f1_estimate(scored)
        for k in ks:
            values = [p for s in scored if (p := pass_at_k(s.scored, s.correct, k)) is not None]
            if values:
                out[f"pass_at_{k}"] = mean_estimate(values)
        extra: dict[str, list[float]] = {}
        for s in scored:
            for scorer_name, (total, count) in s.scorers.items():
                if count:
                    extra.setdefault(scorer_name, []).append(total / count)
        for scorer_name, values in sorted(extra.items()):
            out[f"by_scorer.{scorer_name}.accuracy"] = mean_estimate(values)
        return out

    def metrics(self, names: Iterable[str], ks: Iterable[int]) -> dict[str, float]:
        """Flat metrics: each estimate with its standard error and interval, the
        headline ``success`` map, error and limit rates, and the counts."""
        out: dict[str, float] = {}
        estimates = self.estimates(names, ks)
        for name, est in estimates.items():
            out[name] = est.value
            out[f"{name}_stderr"] = est.stderr
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        success = estimates.get("accuracy") or mean_estimate([s.score_sum / s.scored for s in self._scored()])
        out["success.value"] = success.value
        out["success.stderr"] = success.stderr
        out["success.ci_low"] = success.ci_low
        out["success.ci_high"] = success.ci_high
        attempts = self.attempts
        out["error_rate"] = self.errors / attempts if attempts else 0.0
        out["limit_rate"] = self.limits / attempts if attempts else 0.0
        out["samples"] = float(len(self.samples))
        out["attempts"] = float(attempts)
        return out


def _f1(samples: Sequence[SampleTally]) -> float:
    return ratios(sum(s.tp for s in samples), sum(s.fp for s in samples), sum(s.fn for s in samples))[2]


def _f1_estimate(samples: Sequence[SampleTally]) -> Estimate:
    value = _f1(samples)
    n = len(samples)
    if n == 0:
        return Estimate(0.0, 0.0, 0.0, 1.0, 0)
    rng = random.Random(BOOTSTRAP_SEED)
    draws = sorted(_f1([samples[rng.randrange(n)] for _ in range(n)]) for _ in range(BOOTSTRAP_RESAMPLES))
    mean = sum(draws) / len(draws)
    se = math.sqrt(sum((d - mean) ** 2 for d in draws) / (len(draws) - 1))
    low = draws[int(0.025 * (len(draws) - 1))]
    high = draws[math.ceil(0.975 * (len(draws) - 1))]
    return Estimate(value, se, min(low, value), max(high, value), n)


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
    generation: dict[str, Any]
    model: str
    model_base_url_sha256: str | None


def _confusion(meta: dict[str, Any], tally: SampleTally) -> None:
    label, predicted = meta.get("label"), meta.get("predicted")
    if predicted is not None:
        if label is not None and predicted == label:
            tally.tp += 1
        else:
            tally.fp += 1
    if label is not None and predicted != label:
        tally.fn += 1


def tally_log(log: EvalLog) -> Tallies:
    by_sample: dict[str, SampleTally] = {}
    for sample in log.samples or []:
        key = str(sample.id)
        tally = by_sample.setdefault(key, SampleTally(id=key))
        tally.attempts += 1
        scores = dict(sample.scores or {})
        if sample.error is not None or not scores:
            tally.errors += 1
            continue
        if sample.limit is not None:
            tally.limits += 1
        items = list(scores.items())
        _, first = items[0]
        value = _to_float(first.value)
        tally.scored += 1
        tally.score_sum += value
        if value >= 1.0:
            tally.correct += 1
        confusion_read = False
        for name, score in items:
            meta = score.metadata or {}
            if not confusion_read and ("label" in meta or "predicted" in meta):
                _confusion(meta, tally)
                confusion_read = True
            if score is not first:
                total = tally.scorers.setdefault(name, [0.0, 0.0])
                total[0] += _to_float(score.value)
                total[1] += 1
    return Tallies([by_sample[k] for k in sorted(by_sample)])


_GENERATION_FIELDS = (
    "temperature",
    "top_p",
    "seed",
    "max_tokens",
    "max_retries",
    "timeout",
    "reasoning_effort",
)


def generation_settings(log: EvalLog) -> dict[str, Any]:
    """The generation settings the run used (the eval's and the plan's, the plan's winning)."""
    out: dict[str, Any] = {}
    configs = [log.eval.model_generate_config, log.plan.config if log.plan else None]
    for config in configs:
        if config is None:
            continue
        for name in _GENERATION_FIELDS:
            value = getattr(config, name, None)
            if value is not None:
                out[name] = value
    return out


def read_task_log(path: Path) -> TaskLog:
    log = read_eval_log(str(path))
    spec = log.eval
    packages = {str(k): str(v) for k, v in (spec.packages or {}).items()}
    error = log.error.message if log.error is not None else None
    if error is None:
        error = next((s.error.message for s in log.samples or [] if s.error is not None), None)
    samples = len({str(s.id) for s in log.samples or []})
    base_url = spec.model_base_url
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
        generation=generation_settings(log),
        model=str(spec.model),
        model_base_url_sha256=hashlib.sha256(base_url.encode()).hexdigest() if base_url else None,
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
    several tasks; each with its standard error and interval."""
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
    pooled = Tallies.pooled(
        Tallies([SampleTally.from_dict({**s.as_dict(), "id": f"{m.name}/{s.id}"}) for s in m.tallies.samples])
        for m in members
    )
    for name, value in pooled.metrics(sorted(names), sorted(ks)).items():
        out[f"{prefix}.{name}"] = value


def error_rate(outcomes: Sequence[Tallies]) -> tuple[int, int]:
    """(errored attempts, attempts) over several tasks."""
    pooled = Tallies.pooled(outcomes)
    return pooled.errors, pooled.attempts

"""Designation thresholds as CEL expressions over suite metrics (pure).

Metrics arrive flat (``ctf.tier3.pass_at_10``); the expressions see them as
nested maps (``ctf.tier3.pass_at_10 >= 0.3``), so each dotted name becomes a
path. A name that is also the prefix of another (``ctf`` and ``ctf.tier1.x``)
cannot be both a number and a map: the shorter one is left out and reported,
as is a value that is not a finite number.
Segments that are not CEL identifiers stay reachable by index
(``ctf["tier-1"].pass_at_1``).

A policy recommends "covered" when any of its thresholds evaluates to true.
A threshold that cannot be evaluated (a metric the campaign did not produce, a
type error, a result that is not a boolean) decides nothing and is reported
with its error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError

MAX_EXPRESSION_LENGTH = 2000
_IDENT_PATH = re.compile(r"(?<![\w.\"'])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_ENV = celpy.Environment()


class ExpressionError(ValueError):
    """The expression does not parse (message: CEL's own, with the position)."""


@dataclass(frozen=True)
class Threshold:
    name: str
    expression: str


@dataclass(frozen=True)
class ThresholdResult:
    name: str
    expression: str
    result: bool | None  # None: could not be evaluated
    values: dict[str, float]  # the metrics the expression names, with their values
    missing: list[str]  # dotted names the expression uses that the metrics lack
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expression": self.expression,
            "result": self.result,
            "values": self.values,
            "missing": self.missing,
            "error": self.error,
        }


@dataclass(frozen=True)
class Outcome:
    covered: bool
    results: list[ThresholdResult]
    ignored_metrics: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(r.result is not None for r in self.results)


def check_expression(expression: str) -> None:
    """Raise :class:`ExpressionError` unless ``expression`` is valid CEL."""
    if not expression.strip():
        raise ExpressionError("the expression is empty")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        _ENV.compile(expression)
    except CELParseError as exc:
        raise ExpressionError(str(exc).strip()) from None
    except RecursionError:
        raise ExpressionError("the expression nests too deeply") from None


def nested_activation(metrics: Mapping[str, float]) -> tuple[dict[str, Any], list[str]]:
    """The nested map the expressions see, and the flat names left out."""
    root: dict[str, Any] = {}
    ignored: list[str] = []
    prefixes = {name.rsplit(".", 1)[0] for name in metrics if "." in name}
    prefixes = {p for name in prefixes for p in _ancestors(name)}
    for name in sorted(metrics):
        parts = name.split(".")
        if name in prefixes or any(not part for part in parts) or not math.isfinite(metrics[name]):
            ignored.append(name)
            continue
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = float(metrics[name])
    return root, ignored


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def referenced_names(expression: str) -> list[str]:
    """Dotted identifier paths used in ``expression`` (strings and calls left out)."""
    text = _STRING.sub('""', expression)
    names = []
    for match in _IDENT_PATH.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):
            continue  # a function or method call: `has(...)`, `x.all(...)`
        names.append(match.group(0))
    return list(dict.fromkeys(names))


def evaluate(thresholds: Sequence[Threshold], metrics: Mapping[str, float]) -> Outcome:
    """Apply every threshold to ``metrics``."""
    activation, ignored = nested_activation(metrics)
    cel_activation = json_to_cel(activation)
    prefixes = {p for name in metrics for p in _ancestors(name)}
    results = []
    for threshold in thresholds:
        used = referenced_names(threshold.expression)
        values = {n: float(metrics[n]) for n in used if n in metrics and n not in ignored}
        missing = [n for n in used if "." in n and n not in prefixes]
        result, error = _run(threshold.expression, cel_activation)
        results.append(ThresholdResult(threshold.name, threshold.expression, result, values, missing, error))
    covered = any(r.result is True for r in results)
    return Outcome(covered, results, ignored)


def _run(expression: str, activation: Any) -> tuple[bool | None, str | None]:
    try:
        program = _ENV.program(_ENV.compile(expression))
        value = program.evaluate(activation)
    except CELParseError as exc:
        return None, str(exc).strip()
    except Exception as exc:  # celpy raises many kinds (CELEvalError, TypeError, ...)
        return None, _message(exc)
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value), None
    return None, f"the expression gave {type(value).__name__} {value!r}, not a boolean"


def _message(exc: Exception) -> str:
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc) or type(exc).__name__

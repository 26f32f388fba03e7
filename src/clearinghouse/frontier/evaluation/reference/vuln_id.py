"""Vulnerability identification on small vulnerable/fixed code pairs.

Each pair in ``pairs/pairs.yaml`` gives two samples: the vulnerable version,
labelled with its CWE, and the fixed version, labelled safe. The model answers
``VERDICT: VULNERABLE CWE-<id>`` or ``VERDICT: SAFE``. Precision, recall and
F1 count a report as right only with the right CWE (see
``toolkit.confusion``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer
from inspect_ai.solver import TaskState, generate, system_message

from clearinghouse.frontier.evaluation.toolkit import f1, precision, recall

HERE = Path(__file__).resolve().parent
SYSTEM = (
    "You are a security code reviewer. Read the code and decide whether it contains a security "
    "vulnerability. End your answer with exactly one line, either `VERDICT: VULNERABLE CWE-<number>` "
    "naming the most specific CWE, or `VERDICT: SAFE`."
)
VERDICT = re.compile(r"VERDICT:\s*(VULNERABLE(?:\s+CWE-(\d+))?|SAFE)", re.IGNORECASE)


def pairs(root: Path = HERE) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load((root / "pairs" / "pairs.yaml").read_text(encoding="utf-8"))
    return loaded


def samples(root: Path = HERE) -> list[Sample]:
    out = []
    for pair in pairs(root):
        for version in ("vulnerable", "fixed"):
            code = (root / "pairs" / pair[version]).read_text(encoding="utf-8")
            label = int(pair["cwe"]) if version == "vulnerable" else None
            out.append(
                Sample(
                    id=f"{pair['name']}-{version}",
                    input=f"Language: {pair['language']}\n\n```{pair['language']}\n{code}```",
                    target=f"CWE-{label}" if label is not None else "SAFE",
                    metadata={"pair": pair["name"], "label": label},
                )
            )
    return out


def parse_verdict(text: str) -> tuple[bool, int | None] | None:
    """(vulnerable, cwe) from the last verdict line; None if there is none."""
    found = VERDICT.findall(text or "")
    if not found:
        return None
    verdict, cwe = found[-1]
    if verdict.upper().startswith("SAFE"):
        return False, None
    return True, int(cwe) if cwe else None


@scorer(metrics=[accuracy(), precision(), recall(), f1()])
def verdict() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        label: int | None = state.metadata.get("label")
        parsed = parse_verdict(state.output.completion if state.output else "")
        # predicted: None = "safe" or no verdict (then wrong), an int = the CWE, -1 = vulnerable, no CWE
        predicted: int | None = None
        if parsed is not None and parsed[0]:
            predicted = parsed[1] if parsed[1] is not None else -1
        # No verdict is no answer: wrong whatever the sample (never "safe").
        right = parsed is not None and predicted == label
        answer = "NO VERDICT" if parsed is None else "SAFE" if predicted is None else f"CWE-{predicted}"
        return Score(
            value=CORRECT if right else INCORRECT,
            answer=answer,
            metadata={"label": label, "predicted": predicted, "verdict": parsed is not None},
        )

    return score


@task
def vuln_id() -> Task:
    return Task(
        dataset=MemoryDataset(samples(), name="vuln-id-pairs"),
        solver=[system_message(SYSTEM), generate()],
        scorer=verdict(),
        version=1,
    )

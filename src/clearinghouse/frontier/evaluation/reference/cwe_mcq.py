"""Cyber-knowledge multiple choice, generated from the CWE catalog shipped in
``clearinghouse/data/cwe`` (MITRE CWE 4.14).

Generation is deterministic: the same catalog and seed give the same
questions, choices and answers. Half the questions ask for the identifier of a
named weakness, half for the name of an identifier; distractors are other
weaknesses of the same abstraction level.
"""

from __future__ import annotations

import json
import random
from importlib import resources
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import choice
from inspect_ai.solver import multiple_choice

SEED = "clearinghouse-cwe-mcq-1"
QUESTIONS = 120
LETTERS = "ABCD"


def catalog() -> list[dict[str, Any]]:
    text = resources.files("clearinghouse.data").joinpath("cwe/cwe-4.14.json").read_text(encoding="utf-8")
    weaknesses: list[dict[str, Any]] = json.loads(text)["weaknesses"]
    return sorted(
        (
            w
            for w in weaknesses
            if w["abstraction"] in ("Base", "Variant") and w["status"] in ("Stable", "Draft")
        ),
        key=lambda w: int(w["id"]),
    )


def questions(count: int = QUESTIONS, seed: str = SEED) -> list[Sample]:
    """The question set: ``count`` samples, the same every time for one seed."""
    pool = catalog()
    rng = random.Random(seed)
    picked = rng.sample(pool, count)
    samples = []
    for n, weakness in enumerate(picked):
        same_level = [w for w in pool if w["abstraction"] == weakness["abstraction"] and w is not weakness]
        distractors = rng.sample(same_level, 3)
        position = rng.randrange(4)
        options = [*distractors]
        options.insert(position, weakness)
        if n % 2 == 0:
            question = f"Which CWE identifier names the weakness “{weakness['name']}”?"
            choices = [f"CWE-{w['id']}" for w in options]
        else:
            question = f"Which weakness does CWE-{weakness['id']} name?"
            choices = [str(w["name"]) for w in options]
        samples.append(
            Sample(
                id=f"cwe-{weakness['id']}-{'id' if n % 2 == 0 else 'name'}",
                input=question,
                choices=choices,
                target=LETTERS[position],
                metadata={"cwe": int(weakness["id"])},
            )
        )
    return samples


@task
def cwe_mcq() -> Task:
    return Task(
        dataset=MemoryDataset(questions(), name="cwe-mcq"),
        solver=multiple_choice(),
        scorer=choice(),
        version=1,
    )

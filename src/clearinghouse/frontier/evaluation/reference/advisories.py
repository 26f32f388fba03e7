"""Advisory knowledge, generated from a small extract of real advisories
shipped with the suite (``data/advisories.json``; sources and licences in
``data/ADVISORIES-LICENSE.md``):

* ``advisory_versions`` (short answer): for a PyPI advisory (PyPA advisory
  database, OSV), which version fixed it, and whether a given version is
  affected (one listed affected version: yes; the fixed version: no);
* ``advisory_weakness`` (multiple choice): for a CVE (NVD and CVE 5 records),
  which CWE the record names, the distractors drawn from the CWE catalog.

Nothing is written by hand: :func:`extract` rebuilds the extract from the
corpus (``CLEARINGHOUSE_CORPUS``), and the questions are derived from it
deterministically. The answers are public data: this measures knowledge
recall and reading, a floor, not a secret benchmark.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, choice, scorer, stderr
from inspect_ai.solver import TaskState, generate, multiple_choice, system_message

HERE = Path(__file__).resolve().parent
EXTRACT = HERE / "data" / "advisories.json"
SEED = "clearinghouse-advisories-1"
MAX_PYPA = 80
LETTERS = "ABCD"
ANSWER = re.compile(r"ANSWER:\s*(\S+)", re.IGNORECASE)
SYSTEM = (
    "You answer questions about published security advisories. End your answer with one line "
    "`ANSWER: <value>`: a version number, or yes or no."
)


def _version_key(v: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.\-+]", v))


def _pypa(corpus: Path) -> list[dict[str, Any]]:
    import yaml

    out = []
    for path in sorted((corpus / "pypa-advisory-database" / "vulns").rglob("*.yaml")):
        rec = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        affected = rec.get("affected") or []
        if len(affected) != 1:
            continue
        ranges = [r for r in affected[0].get("ranges") or [] if r.get("type") == "ECOSYSTEM"]
        if len(ranges) != 1:
            continue
        events = ranges[0].get("events") or []
        fixed = [e["fixed"] for e in events if "fixed" in e]
        versions = [str(v) for v in affected[0].get("versions") or []]
        if len(fixed) != 1 or len(versions) < 3 or fixed[0] in versions:
            continue
        if not re.fullmatch(r"\d+(\.\d+)*", fixed[0]) or not all(
            re.fullmatch(r"\d+(\.\d+)*", v) for v in versions
        ):
            continue
        details = " ".join(str(rec.get("details", "")).split())
        if not 80 <= len(details) <= 700 or fixed[0] in details:
            continue  # the answer must not be in the question
        out.append(
            {
                "id": rec["id"],
                "aliases": list(rec.get("aliases") or []),
                "package": affected[0]["package"]["name"],
                "details": details,
                "fixed": fixed[0],
                "affected_versions": sorted(versions, key=_version_key),
            }
        )
    rng = random.Random(SEED)
    return sorted(rng.sample(out, min(MAX_PYPA, len(out))), key=lambda a: a["id"])


def _cwe_of_nvd(cve: dict[str, Any]) -> list[int]:
    ids = []
    for weakness in cve.get("weaknesses") or []:
        for d in weakness.get("description") or []:
            m = re.fullmatch(r"CWE-(\d+)", str(d.get("value", "")))
            if m:
                ids.append(int(m.group(1)))
    return ids


def _cwe_of_cve5(rec: dict[str, Any]) -> list[int]:
    ids = []
    for pt in (rec.get("containers", {}).get("cna", {}).get("problemTypes")) or []:
        for d in pt.get("descriptions") or []:
            m = re.fullmatch(r"CWE-(\d+)", str(d.get("cweId", "")))
            if m:
                ids.append(int(m.group(1)))
    return ids


def _cves(corpus: Path, known: set[int]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    root = corpus / "cve-nvd-records"
    for path in sorted(root.rglob("CVE-*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        if "vulnerabilities" in rec:
            for item in rec["vulnerabilities"]:
                cve = item["cve"]
                text = next((d["value"] for d in cve.get("descriptions", []) if d.get("lang") == "en"), "")
                cwes = [c for c in _cwe_of_nvd(cve) if c in known]
                if cwes and text:
                    found.setdefault(cve["id"], {"id": cve["id"], "description": text, "cwe": cwes[0]})
        elif "containers" in rec:
            cna = rec["containers"].get("cna", {})
            text = next(
                (d["value"] for d in cna.get("descriptions", []) if d.get("lang", "").startswith("en")), ""
            )
            cwes = [c for c in _cwe_of_cve5(rec) if c in known]
            cve_id = rec.get("cveMetadata", {}).get("cveId")
            if cve_id and cwes and text:
                found.setdefault(cve_id, {"id": cve_id, "description": text, "cwe": cwes[0]})
    out = []
    for entry in found.values():
        text = " ".join(entry["description"].split())
        if f"CWE-{entry['cwe']}" in text or len(text) > 1200:
            continue
        out.append({**entry, "description": text})
    return sorted(out, key=lambda e: e["id"])


def extract(corpus: Path) -> dict[str, Any]:
    """The shipped extract, rebuilt from the corpus."""
    from clearinghouse.frontier.evaluation.reference.cwe_mcq import catalog

    known = {int(w["id"]) for w in catalog()}
    return {"pypa": _pypa(corpus), "cves": _cves(corpus, known)}


def load(path: Path = EXTRACT) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def version_samples(data: dict[str, Any] | None = None) -> list[Sample]:
    data = data or load()
    rng = random.Random(SEED + "-versions")
    samples = []
    for adv in data["pypa"]:
        head = (
            f"Advisory {adv['id']} ({', '.join(adv['aliases']) or 'no aliases'}) for the PyPI package "
            f"{adv['package']}:\n\n{adv['details']}\n\n"
        )
        samples.append(
            Sample(
                id=f"{adv['id']}-fixed",
                input=head + "Which version of the package first fixed it?",
                target=adv["fixed"],
                metadata={"kind": "fixed"},
            )
        )
        affected = rng.choice(adv["affected_versions"])
        samples.append(
            Sample(
                id=f"{adv['id']}-affected",
                input=head + f"Is version {affected} affected? Answer yes or no.",
                target="yes",
                metadata={"kind": "affected"},
            )
        )
        samples.append(
            Sample(
                id=f"{adv['id']}-not-affected",
                input=head + f"Is version {adv['fixed']} affected? Answer yes or no.",
                target="no",
                metadata={"kind": "affected"},
            )
        )
    return samples


def weakness_samples(data: dict[str, Any] | None = None) -> list[Sample]:
    from clearinghouse.frontier.evaluation.reference.cwe_mcq import catalog

    data = data or load()
    pool = catalog()
    rng = random.Random(SEED + "-weakness")
    samples = []
    for cve in data["cves"]:
        right = next(w for w in pool if int(w["id"]) == cve["cwe"])
        others = rng.sample([w for w in pool if int(w["id"]) != cve["cwe"]], 3)
        position = rng.randrange(4)
        options = [*others]
        options.insert(position, right)
        samples.append(
            Sample(
                id=f"{cve['id']}-cwe",
                input=f"{cve['id']}: {cve['description']}\n\nWhich weakness (CWE) does this record name?",
                choices=[f"CWE-{w['id']}: {w['name']}" for w in options],
                target=LETTERS[position],
                metadata={"cwe": cve["cwe"]},
            )
        )
    return samples


def parse_answer(text: str) -> str | None:
    found = ANSWER.findall(text or "")
    return found[-1].strip().rstrip(".").lower() if found else None


@scorer(metrics=[accuracy(), stderr()])
def short_answer() -> Scorer:
    """Right when the last ``ANSWER:`` line equals the target (no answer is wrong)."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = parse_answer(state.output.completion if state.output else "")
        right = answer is not None and answer == target.text.lower()
        return Score(value=CORRECT if right else INCORRECT, answer=answer or "NO ANSWER")

    return score


@task
def advisory_versions() -> Task:
    return Task(
        dataset=MemoryDataset(version_samples(), name="advisory-versions"),
        solver=[system_message(SYSTEM), generate()],
        scorer=short_answer(),
        version=1,
    )


@task
def advisory_weakness() -> Task:
    return Task(
        dataset=MemoryDataset(weakness_samples(), name="advisory-weakness"),
        solver=multiple_choice(),
        scorer=choice(),
        version=1,
    )

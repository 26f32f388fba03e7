"""Agreement with the OASIS test index on the corpus's CSAF test documents, ours beside the csaf library's.

    CLEARINGHOUSE_CORPUS=/work/shared/corpus uv run --frozen python bench/csaf_agreement.py

For CSAF 2.0 and 2.1 it prints, separately for the documents the index calls valid and invalid,
how many the clearinghouse's validation (``intake.importers._csaf.validate``: the shipped OASIS
schema, then section 6.1) and the pinned ``csaf`` library alone (preset ``basic``) agree on, then
the official examples each refuses, and every disagreement of ours with its first problem.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from clearinghouse.intake.importers import _csaf


def index(corpus: Path, version: str) -> list[tuple[Path, bool]]:
    base = corpus / f"csaf/csaf_{version}/test/validator/data"
    return [
        (base / entry["name"], bool(entry["valid"]))
        for test in json.loads((base / "testcases.shared.json").read_text())["tests"]
        for kind in ("failures", "valid")
        for entry in test.get(kind, [])
    ]


def library_valid(doc: dict[str, Any], version: str) -> bool:
    if version == "2.0":
        from csaf.csaf.v20 import validate as run  # type: ignore[import-untyped]
    else:
        from csaf.csaf.v21._validator import validate as run  # type: ignore[import-untyped]
    report = run(doc, preset="basic")
    return not any(
        not r.passed and not r.skipped and r.group in ("schema", "mandatory") for r in report.results
    )


def main() -> int:
    corpus = Path(os.environ.get("CLEARINGHOUSE_CORPUS", "/work/shared/corpus"))
    for version in ("2.0", "2.1"):
        tally = {(who, kind): [0, 0] for who in ("ours", "library") for kind in ("valid", "invalid")}
        ours_disagree: list[str] = []
        for path, expected in index(corpus, version):
            doc = json.loads(path.read_text())
            problems = _csaf.validate(doc)
            kind = "valid" if expected else "invalid"
            for who, valid in (("ours", not problems), ("library", library_valid(doc, version))):
                tally[(who, kind)][0] += valid == expected
                tally[(who, kind)][1] += 1
            if (not problems) != expected:
                first = problems[0][1][:160] if problems else "accepted"
                ours_disagree.append(f"    {path.name} (index: {kind}): {first}")
        for who in ("ours", "library"):
            (va, vn), (ia, in_) = tally[(who, "valid")], tally[(who, "invalid")]
            print(
                f"CSAF {version} {who:8s} valid accepted {va}/{vn}  invalid refused {ia}/{in_}  "
                f"agreement {(va + ia) / (vn + in_):.3f}"
            )
        examples = sorted((corpus / f"csaf/csaf_{version}/examples/csaf").rglob("*.json"))
        ours_ex = [p.name for p in examples if _csaf.validate(json.loads(p.read_text()))]
        lib_ex = [p.name for p in examples if not library_valid(json.loads(p.read_text()), version)]
        print(f"CSAF {version} examples ({len(examples)}) refused: ours {ours_ex}, library {lib_ex}")
        print("\n".join(ours_disagree))
    return 0


if __name__ == "__main__":
    sys.exit(main())

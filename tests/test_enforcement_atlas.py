"""The shipped MITRE ATLAS subset: what tags are checked against."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from clearinghouse.enforcement import atlas
from clearinghouse.enforcement._atlas import CASE_STUDY_ID, TECHNIQUE_ID, extract


def test_shipped_atlas_is_complete_and_consistent() -> None:
    data = atlas()
    assert data.version == "5.6.0"
    assert len(data.tactics) == 16 and len(data.techniques) == 170 and len(data.case_studies) == 57
    assert all(TECHNIQUE_ID.match(t) for t in data.techniques)
    assert all(CASE_STUDY_ID.match(c) for c in data.case_studies)
    for technique in data.techniques.values():
        parent = technique["subtechnique_of"]
        assert parent is None or parent in data.techniques
        assert set(technique["tactics"]) <= set(data.tactics)
    for study in data.case_studies.values():
        assert set(study["techniques"]) <= set(data.techniques), study["id"]
    assert data.technique_name("AML.T0000") == "Search Open Technical Databases"
    folder = resources.files("clearinghouse.data").joinpath("atlas")
    assert "Apache" in folder.joinpath("LICENSE").read_text(encoding="utf-8")


def test_shipped_atlas_matches_the_corpus(corpus: Path) -> None:
    import yaml

    source = yaml.safe_load((corpus / "mitre-atlas" / "dist" / "ATLAS.yaml").read_text(encoding="utf-8"))
    shipped = json.loads(
        resources.files("clearinghouse.data").joinpath("atlas/atlas.json").read_text(encoding="utf-8")
    )
    assert extract(source) == shipped

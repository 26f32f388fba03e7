"""MITRE ATLAS (tactics, techniques, case studies) for tagging incidents.

The package ships the part of ATLAS 5.6.0 that tags need
(``clearinghouse/data/atlas/atlas.json``, Apache-2.0, see its README):
tactic and technique ids and names, which technique a sub-technique belongs
to, and each case study's id, name, date, target and the techniques its
procedure uses. :func:`extract` makes that file from ATLAS's own
``dist/ATLAS.yaml`` (already parsed), so the shipped data can be checked
against, or refreshed from, a newer release.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

TECHNIQUE_ID = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")
CASE_STUDY_ID = re.compile(r"^AML\.CS\d{4}$")


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def extract(atlas: dict[str, Any]) -> dict[str, Any]:
    """The shipped subset of a parsed ``ATLAS.yaml``."""
    matrix = atlas["matrices"][0]
    tactics = [{"id": t["id"], "name": t["name"]} for t in matrix["tactics"]]
    techniques = []
    for t in matrix["techniques"]:
        techniques.append(
            {
                "id": t["id"],
                "name": t["name"],
                "tactics": list(t.get("tactics", [])),
                "subtechnique_of": t.get("subtechnique-of"),
                "maturity": t.get("maturity"),
            }
        )
    case_studies = []
    for cs in atlas["case-studies"]:
        used = sorted({step["technique"] for step in cs.get("procedure", []) if step.get("technique")})
        case_studies.append(
            {
                "id": cs["id"],
                "name": cs["name"],
                "incident_date": _text(cs.get("incident-date")),
                "target": _text(cs.get("target")),
                "actor": _text(cs.get("actor")),
                "type": _text(cs.get("case-study-type")),
                "techniques": used,
            }
        )
    return {
        "id": atlas["id"],
        "name": atlas["name"],
        "version": str(atlas["version"]),
        "tactics": tactics,
        "techniques": techniques,
        "case_studies": case_studies,
    }


@dataclass(frozen=True)
class Atlas:
    version: str
    tactics: dict[str, str]
    techniques: dict[str, dict[str, Any]]
    case_studies: dict[str, dict[str, Any]]

    def technique_name(self, technique_id: str) -> str:
        return str(self.techniques[technique_id]["name"])


@cache
def atlas() -> Atlas:
    """The shipped ATLAS release, loaded once."""
    text = resources.files("clearinghouse.data").joinpath("atlas/atlas.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Atlas(
        version=data["version"],
        tactics={t["id"]: t["name"] for t in data["tactics"]},
        techniques={t["id"]: t for t in data["techniques"]},
        case_studies={c["id"]: c for c in data["case_studies"]},
    )

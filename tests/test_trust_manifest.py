"""Issue 14, defect 10: a deeply nested, oversized or alias-expanding suite.yaml
is refused before it is parsed, with a 422 naming the manifest by pointer."""

from __future__ import annotations

import pytest

from clearinghouse.errors import InvalidInput
from clearinghouse.frontier.evaluation._manifest import MAX_MANIFEST_BYTES, check_files, parse_manifest

TASK = b"from inspect_ai import task\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("name: x\ntasks: " + "[" * 100_000 + "]" * 100_000, "nested"),
        ("name: x\ntasks: " + "{a: " * 50_000 + "1" + "}" * 50_000, "nested"),
        ("name: x\nd:\n" + "".join("  " * i + "- \n" for i in range(1, 400)), "nested"),
        (
            "a: &a ['x','x','x','x','x','x','x','x','x']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
            "aliases",
        ),
        ("name: x\n# " + "y" * (MAX_MANIFEST_BYTES + 1) + "\n", "larger"),
    ],
)
def test_hostile_manifests_are_refused_before_parsing(text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_files({"suite.yaml": text.encode(), "t.py": TASK})
    assert refused.value.pointer == "/files/suite.yaml"
    assert said in refused.value.detail


def test_an_ordinary_manifest_still_parses() -> None:
    manifest = parse_manifest(
        "name: ctf\nversion: '1'\ntasks:\n  - name: tier1\n    file: t.py\n    function: f\n"
    )
    assert manifest.tasks[0].name == "tier1"

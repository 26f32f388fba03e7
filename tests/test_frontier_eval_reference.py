"""The reference suite: every task is solvable (a scripted model using the known
solutions scores 1) and a wrong answer scores 0; the worker runs a plan with
the suite's epochs and limits and keeps its progress file; logs read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearinghouse.frontier.evaluation import _manifest, _worker
from clearinghouse.frontier.evaluation._results import read_task_log
from clearinghouse.frontier.evaluation.reference import ctf, cwe_mcq, solutions, vuln_id
from clearinghouse.frontier.evaluation.services import REFERENCE_DIR
from clearinghouse.frontier.evaluation.toolkit import confusion, ratios, run_bash, scrubbed_env


def reference_plan(tmp_path: Path) -> dict[str, Any]:
    manifest = _manifest.parse_manifest((REFERENCE_DIR / "suite.yaml").read_text())
    return {
        "campaign_id": "test",
        "model": "mockllm/model",
        "log_dir": str(tmp_path / "logs"),
        "progress_file": str(tmp_path / "progress.json"),
        "tasks": [
            {
                "task_id": spec.name,
                "name": spec.name,
                "suite_dir": str(REFERENCE_DIR),
                "file": spec.file,
                "function": spec.function,
                "epochs": manifest.epochs_of(spec),
                "limits": manifest.limits_of(spec).model_dump(),
            }
            for spec in manifest.tasks
        ],
    }


def run_reference(tmp_path: Path, decide: solutions.Decide) -> dict[str, Any]:
    plan = reference_plan(tmp_path)
    logs = _worker.run_plan(plan, model=solutions.mockllm(solutions.Oracle(decide)))
    out: dict[str, Any] = {}
    for entry in logs:
        out[entry["task_id"]] = read_task_log(tmp_path / "logs" / entry["log_file"])
    progress = _worker.read_progress(tmp_path / "progress.json")
    assert progress is not None
    out["_progress"] = progress
    return out


def test_every_reference_task_is_solvable(tmp_path: Path) -> None:
    results = run_reference(tmp_path, solutions.always)
    progress = results.pop("_progress")
    assert progress["state"] == "finished"
    assert progress["samples_total"] == 24 + 20 + 6 * 3
    assert progress["samples_done"] == progress["samples_total"]
    assert set(results) == {"cwe_mcq", "vuln_id", *ctf.CHALLENGES}
    for name, log in results.items():
        assert log.status == "success", name
        assert log.tallies.errors == 0, name
        assert log.tallies.attempts > 0
        assert log.tallies.score_sum == log.tallies.attempts == log.tallies.scored, f"{name} was not solved"
        if name in ctf.CHALLENGES:
            assert log.epochs == 3
            assert [(s.attempts, s.correct) for s in log.tallies.samples] == [(3, 3)]
            metrics = log.tallies.metrics(["accuracy"], [1, 3])
            assert {k: metrics[k] for k in ("accuracy", "pass_at_1", "pass_at_3")} == {
                "accuracy": 1.0,
                "pass_at_1": 1.0,
                "pass_at_3": 1.0,
            }
    metrics = results["vuln_id"].tallies.metrics(["precision", "recall", "f1"], [])
    assert {k: metrics[k] for k in ("precision", "recall", "f1")} == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }


def test_a_wrong_answer_scores_zero(tmp_path: Path) -> None:
    results = run_reference(tmp_path, solutions.never)
    results.pop("_progress")
    for name, log in results.items():
        assert log.status == "success", name
        assert log.tallies.attempts > 0
        assert log.tallies.score_sum == 0, f"{name} scored a wrong answer"
    vuln = results["vuln_id"].tallies
    assert vuln.confusion == (0, 10, 10)
    assert vuln.metrics(["precision", "recall", "f1"], [])["f1"] == 0.0
    for name in ctf.CHALLENGES:
        metrics = results[name].tallies.metrics([], [1, 3])
        assert (metrics["pass_at_1"], metrics["pass_at_3"]) == (0.0, 0.0)


def test_cwe_questions_are_deterministic_and_well_formed() -> None:
    first, second = cwe_mcq.questions(), cwe_mcq.questions()
    assert [(s.id, s.input, s.choices, s.target) for s in first] == [
        (s.id, s.input, s.choices, s.target) for s in second
    ]
    assert len({s.id for s in first}) == cwe_mcq.QUESTIONS
    catalog = {int(w["id"]): w["name"] for w in cwe_mcq.catalog()}
    for sample in first:
        assert sample.choices is not None and len(set(sample.choices)) == 4
        right = sample.choices["ABCD".index(str(sample.target))]
        cwe = (sample.metadata or {})["cwe"]
        assert right in (f"CWE-{cwe}", catalog[cwe])
    assert [s.id for s in cwe_mcq.questions(seed="another")] != [s.id for s in first]


def test_code_pairs_are_labelled_with_catalog_cwes() -> None:
    ids = {int(w["id"]) for w in cwe_mcq.catalog()} | {95, 798}  # Variant/Incomplete ones too
    pairs = vuln_id.pairs()
    assert len(pairs) >= 10
    for pair in pairs:
        assert pair["cwe"] in ids
        vulnerable = (REFERENCE_DIR / "pairs" / pair["vulnerable"]).read_text()
        fixed = (REFERENCE_DIR / "pairs" / pair["fixed"]).read_text()
        assert vulnerable != fixed
    assert vuln_id.parse_verdict("x\nVERDICT: VULNERABLE CWE-89") == (True, 89)
    assert vuln_id.parse_verdict("VERDICT: vulnerable") == (True, None)
    assert vuln_id.parse_verdict("verdict: SAFE") == (False, None)
    assert vuln_id.parse_verdict("no idea") is None


@pytest.mark.parametrize("name", sorted(ctf.CHALLENGES))
def test_each_challenge_is_built_around_its_flag(name: str, tmp_path: Path) -> None:
    """Built twice, a challenge hides two different flags; its solution prints this one."""
    import asyncio

    challenge = ctf.CHALLENGES[name]
    flags = []
    for run in ("a", "b"):
        workspace = tmp_path / run
        workspace.mkdir()
        flag = f"FLAG{{{run * 8}{name[:4]}}}".replace("_", "x")
        challenge.build(workspace, flag)
        output = ""
        for command in challenge.solution:
            output += asyncio.run(run_bash(workspace, command))
        assert flag in output
        flags.append(flag)
    assert flags[0] != flags[1]


def test_bash_tool_runs_scrubbed_in_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setenv("ENDPOINT_API_KEY", "sk-secret")
    out = asyncio.run(run_bash(tmp_path, "pwd; env | grep -c API_KEY; exit 3"))
    assert str(tmp_path) in out and "\n0\n" in out and "[exit status 3]" in out
    assert "ENDPOINT_API_KEY" not in scrubbed_env(tmp_path)
    assert "[timed out" in asyncio.run(run_bash(tmp_path, "sleep 5", timeout=0.2))
    long = asyncio.run(run_bash(tmp_path, "head -c 40000 /dev/zero | tr '\\0' a"))
    assert "[output cut" in long


def test_confusion_counts() -> None:
    from inspect_ai.scorer import SampleScore, Score

    def s(label: int | None, predicted: int | None) -> SampleScore:
        return SampleScore(score=Score(value=0, metadata={"label": label, "predicted": predicted}))

    scores = [s(89, 89), s(89, 22), s(None, 79), s(None, None), s(22, None)]
    assert confusion(scores) == (1, 2, 2)
    assert ratios(0, 0, 0) == (0.0, 0.0, 0.0)


def test_worker_refuses_bad_plans_and_reports_failure(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "tasks.py").write_text("def not_a_task():\n    return 42\n")
    with pytest.raises(ValueError, match="outside the suite"):
        _worker.load_task(suite, "../elsewhere.py", "x")
    with pytest.raises(TypeError, match="did not return an inspect_ai Task"):
        _worker.load_task(suite, "tasks.py", "not_a_task")
    assert _worker.main([]) == 2
    plan = reference_plan(tmp_path)
    plan["tasks"] = [
        {**plan["tasks"][0], "suite_dir": str(suite), "file": "tasks.py", "function": "not_a_task"}
    ]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    assert _worker.main([str(plan_file)]) == 1
    progress = _worker.read_progress(tmp_path / "progress.json")
    assert progress is not None and progress["state"] == "failed"
    assert "did not return an inspect_ai Task" in progress["error"]
    assert _worker.read_progress(tmp_path / "missing.json") is None

"""The policy is a table: every action has exactly one rule, with its prose, and
``docs/policy.md`` is generated from the rules."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from clearinghouse.access import ANONYMOUS, PLATFORM, Action, can
from clearinghouse.access._rules import RULES, SECTIONS, Rule, _assemble, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "policy.md"


def test_every_action_has_exactly_one_rule() -> None:
    listed = [rule.action for section in SECTIONS for rule in section.RULES]
    assert sorted(listed) == sorted(Action), "an action without a rule, or one with two"
    assert set(RULES) == set(Action)
    for action, rule in RULES.items():
        assert rule.action is action


def test_every_rule_names_an_existing_action_and_has_prose() -> None:
    for section in SECTIONS:
        assert (section.__doc__ or "").strip(), f"{section.__name__} has no notes"
        for rule in section.RULES:
            assert isinstance(rule, Rule)
            assert rule.action in set(Action)
            prose = rule.prose.strip()
            assert prose.endswith("."), f"{rule.action}: the prose is one sentence ending in a period"
            assert len(prose.split()) >= 6, f"{rule.action}: the prose says too little"
            assert "|" not in prose, f"{rule.action}: the prose would break the table"


def test_two_rules_for_one_action_are_refused() -> None:
    class Twice:
        __name__ = "twice"
        RULES = (
            Rule(Action.READ, "One rule for reading.", lambda s, r: True),
            Rule(Action.READ, "Another rule for reading.", lambda s, r: False),
        )

    with pytest.raises(ValueError, match="two rules"):
        _assemble((Twice,))  # type: ignore[arg-type]


def test_can_applies_the_actions_rule() -> None:
    for action, rule in RULES.items():
        assert can(ANONYMOUS, action) is rule.check(ANONYMOUS, PLATFORM)


def test_the_policy_document_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/policy.md is stale: uv run --frozen python -m clearinghouse.access._rules > docs/policy.md"
    )
    for action in Action:
        assert f"`{action.value}`" in DOC.read_text(encoding="utf-8")


def test_the_module_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_module("clearinghouse.access._rules", run_name="__main__")
    assert capsys.readouterr().out == render()

"""The policy's rules, one per :class:`~clearinghouse.access.Action`, grouped by feature.

Each feature's file holds its rules (``RULES``) and, as its docstring, what the rules
assume about how that feature's objects are marked. :data:`RULES` joins them into one
mapping; building it refuses an action with two rules, and the exhaustiveness test
(``tests/test_policy_table.py``) checks that every action has one. ``docs/policy.md`` is
generated from the sections (``python -m clearinghouse.access._rules > docs/policy.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from clearinghouse.access._actions import Action
from clearinghouse.access._rules import (
    coordination,
    enforcement,
    evaluation,
    frontier,
    notifications,
    platform,
    priority,
    programs,
    repro,
    sharing,
    triage,
    web,
)
from clearinghouse.access._rules._rule import Check, Rule

# In the order the documentation shows them.
SECTIONS: tuple[ModuleType, ...] = (
    platform,
    triage,
    repro,
    coordination,
    notifications,
    sharing,
    priority,
    web,
    frontier,
    evaluation,
    enforcement,
    programs,
)


def _assemble(sections: tuple[ModuleType, ...]) -> Mapping[Action, Rule]:
    table: dict[Action, Rule] = {}
    for section in sections:
        for rule in section.RULES:
            if rule.action in table:
                raise ValueError(f"two rules for {rule.action!r}")
            table[rule.action] = rule
    return table


RULES: Mapping[Action, Rule] = _assemble(SECTIONS)


def _title_and_notes(section: ModuleType) -> tuple[str, str]:
    doc = (section.__doc__ or "").strip()
    title, _, notes = doc.partition("\n")
    return title.strip().rstrip("."), notes.strip()


def render() -> str:
    """``docs/policy.md``: every section's notes and a table of its rules' prose."""
    out = [
        "# The access policy, rule by rule",
        "",
        "Generated from the rules in `src/clearinghouse/access/_rules/` by",
        "`uv run --frozen python -m clearinghouse.access._rules > docs/policy.md`; a test",
        "(`tests/test_policy_table.py`) fails when this file is not current. Every read and",
        "write asks `can(subject, action, resource)`, which looks the action's one rule up",
        "here. A read of an existing object that is denied is reported exactly as a missing",
        "object would be (a 404); refusing to create an object is a 403.",
        "",
    ]
    for section in SECTIONS:
        title, notes = _title_and_notes(section)
        out += [f"## {title}", ""]
        if notes:
            out += [notes, ""]
        out += ["| action | who may |", "|---|---|"]
        for rule in section.RULES:
            out.append(f"| `{rule.action.value}` | {rule.prose} |")
        out.append("")
    return "\n".join(out)


__all__ = ["RULES", "SECTIONS", "Check", "Rule", "render"]

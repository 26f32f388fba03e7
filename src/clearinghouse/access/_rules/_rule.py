"""One rule: an action, its sentence of prose, and the check that decides it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._subject import Subject

Check = Callable[[Subject, Resource], bool]


@dataclass(frozen=True)
class Rule:
    """Who may do ``action``: ``prose`` says it in one sentence (the policy's documentation
    is generated from it), ``check`` decides it."""

    action: Action
    prose: str
    check: Check

"""The access policy: the one place that decides who may read and change what.

Every adapter (HTTP API, pages, CLI, exports, feeds) and every service asks
:func:`can` or :func:`authorize`; no other module holds an access rule.

The policy is a table: every :class:`Action` has exactly one rule
(``access/_rules/<feature>.py``, each with its sentence of prose), and :func:`can`
looks the action up and applies it. ``docs/policy.md`` is generated from the rules.

Reading a marked object needs every one of its markings (its own and each
container's) to admit the subject, so the most restrictive marking wins
(:func:`marking_admits`: classification and compartments, then TLP; see
``access/_rules/platform.py``). "Released to" (frontier) and "any of" (shared
records) only narrow. A resource that carries no marking at all is readable by
nobody (fail closed).

A read of an existing object that is denied is reported exactly as a missing
object would be (:class:`NotFound`), so a denial leaks nothing about
existence. Refusing to create an object (which has no id yet) is
:class:`Forbidden`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from clearinghouse.access._actions import PLATFORM, Action, Resource
from clearinghouse.access._predicates import can_read, marking_admits
from clearinghouse.access._rules import RULES
from clearinghouse.access._subject import Subject

__all__ = [
    "PLATFORM",
    "AccessDenied",
    "Action",
    "Forbidden",
    "NotFound",
    "Resource",
    "authorize",
    "can",
    "marking_admits",
    "visible",
]


class AccessDenied(Exception):
    """Base of the policy's refusals."""


class NotFound(AccessDenied):
    """No such object — or one the subject may not know exists. The two are
    deliberately indistinguishable."""

    def __init__(self, kind: str, id: str | None = None) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind
        self.id = id


class Forbidden(AccessDenied):
    """The subject may know the object exists but may not do this to it."""

    def __init__(self, action: Action, kind: str, doing: str | None = None) -> None:
        # ``doing`` names what the caller tried where the action's name says too little
        # (withdrawing a grant is asked as ``frontier.grant``).
        super().__init__(f"not allowed to {doing or action.value} this {kind}")
        self.action = action
        self.kind = kind


def can(subject: Subject, action: Action, resource: Resource = PLATFORM) -> bool:
    """Whether ``subject`` may do ``action`` to ``resource``: the action's one rule decides."""
    rule = RULES.get(action)
    if rule is None:  # pragma: no cover - every action has a rule (tests/test_policy_table.py)
        raise ValueError(f"unknown action {action!r}")
    return rule.check(subject, resource)


def authorize(subject: Subject, action: Action, resource: Resource = PLATFORM) -> None:
    """Raise unless ``subject`` may do ``action``.

    For an existing object (one with an id) the subject may not read, every
    refusal is :class:`NotFound`; otherwise — including an object about to be
    created with a marking its creator could not read — it is :class:`Forbidden`.
    """
    if can(subject, action, resource):
        return
    if resource.id is not None and (resource.markings or resource.any_of) and not can_read(subject, resource):
        raise NotFound(resource.kind, resource.id)
    raise Forbidden(action, resource.kind)


T = TypeVar("T")


def visible(subject: Subject, items: Iterable[T], resource_of: Callable[[T], Resource]) -> Iterator[T]:
    """The items ``subject`` may read, in order."""
    for item in items:
        if can_read(subject, resource_of(item)):
            yield item

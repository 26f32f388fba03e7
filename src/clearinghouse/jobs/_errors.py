"""Errors raised by the job queue."""

from __future__ import annotations


class UnknownJobError(LookupError):
    """No job function is registered under the name (enqueued or run)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no job is registered under the name {name!r} (import the module that defines it)")
        self.name = name


class JobCommitError(RuntimeError):
    """A job called ``ctx.uow.commit()``: the runner commits, once, with the job marked succeeded."""


class JobFencedError(RuntimeError):
    """A phased job's claim passed to another worker before it finished; nothing of its end was recorded."""

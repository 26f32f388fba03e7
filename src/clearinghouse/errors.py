"""Errors the services raise, which every adapter knows how to show.

Each names what went wrong in the request by JSON pointer (RFC 6901), so the
HTTP API can answer with an RFC 9457 problem and the CLI with a clear line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError


class ClearinghouseError(Exception):
    """Base of the errors a user can cause."""

    status = 400
    title = "Bad request"

    def __init__(
        self, detail: str, pointer: str | None = None, *, problems: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        # Every (JSON pointer, detail) found wrong, when there is more than the first to tell.
        self.problems = list(problems)


class InvalidInput(ClearinghouseError):
    status = 422
    title = "Invalid input"


class BadRequest(ClearinghouseError):
    """A request the service cannot read (400), where a protocol says so (the OSV API)."""

    status = 400
    title = "Bad request"


class Conflict(ClearinghouseError):
    status = 409
    title = "Conflict"


def json_pointer(parts: Sequence[str | int]) -> str:
    """RFC 6901 pointer for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def nul_pointer(value: Any, path: tuple[str | int, ...] = ()) -> str | None:
    """The JSON pointer of the first string (key or value) holding a NUL character,
    or None. PostgreSQL cannot store NUL in text, so such input is refused up front
    on every database alike, naming where it is."""
    if isinstance(value, str):
        return json_pointer(path) if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                return json_pointer((*path, key))
            found = nul_pointer(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found = nul_pointer(item, (*path, position))
            if found is not None:
                return found
    return None


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(JSON pointer, message) of the first thing pydantic found wrong."""
    errors = exc.errors()
    if not errors:  # pragma: no cover - pydantic always lists at least one
        return "", str(exc)
    first = errors[0]
    return json_pointer([p for p in first["loc"]]), first["msg"]

"""Errors the services raise, which every adapter knows how to show.

Each names what went wrong in the request by JSON pointer (RFC 6901), so the
HTTP API can answer with an RFC 9457 problem and the CLI with a clear line.
"""

from __future__ import annotations


class ClearinghouseError(Exception):
    """Base of the errors a user can cause."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer


class InvalidInput(ClearinghouseError):
    status = 422
    title = "Invalid input"


class Conflict(ClearinghouseError):
    status = 409
    title = "Conflict"

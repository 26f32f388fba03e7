"""What every command-line module shares: errors printed in one style, and
acting as a named user with that user's own roles, so the CLI asks the same
access policy as the API and the ledger names the person who acted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from clearinghouse.access import AccessDenied, Subject
from clearinghouse.access import services as access
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, UnitOfWork

err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error; raise what this returns to exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def acting_as(user_ref: str | None, *, write: bool = True) -> Iterator[tuple[Runtime, UnitOfWork, Subject]]:
    """A runtime and a unit of work attributed to the named user (username or id),
    with that user's roles; with no user, the local operator. Service errors and
    refusals become a clear message and exit code 2."""
    try:
        runtime = Runtime.from_env()
    except ValueError as exc:
        raise fail(str(exc)) from exc
    try:
        subject, actor = access.OPERATOR, Actor.system("cli")
        if user_ref is not None:
            with runtime.uow(actor, write=False) as probe:
                user = access.find_user(probe.session, user_ref)
                if user is None or not user.active:
                    raise fail(f"no active user {user_ref!r}")
                subject, actor = access.subject_for(probe.session, user), Actor.user(user.id)
        with runtime.uow(actor, write=write) as uow:
            yield runtime, uow, subject
    except ClearinghouseError as exc:
        where = f" ({exc.pointer})" if exc.pointer else ""
        raise fail(f"{exc.detail}{where}") from exc
    except AccessDenied as exc:
        raise fail(str(exc)) from exc
    finally:
        runtime.close()


# The local operator: whoever holds the data folder and the database on this host.
CLI_ACTOR = Actor.system("cli")


@contextmanager
def open_runtime(*, create: bool = False) -> Iterator[Runtime]:
    """The data folder's runtime; ``create`` (init, serve --init) makes the folder if there is none."""
    try:
        runtime = Runtime.for_init() if create else Runtime.from_env()
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def operator_unit(runtime: Runtime, *, write: bool = True) -> Iterator[UnitOfWork]:
    """A unit of work of the local operator whose user-caused errors print as one clear line."""
    try:
        with runtime.uow(CLI_ACTOR, write=write) as uow:
            yield uow
    except ClearinghouseError as exc:
        where = f" ({exc.pointer})" if exc.pointer else ""
        raise fail(f"{exc.detail}{where}", 2) from exc
    except AccessDenied as exc:
        raise fail(str(exc), 2) from exc

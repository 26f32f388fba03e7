"""``clearinghouse directives ...``: the directive tracker on the command line."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clearinghouse.access import AccessDenied
from clearinghouse.access import services as access
from clearinghouse.directives import services
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow

app = typer.Typer(help="What EO 14409 and BOD 26-04 require of whom, and by when.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ACTOR = Actor.system("cli")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.command("list")
def list_directives(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge overdue on this day (YYYY-MM-DD; default today).")
    ] = None,
    overdue_only: Annotated[bool, typer.Option("--overdue", help="Only the overdue directives.")] = False,
) -> None:
    """Every directive with its actor, due date and status; overdue ones in red."""
    try:
        today = dt.date.fromisoformat(as_of) if as_of else utcnow().date()
    except ValueError:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    try:
        runtime = Runtime.from_env()
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        with runtime.uow(ACTOR, write=False) as uow:
            rows = services.list_directives(uow.session, access.OPERATOR)
    except (ClearinghouseError, AccessDenied) as exc:
        raise _fail(str(exc)) from exc
    finally:
        runtime.close()
    table = Table(title=f"Directives (as of {today.isoformat()})")
    for column in ("instrument", "section", "title", "actor", "acting through", "due", "status"):
        table.add_column(column)
    shown = 0
    for d in rows:
        overdue = d.is_overdue(today)
        if overdue_only and not overdue:
            continue
        due = d.due_date.isoformat() if d.due_date else "standing" if d.standing else "—"
        status = f"{d.status} (OVERDUE)" if overdue else d.status
        table.add_row(
            d.instrument,
            d.section,
            d.title,
            d.actor,
            d.acting_through,
            due,
            status,
            style="red" if overdue else None,
        )
        shown += 1
    console.print(table)
    overdue_count = sum(1 for d in rows if d.is_overdue(today))
    console.print(f"{shown} shown; {overdue_count} overdue")

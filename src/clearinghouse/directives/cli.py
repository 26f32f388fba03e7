"""``clearinghouse directives ...``: the directive tracker on the command line."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console

from clearinghouse.access import AccessDenied
from clearinghouse.access import services as access
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.directives import services
from clearinghouse.directives.models import Directive
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
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Every directive with its leads, due date and status; overdue ones in red.

    Example: clearinghouse directives list --overdue --format json
    """
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
            directives = services.list_directives(uow.session, access.OPERATOR)
    except (ClearinghouseError, AccessDenied) as exc:
        raise _fail(str(exc)) from exc
    finally:
        runtime.close()
    rows = [_row(d, today) for d in directives if not overdue_only or d.is_overdue(today)]
    overdue_count = sum(1 for d in directives if d.is_overdue(today))
    emit(
        rows,
        COLUMNS if fmt is not OutputFormat.TABLE else TABLE_COLUMNS,
        fmt,
        title=f"Directives (as of {today.isoformat()})",
        footer=f"{len(rows)} shown; {overdue_count} overdue",
        row_style=lambda row: "red" if row["overdue"] else None,
    )


def _lead_text(lead: dict[str, str]) -> str:
    through = lead.get("acting_through") or ""
    return f"{lead['office']} (through {through})" if through else lead["office"]


def _row(d: Directive, today: dt.date) -> dict[str, Any]:
    overdue = d.is_overdue(today)
    due = d.due_date.isoformat() if d.due_date else "standing" if d.standing else None
    return {
        "id": d.id,
        "key": d.key,
        "instrument": d.instrument,
        "section": d.section,
        "title": d.title,
        "leads": [dict(lead) for lead in d.leads],
        "lead": "; ".join(_lead_text(lead) for lead in d.leads) or d.actor,
        "consulted": list(d.consulted),
        "due": due,
        "due_date": d.due_date,
        "standing": d.standing,
        "status": f"{d.status} (OVERDUE)" if overdue else d.status,
        "overdue": overdue,
        "deliverable": d.deliverable,
        "note": d.note,
    }


TABLE_COLUMNS = (
    Column("instrument"),
    Column("section", kind="id"),
    Column("title"),
    Column("lead", "lead (acting through)"),
    Column("due", kind="date"),
    Column("status", kind="id"),
)
COLUMNS = (
    Column("id", kind="id"),
    Column("key", kind="id"),
    Column("instrument"),
    Column("section", kind="id"),
    Column("title"),
    Column("leads"),
    Column("consulted"),
    Column("due_date", kind="date"),
    Column("standing"),
    Column("status", kind="id"),
    Column("overdue"),
    Column("deliverable"),
    Column("note"),
)

"""``clearinghouse programs ...``: list, open, apply, decide, revoke.

Listing, opening programs, deciding and revoking run as the local operator
(an administrator); applying runs as a named user (``--user``) of the
applying organization.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import Subject
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import acting_as
from clearinghouse.programs import services
from clearinghouse.storage import UnitOfWork

programs_app = typer.Typer(help="Defensive-tool access programs.", no_args_is_help=True)
console = Console(soft_wrap=True)


@contextmanager
def _acting(user_ref: str | None, *, write: bool = True) -> Iterator[tuple[UnitOfWork, Subject]]:
    """A unit of work as the named user, or as the local operator without one."""
    with acting_as(user_ref, write=write) as (_runtime, uow, subject):
        yield uow, subject


@programs_app.command("list")
def programs_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Every program: what it offers, who is eligible, places used."""
    with _acting(None, write=False) as (uow, subject):
        rows = [
            (p, services.active_grant_count(uow.session, p.id))
            for p in services.list_programs(uow.session, subject)
        ]
    if fmt is not OutputFormat.TABLE:
        emit(
            (
                {
                    "id": p.id,
                    "name": p.name,
                    "tool": p.tool_name,
                    "model_id": p.model_id,
                    "eligible_org_kinds": list(p.eligible_org_kinds),
                    "eligible_sectors": list(p.eligible_sectors),
                    "eligible_sizes": list(p.eligible_sizes),
                    "places_used": used,
                    "capacity": p.capacity,
                    "open": p.accepting,
                }
                for p, used in rows
            ),
            (
                Column("id", kind="id"),
                Column("name"),
                Column("tool"),
                Column("model_id", kind="id"),
                Column("eligible_org_kinds"),
                Column("eligible_sectors"),
                Column("eligible_sizes"),
                Column("places_used", kind="number"),
                Column("capacity", kind="number"),
                Column("open"),
            ),
            fmt,
        )
        return
    table_rows: list[dict[str, object]] = []
    for p, used in rows:
        offers = f"tool: {p.tool_name}" if p.tool_name else f"model: {p.model_id}"
        eligible = " / ".join(
            ", ".join(values) or "any"
            for values in (p.eligible_org_kinds, p.eligible_sectors, p.eligible_sizes)
        )
        table_rows.append(
            {
                "id": p.id,
                "name": p.name,
                "offers": offers,
                "eligible": eligible,
                "places": f"{used}/{p.capacity}",
                "open": p.accepting,
            }
        )
    emit(
        table_rows,
        (
            Column("id", kind="id"),
            Column("name"),
            Column("offers"),
            Column("eligible"),
            Column("places", kind="number"),
            Column("open"),
        ),
        fmt,
    )


@programs_app.command("create")
def programs_create(
    name: Annotated[str, typer.Argument(help="The program's name.")],
    terms: Annotated[str, typer.Option(help="The terms of use.")],
    capacity: Annotated[int, typer.Option(min=1, help="How many grants it can hold at once.")],
    operating_org: Annotated[str, typer.Option(help="The organization that runs it.")],
    tool: Annotated[str | None, typer.Option(help="The tool it offers.")] = None,
    model: Annotated[str | None, typer.Option(help="Or: the registered model it offers.")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="An eligible organization kind (repeat).")] = None,
    sector: Annotated[list[str] | None, typer.Option(help="An eligible sector (repeat).")] = None,
    size: Annotated[list[str] | None, typer.Option(help="An eligible size: small, medium, large.")] = None,
    days: Annotated[int, typer.Option(help="How long a grant lasts by default.")] = 365,
) -> None:
    """Open a program offering a tool or a model."""
    draft = services.ProgramDraft(
        name=name,
        terms=terms,
        capacity=capacity,
        tool_name=tool,
        model_id=model,
        operating_org=operating_org,
        eligible_org_kinds=kind or [],
        eligible_sectors=sector or [],
        eligible_sizes=size or [],
        grant_days=days,
    )
    with _acting(None) as (uow, subject):
        program, created = services.create_program(uow, subject, draft)
        uow.commit()
    console.print(f"{'opened' if created else 'exists:'} program {program.name} id={program.id}")


@programs_app.command("apply")
def programs_apply(
    user: Annotated[str, typer.Option("--user", help="Apply as this user, for their organization.")],
    program_id: Annotated[str, typer.Argument(help="The program.")],
    sector: Annotated[str, typer.Option(help="The organization's sector, e.g. healthcare.")],
    size: Annotated[str, typer.Option(help="small, medium or large.")],
    justification: Annotated[str, typer.Option(help="Why the organization needs it.")] = "",
) -> None:
    """Apply to a program."""
    draft = services.ApplicationDraft(sector=sector, size=size, justification=justification)
    with _acting(user) as (uow, subject):
        application, created = services.apply(uow, subject, program_id, draft)
        uow.commit()
    console.print(
        f"{'applied' if created else 'already applied'}: application {application.id} ({application.status})"
    )


@programs_app.command("decide")
def programs_decide(
    application_id: Annotated[str, typer.Argument(help="The application.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    approve: Annotated[bool, typer.Option("--approve/--decline", help="Approve or decline.")] = True,
) -> None:
    """Approve (making a grant) or decline an application."""
    decision = services.Decision(approve=approve, reason=reason)
    with _acting(None) as (uow, subject):
        application, grant = services.decide(uow, subject, application_id, decision)
        uow.commit()
    made = f"; grant {grant.id} until {grant.ends_at.isoformat()}" if grant is not None else ""
    console.print(f"application {application.id} {application.status}{made}")


@programs_app.command("revoke")
def programs_revoke(
    grant_id: Annotated[str, typer.Argument(help="The grant.")],
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Revoke a grant now."""
    with _acting(None) as (uow, subject):
        grant = services.revoke_grant(uow, subject, grant_id, reason)
        uow.commit()
    console.print(f"grant {grant.id} revoked at {grant.revoked_at.isoformat() if grant.revoked_at else '?'}")

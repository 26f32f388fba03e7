"""``clearinghouse coordinate ...``: the coordination workflow from the command line,
as the local operator, through the same services and policy as the API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import TLP, AccessDenied
from clearinghouse.access.services import OPERATOR
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.coordination import _clock, _workflow
from clearinghouse.coordination._vex import VexFormat
from clearinghouse.domain import ProductStatus, VexJustification
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, UnitOfWork

app = typer.Typer(
    help="Coordinate validated cases with vendors and publish advisories.", no_args_is_help=True
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ACTOR = Actor.system("cli")


@contextmanager
def unit(*, write: bool = True) -> Iterator[UnitOfWork]:
    try:
        runtime = Runtime.from_env()
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    try:
        with runtime.uow(ACTOR, write=write) as uow:
            yield uow
    except ClearinghouseError as exc:
        where = f" ({exc.pointer})" if exc.pointer else ""
        err.print(f"[bold red]error:[/] {exc.detail}{where}")
        raise typer.Exit(2) from exc
    except AccessDenied as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    finally:
        runtime.close()


def _products(purls: list[str]) -> list[_workflow.ProductRef]:
    return [
        _workflow.ProductRef(purl=p) if p.startswith("pkg:") else _workflow.ProductRef(name=p) for p in purls
    ]


@app.command("notify")
def notify(
    case: Annotated[str, typer.Argument(help="The case id.")],
    vendor: Annotated[str, typer.Option(help="The vendor organization's id or name.")],
    product: Annotated[
        list[str] | None, typer.Option(help="A product: a purl or a name (repeatable).")
    ] = None,
) -> None:
    """Notify a vendor of a validated case (opens its thread; again: adds products)."""
    with unit() as uow:
        thread, created = _workflow.notify_vendor(uow, OPERATOR, case, vendor, _products(product or []))
        uow.commit()
    console.print(
        f"{'notified' if created else 'already notified'}: thread {thread.id} ({thread.vendor_org_id})"
    )


@app.command("from-matching")
def from_matching(case: Annotated[str, typer.Argument(help="The case id.")]) -> None:
    """Notify every software vendor whose registered products the case matches."""
    with unit() as uow:
        threads = _workflow.notify_from_matching(uow, OPERATOR, case)
        uow.commit()
    for thread in threads:
        console.print(f"thread {thread.id} for {thread.vendor_org_id}")
    if not threads:
        console.print("no software vendor's registered products match this case")


@app.command("status")
def status(
    thread: Annotated[str, typer.Argument(help="The vendor thread id.")],
    product: Annotated[str, typer.Option(help="The product: a purl or a name.")],
    state: Annotated[ProductStatus, typer.Option("--status", help="The vendor's status.")],
    fixed: Annotated[list[str] | None, typer.Option(help="A fixed version (repeatable).")] = None,
    justification: Annotated[VexJustification | None, typer.Option(help="Why not affected.")] = None,
) -> None:
    """Record a vendor's status for one product."""
    update = _workflow.StatusUpdate(
        product=_products([product])[0],
        status=state,
        justification=justification,
        fixed_versions=tuple(fixed or ()),
    )
    with unit() as uow:
        rows = _workflow.set_statuses(uow, OPERATOR, thread, [update])
        uow.commit()
    for row in rows:
        console.print(f"{row.product_id}: {row.status} {', '.join(row.fixed_versions)}".rstrip())


@app.command("vex")
def vex(
    thread: Annotated[str, typer.Argument(help="The vendor thread id.")],
    file: Annotated[Path, typer.Argument(help="A CycloneDX VEX, OpenVEX or CSAF 2.0 VEX JSON file.")],
    format: Annotated[VexFormat | None, typer.Option(help="Default: detected.")] = None,
) -> None:
    """Record a vendor's VEX document on its thread."""
    if not file.is_file():
        err.print(f"[bold red]error:[/] no such file: {file}")
        raise typer.Exit(2)
    with unit() as uow:
        rows = _workflow.apply_vex(uow, OPERATOR, thread, file.read_bytes(), format)
        uow.commit()
    for row in rows:
        console.print(f"{row.product_id}: {row.status} {', '.join(row.fixed_versions)}".rstrip())


@app.command("alias")
def alias(
    case: Annotated[str, typer.Argument(help="The case id.")],
    name: Annotated[str, typer.Argument(help="CVE-..., GHSA-... or PREFIX-id.")],
) -> None:
    """Give a case an alias."""
    with unit() as uow:
        row = _workflow.assign_alias(uow, OPERATOR, case, name)
        uow.commit()
    console.print(f"{row.id} -> case {row.case_id}")


@app.command("disclosure")
def disclosure(
    case: Annotated[str, typer.Argument(help="The case id.")],
    embargo_end: Annotated[
        str | None, typer.Option(help="UTC instant, ISO 8601 with offset (2027-01-31T15:00:00Z).")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Days from first vendor contact to disclosure.")] = None,
    exploited: Annotated[
        bool | None, typer.Option("--exploited/--not-exploited", help="Exploited in the wild.")
    ] = None,
) -> None:
    """Set the case's embargo end, disclosure period or exploitation."""
    end = None
    if embargo_end is not None:
        try:
            end = dt.datetime.fromisoformat(embargo_end.replace("Z", "+00:00"))
        except ValueError as exc:
            err.print(f"[bold red]error:[/] --embargo-end: {exc}")
            raise typer.Exit(2) from exc
    change = _workflow.DisclosureChange(embargo_end=end, disclosure_days=days, exploited=exploited)
    with unit() as uow:
        row = _workflow.set_disclosure(uow, OPERATOR, case, change)
        deadline = _workflow.deadline_of(uow.session, OPERATOR, row)
        uow.commit()
    console.print(
        f"deadline {deadline.isoformat() if deadline else 'none yet'}; embargo end "
        f"{row.embargo_end.isoformat() if row.embargo_end else 'none'}"
    )


@app.command("publish")
def publish(
    case: Annotated[str, typer.Argument(help="The case id.")],
    summary: Annotated[str, typer.Option(help="What this revision says or changes.")],
    tlp: Annotated[TLP, typer.Option(help="TLP of this revision (CLEAR: public).")] = TLP.CLEAR,
    lift_embargo: Annotated[bool, typer.Option(help="Publish publicly before the embargo end.")] = False,
) -> None:
    """Publish the next revision of the case's advisory."""
    with unit() as uow:
        revision = _workflow.publish(uow, OPERATOR, case, summary, tlp=tlp, lift_embargo=lift_embargo)
        uow.commit()
    console.print(f"published {revision.record['id']} revision {revision.number} (TLP:{revision.tlp})")


@app.command("deadlines")
def deadlines(
    tz: Annotated[str, typer.Option(help="IANA time zone for local times.")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Disclosure deadlines, embargo ends and vendor response SLAs, soonest first."""
    try:
        zone = _clock.zone(tz)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] --tz: {exc}")
        raise typer.Exit(2) from exc
    with unit(write=False) as uow:
        items = _workflow.deadlines(uow.session, OPERATOR)
    if as_json:
        for i in items:
            line = {
                "case_id": i.case_id,
                "kind": i.kind.value,
                "state": i.state.value,
                "due_utc": i.due_at.isoformat(),
                "due_local": i.due_at.astimezone(zone).isoformat(),
            }
            console.print(json.dumps(line), highlight=False)
        return
    table = fmt is OutputFormat.TABLE
    emit(
        (
            {
                "case_id": i.case_id,
                "kind": i.kind,
                "state": i.state,
                "due_utc": i.due_at.isoformat(timespec="minutes" if table else "auto"),
                "due_local": i.due_at.astimezone(zone).isoformat(timespec="minutes" if table else "auto"),
            }
            for i in items
        ),
        (
            Column("case_id", "case", kind="id"),
            Column("kind", kind="id"),
            Column("state", kind="id"),
            Column("due_utc", "due (UTC)", kind="date"),
            Column("due_local", f"due ({tz})", kind="date"),
        ),
        fmt,
    )

"""``clearinghouse taxii ...``: create and list TAXII collections, publish STIX files into one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from clearinghouse.access import TLP, AccessDenied, Classification, Marking
from clearinghouse.access import services as access
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.sharing.taxii import services
from clearinghouse.storage import Actor, UnitOfWork

app = typer.Typer(help="The TAXII 2.1 server's collections.", no_args_is_help=True)
collection_app = typer.Typer(help="Create and list TAXII collections.", no_args_is_help=True)
app.add_typer(collection_app, name="collection")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ACTOR = Actor.system("cli")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def _unit(*, write: bool = True) -> Iterator[UnitOfWork]:
    try:
        runtime = Runtime.from_env()
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        with runtime.uow(ACTOR, write=write) as uow:
            yield uow
    except ClearinghouseError as exc:
        where = f" ({exc.pointer})" if exc.pointer else ""
        raise _fail(f"{exc.detail}{where}") from exc
    except AccessDenied as exc:
        raise _fail(str(exc)) from exc
    finally:
        runtime.close()


@collection_app.command("add")
def collection_add(
    title: Annotated[str, typer.Argument(help="The collection's title.")],
    org: Annotated[str, typer.Option(help="Owning organization (id or name).")],
    tlp: Annotated[TLP, typer.Option(help="The collection's TLP.")] = TLP.AMBER,
    classification: Annotated[Classification, typer.Option()] = Classification.UNCLASSIFIED,
    compartment: Annotated[list[str] | None, typer.Option(help="A compartment (repeatable).")] = None,
    sharing_group: Annotated[
        list[str] | None, typer.Option(help="A sharing group id the marking extends to (repeatable).")
    ] = None,
    writer_org: Annotated[
        list[str] | None, typer.Option(help="An organization that may add objects (repeatable).")
    ] = None,
    writer_group: Annotated[
        list[str] | None, typer.Option(help="A sharing group whose members may add objects (repeatable).")
    ] = None,
    description: Annotated[str, typer.Option()] = "",
    alias: Annotated[str | None, typer.Option(help="A short unique name usable in URLs.")] = None,
    advisory_tlp: Annotated[
        list[TLP] | None,
        typer.Option(help="Receive the clearinghouse's advisories published at this TLP (repeatable)."),
    ] = None,
) -> None:
    """Create a TAXII collection."""
    with _unit() as uow:
        owner = access.find_organization(uow.session, org)
        if owner is None:
            raise _fail(f"no organization {org!r}")
        marking = Marking(
            owner_org_id=owner.id,
            tlp=tlp,
            classification=classification,
            compartments=frozenset(compartment or ()),
            sharing_group_ids=frozenset(sharing_group or ()),
        )
        draft = services.CollectionDraft(
            title=title,
            marking=marking,
            description=description,
            alias=alias,
            writer_orgs=writer_org or (),
            writer_groups=writer_group or (),
            advisory_tlps=[t.value for t in advisory_tlp or ()],
        )
        collection = services.create_collection(uow, access.OPERATOR, draft)
        uow.commit()
    console.print(f"created collection {collection.title} id={collection.id} ({marking.summary()})")


@collection_app.command("list")
def collection_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List the TAXII collections (writers: how many organizations and groups may write)."""
    with _unit(write=False) as uow:
        rows = [
            {
                "id": collection.id,
                "alias": collection.alias,
                "title": collection.title,
                "marking": collection.marking.summary(),
                "writers": len(collection.writer_org_ids) + len(collection.writer_group_ids),
                "objects": count,
            }
            for collection, count in services.list_all_collections(uow.session, access.OPERATOR)
        ]
    emit(
        rows,
        (
            Column("id", kind="id"),
            Column("alias", kind="id"),
            Column("title"),
            Column("marking"),
            Column("writers", kind="number"),
            Column("objects", kind="number"),
        ),
        fmt,
    )


@app.command("publish")
def publish(
    file: Annotated[
        Path, typer.Argument(help="A STIX 2.1 bundle, a TAXII envelope or a list of objects (JSON).")
    ],
    collection: Annotated[str, typer.Option(help="Collection id or alias.")],
) -> None:
    """Add the STIX objects of a file to a collection, as the local operator."""
    if not file.is_file():
        raise _fail(f"no such file: {file}")
    try:
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{file} is not JSON: {exc}") from exc
    objects = data.get("objects") if isinstance(data, dict) else data
    if not isinstance(objects, list):
        raise _fail("expected a bundle or envelope with 'objects', or a list of objects")
    with _unit() as uow:
        status = services.add_objects(uow, access.OPERATOR, collection, objects)
        uow.commit()
    console.print(f"{len(status.successes)} added, {len(status.failures)} failed (status {status.id})")
    for failure in status.failures:
        err.print(f"  {failure.id or '?'}: {failure.message}")
    if status.failures:
        raise typer.Exit(1)

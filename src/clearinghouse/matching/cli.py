"""``clearinghouse inventory``: ``add`` registers an asset from its SBOM as the local operator;
``matches`` lists an asset's matches (cases and public advisories), as a table, JSON or CSV, or
its open matches as CycloneDX VEX, read as a named user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import services as access
from clearinghouse.cli_output import Column, OutputFormat, emit
from clearinghouse.cli_support import acting_as, fail, open_runtime, operator_unit

inventory_app = typer.Typer(help="Register assets with their SBOMs.", no_args_is_help=True)
console = Console()
wrapped = Console(soft_wrap=True)  # an id or a name is never broken across lines


def inventory_matches(
    asset: Annotated[str, typer.Argument(help="The asset's id.")],
    user: Annotated[str, typer.Option("--as", help="Read as this user (the asset's owner or staff).")],
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, csv, cyclonedx-vex or csaf-vex (CSAF 2.0 VEX).")
    ] = "table",
    everything: Annotated[bool, typer.Option("--all", help="Every match, not only open ones.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of the screen.")] = None,
) -> None:
    """List an asset's matches with ids, severity, KEV, due date and fixed version."""
    from clearinghouse.matching import worklist
    from clearinghouse.matching.services import get_asset
    from clearinghouse.storage import utcnow

    if fmt not in ("table", "json", *worklist.EXPORT_FORMATS):
        raise fail(f"--format: {fmt!r} is not one of table, json, {', '.join(worklist.EXPORT_FORMATS)}")
    now = utcnow()
    with acting_as(user) as (runtime, uow, subject):
        if fmt in worklist.EXPORT_FORMATS:
            made = worklist.export_asset_matches(
                uow, subject, asset, fmt, everything, now, runtime.settings.publisher
            )
            uow.commit()
            _write(made.body, output, made.filename)
            return
        found = get_asset(uow.session, subject, asset)
        items = worklist.open_only(
            worklist.match_items(uow.session, subject, now, asset_ids=[found.id]), everything
        )
        if fmt == "json":
            uow.record("matches.exported", "asset", found.id, format=fmt, count=len(items))
            uow.commit()
    if fmt == "table":
        emit(
            (
                {
                    "due": i.due.strftime("%Y-%m-%d") if i.due else "",
                    "vulnerability": ", ".join(i.vulnerability_ids[:2]),
                    "severity": i.severity or "",
                    "kev": "KEV" if i.kev else "",
                    "component": f"{i.component_name} {i.component_version or ''}",
                    "fixed_in": i.fixed_version or "",
                    "status": i.status,
                }
                for i in items
            ),
            (
                Column("due", kind="date"),
                Column("vulnerability", kind="id"),
                Column("severity", kind="id"),
                Column("kev", "KEV", kind="id"),
                Column("component"),
                Column("fixed_in", "fixed in", kind="id"),
                Column("status", kind="id"),
            ),
            OutputFormat.TABLE,
        )
        return
    _write(json.dumps([worklist.item_json(i) for i in items], indent=2, default=str), output, "matches")


def _write(text: str, output: Path | None, what: str) -> None:
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {what} to {output}")
    else:
        typer.echo(text, nl=False)


@inventory_app.command("add")
def inventory_add(
    file: Annotated[
        Path, typer.Argument(help="CycloneDX 1.4-1.6 (JSON/XML), SPDX 2.3 JSON, or a purl list.")
    ],
    org: Annotated[str, typer.Option(help="Owner organization id or name.")],
    name: Annotated[str | None, typer.Option(help="Asset name (default: the file's name).")] = None,
    exposed: Annotated[
        bool, typer.Option("--exposed", help="The asset is reachable from the internet.")
    ] = False,
    criticality: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "medium",
) -> None:
    """Register (or update) an asset from its SBOM; an invalid SBOM is refused with the reason."""
    from clearinghouse.matching.services import AssetDraft, register_asset

    if not file.is_file():
        raise fail(f"no such file: {file}", 2)
    draft = AssetDraft(
        name=name or file.name,
        sbom=file.read_bytes(),
        filename=file.name,
        org=org,
        internet_exposed=exposed,
        criticality=criticality,
    )
    with open_runtime() as runtime, operator_unit(runtime) as uow:
        asset, created = register_asset(uow, access.OPERATOR, draft)
        uow.commit()
    state = "registered" if created else "unchanged"
    wrapped.print(
        f"{state} asset {asset.name} id={asset.id}: {asset.component_count} components ({asset.sbom_format})"
    )


inventory_app.command("matches")(inventory_matches)

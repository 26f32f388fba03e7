"""``clearinghouse export``: one advisory in one distribution format, from the command line.

Runs as the local operator (``access.OPERATOR``) through the same resolver
and policy as ``GET /api/v1/advisories/{ident}/export``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import AccessDenied
from clearinghouse.access import services as access
from clearinghouse.domain import publisher_of
from clearinghouse.runtime import Runtime
from clearinghouse.sharing._records import resolve_record
from clearinghouse.sharing.exports import ExportFormat, dumps, export
from clearinghouse.storage import Actor

_err = Console(stderr=True, soft_wrap=True)


def export_command(
    case: Annotated[
        str, typer.Argument(help="A case id, or any advisory id or alias (CVE, GHSA, PYSEC, GO ...).")
    ],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="The format to write.")
    ] = ExportFormat.CSAF,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where this clearinghouse serves CSAF documents (for their self link).")
    ] = None,
    spec_version: Annotated[
        str, typer.Option("--spec-version", help="The CSAF version to write with --format csaf: 2.0 or 2.1.")
    ] = "2.0",
) -> None:
    """Export an advisory as CSAF 2.0 or 2.1, OSV 1.7, CVE 5.1 (CNA container), STIX 2.1 or OpenVEX.

    The CSAF publisher (name, namespace, category, contact) comes from the settings:
    the [publisher] table of clearinghouse.toml or CLEARINGHOUSE_PUBLISHER_*.
    """
    if spec_version not in ("2.0", "2.1"):
        _err.print(f"[bold red]error:[/] --spec-version must be 2.0 or 2.1, not {spec_version!r}")
        raise typer.Exit(2)
    try:
        runtime = Runtime.from_env()
    except ValueError as exc:
        _err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    try:
        with runtime.uow(Actor.system("cli"), write=False) as uow:
            record = resolve_record(uow.session, access.OPERATOR, case)
    except AccessDenied as exc:
        _err.print(f"[bold red]error:[/] no advisory or case {case!r}")
        raise typer.Exit(2) from exc
    finally:
        runtime.close()
    publisher = publisher_of(runtime.settings.publisher)
    data = dumps(export(record, fmt, base_url=base_url, spec_version=spec_version, publisher=publisher))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        _err.print(f"wrote {fmt.value} for {record.id} to {output}")

"""``clearinghouse enrich``: KEV membership and EPSS scores from files, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import services as access
from clearinghouse.cli_support import CLI_ACTOR, fail, open_runtime
from clearinghouse.errors import ClearinghouseError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def enrich(
    kev: Annotated[
        Path | None, typer.Option(help="CISA KEV catalog JSON (known_exploited_vulnerabilities.json).")
    ] = None,
    epss: Annotated[
        Path | None, typer.Option(help="FIRST EPSS CSV (epss_scores-YYYY-MM-DD.csv[.gz]).")
    ] = None,
) -> None:
    """Refresh KEV membership and EPSS scores from files, offline."""
    from clearinghouse.priority.services import refresh

    if kev is None and epss is None:
        raise fail("give --kev FILE, --epss FILE or both", 2)
    for given in (kev, epss):
        if given is not None and not given.is_file():
            raise fail(f"no such file: {given}", 2)
    with open_runtime() as runtime:
        try:
            report = refresh(runtime.uow, access.OPERATOR, CLI_ACTOR, kev=kev, epss=epss)
        except ClearinghouseError as exc:
            raise fail(exc.detail, 2) from exc
    if report.kev_entries is not None:
        console.print(f"KEV: {report.kev_entries} entries")
    if report.epss_scores is not None:
        console.print(f"EPSS: {report.epss_scores} scores")
    for problem in report.problems:
        err.print(f"[yellow]{problem}[/]")
    if report.problems:
        raise typer.Exit(1)

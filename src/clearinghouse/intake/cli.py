"""``clearinghouse submit`` (findings from files to a Clearinghouse, through its API) and
``clearinghouse import`` (public advisories and KEV into this one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from clearinghouse.access import services as access
from clearinghouse.cli_support import CLI_ACTOR, fail, open_runtime

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def submit(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders: native NDJSON, OSV, SARIF, CSAF, CVE 5.")
    ],
    url: Annotated[str, typer.Option(envvar="CLEARINGHOUSE_URL", help="The Clearinghouse to submit to.")] = (
        "http://127.0.0.1:8000"
    ),
    token: Annotated[
        str, typer.Option(envvar="CLEARINGHOUSE_TOKEN", help="Your API token (write scope).")
    ] = "",
    package: Annotated[
        str | None, typer.Option(help="Affected package as a purl, for formats without one (SARIF).")
    ] = None,
    journal: Annotated[
        Path, typer.Option(help="Where to remember finished files, so a rerun resumes.")
    ] = Path(".clearinghouse-submit.json"),
) -> None:
    """Submit findings from files to a Clearinghouse, with progress; rerun to resume."""
    from clearinghouse.intake._client import (
        NDJSON_SUFFIXES,
        Client,
        FileOutcome,
        Journal,
        SubmitError,
        file_digest,
        package_option,
        submit_files,
    )
    from clearinghouse.intake.importers import SUPPORTED_SUFFIXES, iter_files

    if not token:
        raise fail("give --token or set CLEARINGHOUSE_TOKEN", 2)
    try:
        affected = package_option(package)
    except ValueError as exc:
        raise fail(f"--package: {exc}", 2) from exc
    try:
        files = sorted(iter_files(paths, SUPPORTED_SUFFIXES + NDJSON_SUFFIXES))
    except FileNotFoundError as exc:
        raise fail(str(exc), 2) from exc
    if not files:
        raise fail("no supported files found", 2)
    state = Journal.load(journal)
    client = Client(url, token)
    totals = {"created": 0, "existing": 0, "problems": 0, "skipped": 0}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("submitting files", total=len(files))
        digests: dict[Path, str] = {}
        todo: list[Path] = []
        for path in files:
            digests[path] = file_digest(path)
            if state.is_done(path, digests[path]):
                totals["skipped"] += 1
                bar.advance(task)
            else:
                todo.append(path)

        def finished(outcome: FileOutcome) -> None:
            for problem in outcome.problems:
                err.print(f"[yellow]{outcome.path}[/]: {problem}")
            totals["created"] += outcome.created
            totals["existing"] += outcome.existing
            totals["problems"] += len(outcome.problems)
            state.mark(outcome.path, digests[outcome.path])
            bar.update(task, description=f"submitted {outcome.path.name}")
            bar.advance(task)

        try:
            # Small files (one OSV document each) share NDJSON batches: not one request per file.
            submit_files(client, todo, package=affected, on_file=finished)
        except SubmitError as exc:
            raise fail(f"{exc} (rerun to resume)", 1) from exc
    console.print(
        f"{len(files)} files: {totals['created']} findings stored, {totals['existing']} already there, "
        f"{totals['problems']} refused, {totals['skipped']} files done before"
    )
    if totals["problems"]:
        raise typer.Exit(1)


def import_advisories(
    paths: Annotated[
        list[Path], typer.Argument(help="OSV files or trees, .tar.gz / .jsonl.gz bundles, CISA KEV JSON.")
    ],
) -> None:
    """Load public advisories (and KEV) as known vulnerabilities, so findings can be checked against them."""
    from clearinghouse.access import Action, authorize
    from clearinghouse.intake.advisories import import_paths, render_report, rich_progress

    authorize(access.OPERATOR, Action.LOAD_REFERENCE_DATA)
    with open_runtime() as runtime:
        with rich_progress(err) as progress:
            report = import_paths(runtime.uow, paths, progress=progress, actor=CLI_ACTOR)
        render_report(report, console)
    if not report.ok:
        raise typer.Exit(1)

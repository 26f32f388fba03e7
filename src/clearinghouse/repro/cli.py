"""``clearinghouse repro ...``: reproduce findings in the sandbox from the command line."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearinghouse.cli_support import acting_as, fail

app = typer.Typer(
    help="The reproduction lab: run findings' proofs of concept in the sandbox.", no_args_is_help=True
)
console = Console(soft_wrap=True)

AsUser = Annotated[
    str | None, typer.Option("--as", help="Act as this user (username or id); default the operator.")
]
Format = Annotated[str, typer.Option("--format", help="table, json or csv.")]


def _print(status: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        console.print_json(json.dumps(status))
        return
    fields = ["version", "role", "verdict", "reproduced", "attempts", "successes", "duration_s", "reason"]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(status["runs"])
        console.print(out.getvalue(), end="", markup=False, highlight=False)
        return
    job = status.get("job") or {}
    console.print(
        f"status: [bold]{status['status']}[/]  verdict: [bold]{job.get('verdict')}[/]"
        + (
            f"  fix {job.get('fix_version')}: {'verified' if job.get('fix_verified') else 'not verified'}"
            if job.get("fix_version")
            else ""
        )
    )
    if job.get("reason"):
        console.print(f"reason: {job['reason']}", markup=False)
    table = Table(title="Runs")
    for name in fields:
        table.add_column(name)
    for run in status["runs"]:
        table.add_row(*[str(run.get(f)) if run.get(f) is not None else "—" for f in fields])
    console.print(table)
    bis = status.get("bisection")
    if bis:
        agrees = {True: "agrees", False: "DISAGREES", None: "nothing to compare"}[bis["agrees"]]
        console.print(
            f"bisection: first affected {bis['first_affected']}"
            + ("" if bis["first_affected_exact"] else " (or earlier: older releases would not install)")
            + f", first fixed {bis['first_fixed']} — {agrees}"
        )
        for c in bis["comparisons"]:
            word = "agrees" if c["agrees"] else "disagrees"
            console.print(f"  {c['source']}: first fixed {c['first_fixed']} ({word})")


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format must be table, json or csv, not {fmt!r}")


@app.command("run")
def run(
    finding: Annotated[str, typer.Argument(help="The finding's id.")],
    as_user: AsUser = None,
    fmt: Format = "table",
    wait: Annotated[
        bool, typer.Option("--wait/--queue-only", help="Run it here now (default) or only queue it.")
    ] = True,
) -> None:
    """Queue a reproduction of FINDING and, by default, run it here with a progress display."""
    _check_format(fmt)
    from clearinghouse.repro import _worker, services
    from clearinghouse.repro._settings import ReproSettings

    with acting_as(as_user) as (runtime, uow, subject):
        job = services.request_reproduction(uow, subject, finding)
        uow.commit()
        job_id, settings = job.id, runtime.settings
    if wait:
        factory, envelope = _worker.wiring(settings)
        repro = ReproSettings.from_env(settings)
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("reproducing", total=None)

            def on_attempt(version: str, attempt: Any) -> None:
                bar.update(
                    task, description=f"{version}: {'reproduced' if attempt.reproduced else 'not reproduced'}"
                )

            try:
                lab = _worker.make_lab(settings, repro, on_attempt)
            except Exception as exc:  # SandboxUnavailable: say why, run nothing
                raise fail(str(exc)) from exc
            _worker.execute_next(factory, envelope, settings, repro, job_id=job_id, lab=lab)
    with acting_as(as_user, write=False) as (_runtime, uow, subject):
        _print(services.status_of(uow.session, subject, finding), fmt)


@app.command("status")
def status(
    finding: Annotated[str, typer.Argument(help="The finding's id.")],
    as_user: AsUser = None,
    fmt: Format = "table",
) -> None:
    """The latest reproduction of FINDING: status, verdict per version, bisection."""
    _check_format(fmt)
    from clearinghouse.repro import services

    with acting_as(as_user, write=False) as (_runtime, uow, subject):
        _print(services.status_of(uow.session, subject, finding), fmt)


@app.command("recheck")
def recheck(
    fmt: Format = "table",
    wait: Annotated[
        bool, typer.Option("--wait/--queue-only", help="Run the queued reproductions here now.")
    ] = True,
) -> None:
    """Re-run reproduced findings whose package has a new release; marks fixes verified."""
    _check_format(fmt)
    from clearinghouse.config import Settings
    from clearinghouse.repro import _worker, services
    from clearinghouse.repro._settings import ReproSettings

    settings = Settings.from_env()
    factory, envelope = _worker.wiring(settings)
    repro = ReproSettings.from_env(settings)
    queued = services.recheck(factory, repro)
    if wait and queued:
        lab = _worker.make_lab(settings, repro)
        for job_id in queued:
            _worker.execute_next(factory, envelope, settings, repro, job_id=job_id, lab=lab)
    rows = services.job_summaries(factory, queued)
    if fmt == "json":
        console.print_json(json.dumps(rows))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(
            out, fieldnames=["finding_id", "status", "verdict", "fix_version", "fix_verified"]
        )
        writer.writeheader()
        writer.writerows(rows)
        console.print(out.getvalue(), end="", markup=False, highlight=False)
    else:
        table = Table(title=f"Rechecked: {len(rows)}")
        for name in ("finding_id", "status", "verdict", "fix_version", "fix_verified"):
            table.add_column(name)
        for r in rows:
            table.add_row(
                *[str(r[k]) for k in ("finding_id", "status", "verdict", "fix_version", "fix_verified")]
            )
        console.print(table)

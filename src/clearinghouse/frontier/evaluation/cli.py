"""CLI: ``clearinghouse suites list|show|register`` and ``clearinghouse campaign
run|status|results``. Each command acts as a named user (``--user``): suites
and campaigns are for cleared evaluators, not for the local operator."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from clearinghouse.access import Subject
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import acting_as as _session
from clearinghouse.cli_support import fail as _fail
from clearinghouse.frontier.evaluation import services
from clearinghouse.frontier.evaluation.models import CampaignStatus
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor

suites_app = typer.Typer(help="Benchmark suites on Inspect (frontier evaluation).", no_args_is_help=True)
campaign_app = typer.Typer(
    help="Run benchmark suites against a granted model endpoint.", no_args_is_help=True
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
UserOption = Annotated[str, typer.Option("--user", help="Act as this user (username or id).")]
FINISHED = (CampaignStatus.SUCCEEDED, CampaignStatus.FAILED, CampaignStatus.STOPPED)


@suites_app.command("list")
def suites_list(user: UserOption, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List the suites this user is cleared to see (the table shows the SHA-256's first 16 digits)."""
    table = fmt is OutputFormat.TABLE
    with _session(user, write=False) as (_runtime, uow, subject):
        rows = [
            {
                "id": suite.id,
                "name": suite.name,
                "version": suite.version,
                "marking": suite.marking.summary(),
                "tasks": len(services.suite_tasks(uow.session, subject, suite)),
                "sha256": suite.content_sha256[:16] if table else suite.content_sha256,
            }
            for suite in services.list_suites(uow.session, subject)
        ]
    emit(
        rows,
        (
            Column("id", kind="id"),
            Column("name"),
            Column("version", kind="id"),
            Column("marking"),
            Column("tasks", kind="number"),
            Column("sha256", kind="id"),
        ),
        fmt,
    )


@suites_app.command("prepare-exploits")
def suites_prepare_exploits(
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            envvar="CLEARINGHOUSE_REPRO_CACHE",
            help="The reproduction lab's environment cache (default: <data folder>/repro).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Fetch and install, through the reproduction lab's cache, the real affected and fixed releases
    of the reference exploitation tasks (their ``packages: real`` mode), before any campaign: the
    tasks only look them up, never fetch."""
    from clearinghouse.frontier.evaluation.reference import exploits

    if cache is None:
        from clearinghouse.config import Settings

        cache = Settings.from_env().home / "repro"
    advs = exploits.load_real()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        job = bar.add_task("preparing", total=2 * len(advs))

        def step(adv: dict[str, str], version: str) -> None:
            bar.update(job, advance=1, description=f"{adv['package']} {adv[version]}")

        prepared = exploits.prepare_real(str(cache), advs, on_step=step)
    rows = [
        {
            "advisory": adv["id"],
            "package": adv["package"],
            "affected": adv["affected"],
            "fixed": adv["fixed"],
            "status": prepared[adv["id"]].get("error", "ready"),
        }
        for adv in advs
    ]
    emit(
        rows,
        (
            Column("advisory", kind="id"),
            Column("package"),
            Column("affected", kind="id"),
            Column("fixed", kind="id"),
            Column("status"),
        ),
        fmt,
    )
    if any(r["status"] != "ready" for r in rows):
        raise typer.Exit(1)


@suites_app.command("show")
def suites_show(
    suite_id: Annotated[str, typer.Argument(help="The suite's id.")],
    user: UserOption,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show a suite's tasks with their tiers, epochs, pass@k and limits (JSON/CSV: the tasks only)."""
    table = fmt is OutputFormat.TABLE
    with _session(user, write=False) as (_runtime, uow, subject):
        suite = services.get_suite(uow.session, subject, suite_id)
        heading = f"{suite.name} {suite.version} [{suite.marking.summary()}] {suite.description}"
        rows = [
            {
                "task": t.name,
                "group": t.metric_group,
                "tier": t.tier,
                "epochs": t.epochs,
                "pass_at": ",".join(map(str, t.pass_at)) if table else list(t.pass_at),
                "metrics": list(t.metrics),
                "limits": (
                    " ".join(f"{k}={v}" for k, v in t.limits.items() if v) if table else dict(t.limits)
                ),
                "marking": t.marking.summary(),
            }
            for t in services.suite_tasks(uow.session, subject, suite)
        ]
    if table:
        console.print(heading, markup=False)
    emit(
        rows,
        (
            Column("task", kind="id"),
            Column("group"),
            Column("tier", kind="number"),
            Column("epochs", kind="number"),
            Column("pass_at", "pass@k", kind="id"),
            Column("metrics"),
            Column("limits"),
            Column("marking"),
        ),
        fmt,
    )


@suites_app.command("register")
def suites_register(
    path: Annotated[Path | None, typer.Argument(help="A suite folder with a suite.yaml.")] = None,
    user: UserOption = "",
    reference: Annotated[
        bool, typer.Option("--reference", help="Register the reference suite shipped with Clearinghouse.")
    ] = False,
) -> None:
    """Register a suite from its folder (idempotent on name and version)."""
    if not user:
        raise _fail("name the registering user with --user")
    folder = services.REFERENCE_DIR if reference else path
    if folder is None or not folder.is_dir():
        raise _fail("give a suite folder, or --reference")
    with _session(user, write=True) as (runtime, uow, subject):
        suite, created = services.register_suite_dir(uow, subject, folder, runtime.settings.home)
        uow.commit()
    state = "registered" if created else "already registered"
    console.print(f"{state} suite {suite.name} {suite.version} id={suite.id} [{suite.marking.summary()}]")


def _follow(runtime: Runtime, subject: Subject, campaign_id: str, poll: float) -> CampaignStatus:
    """A Rich progress bar until the campaign ends; runs due jobs here when the
    in-process backend is used (no separate worker)."""
    inprocess = runtime.settings.job_backend == "inprocess"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        row = bar.add_task("queued", total=None)
        while True:
            if inprocess:
                runtime.jobs.run_pending()
            with runtime.uow(Actor.user(subject.user_id or "cli"), write=False) as uow:
                campaign = services.get_campaign(uow.session, subject, campaign_id)
                progress = services.campaign_progress(campaign, runtime.settings.home)
            bar.update(
                row,
                description=progress.status.value,
                completed=progress.samples_done,
                total=progress.samples_total or None,
            )
            if progress.status in FINISHED:
                if progress.error:
                    err.print(progress.error)
                return progress.status
            time.sleep(poll)


@campaign_app.command("run")
def campaign_run(
    user: UserOption,
    grant: Annotated[str, typer.Option(help="The access grant whose endpoint is evaluated.")],
    suite: Annotated[list[str], typer.Option(help="A suite id (repeat for more).")],
    name: Annotated[str, typer.Option(help="The campaign's name.")] = "campaign",
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: the same key returns the same campaign.")
    ] = None,
    follow: Annotated[bool, typer.Option(help="Show progress until it ends.")] = True,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between looks.")] = 1.0,
    temperature: Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature.")] = 0.0,
    seed: Annotated[int, typer.Option(min=0, help="Generation seed sent with every request.")] = 0,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens per model reply.")] = 4096,
    max_error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="More errored samples than this and the campaign fails.")
    ] = services.DEFAULT_MAX_ERROR_RATE,
    epochs: Annotated[
        int | None, typer.Option(min=1, max=100, help="Override every task's epochs (a quick check).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many samples of each task (a quick check).")
    ] = None,
) -> None:
    """Create a campaign (its launch job is queued) and follow it."""
    draft = services.CampaignDraft(
        name=name,
        grant_id=grant,
        suite_ids=suite,
        idempotency_key=key,
        generation=services.Generation(temperature, seed, max_tokens),
        max_error_rate=max_error_rate,
        epochs=epochs,
        sample_limit=limit,
    )
    with _session(user, write=True) as (runtime, uow, subject):
        campaign, _created = services.create_campaign(uow, subject, draft)
        uow.commit()
        console.print(f"campaign {campaign.id} queued")
        if follow:
            status = _follow(runtime, subject, campaign.id, poll)
            console.print(f"campaign {campaign.id} {status.value}")
            if status is not CampaignStatus.SUCCEEDED:
                raise typer.Exit(1)


@campaign_app.command("status")
def campaign_status(
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")],
    user: UserOption,
    follow: Annotated[bool, typer.Option(help="Show a progress bar until it ends.")] = False,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between looks.")] = 1.0,
) -> None:
    """A campaign's status and progress (samples done of total)."""
    with _session(user, write=False) as (runtime, uow, subject):
        campaign = services.get_campaign(uow.session, subject, campaign_id)
        progress = services.campaign_progress(campaign, runtime.settings.home)
        if follow and progress.status not in FINISHED:
            status = _follow(runtime, subject, campaign_id, poll)
            console.print(f"campaign {campaign_id} {status.value}")
            return
    console.print(
        f"campaign {campaign.id} {progress.status.value}: "
        f"{progress.samples_done}/{progress.samples_total} samples"
    )
    if progress.error:
        console.print(progress.error)


@campaign_app.command("results")
def campaign_results(
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")],
    user: UserOption,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The campaign's metrics (flat names, as designation policies use them) and each task's provenance.

    JSON is one object {"metrics": [...], "provenance": [...]}; CSV holds the metrics only.
    """
    table = fmt is OutputFormat.TABLE
    with _session(user, write=False) as (_runtime, uow, subject):
        metrics = services.campaign_metrics(uow.session, subject, campaign_id)
        campaign = services.get_campaign(uow.session, subject, campaign_id)
        results = services.list_results(uow.session, subject, campaign)
        metric_rows: list[dict[str, object]] = []
        suffixes = ("_stderr", "_ci_low", "_ci_high", ".stderr", ".ci_low", ".ci_high")
        for name, value in sorted(metrics.items()):
            if name.endswith(suffixes):
                continue
            base = name.removesuffix(".value")
            sep = "." if name.endswith(".value") else "_"
            low, high = metrics.get(f"{base}{sep}ci_low"), metrics.get(f"{base}{sep}ci_high")
            se = metrics.get(f"{base}{sep}stderr")
            if table:
                interval = "" if low is None or high is None else f"[{low:.4f}, {high:.4f}]"
                metric_rows.append(
                    {
                        "metric": name,
                        "value": f"{value:.4f}",
                        "stderr": "" if se is None else f"{se:.4f}",
                        "interval": interval,
                    }
                )
            else:
                metric_rows.append(
                    {"metric": name, "value": value, "stderr": se, "ci_low": low, "ci_high": high}
                )
        provenance = [
            {
                "eval_id": r.eval_id,
                "task_version": r.task_version,
                "samples": r.samples,
                "epochs": r.epochs,
                "log_sha256": r.log_sha256,
            }
            for r in results
        ]
    metric_columns = [
        Column("metric", kind="id"),
        Column("value", kind="number"),
        Column("stderr", kind="number"),
    ]
    if table:
        metric_columns.append(Column("interval", "95% interval", kind="number"))
    else:
        metric_columns += [Column("ci_low", kind="number"), Column("ci_high", kind="number")]
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps({"metrics": metric_rows, "provenance": provenance}, indent=2) + "\n")
        return
    emit(metric_rows, metric_columns, fmt)
    if table:
        emit(
            provenance,
            (
                Column("eval_id", "eval id", kind="id"),
                Column("task_version", "task version", kind="id"),
                Column("samples", kind="number"),
                Column("epochs", kind="number"),
                Column("log_sha256", "log sha256", kind="id"),
            ),
            fmt,
        )

"""The ``clearinghouse`` command line (Typer + Rich).

Commands run as the local operator: whoever holds the data folder and the
database on this host. They go through the same services and the same access
policy as the HTTP API.

This module keeps only the house's own commands (``init``, ``serve``, ``worker``,
``version``) and mounts every feature's commands and groups from the one features
list (:mod:`clearinghouse.features`); each feature keeps its commands in its own ``cli.py``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

import clearinghouse
from clearinghouse import cli_help, features
from clearinghouse.access import services as access
from clearinghouse.cli_support import CLI_ACTOR
from clearinghouse.cli_support import open_runtime as _runtime
from clearinghouse.cli_support import operator_unit as _unit
from clearinghouse.feature import load
from clearinghouse.jobs import on_first_lookup
from clearinghouse.runtime import Runtime
from clearinghouse.web import ensure_admin_password

# Every feature's jobs register on the first job lookup (serve, worker, in-process runs), so
# commands that run no job, and --help, import no feature's tasks.
on_first_lookup(features.load_jobs)

app = typer.Typer(
    help="Clearinghouse: the AI cybersecurity clearinghouse of EO 14409.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Every feature's top-level groups and commands, from the features list.
for _command in features.commands():
    _target = load(_command.target)
    if isinstance(_target, typer.Typer):
        app.add_typer(_target, name=_command.name)
    else:
        app.command(_command.name)(_target)
# Examples and panels are applied after every command is registered: see the end of this module.

# Soft wrap: a token or URL is never broken across lines, so it can be copied.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _initialize(runtime: Runtime) -> access.IssuedToken | None:
    from clearinghouse.jobs import prepare_backend
    from clearinghouse.priority.services import load_bundled_if_empty

    runtime.migrate()
    prepare_backend(runtime)
    with _unit(runtime) as uow:
        issued = access.bootstrap_admin(uow)
        console_password = ensure_admin_password(uow)  # for the web console's sign-in
        uow.commit()
    if console_password is not None:
        console.print(
            f"Web console sign-in (shown once, keep it): username [bold]admin[/], "
            f"password [bold green]{console_password}[/]"
        )
    loaded = load_bundled_if_empty(runtime.uow, access.OPERATOR, CLI_ACTOR)
    if loaded is not None:
        err.print(
            f"loaded the bundled KEV ({loaded.kev_entries or 0} entries) and EPSS "
            f"({loaded.epss_scores or 0} scores) snapshot; refresh with `clearinghouse enrich`"
        )
    return issued


def _print_admin(issued: access.IssuedToken | None, url: str | None = None) -> None:
    if url:
        console.print(f"Clearinghouse at [bold]{url}[/]  (API docs: {url}/docs, OpenAPI: {url}/openapi.json)")
        console.print(
            f"Web console: [bold]{url}/[/] (sign in as admin; "
            "a new password: clearinghouse console password admin)"
        )
    if issued is not None:
        console.print("Created the admin account [bold]admin[/] (organization 'Clearinghouse').")
        console.print(f"Admin API token (shown once, keep it): [bold green]{issued.secret}[/]")
        if url:
            console.print(f"Try: curl -H 'Authorization: Bearer {issued.secret}' {url}/api/v1/whoami")
    else:
        console.print(
            "The admin account exists already; its first token was shown when it was made. "
            "Issue another with: "
            "clearinghouse token create --user admin --scope read --scope write --scope admin"
        )


def _ask_publisher(
    name: str | None, namespace: str | None, category: str | None, contact: str | None, *, ask: bool
) -> None:
    """Put the publisher's answers (given, or asked on a terminal) where Settings reads them."""
    import os

    from clearinghouse.config import PUBLISHER_CATEGORIES, PublisherSettings, find_config

    default = PublisherSettings()
    if ask and sys.stdin.isatty() and find_config() is None:
        console.print("Who publishes this clearinghouse's CSAF advisories? (Enter keeps the default.)")
        name = name or typer.prompt("Publisher name", default=default.name)
        namespace = namespace or typer.prompt(
            "Publisher namespace (a URL you control)", default=default.namespace
        )
        category = category or typer.prompt(
            f"Publisher category ({', '.join(PUBLISHER_CATEGORIES)})", default=default.category
        )
        contact = contact or typer.prompt("Publisher contact (e-mail or URL, optional)", default="") or None
    for key, value in (
        ("NAME", name),
        ("NAMESPACE", namespace),
        ("CATEGORY", category),
        ("CONTACT", contact),
    ):
        if value:
            os.environ[f"CLEARINGHOUSE_PUBLISHER_{key}"] = value


def _ask_operator(office: str | None, section: str | None, *, ask: bool) -> None:
    """Put the operating office and its section (given, asked on a terminal, else the defaults of
    :mod:`clearinghouse.domain`) where Settings reads them, so ``init`` writes them."""
    import os

    from clearinghouse.config import find_config
    from clearinghouse.domain import DEFAULT_OFFICE, DEFAULT_SECTION

    if ask and sys.stdin.isatty() and find_config() is None:
        console.print(
            "Who operates this clearinghouse, under which section of the order? (Enter keeps the default.)"
        )
        office = office or typer.prompt("Operating office", default=DEFAULT_OFFICE)
        section = section or typer.prompt("Section", default=DEFAULT_SECTION)
    for key, value in (("OFFICE", office), ("SECTION", section)):
        if value and value.strip():
            os.environ[f"CLEARINGHOUSE_OPERATOR_{key}"] = value.strip()


@app.command()
def init(
    publisher_name: Annotated[
        str | None, typer.Option(help="The CSAF publisher's name (default: Clearinghouse).")
    ] = None,
    publisher_namespace: Annotated[
        str | None,
        typer.Option(
            help="The CSAF publisher's namespace, a URL (default: https://clearinghouse.example.gov)."
        ),
    ] = None,
    publisher_category: Annotated[
        str | None, typer.Option(help="The CSAF publisher category (default: coordinator).")
    ] = None,
    publisher_contact: Annotated[
        str | None, typer.Option(help="How to reach the publisher (CSAF contact_details).")
    ] = None,
    office: Annotated[
        str | None,
        typer.Option(
            envvar="CLEARINGHOUSE_OPERATOR_OFFICE",
            help="The office that operates this clearinghouse (default: Department of the Treasury).",
        ),
    ] = None,
    section: Annotated[
        str | None,
        typer.Option(
            envvar="CLEARINGHOUSE_OPERATOR_SECTION",
            help="The section of the order it operates under (default: EO 14409 §2(d)).",
        ),
    ] = None,
    ask: Annotated[
        bool, typer.Option(help="Ask for the operating office and the publisher on a terminal.")
    ] = True,
) -> None:
    """Create the data folder, the database schema, the ledger key and the admin account.

    Without CLEARINGHOUSE_HOME the data folder is ./var, named by a new ./clearinghouse.toml
    (with the operating office and the CSAF publisher); later commands find it from this folder
    or any folder below. Not on a terminal (or with --no-ask) the office defaults to the
    Department of the Treasury under EO 14409 §2(d), the clearinghouse's lead under the order.

    Example: clearinghouse init --publisher-name "Example CERT" --publisher-namespace https://cert.example.org
    """
    _ask_operator(office, section, ask=ask)
    _ask_publisher(publisher_name, publisher_namespace, publisher_category, publisher_contact, ask=ask)
    with _runtime(create=True) as runtime:
        issued = _initialize(runtime)
        console.print(runtime.settings.identity.sentence, highlight=False)
        console.print(f"Data folder: {runtime.settings.home}")
        if runtime.settings.config_path is None:
            from clearinghouse.config import find_config

            found = find_config()
            if found is not None:
                console.print(f"Settings: {found}")
        else:
            console.print(f"Settings: {runtime.settings.config_path}")
        _print_admin(issued)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    do_init: Annotated[
        bool, typer.Option("--init", help="Initialize first (schema, key, admin account) if needed.")
    ] = False,
    jobs: Annotated[
        bool, typer.Option(help="Run background jobs in this process (default with the in-process backend).")
    ] = True,
) -> None:
    """Start the HTTP API (and, by default, the in-process job worker)."""
    import gc

    import uvicorn

    from clearinghouse.api.app import create_app
    from clearinghouse.observability import configure_logging

    with _runtime(create=do_init) as runtime:
        configure_logging(runtime.settings.log_level)
        url = f"http://{host}:{port}"
        if do_init:
            _print_admin(_initialize(runtime), url)
        else:
            console.print(f"Clearinghouse at [bold]{url}[/]")
        run_jobs = jobs and runtime.settings.job_backend == "inprocess"
        api = create_app(runtime, run_jobs=run_jobs)
        # What is alive now (modules, the app, caches) lives as long as the server: moving it out
        # of the collector's generations turns ~200 ms full collections into ~10 ms ones.
        gc.freeze()
        # uvicorn would believe X-Forwarded-For from loopback; the console decides which
        # proxies to believe itself (CLEARINGHOUSE_TRUSTED_PROXIES, none by default).
        uvicorn.run(api, host=host, port=port, log_config=None, proxy_headers=False)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once by this worker.")] = 1,
    once: Annotated[bool, typer.Option(help="Run the jobs due now, then exit.")] = False,
) -> None:
    """Run background jobs. With PostgreSQL, any number of workers on any machines share the queue."""
    from clearinghouse.observability import configure_logging

    with _runtime() as runtime:
        configure_logging(runtime.settings.log_level)
        err.print(f"worker: backend {runtime.settings.job_backend}, database {runtime.engine.dialect.name}")
        runtime.jobs.run_worker(concurrency=concurrency, once=once)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(clearinghouse.__version__)


cli_help.apply(app)  # an example in every command's help; top-level commands grouped by who uses them


def main() -> None:
    app()

"""The ``clearinghouse`` command line (Typer + Rich).

Commands run as the local operator: whoever holds the data folder and the
database on this host. They go through the same services and the same access
policy as the HTTP API.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

import clearinghouse
from clearinghouse import cli_help
from clearinghouse.access import AccessDenied, Classification, OrgKind, Role, Scope
from clearinghouse.access import services as access
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.coordination import cli as coordination_cli
from clearinghouse.directives import cli as directives_cli
from clearinghouse.enforcement import cli as enforcement_cli
from clearinghouse.errors import ClearinghouseError
from clearinghouse.frontier import cli as frontier_cli
from clearinghouse.frontier.evaluation import cli as frontier_evaluation_cli
from clearinghouse.jobs import JobStatus, on_first_lookup
from clearinghouse.jobs import services as job_services
from clearinghouse.ledger import AuditEvent
from clearinghouse.ledger import services as ledger
from clearinghouse.notifications import cli as notifications_cli
from clearinghouse.programs import cli as programs_cli
from clearinghouse.repro import cli as repro_cli
from clearinghouse.runtime import Runtime
from clearinghouse.sharing import cli as sharing_cli
from clearinghouse.sharing.taxii import cli as taxii_cli
from clearinghouse.storage import Actor, UnitOfWork
from clearinghouse.web import cli as console_cli
from clearinghouse.web import ensure_admin_password

# Every feature's jobs register on the first job lookup (serve, worker, in-process runs), so
# commands that run no job, and --help, import no feature's tasks.
on_first_lookup(lambda: importlib.import_module("clearinghouse.tasks_registry"))

app = typer.Typer(
    help="Clearinghouse: the AI cybersecurity clearinghouse of EO 14409.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="Manage participant organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit ledger.", no_args_is_help=True)
jobs_app = typer.Typer(help="See background jobs and their attempts.", no_args_is_help=True)
inventory_app = typer.Typer(help="Register assets with their SBOMs.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(jobs_app, name="jobs")
app.add_typer(inventory_app, name="inventory")
app.add_typer(console_cli.app, name="console")
app.add_typer(taxii_cli.app, name="taxii")
app.add_typer(enforcement_cli.incident_app, name="incident")
app.add_typer(enforcement_cli.evidence_app, name="evidence")
app.add_typer(programs_cli.programs_app, name="programs")
app.add_typer(directives_cli.app, name="directives")
app.add_typer(coordination_cli.app, name="coordinate")
app.add_typer(notifications_cli.app, name="notifications")
app.add_typer(frontier_evaluation_cli.suites_app, name="suites")
app.add_typer(frontier_evaluation_cli.campaign_app, name="campaign")
app.add_typer(frontier_cli.models_app, name="models")
app.add_typer(repro_cli.app, name="repro")
app.command("determine")(frontier_cli.determine)
app.command("export")(sharing_cli.export_command)
# Examples and panels are applied after every command is registered: see the end of this module.

# Soft wrap: a token or URL is never broken across lines, so it can be copied.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
CLI_ACTOR = Actor.system("cli")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def _runtime(*, create: bool = False) -> Iterator[Runtime]:
    """The data folder's runtime; ``create`` (init, serve --init) makes the folder if there is none."""
    try:
        runtime = Runtime.for_init() if create else Runtime.from_env()
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def _unit(runtime: Runtime, *, write: bool = True) -> Iterator[UnitOfWork]:
    """A unit of work whose user-caused errors print as one clear line."""
    try:
        with runtime.uow(CLI_ACTOR, write=write) as uow:
            yield uow
    except ClearinghouseError as exc:
        where = f" ({exc.pointer})" if exc.pointer else ""
        raise _fail(f"{exc.detail}{where}", 2) from exc
    except AccessDenied as exc:
        raise _fail(str(exc), 2) from exc


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


# -- organizations -------------------------------------------------------------


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="The organization's name (unique).")],
    kind: Annotated[OrgKind, typer.Option(help="What kind of participant it is.")],
) -> None:
    """Register an organization (idempotent: the same name and kind again is a no-op)."""
    with _runtime() as runtime, _unit(runtime) as uow:
        org, created = access.create_organization(uow, access.OPERATOR, name, kind)
        uow.commit()
    console.print(f"{'created' if created else 'exists'} organization {org.name} ({org.kind}) id={org.id}")


@org_app.command("list")
def org_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List organizations."""
    with _runtime() as runtime, _unit(runtime, write=False) as uow:
        orgs = access.list_organizations(uow.session, access.OPERATOR)
    emit(
        ({"id": org.id, "name": org.name, "kind": org.kind} for org in orgs),
        (Column("id", kind="id"), Column("name"), Column("kind", kind="id")),
        fmt,
    )


# -- users ---------------------------------------------------------------------


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name (unique, no spaces).")],
    org: Annotated[str, typer.Option(help="Organization id or name.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    clearance: Annotated[Classification, typer.Option(help="Highest classification the user may read.")] = (
        Classification.UNCLASSIFIED
    ),
    compartment: Annotated[
        list[str] | None, typer.Option(help="A compartment held; repeat for several.")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Email address for notifications.")] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a password (for the web console).")
    ] = False,
) -> None:
    """Create a user (idempotent: the same attributes again is a no-op)."""
    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    new = access.NewUser(
        username=username,
        org=org,
        roles=[r.value for r in role],
        clearance=clearance.value,
        compartments=compartment or [],
        email=email,
        password=secret,
    )
    with _runtime() as runtime, _unit(runtime) as uow:
        user, created = access.create_user(uow, access.OPERATOR, new)
        uow.commit()
    console.print(
        f"{'created' if created else 'exists'} user {user.username} id={user.id} roles={','.join(user.roles)}"
    )


@user_app.command("list")
def user_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List users."""
    with _runtime() as runtime, _unit(runtime, write=False) as uow:
        users = access.list_users(uow.session, access.OPERATOR)
    emit(
        (
            {
                "id": user.id,
                "username": user.username,
                "org": user.org_id,
                "roles": list(user.roles),
                "clearance": user.clearance,
            }
            for user in users
        ),
        (
            Column("id", kind="id"),
            Column("username", kind="id"),
            Column("org", kind="id"),
            Column("roles"),
            Column("clearance", kind="id"),
        ),
        fmt,
    )


# -- tokens --------------------------------------------------------------------


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="User id or username the token acts for.")],
    scope: Annotated[
        list[Scope] | None, typer.Option(help="A scope; repeat. Default: read and write.")
    ] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_in_days: Annotated[int, typer.Option(min=0, help="Days until it expires; 0: never.")] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Issue an API token. The secret is printed once and only its hash is kept."""
    scopes = [s.value for s in (scope or [Scope.READ, Scope.WRITE])]
    expires = dt.timedelta(days=expires_in_days) if expires_in_days else None
    with _runtime() as runtime, _unit(runtime) as uow:
        issued = access.issue_token(uow, access.OPERATOR, user, name=name, scopes=scopes, expires_in=expires)
        uow.commit()
    token = issued.token
    if as_json:
        print(json.dumps({"id": token.id, "secret": issued.secret, "scopes": token.scopes}))
        return
    expiry = token.expires_at.isoformat() if token.expires_at else "never"
    console.print(f"token id={token.id} scopes={','.join(token.scopes)} expires={expiry}")
    console.print(f"secret (shown once): [bold green]{issued.secret}[/]")


@token_app.command("revoke")
def token_revoke(token: Annotated[str, typer.Argument(help="Token id or its shown prefix.")]) -> None:
    """Revoke a token at once (revoking twice is a no-op)."""
    with _runtime() as runtime, _unit(runtime) as uow:
        revoked = access.revoke_token(uow, access.OPERATOR, token)
        uow.commit()
    console.print(f"revoked token {revoked.id} at {revoked.revoked_at}")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List tokens (never their secrets); a token without expiry shows "never" in the table, null in JSON."""
    with _runtime() as runtime, _unit(runtime, write=False) as uow:
        tokens = access.list_tokens(uow.session, access.OPERATOR, user)
    table = fmt is OutputFormat.TABLE
    emit(
        (
            {
                "id": t.id,
                "prefix": t.prefix,
                "user": t.user_id,
                "scopes": list(t.scopes),
                "expires": t.expires_at or ("never" if table else None),
                "revoked": t.revoked_at,
            }
            for t in tokens
        ),
        (
            Column("id", kind="id"),
            Column("prefix", kind="id"),
            Column("user", kind="id"),
            Column("scopes"),
            Column("expires", kind="date"),
            Column("revoked", kind="date"),
        ),
        fmt,
    )


# -- audit ---------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    background: Annotated[
        bool, typer.Option("--background", help="Queue the check as a job; a worker records the outcome.")
    ] = False,
    witness_file: Annotated[
        Path | None,
        typer.Option(
            "--witness",
            help="A head written by 'audit checkpoint --out': fail unless the ledger still extends it.",
        ),
    ] = None,
) -> None:
    """Check every event's hash and link, every checkpoint and the signed head.

    Exits 1 and names the first bad event when anything was altered, removed,
    inserted or reordered; with ``--witness``, also when the ledger no longer
    extends the witnessed head (a rolled-back tail, an older backup restored).
    Audited rows that no event names are reported too.
    """
    from clearinghouse.ledger import check_witness, unrecorded_rows

    witnessed: dict[str, object] | None = None
    if witness_file is not None:
        try:
            loaded = json.loads(witness_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _fail(f"{witness_file}: not a witness file ({exc})", 2) from exc
        if not isinstance(loaded, dict):
            raise _fail(f"{witness_file}: not a witness file (not a JSON object)", 2)
        witnessed = loaded
    if background:
        with _runtime() as runtime, _unit(runtime) as uow:
            job_id = ledger.schedule_verification(uow, access.OPERATOR)
            uow.commit()
        console.print(f"queued job {job_id}; see: clearinghouse jobs show {job_id}")
        return
    with _runtime() as runtime, _unit(runtime, write=False) as uow:
        total = uow.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        with Progress(
            TextColumn("verifying ledger"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("verify", total=total)
            report = ledger.verify(
                uow.session,
                access.OPERATOR,
                runtime.settings.keys_dir,
                runtime.signing_key,
                progress=lambda n: bar.update(task, completed=n),
            )
        witness_problems = (
            check_witness(uow.session, witnessed, runtime.settings.keys_dir, runtime.signing_key)
            if witnessed is not None
            else []
        )
        unrecorded = unrecorded_rows(uow.session)
    for row_type, row_id in unrecorded[:10]:
        err.print(f"[bold red]unrecorded[/] {row_type} {row_id}: an audited row that no ledger event names")
    for witness_problem in witness_problems:
        err.print(f"[bold red]witness FAILED[/] {witness_problem}")
    if report.ok and not witness_problems and not unrecorded:
        extends = f"; extends the witnessed head at event {witnessed['seq']}" if witnessed else ""
        console.print(
            f"ledger OK: {report.events_checked} events, {report.checkpoints_checked} checkpoints, "
            f"signed head at event {report.head_seq}{extends}"
        )
        return
    first = report.first_problem
    if first is not None:
        err.print(f"[bold red]ledger FAILED[/] at event {first.seq}: {first.message}")
        for problem in sorted(report.problems, key=lambda p: p.seq)[1:10]:
            err.print(f"  also: {problem.message}")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write the signed head (sequence, hash, signature, key id) as JSON, for an "
            "outside party to keep and check with 'audit verify --witness'.",
        ),
    ] = None,
) -> None:
    """Sign a checkpoint at the ledger's current head."""
    from clearinghouse.ledger import witness

    with _runtime() as runtime, _unit(runtime) as uow:
        checkpoint = runtime.ledger.checkpoint(uow.session)
        uow.commit()
        document = witness(uow.session, runtime.signing_key) if out is not None else None
    if checkpoint is None:
        console.print("the ledger is empty")
    else:
        console.print(f"checkpoint at event {checkpoint.seq}: {checkpoint.hash}")
    if out is not None and document is not None:
        out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        console.print(f"witness of the signed head at event {document['seq']} written to {out}")


@audit_app.command("log")
def audit_log(
    after: Annotated[int, typer.Option(help="Show events after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many events.")] = 50,
) -> None:
    """Print ledger events as JSON lines."""
    with _runtime() as runtime, _unit(runtime, write=False) as uow:
        for e in ledger.list_events(uow.session, access.OPERATOR, after_seq=after, limit=limit):
            line = {
                "seq": e.seq,
                "at": e.occurred_at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "object": f"{e.object_type}:{e.object_id}" if e.object_type else None,
                "state_digest": e.state_digest,
                "hash": e.hash,
            }
            sys.stdout.write(json.dumps(line) + "\n")


# -- intake --------------------------------------------------------------------


@app.command()
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
        raise _fail("give --token or set CLEARINGHOUSE_TOKEN", 2)
    try:
        affected = package_option(package)
    except ValueError as exc:
        raise _fail(f"--package: {exc}", 2) from exc
    try:
        files = sorted(iter_files(paths, SUPPORTED_SUFFIXES + NDJSON_SUFFIXES))
    except FileNotFoundError as exc:
        raise _fail(str(exc), 2) from exc
    if not files:
        raise _fail("no supported files found", 2)
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
            raise _fail(f"{exc} (rerun to resume)", 1) from exc
    console.print(
        f"{len(files)} files: {totals['created']} findings stored, {totals['existing']} already there, "
        f"{totals['problems']} refused, {totals['skipped']} files done before"
    )
    if totals["problems"]:
        raise typer.Exit(1)


@app.command("import")
def import_advisories(
    paths: Annotated[
        list[Path], typer.Argument(help="OSV files or trees, .tar.gz / .jsonl.gz bundles, CISA KEV JSON.")
    ],
) -> None:
    """Load public advisories (and KEV) as known vulnerabilities, so findings can be checked against them."""
    from clearinghouse.access import Action, authorize
    from clearinghouse.intake.advisories import import_paths, render_report, rich_progress

    authorize(access.OPERATOR, Action.LOAD_REFERENCE_DATA)
    with _runtime() as runtime:
        with rich_progress(err) as progress:
            report = import_paths(runtime.uow, paths, progress=progress, actor=CLI_ACTOR)
        render_report(report, console)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
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
        raise _fail("give --kev FILE, --epss FILE or both", 2)
    for given in (kev, epss):
        if given is not None and not given.is_file():
            raise _fail(f"no such file: {given}", 2)
    with _runtime() as runtime:
        try:
            report = refresh(runtime.uow, access.OPERATOR, CLI_ACTOR, kev=kev, epss=epss)
        except ClearinghouseError as exc:
            raise _fail(exc.detail, 2) from exc
    if report.kev_entries is not None:
        console.print(f"KEV: {report.kev_entries} entries")
    if report.epss_scores is not None:
        console.print(f"EPSS: {report.epss_scores} scores")
    for problem in report.problems:
        err.print(f"[yellow]{problem}[/]")
    if report.problems:
        raise typer.Exit(1)


# -- inventories ---------------------------------------------------------------


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
        raise _fail(f"no such file: {file}", 2)
    draft = AssetDraft(
        name=name or file.name,
        sbom=file.read_bytes(),
        filename=file.name,
        org=org,
        internet_exposed=exposed,
        criticality=criticality,
    )
    with _runtime() as runtime, _unit(runtime) as uow:
        asset, created = register_asset(uow, access.OPERATOR, draft)
        uow.commit()
    state = "registered" if created else "unchanged"
    console.print(
        f"{state} asset {asset.name} id={asset.id}: {asset.component_count} components ({asset.sbom_format})"
    )


def _register_inventory_matches() -> None:
    from clearinghouse.matching.cli import inventory_matches

    inventory_app.command("matches")(inventory_matches)


_register_inventory_matches()


# -- jobs ----------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    name: Annotated[str | None, typer.Option(help="Only jobs of this name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List background jobs, newest first (the table shows the last line of an error, JSON all of it)."""
    with _runtime() as runtime, _unit(runtime, write=False):
        jobs = job_services.list_jobs(
            runtime.jobs, access.OPERATOR, status=status.value if status else None, name=name, limit=limit
        )
    table = fmt is OutputFormat.TABLE
    rows: list[dict[str, Any]] = []
    for j in jobs:
        error = (j.last_error or "").strip().splitlines()
        rows.append(
            {
                "id": j.id,
                "name": j.name,
                "status": j.status,
                "attempts": f"{j.attempts}/{j.max_attempts}" if table else j.attempts,
                "max_attempts": j.max_attempts,
                "created": j.created_at,
                "last_error": (error[-1] if error else "") if table else j.last_error,
            }
        )
    columns = [
        Column("id", kind="id"),
        Column("name", kind="id"),
        Column("status", kind="id"),
        Column("attempts", kind="number"),
    ]
    if not table:
        columns.append(Column("max_attempts", kind="number"))
    columns += [Column("created", kind="date"), Column("last_error", "last error")]
    emit(rows, columns, fmt)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Show one job, every attempt, and its error."""
    with _runtime() as runtime, _unit(runtime, write=False):
        info, history = job_services.get_job(runtime.jobs, access.OPERATOR, job_id)
    console.print(
        f"job {info.id} {info.name} status={info.status} attempts={info.attempts}/{info.max_attempts}"
    )
    for attempt in history:
        console.print(f"  attempt {attempt.attempt} on {attempt.worker}: {attempt.outcome or 'running'}")
    if info.last_error:
        console.print(info.last_error)


cli_help.apply(app)  # an example in every command's help; top-level commands grouped by who uses them


def main() -> None:
    app()

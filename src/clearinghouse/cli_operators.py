"""The operator's commands for the house's own machinery: organizations, users and tokens
(``access``), the audit ledger (``ledger``) and background jobs (``jobs``).

Those three packages sit below the runtime (features and the runtime import them), so their
commands, which open a runtime, live here with the adapters; each package's ``feature.py``
names its groups, and :mod:`clearinghouse.cli` mounts them from the features list. Commands run
as the local operator through the same services and policy as the HTTP API.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from clearinghouse.access import Classification, OrgKind, Role, Scope
from clearinghouse.access import services as access
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import fail, open_runtime, operator_unit
from clearinghouse.jobs import JobStatus
from clearinghouse.jobs import services as job_services
from clearinghouse.ledger import AuditEvent
from clearinghouse.ledger import services as ledger

org_app = typer.Typer(help="Manage participant organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit ledger.", no_args_is_help=True)
jobs_app = typer.Typer(help="See background jobs and their attempts.", no_args_is_help=True)

# Soft wrap: a token or URL is never broken across lines, so it can be copied.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


# -- organizations -------------------------------------------------------------


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="The organization's name (unique).")],
    kind: Annotated[OrgKind, typer.Option(help="What kind of participant it is.")],
) -> None:
    """Register an organization (idempotent: the same name and kind again is a no-op)."""
    with open_runtime() as runtime, operator_unit(runtime) as uow:
        org, created = access.create_organization(uow, access.OPERATOR, name, kind)
        uow.commit()
    console.print(f"{'created' if created else 'exists'} organization {org.name} ({org.kind}) id={org.id}")


@org_app.command("list")
def org_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List organizations."""
    with open_runtime() as runtime, operator_unit(runtime, write=False) as uow:
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
    with open_runtime() as runtime, operator_unit(runtime) as uow:
        user, created = access.create_user(uow, access.OPERATOR, new)
        uow.commit()
    console.print(
        f"{'created' if created else 'exists'} user {user.username} id={user.id} roles={','.join(user.roles)}"
    )


@user_app.command("list")
def user_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List users."""
    with open_runtime() as runtime, operator_unit(runtime, write=False) as uow:
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
    with open_runtime() as runtime, operator_unit(runtime) as uow:
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
    with open_runtime() as runtime, operator_unit(runtime) as uow:
        revoked = access.revoke_token(uow, access.OPERATOR, token)
        uow.commit()
    console.print(f"revoked token {revoked.id} at {revoked.revoked_at}")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List tokens (never their secrets); a token without expiry shows "never" in the table, null in JSON."""
    with open_runtime() as runtime, operator_unit(runtime, write=False) as uow:
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
            raise fail(f"{witness_file}: not a witness file ({exc})", 2) from exc
        if not isinstance(loaded, dict):
            raise fail(f"{witness_file}: not a witness file (not a JSON object)", 2)
        witnessed = loaded
    if background:
        with open_runtime() as runtime, operator_unit(runtime) as uow:
            job_id = ledger.schedule_verification(uow, access.OPERATOR)
            uow.commit()
        console.print(f"queued job {job_id}; see: clearinghouse jobs show {job_id}")
        return
    with open_runtime() as runtime, operator_unit(runtime, write=False) as uow:
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

    with open_runtime() as runtime, operator_unit(runtime) as uow:
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
    with open_runtime() as runtime, operator_unit(runtime, write=False) as uow:
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


# -- jobs ----------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    name: Annotated[str | None, typer.Option(help="Only jobs of this name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List background jobs, newest first (the table shows the last line of an error, JSON all of it)."""
    with open_runtime() as runtime, operator_unit(runtime, write=False):
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
    with open_runtime() as runtime, operator_unit(runtime, write=False):
        info, history = job_services.get_job(runtime.jobs, access.OPERATOR, job_id)
    console.print(
        f"job {info.id} {info.name} status={info.status} attempts={info.attempts}/{info.max_attempts}"
    )
    for attempt in history:
        console.print(f"  attempt {attempt.attempt} on {attempt.worker}: {attempt.outcome or 'running'}")
    if info.last_error:
        console.print(info.last_error)

"""``clearinghouse incident ...`` and ``clearinghouse evidence ...``.

Custody names a person, so these commands act as a named user (``--user``)
with that user's roles, never as the anonymous local operator; the ledger
records that user as the actor. ``evidence verify`` needs no database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import acting_as as _acting
from clearinghouse.cli_support import fail as _fail
from clearinghouse.config import Settings
from clearinghouse.enforcement import services
from clearinghouse.enforcement._bundle import BundleRefused, verify_bundle
from clearinghouse.enforcement._report import IncidentReport
from clearinghouse.errors import first_error
from clearinghouse.ledger import trusted_public_keys

incident_app = typer.Typer(help="Report and follow AI-facilitated crime incidents.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence under chain of custody: add, export, verify.", no_args_is_help=True)

console = Console(soft_wrap=True)

UserOption = Annotated[
    str, typer.Option("--user", help="Act as this user (username or id); custody names them.")
]


def _load_report(file: Path | None, overrides: dict[str, Any]) -> IncidentReport:
    raw: dict[str, Any] = {}
    if file is not None:
        if not file.is_file():
            raise _fail(f"no such file: {file}")
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise _fail(f"{file} is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise _fail(f"{file} must hold one JSON object (an incident report)")
        raw = loaded
    for key, value in overrides.items():
        if value not in (None, [], ""):
            raw[key] = value
    try:
        return IncidentReport.model_validate(raw)
    except ValidationError as exc:
        pointer, message = first_error(exc)
        raise _fail(f"{message} ({pointer})") from exc


@incident_app.command("report")
def incident_report(
    user: UserOption,
    file: Annotated[
        Path | None, typer.Argument(help="An incident report as JSON (see docs/enforcement.md).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="A one-line title.")] = None,
    reporter_kind: Annotated[str | None, typer.Option(help="victim, partner or agency.")] = None,
    reporter_org: Annotated[str | None, typer.Option(help="Reporting organization (liaisons only).")] = None,
    system: Annotated[str | None, typer.Option(help="The affected system.")] = None,
    occurred_at: Annotated[str | None, typer.Option(help="When it happened (ISO 8601 with zone).")] = None,
    impact: Annotated[
        list[str] | None, typer.Option(help="data_accessed, system_damaged, ... (repeat).")
    ] = None,
    what: Annotated[str | None, typer.Option(help="What was accessed or damaged.")] = None,
    ai: Annotated[list[str] | None, typer.Option(help="How AI was involved, e.g. autonomous_agent.")] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="A model or agent identifier seen (repeat).")
    ] = None,
    statute: Annotated[list[str] | None, typer.Option(help="1028, 1030 or 1343 (repeat).")] = None,
    technique: Annotated[list[str] | None, typer.Option(help="A MITRE ATLAS technique id (repeat).")] = None,
    case_study: Annotated[list[str] | None, typer.Option(help="A MITRE ATLAS case study id.")] = None,
    case: Annotated[list[str] | None, typer.Option(help="A clearinghouse case id (repeat).")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key files once.")] = None,
) -> None:
    """Report an AI-facilitated crime from a JSON file, options, or both (options win)."""
    report = _load_report(
        file,
        {
            "title": title,
            "reporter_kind": reporter_kind,
            "reporter_org": reporter_org,
            "affected_system": system,
            "occurred_at": occurred_at,
            "impacts": impact or [],
            "impact_description": what,
            "ai_involvement": ai or [],
            "model_identifiers": model or [],
            "statutes": statute or [],
            "atlas_techniques": technique or [],
            "atlas_case_studies": case_study or [],
            "cases": case or [],
            "idempotency_key": key,
        },
    )
    with _acting(user) as (runtime, uow, subject):
        incident, created = services.report_incident(uow, runtime.envelope, subject, report)
        uow.commit()
    state = "reported" if created else "already reported"
    console.print(f"{state} incident {incident.id}: {incident.title} ({incident.state})")


@incident_app.command("list")
def incident_list(
    user: UserOption,
    state: Annotated[str | None, typer.Option(help="Only incidents in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Incidents the user may see, newest first (JSON: the full report time)."""
    with _acting(user, write=False) as (_runtime, uow, subject):
        rows = services.list_incidents(uow.session, subject, state=state, limit=limit)
    table = fmt is OutputFormat.TABLE
    emit(
        (
            {
                "id": i.id,
                "state": i.state,
                "reported": i.created_at.date() if table else i.created_at,
                "title": i.title,
                "statutes": list(i.statutes),
            }
            for i in rows
        ),
        (
            Column("id", kind="id"),
            Column("state", kind="id"),
            Column("reported", kind="date"),
            Column("title"),
            Column("statutes"),
        ),
        fmt,
    )


@incident_app.command("move")
def incident_move(
    user: UserOption,
    incident_id: Annotated[str, typer.Argument(help="The incident.")],
    state: Annotated[str, typer.Argument(help="under_review, referred or closed.")],
    office: Annotated[str | None, typer.Option(help="The law-enforcement office (referred).")] = None,
    reference: Annotated[str | None, typer.Option(help="The office's case number.")] = None,
    note: Annotated[str, typer.Option(help="Why (required to close).")] = "",
) -> None:
    """Move an incident's referral (law-enforcement liaisons)."""
    move = services.Move(state=state, office=office, reference=reference, note=note)
    with _acting(user) as (_runtime, uow, subject):
        incident = services.move_incident(uow, subject, incident_id, move)
        uow.commit()
    where = f" to {incident.referral_office}" if incident.state == "referred" else ""
    console.print(f"incident {incident.id} is {incident.state}{where}")


@evidence_app.command("add")
def evidence_add(
    user: UserOption,
    incident_id: Annotated[str, typer.Argument(help="The incident the evidence belongs to.")],
    file: Annotated[Path, typer.Argument(help="The evidence file.")],
    media_type: Annotated[str, typer.Option(help="Its media type.")] = "application/octet-stream",
    description: Annotated[str, typer.Option(help="What it is.")] = "",
) -> None:
    """Add an evidence file: hashed (SHA-256), encrypted and recorded on receipt."""
    if not file.is_file():
        raise _fail(f"no such file: {file}")
    upload = services.EvidenceFile(
        filename=file.name, content=file.read_bytes(), media_type=media_type, description=description
    )
    with _acting(user) as (runtime, uow, subject):
        evidence, created = services.add_evidence(uow, runtime.envelope, subject, incident_id, upload)
        uow.commit()
    state = "received" if created else "already held"
    console.print(f"{state} evidence {evidence.id} sha256={evidence.sha256} ({evidence.size} bytes)")


@evidence_app.command("export")
def evidence_export(
    user: UserOption,
    incident_id: Annotated[str, typer.Argument(help="The incident.")],
    reason: Annotated[str, typer.Option(help="Why it is exported (kept in the custody log).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the bundle (zip).")] = None,
    evidence: Annotated[list[str] | None, typer.Option(help="Only this evidence id (repeat).")] = None,
) -> None:
    """Export the incident's evidence as a signed bundle with its custody log."""
    with _acting(user, write=False) as (runtime, _uow, subject):
        bundle = services.export_evidence(
            runtime.uow, runtime.envelope, runtime.signing_key, subject, incident_id, reason, evidence or []
        )
    target = out or Path(bundle.filename)
    target.write_bytes(bundle.data)
    console.print(f"wrote {target}: {bundle.files} files, {bundle.events} custody events")


@evidence_app.command("verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(help="An evidence bundle (zip).")],
    key: Annotated[
        list[Path] | None,
        typer.Option(help="A trusted ledger public key (PEM). Default: this clearinghouse's keys, if any."),
    ] = None,
) -> None:
    """Check an evidence bundle: every file, the custody log, and the signature. Exit 1 if it fails."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from clearinghouse.ledger import key_id

    if not bundle.is_file():
        raise _fail(f"no such file: {bundle}")
    trusted: set[str] | None
    if key:
        trusted = set()
        for path in key:
            try:
                public = serialization.load_pem_public_key(path.read_bytes())
            except (OSError, ValueError) as exc:
                raise _fail(f"{path}: not a PEM public key ({exc})") from exc
            if not isinstance(public, Ed25519PublicKey):
                raise _fail(f"{path}: not an Ed25519 key")
            trusted.add(key_id(public))
    else:
        try:
            keys_dir: Path | None = Settings.from_env().keys_dir
        except ValueError:  # no data folder here: no key of this clearinghouse to trust ("if any")
            keys_dir = None
        trusted = (set(trusted_public_keys(keys_dir, None)) or None) if keys_dir is not None else None
    try:
        report = verify_bundle(bundle.read_bytes(), trusted)
    except BundleRefused as exc:
        raise _fail(f"{bundle}: {exc.detail}") from exc
    for problem in report.problems:
        console.print(f"[red]FAIL[/] {problem}")
    if report.key_trusted is False:
        console.print(f"[red]FAIL[/] signed by key {report.key_id}, which is not a trusted ledger key")
    signer = {True: "a trusted ledger key", False: "an untrusted key", None: "a key not checked against any"}
    if report.ok:
        console.print(
            f"[green]OK[/] {bundle}: {report.files} files and {report.events} custody events intact; "
            f"signed by {signer[report.key_trusted]} ({report.key_id})"
        )
        return
    raise typer.Exit(1)

"""CLI: ``clearinghouse models register|list|grant|accept|withdraw|inquire|releasability|clocks``
and ``clearinghouse determine``. Each command acts as a named user (``--user``):
models belong to a developer, determinations to the determination authority,
not to the local operator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import acting_as as _session
from clearinghouse.cli_support import fail as _fail
from clearinghouse.frontier import services
from clearinghouse.frontier.models import Designation

models_app = typer.Typer(
    help="Frontier model review: models under development, access grants, inquiries.", no_args_is_help=True
)
console = Console(soft_wrap=True)
UserOption = Annotated[str, typer.Option("--user", help="Act as this user (username or id).")]


def _when(value: str, option: str) -> dt.datetime:
    """An ISO 8601 date or time; a date means midnight UTC, a time without zone UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: {value!r} is not an ISO 8601 date or time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


@models_app.command("register")
def models_register(
    user: UserOption,
    name: Annotated[str, typer.Option(help="Model name.")],
    version: Annotated[str, typer.Option(help="Model version.")],
    partner_release: Annotated[
        str, typer.Option(help="Planned release to trusted partners (ISO 8601 date or time).")
    ],
    public_release: Annotated[str | None, typer.Option(help="Planned public release (ISO 8601).")] = None,
    description: Annotated[str, typer.Option(help="What the model is.")] = "",
) -> None:
    """Register a model under development (a model developer of an AI developer organization)."""
    draft = services.ModelDraft(
        name=name,
        version=version,
        description=description,
        planned_partner_release_at=_when(partner_release, "--partner-release"),
        planned_public_release_at=_when(public_release, "--public-release") if public_release else None,
    )
    with _session(user, write=True) as (_rt, uow, subject):
        model, created = services.register_model(uow, subject, draft)
        uow.commit()
    state = "registered" if created else "unchanged"
    earliest = model.planned_partner_release_at - services.ACCESS_LEAD
    console.print(f"{state} model {model.name} {model.version} id={model.id}")
    console.print(
        f"an access window may start from {earliest.isoformat()} (30 days before the partner release)"
    )


@models_app.command("list")
def models_list(user: UserOption, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Models this user may see (the table shows release dates, JSON the full times)."""
    table = fmt is OutputFormat.TABLE
    with _session(user, write=False) as (_rt, uow, subject):
        rows = [
            {
                "id": m.id,
                "name": m.name,
                "version": m.version,
                "partner_release": (
                    m.planned_partner_release_at.date() if table else m.planned_partner_release_at
                ),
                "public_release": (
                    (m.planned_public_release_at.date() if table else m.planned_public_release_at)
                    if m.planned_public_release_at
                    else None
                ),
                "marking": m.marking.summary(),
            }
            for m in services.list_models(uow.session, subject)
        ]
    emit(
        rows,
        (
            Column("id", kind="id"),
            Column("name"),
            Column("version", kind="id"),
            Column("partner_release", "partner release", kind="date"),
            Column("public_release", "public release", kind="date"),
            Column("marking"),
        ),
        fmt,
    )


@models_app.command("grant")
def models_grant(
    model_id: Annotated[str, typer.Argument(help="The model's id.")],
    user: UserOption,
    starts: Annotated[str, typer.Option(help="Window start (ISO 8601); at most 30 days before the release.")],
    ends: Annotated[str, typer.Option(help="Window end (ISO 8601); at the latest the partner release.")],
    terms: Annotated[
        Path,
        typer.Option(
            help="The terms, as a JSON file holding one object: each key a term, each value its text "
            '(a string), e.g. {"confidentiality": "...", "cybersecurity": "...", "insider_risk": "...", '
            '"intellectual_property": "...", "use": "...", "nondisclosure": "..."}. The grant keeps the '
            "SHA-256 of exactly this object; the government accepts that hash."
        ),
    ],
    endpoint: Annotated[str, typer.Option(help="OpenAI-compatible base URL, e.g. https://host/v1.")],
    endpoint_model: Annotated[str, typer.Option(help="The model name the endpoint serves.")],
    api_key: Annotated[
        str,
        typer.Option(
            envvar="CLEARINGHOUSE_MODEL_API_KEY",
            prompt=True,
            hide_input=True,
            help="The endpoint's API key (stored encrypted; from $CLEARINGHOUSE_MODEL_API_KEY or asked).",
        ),
    ],
    need_to_know: Annotated[
        list[str] | None, typer.Option(help="A government user who needs to know (repeatable).")
    ] = None,
) -> None:
    """Give the government access to a model for a window before its partner release."""
    try:
        agreed = json.loads(terms.read_text())
    except (OSError, ValueError) as exc:
        raise _fail(f"--terms: cannot read {terms}: {exc}") from None
    if not isinstance(agreed, dict):
        raise _fail("--terms: the file holds one JSON object")
    draft = services.GrantDraft(
        model_id=model_id,
        starts_at=_when(starts, "--starts"),
        ends_at=_when(ends, "--ends"),
        terms={str(k): str(v) for k, v in agreed.items()},
        endpoint=services.EndpointDraft(endpoint, api_key, endpoint_model),
        need_to_know=need_to_know or [],
    )
    with _session(user, write=True) as (runtime, uow, subject):
        made, created = services.grant_access(uow, subject, runtime.envelope, draft)
        uow.commit()
    state = "granted" if created else "unchanged"
    console.print(
        f"{state} access id={made.id} from {made.starts_at.isoformat()} to {made.ends_at.isoformat()}"
    )
    console.print(f"terms sha256={made.terms_sha256} (the government accepts exactly these)")


@models_app.command("accept")
def models_accept(
    grant_id: Annotated[str, typer.Argument(help="The access grant's id.")],
    user: UserOption,
    terms_sha256: Annotated[str, typer.Option(help="SHA-256 of the terms accepted, as the grant shows it.")],
    need_to_know: Annotated[
        list[str] | None, typer.Option(help="Replace the need-to-know list (repeatable).")
    ] = None,
) -> None:
    """Accept a grant's terms for the government."""
    with _session(user, write=True) as (_rt, uow, subject):
        made = services.accept_grant(uow, subject, grant_id, terms_sha256, need_to_know)
        uow.commit()
    console.print(f"accepted grant {made.id}; need to know: {', '.join(made.need_to_know)}")


@models_app.command("withdraw")
def models_withdraw(
    grant_id: Annotated[str, typer.Argument(help="The access grant's id.")],
    user: UserOption,
    reason: Annotated[str, typer.Option(help="Why (kept in the record).")] = "",
) -> None:
    """Withdraw a grant (the developer, at any time)."""
    with _session(user, write=True) as (_rt, uow, subject):
        made = services.withdraw_grant(uow, subject, grant_id, reason)
        uow.commit()
    assert made.withdrawn_at is not None
    console.print(f"withdrew grant {made.id} at {made.withdrawn_at.isoformat()}")


@models_app.command("inquire")
def models_inquire(
    model_id: Annotated[str, typer.Argument(help="The model's id.")],
    user: UserOption,
    question: Annotated[str, typer.Option(help="The question, in the developer's words.")] = "",
) -> None:
    """Ask whether a model meets the designation."""
    with _session(user, write=True) as (_rt, uow, subject):
        inquiry, _created = services.open_inquiry(uow, subject, model_id, question)
        uow.commit()
    console.print(f"inquiry {inquiry.id} is {inquiry.status}; the answer is due {inquiry.due_at.isoformat()}")


@models_app.command("releasability")
def models_releasability(
    determination_id: Annotated[str, typer.Argument(help="The determination's id.")],
    user: UserOption,
    released: Annotated[
        bool, typer.Option("--released/--withheld", help="Release it to the developer, or withhold it.")
    ],
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Decide whether the developer may see a determination (determination authority)."""
    with _session(user, write=True) as (_rt, uow, subject):
        det = services.decide_releasability(uow, subject, determination_id, released, reason)
        uow.commit()
    console.print(f"determination {det.id} is {det.releasability}")


@models_app.command("clocks")
def models_clocks(
    user: UserOption,
    within_days: Annotated[int | None, typer.Option(help="Only what is due within this many days.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Running access windows and open inquiries, soonest due first; overdue ones in red."""
    with _session(user, write=False) as (_rt, uow, subject):
        items = services.clocks(uow.session, subject, within_days=within_days)
    emit(
        (
            {
                "kind": c.kind,
                "model": f"{c.model_name} {c.model_version}",
                "id": c.object_id,
                "status": c.status,
                "due": c.due_at,
                "days_left": c.days_left,
                "overdue": c.overdue,
            }
            for c in items
        ),
        (
            Column("kind", kind="id"),
            Column("model"),
            Column("id", kind="id"),
            Column("status", kind="id"),
            Column("due", kind="date"),
            Column("days_left", "days left", kind="number"),
            *(() if fmt is OutputFormat.TABLE else (Column("overdue"),)),
        ),
        fmt,
        row_style=lambda row: "red" if row["overdue"] else None,
    )


def determine(
    model_id: Annotated[str, typer.Argument(help="The model's id.")],
    user: UserOption,
    outcome: Annotated[Designation, typer.Option(help="covered or not_covered.")],
    rationale: Annotated[str, typer.Option(help="Why.")],
    recommendation: Annotated[str | None, typer.Option(help="The recommendation it rests on.")] = None,
) -> None:
    """Record whether a model is a covered frontier model (determination authority).
    Releasing it to the developer is a separate decision: ``models releasability``."""
    draft = services.DeterminationDraft(
        model_id=model_id, outcome=outcome, rationale=rationale, recommendation_id=recommendation
    )
    with _session(user, write=True) as (_rt, uow, subject):
        det = services.determine(uow, subject, draft)
        uow.commit()
    console.print(f"determination {det.id}: {det.outcome} (not released to the developer until decided)")

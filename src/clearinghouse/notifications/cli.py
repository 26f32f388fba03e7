"""``clearinghouse notifications ...``: webhook subscriptions and mail settings, as the local operator."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access.services import OPERATOR
from clearinghouse.cli_output import Column, FormatOption, OutputFormat, emit
from clearinghouse.cli_support import acting_as, err
from clearinghouse.config import Settings
from clearinghouse.envelope import Envelope
from clearinghouse.notifications import services
from clearinghouse.notifications.models import EventKind
from clearinghouse.outbound import OutboundPolicy

app = typer.Typer(help="Webhook subscriptions and e-mail delivery settings.", no_args_is_help=True)
webhook_app = typer.Typer(help="Webhook subscriptions.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
console = Console(soft_wrap=True)


@webhook_app.command("add")
def webhook_add(
    user: Annotated[str, typer.Option(help="The subscribing user (id or name).")],
    url: Annotated[str, typer.Option(help="Where signed events are POSTed.")],
    event: Annotated[list[EventKind] | None, typer.Option(help="Only these kinds (repeatable).")] = None,
    org_wide: Annotated[bool, typer.Option(help="Speak for the user's organization.")] = False,
) -> None:
    """Subscribe a URL; prints the signing secret once."""
    try:
        settings = Settings.from_env()
        envelope = Envelope.from_keys_dir(settings.keys_dir)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    new = services.NewWebhook(url=url, events=[e.value for e in event or []], org_wide=org_wide, owner=user)
    with acting_as(None) as (_, uow, _):
        sub, secret = services.create_webhook(
            uow, OPERATOR, envelope, new, OutboundPolicy.from_settings(settings)
        )
        uow.commit()
    console.print(f"subscription {sub.id} -> {sub.url}")
    console.print(f"signing secret (shown once): [bold green]{secret}[/]")


@webhook_app.command("list")
def webhook_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Every subscription (events: "*" for every event)."""
    with acting_as(None, write=False) as (_, uow, _):
        subs = services.list_webhooks(uow.session, OPERATOR)
    emit(
        (
            {
                "id": sub.id,
                "active": sub.active,
                "user": sub.owner_user_id,
                "url": sub.url,
                "events": list(sub.events) or ["*"],
            }
            for sub in subs
        ),
        (
            Column("id", kind="id"),
            Column("active"),
            Column("user", kind="id"),
            Column("url", kind="id"),
            Column("events"),
        ),
        fmt,
    )


@app.command("smtp")
def smtp(
    host: Annotated[str, typer.Option(help="SMTP server host.")],
    port: Annotated[int, typer.Option(help="SMTP server port.")] = 25,
    sender: Annotated[str, typer.Option("--from", help="The From address.")] = "clearinghouse@localhost",
    starttls: Annotated[bool, typer.Option(help="Upgrade with STARTTLS.")] = False,
) -> None:
    """Set the SMTP server e-mail goes through."""
    with acting_as(None) as (_, uow, _):
        services.configure_smtp(uow, OPERATOR, host=host, port=port, sender=sender, starttls=starttls)
        uow.commit()
    console.print(f"e-mail goes through {host}:{port} from {sender}")

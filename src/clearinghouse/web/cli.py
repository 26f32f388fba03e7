"""``clearinghouse console``: the web console's command-line helpers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from clearinghouse.access import AccessDenied
from clearinghouse.access.services import OPERATOR
from clearinghouse.errors import ClearinghouseError
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.web._sessions import set_password

app = typer.Typer(help="The web console: passwords for signing in.", no_args_is_help=True)
console = Console(soft_wrap=True)


@app.command("password")
def password(
    user: Annotated[str, typer.Argument(help="Username or user id.")],
    new_password: Annotated[
        str | None,
        typer.Option("--password", help="The new password (prompted, hidden, when not given)."),
    ] = None,
) -> None:
    """Set a user's console password (at least 12 characters); their sessions end."""
    secret = new_password or typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    runtime = Runtime.from_env()
    try:
        with runtime.uow(Actor.system("cli")) as uow:
            changed = set_password(uow, OPERATOR, user, secret)
            uow.commit()
    except (ClearinghouseError, AccessDenied) as exc:
        console.print(f"[bold red]error:[/] {getattr(exc, 'detail', exc)}")
        raise typer.Exit(2) from exc
    finally:
        runtime.close()
    console.print(f"password set for {changed.username}; their console sessions were ended")

"""The ``clearinghouse`` command's entry point: light, so ``--help`` and ``version`` answer at once.

The full command tree (:mod:`clearinghouse.cli`) imports every part of the system.
Here each top-level command is a stand-in that knows only its name, its one-line
help and its panel (:mod:`clearinghouse.cli_help`); running it imports the full
tree and hands it the same arguments, so ``clearinghouse org list --help`` and
``clearinghouse org list`` behave exactly as the full command does.
"""

from __future__ import annotations

import typer

from clearinghouse import __version__
from clearinghouse.cli_help import EXAMPLES, TOP_LEVEL

app = typer.Typer(
    help="Clearinghouse: the AI cybersecurity clearinghouse of EO 14409.\n\n"
    "Commands find the data folder from CLEARINGHOUSE_HOME, else from the clearinghouse.toml that "
    "`clearinghouse init` wrote in this folder or one above it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog="Example: clearinghouse init, then clearinghouse serve. Every command has --help with an example.",
)

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _delegate(ctx: typer.Context) -> None:
    """Run the full command tree with the arguments this stand-in received."""
    import typer.main

    from clearinghouse.cli import app as full

    command = typer.main.get_command(full)
    root = ctx.find_root().info_name or "clearinghouse"
    command.main(args=[ctx.info_name or "", *ctx.args], prog_name=root)


for _name, (_panel, _help) in TOP_LEVEL.items():
    if _name == "version":
        continue
    app.command(
        _name,
        help=_help,
        short_help=_help,
        rich_help_panel=_panel,
        context_settings=_PASS_THROUGH,
        add_help_option=False,
        epilog=f"Example: {EXAMPLES[_name]}" if _name in EXAMPLES else None,
    )(_delegate)


@app.command(rich_help_panel=TOP_LEVEL["version"][0], epilog=f"Example: {EXAMPLES['version']}")
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:
    app()

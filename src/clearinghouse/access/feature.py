"""What access brings to the house: the identity routes, the organization, user and token
commands, and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="access",
    api=("clearinghouse.access.views:router",),
    # access sits below the runtime, so its commands live with the adapters (cli_operators)
    cli=(
        Command("org", "clearinghouse.cli_operators:org_app"),
        Command("user", "clearinghouse.cli_operators:user_app"),
        Command("token", "clearinghouse.cli_operators:token_app"),
    ),
    models=("clearinghouse.access.models",),
)

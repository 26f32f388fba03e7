"""What the ledger brings to the house: the audit routes, ``audit``, its checkpoint job and
its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="ledger",
    api=("clearinghouse.ledger.views:router",),
    # the ledger sits below the runtime, so its commands live with the adapters (cli_operators)
    cli=(Command("audit", "clearinghouse.cli_operators:audit_app"),),
    jobs=("clearinghouse.ledger.tasks",),
    models=("clearinghouse.ledger.models",),
)

"""What jobs brings to the house: the job routes, ``jobs`` and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="jobs",
    api=("clearinghouse.jobs.views:router",),
    # jobs sit below the runtime, so their commands live with the adapters (cli_operators)
    cli=(Command("jobs", "clearinghouse.cli_operators:jobs_app"),),
    models=("clearinghouse.jobs.models",),
)

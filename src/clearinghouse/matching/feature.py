"""What matching brings to the house: inventories, case matches and the match worklist
routes, ``inventory``, the matching jobs and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="matching",
    api=(
        "clearinghouse.matching.views:router",
        "clearinghouse.matching.views:cases_router",
        "clearinghouse.matching.views:matches_router",
    ),
    cli=(Command("inventory", "clearinghouse.matching.cli:inventory_app"),),
    jobs=("clearinghouse.matching.tasks",),
    models=("clearinghouse.matching.models",),
)

"""What coordination brings to the house: the vendor workflow and scan-campaign routes,
``coordinate``, its jobs and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="coordination",
    api=("clearinghouse.coordination.views:router",),
    cli=(Command("coordinate", "clearinghouse.coordination.cli:app"),),
    jobs=("clearinghouse.coordination.tasks",),
    models=("clearinghouse.coordination.models",),
)

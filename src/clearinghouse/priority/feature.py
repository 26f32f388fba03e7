"""What priority brings to the house: the queue and scores routes, ``enrich``, the case
scoring jobs and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="priority",
    api=("clearinghouse.priority.views:router",),
    cli=(Command("enrich", "clearinghouse.priority.cli:enrich"),),
    jobs=("clearinghouse.priority.tasks",),
    models=("clearinghouse.priority.models",),
)

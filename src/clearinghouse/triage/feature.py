"""What triage brings to the house: the case routes, the deduplication jobs and its tables."""

from clearinghouse.feature import Feature

FEATURE = Feature(
    name="triage",
    api=("clearinghouse.triage.views:router",),
    jobs=("clearinghouse.triage.tasks",),
    models=("clearinghouse.triage.models",),
)

"""What notifications brings to the house: subscription routes, ``notifications``, the
fan-out and delivery jobs and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="notifications",
    api=("clearinghouse.notifications.views:router",),
    cli=(Command("notifications", "clearinghouse.notifications.cli:app"),),
    jobs=("clearinghouse.notifications.tasks",),
    models=("clearinghouse.notifications.models",),
)

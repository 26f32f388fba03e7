"""What enforcement brings to the house: its routes, ``incident`` and ``evidence``, and its
tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="enforcement",
    api=("clearinghouse.enforcement.views:router",),
    cli=(
        Command("incident", "clearinghouse.enforcement.cli:incident_app"),
        Command("evidence", "clearinghouse.enforcement.cli:evidence_app"),
    ),
    models=("clearinghouse.enforcement.models",),
)

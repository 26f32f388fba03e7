"""What intake brings to the house: the findings routes, ``submit`` and ``import``, and its
tables (findings, and the public advisories)."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="intake",
    api=("clearinghouse.intake.views:router",),
    cli=(
        Command("submit", "clearinghouse.intake.cli:submit"),
        Command("import", "clearinghouse.intake.cli:import_advisories"),
    ),
    models=("clearinghouse.intake.models", "clearinghouse.intake.advisories.models"),
)

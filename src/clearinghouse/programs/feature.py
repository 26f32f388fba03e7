"""What programs brings to the house: its routes, ``programs`` and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="programs",
    api=("clearinghouse.programs.views:router",),
    cli=(Command("programs", "clearinghouse.programs.cli:programs_app"),),
    models=("clearinghouse.programs.models",),
)

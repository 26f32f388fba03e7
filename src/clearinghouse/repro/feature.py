"""What the reproduction lab brings to the house: its routes, ``repro``, its jobs and its
tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="repro",
    api=("clearinghouse.repro.views:router",),
    cli=(Command("repro", "clearinghouse.repro.cli:app"),),
    jobs=("clearinghouse.repro.tasks",),
    models=("clearinghouse.repro.models",),
)

"""What directives brings to the house: the tracker and compliance routes, ``directives``
and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="directives",
    api=("clearinghouse.directives.views:router",),
    cli=(Command("directives", "clearinghouse.directives.cli:app"),),
    models=("clearinghouse.directives.models",),
    seed=("clearinghouse.directives.services:seed_registry",),  # the registry, from data/directives
)

"""What the web console brings to the house: its pages (installed last, at ``/``),
``console`` and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="web",
    install=("clearinghouse.web:install_console",),
    cli=(Command("console", "clearinghouse.web.cli:app"),),
    models=("clearinghouse.web.models",),
)

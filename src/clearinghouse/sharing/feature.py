"""What sharing brings to the house: bulletins and exports under /api/v1, the TAXII 2.1
server, the OSV API and the CSAF provider at their own roots, ``export`` and ``taxii``,
the distribution job and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="sharing",
    api=("clearinghouse.sharing.views:router", "clearinghouse.sharing.feed_views:export_router"),
    routes=(
        "clearinghouse.sharing.taxii.views:router",  # /taxii2/
        "clearinghouse.sharing.feed_views:osv_router",  # /v1/, as api.osv.dev
        "clearinghouse.sharing.feed_views:csaf_router",  # /.well-known/csaf/
    ),
    cli=(
        Command("taxii", "clearinghouse.sharing.taxii.cli:app"),
        Command("export", "clearinghouse.sharing.cli:export_command"),
    ),
    jobs=("clearinghouse.sharing.tasks",),
    models=("clearinghouse.sharing.models", "clearinghouse.sharing.taxii.models"),
)

"""What frontier review brings to the house: the evaluation and review routes, ``suites``,
``campaign``, ``models`` and ``determine``, the campaign jobs and its tables."""

from clearinghouse.feature import Command, Feature

FEATURE = Feature(
    name="frontier",
    api=("clearinghouse.frontier.evaluation.views:router", "clearinghouse.frontier.views:router"),
    cli=(
        Command("suites", "clearinghouse.frontier.evaluation.cli:suites_app"),
        Command("campaign", "clearinghouse.frontier.evaluation.cli:campaign_app"),
        Command("models", "clearinghouse.frontier.cli:models_app"),
        Command("determine", "clearinghouse.frontier.cli:determine"),
    ),
    jobs=("clearinghouse.frontier.evaluation.tasks",),
    models=("clearinghouse.frontier.models", "clearinghouse.frontier.evaluation.models"),
)

"""Every module that defines background jobs, imported so that every server and
every worker knows every job by name. A feature that adds jobs adds its
``tasks`` module here. Imported by the entrypoints (``api.app``, ``cli``), never
by ``runtime``, so that the wiring does not pull in every feature."""

from clearinghouse.coordination import tasks as coordination_tasks
from clearinghouse.frontier.evaluation import tasks as frontier_evaluation_tasks
from clearinghouse.ledger import tasks as ledger_tasks
from clearinghouse.matching import tasks as matching_tasks
from clearinghouse.notifications import tasks as notifications_tasks
from clearinghouse.priority import tasks as priority_tasks
from clearinghouse.repro import tasks as repro_tasks
from clearinghouse.sharing import tasks as sharing_tasks
from clearinghouse.triage import tasks as triage_tasks

__all__ = [
    "coordination_tasks",
    "frontier_evaluation_tasks",
    "ledger_tasks",
    "matching_tasks",
    "notifications_tasks",
    "priority_tasks",
    "repro_tasks",
    "sharing_tasks",
    "triage_tasks",
]

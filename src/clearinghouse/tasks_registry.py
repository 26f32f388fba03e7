"""Every module that defines background jobs, imported so that every server and
every worker knows every job by name. A feature that adds jobs adds its
``tasks`` module here."""

from clearinghouse.ledger import tasks as ledger_tasks
from clearinghouse.triage import tasks as triage_tasks

__all__ = ["ledger_tasks", "triage_tasks"]

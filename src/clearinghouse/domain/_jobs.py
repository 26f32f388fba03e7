"""Names of the jobs one feature queues for another.

A job is queued by name (``uow.enqueue(name, payload)``) and run by whichever feature
registered a handler under that name. A feature that queues another's job needs only the
name, not the handler's module: the names live here, so the queue, not an import, joins
the two (the handler's feature defines its constant from the same name).
"""

from __future__ import annotations

MATCH_CASE_JOB = "matching.case"  # match a validated case's packages (``matching.tasks``)
CASE_SCORES_JOB = "priority.case_scores"  # score a case (``priority.tasks``)
DEDUP_JOB = "triage.deduplicate"  # place new findings in cases (``triage.tasks``)

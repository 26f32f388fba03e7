"""Frontier evaluation: benchmark suites on Inspect and the campaigns that run
them against a granted model endpoint (EO 14409 section 3).

Owns suites (versioned sets of ``inspect_ai`` tasks registered from a folder
with a ``suite.yaml``, each suite and task classification-marked), campaigns
(run in a worker subprocess started by a background job, logs in the
campaign's private folder, progress from the worker's progress file) and
their results (read back from the Inspect logs, provenance in the ledger), and
the unclassified reference suite shipped in ``reference/``.

Interface other parts use:

* :func:`campaign_metrics` ``(session, subject, campaign_id) -> dict[str, float]``:
  flat metric names ``<group>.<metric>``, ``<group>.tier<N>.<metric>``,
  ``<group>.<task>.<metric>`` (``ctf.tier3.pass_at_3``, ``vuln_id.f1``,
  ``cwe_mcq.accuracy``), pooled from the results the subject may read.
"""

from clearinghouse.frontier.evaluation.models import (
    CampaignStatus,
    EvalCampaign,
    EvalResult,
    EvalSuite,
    EvalTask,
)
from clearinghouse.frontier.evaluation.services import (
    REFERENCE_DIR,
    CampaignDraft,
    CampaignProgress,
    campaign_metrics,
    campaign_progress,
    create_campaign,
    get_campaign,
    get_suite,
    list_campaigns,
    list_results,
    list_suites,
    register_reference_suite,
    register_suite,
    register_suite_dir,
)

__all__ = [
    "REFERENCE_DIR",
    "CampaignDraft",
    "CampaignProgress",
    "CampaignStatus",
    "EvalCampaign",
    "EvalResult",
    "EvalSuite",
    "EvalTask",
    "campaign_metrics",
    "campaign_progress",
    "create_campaign",
    "get_campaign",
    "get_suite",
    "list_campaigns",
    "list_results",
    "list_suites",
    "register_reference_suite",
    "register_suite",
    "register_suite_dir",
]

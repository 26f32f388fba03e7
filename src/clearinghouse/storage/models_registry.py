"""Every model module, imported so that migrations see the whole schema.

A feature that adds tables adds its ``models`` module here.
"""

from clearinghouse.access import models as access_models
from clearinghouse.coordination import models as coordination_models
from clearinghouse.directives import models as directives_models
from clearinghouse.enforcement import models as enforcement_models
from clearinghouse.frontier import models as frontier_models
from clearinghouse.frontier.evaluation import models as frontier_evaluation_models
from clearinghouse.intake import models as intake_models
from clearinghouse.intake.advisories import models as advisories_models
from clearinghouse.jobs import models as jobs_models
from clearinghouse.ledger import models as ledger_models
from clearinghouse.matching import models as matching_models
from clearinghouse.notifications import models as notifications_models
from clearinghouse.priority import models as priority_models
from clearinghouse.programs import models as programs_models
from clearinghouse.repro import models as repro_models
from clearinghouse.sharing import models as sharing_models
from clearinghouse.sharing.taxii import models as taxii_models
from clearinghouse.storage._base import Base
from clearinghouse.triage import models as triage_models
from clearinghouse.web import models as web_models

metadata = Base.metadata

__all__ = [
    "access_models",
    "advisories_models",
    "coordination_models",
    "directives_models",
    "enforcement_models",
    "frontier_evaluation_models",
    "frontier_models",
    "intake_models",
    "jobs_models",
    "ledger_models",
    "matching_models",
    "metadata",
    "notifications_models",
    "priority_models",
    "programs_models",
    "repro_models",
    "sharing_models",
    "taxii_models",
    "triage_models",
    "web_models",
]

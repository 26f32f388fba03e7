"""Every model module, imported so that migrations see the whole schema.

A feature that adds tables adds its ``models`` module here.
"""

from clearinghouse.access import models as access_models
from clearinghouse.jobs import models as jobs_models
from clearinghouse.ledger import models as ledger_models
from clearinghouse.sharing import models as sharing_models
from clearinghouse.storage._base import Base

metadata = Base.metadata

__all__ = ["access_models", "jobs_models", "ledger_models", "metadata", "sharing_models"]

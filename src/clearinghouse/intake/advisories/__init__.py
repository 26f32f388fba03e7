"""The store of known public advisories: import OSV (and converted rubysec and
Node.js security WG) records and the CISA KEV catalog, and look findings up
against them.

    report = import_paths(runtime.uow, [Path("advisory-database/vulns")], progress=callback)
    with runtime.uow(actor, write=False) as uow:
        package_known(uow.session, "pypi", "Django")              # any advisory names it
        version_known(uow.session, "PyPI", "Django", "3.2.1")     # the data names that version
        version_affected(uow.session, "PyPI", "Django", "3.2.1")  # an advisory affects it
"""

from clearinghouse.intake.advisories._loaders import Issue
from clearinghouse.intake.advisories._osv import RecordError, parse_timestamp
from clearinghouse.intake.advisories.models import Advisory, AdvisoryAffected, AdvisoryAlias, KevEntry
from clearinghouse.intake.advisories.services import (
    ImportReport,
    ProgressCallback,
    advisories_affecting,
    advisories_for_alias,
    import_paths,
    kev_entry,
    not_informational,
    package_known,
    render_report,
    rich_progress,
    version_affected,
    version_known,
)

__all__ = [
    "Advisory",
    "AdvisoryAffected",
    "AdvisoryAlias",
    "ImportReport",
    "Issue",
    "KevEntry",
    "ProgressCallback",
    "RecordError",
    "advisories_affecting",
    "advisories_for_alias",
    "import_paths",
    "kev_entry",
    "not_informational",
    "package_known",
    "parse_timestamp",
    "render_report",
    "rich_progress",
    "version_affected",
    "version_known",
]

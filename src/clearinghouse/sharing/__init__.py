"""Sharing: marked information products the clearinghouse distributes to its
community — bulletins, grouped into collections — and the machine-readable
distribution formats.

A bulletin's effective handling is the most restrictive of its own marking
and its collection's.

Distribution formats, all written from one model (``_record.AdvisoryRecord``):

* ``exports/``: pure writers, record -> CSAF 2.0 (advisory or VEX profile),
  OSV 1.7, CVE JSON 5.1 CNA container, STIX 2.1 bundle (TLP 2.0 markings),
  OpenVEX 0.2.0;
* ``_records``: where records come from — advisories imported from public
  databases (``record_from_advisory``) and the clearinghouse's published cases
  (through coordination) — and ``resolve_record`` (a case id, or any advisory
  id or alias);
* ``_osv_api``: the OSV query service (``/v1/query``, ``/v1/querybatch``,
  ``/v1/vulns/{id}``) over an in-memory index of the imported advisories;
* ``_provider``: the CSAF 2.0 trusted provider (``/.well-known/csaf/``) with
  hashes and OpenPGP signatures;
* ``feed_views`` (HTTP) and ``cli`` (``clearinghouse export``).

Every read goes through the access policy; TAXII lives in ``taxii/``.
"""

from clearinghouse.domain import AdvisoryRecord
from clearinghouse.sharing._records import record_from_advisory, resolve_record
from clearinghouse.sharing.exports import ExportFormat, export
from clearinghouse.sharing.models import Bulletin, Collection

__all__ = [
    "AdvisoryRecord",
    "Bulletin",
    "Collection",
    "ExportFormat",
    "export",
    "record_from_advisory",
    "resolve_record",
]

"""Sharing: marked information products the clearinghouse distributes to its
community — bulletins, grouped into collections.

A bulletin's effective handling is the most restrictive of its own marking
and its collection's. Later issues add the machine-readable feeds (CSAF,
OSV, STIX/TAXII) here; they read through the same access policy.
"""

from clearinghouse.sharing.models import Bulletin, Collection

__all__ = ["Bulletin", "Collection"]

"""Normalizing scan targets so that overlaps are found whatever the spelling."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from packageurl import PackageURL

_HOST = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$", re.IGNORECASE
)


def normalize_target(target: str) -> str:
    """A comparable key: ``purl:<type>/<namespace>/<name>`` (versions and qualifiers
    ignored: scanning a package at any version scans the package) or
    ``repo:<host>/<path>`` (scheme, ``.git`` and trailing slashes dropped)."""
    target = target.strip()
    if target.startswith("pkg:"):
        purl = PackageURL.from_string(target)
        name = purl.name.lower()
        namespace = (purl.namespace or "").lower()
        if purl.type == "pypi":
            name = re.sub(r"[-_.]+", "-", name)
        return f"purl:{purl.type}/{namespace}/{name}"
    parts = urlsplit(target if "://" in target else f"https://{target}")
    path = parts.path.rstrip("/").removesuffix(".git").lower()
    if not _HOST.match(parts.netloc) or not path.strip("/"):
        raise ValueError(f"{target!r} is neither a purl nor a repository URL (host/owner/repo)")
    return f"repo:{parts.netloc.lower()}{path}"

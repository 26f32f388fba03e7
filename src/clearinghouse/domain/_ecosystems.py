"""Ecosystem names, package-name normalization, and version ordering per ecosystem.

OSV names an ecosystem (``PyPI``, ``npm``, ``Debian:11`` ...); intake submits
purls (``pkg:pypi/...``). Both spellings map to one canonical ecosystem, and a
package name is normalized the way its registry compares names, so that
``Django_REST.framework`` and ``django-rest-framework`` are the same PyPI
package.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from univers import gem as _gem
from univers import versions as _uv

# The OSV ecosystem list (ossf/osv-schema ``ecosystems.json``), plus the two
# this importer adds for converted data: Node.js core (nodejs/security-wg) and
# Ruby interpreters (rubysec ``rubies/``).
OSV_ECOSYSTEMS = (
    "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers",
    "Bioconductor", "Bitnami", "Chainguard", "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian",
    "Docker Hardened Images", "Echo", "FreeBSD", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia",
    "Kubernetes", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE",
    "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems",
    "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi",
)  # fmt: skip
NODEJS = "Node.js"
RUBY = "Ruby"

_CANONICAL: dict[str, str] = {e.lower(): e for e in (*OSV_ECOSYSTEMS, NODEJS, RUBY)}
# purl types (https://github.com/package-url/purl-spec) that name an OSV ecosystem.
_CANONICAL.update(
    {
        "pypi": "PyPI",
        "gem": "RubyGems",
        "golang": "Go",
        "cargo": "crates.io",
        "composer": "Packagist",
        "nuget": "NuGet",
        "hex": "Hex",
        "pub": "Pub",
        "maven": "Maven",
        "npm": "npm",
        "deb": "Debian",
        "apk": "Alpine",
        "cran": "CRAN",
        "hackage": "Hackage",
        "swift": "SwiftURL",
        "githubactions": "GitHub Actions",
        "github": "GitHub Actions",
        "bitnami": "Bitnami",
        "conan": "ConanCenter",
    }
)


def split_ecosystem(value: str) -> tuple[str, str | None]:
    """``"Debian:11"`` -> ``("Debian", "11")``; the base is canonicalized."""
    base, sep, variant = value.strip().partition(":")
    return canonical_ecosystem(base), (variant.strip() or None) if sep else None


def ecosystem_of_purl_type(purl_type: str) -> str | None:
    """The OSV ecosystem a purl type names, or None (``generic``, ``oci``, ...)."""
    return _CANONICAL.get(purl_type.strip().lower())


def canonical_ecosystem(value: str) -> str:
    """The OSV spelling of an ecosystem given as OSV name or purl type, any case."""
    value = value.strip()
    return _CANONICAL.get(value.lower(), value)


_PEP503 = re.compile(r"[-_.]+")
_LOWER = frozenset(
    {"npm", "NuGet", "Packagist", "Hex", "Pub", "GitHub Actions", "Debian", "Ubuntu", "Alpine", NODEJS}
)


def normalize_name(ecosystem: str, name: str) -> str:
    """A package name as its registry compares names (PEP 503 for PyPI, lowercase for npm, ...).

    Registries that compare names case-sensitively (Go module paths, Maven
    coordinates, RubyGems) keep the name as given.
    """
    name = name.strip()
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    if ecosystem == "crates.io":
        return name.lower().replace("_", "-")
    if ecosystem in _LOWER:
        return name.lower()
    return name


# -- version ordering ------------------------------------------------------

_SCHEMES: dict[str, Any] = {
    "PyPI": _uv.PypiVersion,
    "npm": _uv.SemverVersion,
    "crates.io": _uv.SemverVersion,
    "Hex": _uv.SemverVersion,
    "Pub": _uv.SemverVersion,
    NODEJS: _uv.SemverVersion,
    "Go": _uv.GolangVersion,
    "RubyGems": _uv.RubygemsVersion,
    RUBY: _uv.RubygemsVersion,
    "Maven": _uv.MavenVersion,
    "NuGet": _uv.NugetVersion,
    "Packagist": _uv.ComposerVersion,
    "Debian": _uv.DebianVersion,
    "Ubuntu": _uv.DebianVersion,
    "Alpine": _uv.AlpineLinuxVersion,
}
SEMVER: Any = _uv.SemverVersion


class UnorderedVersion(ValueError):
    """A version string the ecosystem's scheme cannot place in order."""


def version_parser(ecosystem: str, range_type: str = "ECOSYSTEM") -> Callable[[str], Any] | None:
    """A function turning a version string into an orderable value, or None if unknown."""
    scheme = SEMVER if range_type == "SEMVER" else _SCHEMES.get(ecosystem)
    if scheme is None:
        return None
    return functools.partial(_parse, scheme)


@functools.lru_cache(maxsize=65536)
def _parse(scheme: Any, value: str) -> Any:
    try:
        return scheme(value)
    except Exception as exc:  # univers raises several kinds for a bad version
        raise UnorderedVersion(f"{value!r} is not a valid {scheme.__name__}") from exc


_GemVersion: Any = _gem.GemVersion


@functools.lru_cache(maxsize=16384)
def gem_key(value: str) -> Any:
    """An orderable RubyGems version (``Gem::Version`` rules)."""
    try:
        return _GemVersion(value)
    except Exception as exc:
        raise UnorderedVersion(f"{value!r} is not a RubyGems version") from exc

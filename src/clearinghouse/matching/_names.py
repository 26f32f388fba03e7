"""Package identities: the ecosystem, the name as written, and the key names are compared by.

An advisory names a package by OSV ecosystem and name (``PyPI``/``Django``), by
purl (``pkg:pypi/django``), or by CVE/CSAF vendor and product (which the
importers write as ``pkg:generic/<vendor>/<product>``). An SBOM component names
it by purl, by ecosystem and name, or only by CPE. All of them become a
:class:`PackageName`, whose ``key`` is the name as the registry compares names:

* PyPI: PEP 503 (``Django_REST.framework`` is ``django-rest-framework``).
* npm: lowercase, scope kept with its ``@`` (``@babel/core``).
* Maven: ``group:artifact``, lowercase.
* Go: the module path, case-sensitive (``github.com/Sirupsen/logrus`` and
  ``github.com/sirupsen/logrus`` are different modules); a trailing ``/vN``
  (N >= 2) is part of the path, see :func:`go_major_alias`.
* crates.io: lowercase, ``_`` is ``-``. RubyGems, NuGet, Packagist, Hex, Pub,
  Debian, Ubuntu, Alpine: lowercase.
* generic (CVE/CSAF vendor/product): ``vendor/product``, lowercase, spaces as ``_``
  (the way CPE writes them).

The ecosystem spellings and the base normalization come from
:mod:`clearinghouse.domain`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from packageurl import PackageURL

from clearinghouse.domain import canonical_ecosystem, normalize_name, split_ecosystem

GENERIC = "generic"

PurlId = tuple[str, str, str]
"""A purl's ``(type, namespace, name)`` as packageurl-python parses it ("" for no namespace)."""


@dataclass(frozen=True, slots=True)
class PackageName:
    """One package: canonical ecosystem, name as written, comparison key, purl identity, distro release."""

    ecosystem: str
    name: str
    key: str
    purl: PurlId | None = None
    variant: str | None = None  # a distro release ("11" of ``Debian:11``, ``?distro=debian-11``)

    def __str__(self) -> str:
        return f"{self.ecosystem}{':' + self.variant if self.variant else ''}/{self.name}"


# -- normalization -------------------------------------------------------------------------------

_LOWER = frozenset({"Maven", "RubyGems", "Ruby", "crates.io", "Packagist", "NuGet", "Hex", "Pub"})
_SPACES = re.compile(r"\s+")
_GO_MAJOR = re.compile(r"^(.+)/v([2-9]|[1-9][0-9]+)$")


def normalize(ecosystem: str, name: str) -> str:
    """The key of ``name`` within ``ecosystem`` (a canonical OSV ecosystem name, or ``generic``)."""
    name = name.strip()
    if ecosystem == "Go":
        for prefix in ("https://", "http://"):
            name = name.removeprefix(prefix)
        return name.rstrip("/")
    if ecosystem == "Maven":
        # purls and some SBOMs write group/artifact; OSV writes group:artifact.
        if ":" not in name and "/" in name:
            group, _, artifact = name.rpartition("/")
            name = f"{group.replace('/', '.')}:{artifact}"
        return name.lower()
    if ecosystem == "npm" and "/" in name and not name.startswith("@"):
        name = "@" + name
    if ecosystem == GENERIC:
        return _SPACES.sub("_", name).lower()
    name = normalize_name(ecosystem, name)
    return name.lower() if ecosystem in _LOWER else name


def go_major_alias(module: str, version: str | None) -> str | None:
    """The ``/vN`` module path an SBOM may have shortened: ``example.com/m`` at ``v2.1.0`` is ``.../m/v2``.

    From major version 2 a Go module's path ends in ``/vN``; some SBOM tools drop
    the suffix. A version marked ``+incompatible`` belongs to a module without the
    suffix (it predates Go modules), so it has no alias; neither has a path that
    already ends in ``/vN``.
    """
    if not version or "+incompatible" in version or _GO_MAJOR.match(module):
        return None
    match = re.match(r"^v?([0-9]+)\.", version)
    if match is None or int(match.group(1)) < 2:
        return None
    return f"{module}/v{int(match.group(1))}"


_VARIANT = re.compile(r"[0-9]+(?:\.[0-9]+)*")


def variant_token(value: str | None) -> str | None:
    """The release number in a distro name: ``Debian:11`` -> ``11``, ``alpine-3.16`` / ``v3.16`` -> ``3.16``.

    None when there is none (a codename such as ``bullseye``): then releases cannot be compared.
    """
    if not value:
        return None
    match = _VARIANT.search(value)
    return match.group(0) if match else None


# -- purls -------------------------------------------------------------------------------------

_NAMESPACED = frozenset({"golang", "composer", "generic", "github", "gitlab", "bitbucket", "swift", "conan"})
_DISTRO_TYPES = frozenset({"deb", "apk", "rpm"})
_DISTROS = {
    ("deb", "ubuntu"): "Ubuntu",
    ("deb", "debian"): "Debian",
    ("apk", "alpine"): "Alpine",
    ("apk", "wolfi"): "Wolfi",
    ("apk", "chainguard"): "Chainguard",
    ("rpm", "redhat"): "Red Hat",
    ("rpm", "almalinux"): "AlmaLinux",
    ("rpm", "rocky"): "Rocky Linux",
    ("rpm", "opensuse"): "openSUSE",
    ("rpm", "suse"): "SUSE",
    ("rpm", "openeuler"): "openEuler",
}
_ECOSYSTEM_PURL: dict[str, tuple[str, str | None]] = {
    "PyPI": ("pypi", None),
    "npm": ("npm", None),
    "Maven": ("maven", None),
    "Go": ("golang", None),
    "crates.io": ("cargo", None),
    "RubyGems": ("gem", None),
    "NuGet": ("nuget", None),
    "Packagist": ("composer", None),
    "Hex": ("hex", None),
    "Pub": ("pub", None),
    "CRAN": ("cran", None),
    "Hackage": ("hackage", None),
    "SwiftURL": ("swift", None),
    "ConanCenter": ("conan", None),
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    GENERIC: ("generic", None),
}


def split_purl(purl: str) -> tuple[str, str | None, str]:
    """``(purl without its version, the version, the qualifiers text)``; the subpath is dropped."""
    core, _, qualifiers = purl.strip().partition("#")[0].partition("?")
    head, sep, version = core.rpartition("@")
    if sep and version and "/" not in version and not head.endswith("/"):
        return head, unquote(version), qualifiers
    return core, None, qualifiers


def _ecosystem_of(kind: str, namespace: str) -> str:
    if kind in _DISTRO_TYPES:
        return _DISTROS.get((kind, namespace.lower()), canonical_ecosystem(kind))
    if kind == "generic":
        return GENERIC
    return canonical_ecosystem(kind)


def _name_of(kind: str, namespace: str, name: str) -> str:
    if not namespace or kind in _DISTRO_TYPES:
        return name
    if kind == "maven":
        return f"{namespace}:{name}"
    if kind == "npm":
        return f"{namespace if namespace.startswith('@') else '@' + namespace}/{name}"
    if kind in _NAMESPACED:
        return f"{namespace}/{name}"
    return name


@functools.lru_cache(maxsize=131_072)
def _purl_identity(core: str, qualifiers: str) -> PackageName:
    parsed = PackageURL.from_string(core + ("?" + qualifiers if qualifiers else ""))
    kind = parsed.type.lower()
    namespace = parsed.namespace or ""
    ecosystem = _ecosystem_of(kind, namespace)
    name = _name_of(kind, namespace, parsed.name)
    quals = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    variant = variant_token(quals.get("distro")) if kind in _DISTRO_TYPES else None
    return PackageName(ecosystem, name, normalize(ecosystem, name), (kind, namespace, parsed.name), variant)


@functools.lru_cache(maxsize=262_144)
def from_purl(purl: str) -> tuple[PackageName, str | None]:
    """The package a purl names, and its version (None without one). Raises ValueError if malformed."""
    core, version, qualifiers = split_purl(purl)
    return _purl_identity(core, qualifiers), version


@functools.lru_cache(maxsize=65_536)
def purl_identity_for(ecosystem: str, name: str) -> PurlId | None:
    """The purl ``(type, namespace, name)`` of a package given by ecosystem and name, if any."""
    known = _ECOSYSTEM_PURL.get(ecosystem)
    if known is None:
        return None
    kind, namespace = known
    if kind == "maven" and ":" in name:
        namespace, _, name = name.partition(":")
    elif kind in _NAMESPACED or kind == "npm":
        ns, _, bare = name.rpartition("/")
        namespace, name = ns or namespace, bare
    try:
        parsed = PackageURL(type=kind, namespace=namespace, name=name)
    except ValueError:
        return None
    return (parsed.type, parsed.namespace or "", parsed.name)


@functools.lru_cache(maxsize=65_536)
def package_name(ecosystem: str, name: str, purl: str | None = None) -> PackageName:
    """A package named by ecosystem (an OSV name such as ``Debian:11``, or a purl type) and name.

    ``purl`` (OSV ``package.purl``), when given, is its purl identity; otherwise
    one is made from the ecosystem and name where the ecosystem has a purl type.
    """
    base, variant = split_ecosystem(ecosystem)
    if base.lower() == GENERIC:
        base = GENERIC
    identity: PurlId | None = None
    if purl:
        try:
            identity = from_purl(purl)[0].purl
        except ValueError:
            identity = None
    if identity is None:
        identity = purl_identity_for(base, name.strip())
    return PackageName(base, name.strip(), normalize(base, name), identity, variant_token(variant))


def clear_name_caches() -> None:
    for cached in (_purl_identity, from_purl, purl_identity_for, package_name, parse_cpe):
        cached.cache_clear()


# -- CPEs ----------------------------------------------------------------------------------------

_CPE23_SPLIT = re.compile(r"(?<!\\):")


@dataclass(frozen=True, slots=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str | None

    @property
    def key(self) -> str:
        """``vendor:product``, the key generic products are indexed by."""
        return f"{self.vendor}:{self.product}"


def _cpe_value(raw: str) -> str:
    return unquote(raw.replace("\\", "")).strip().lower()


@functools.lru_cache(maxsize=65_536)
def parse_cpe(cpe: str) -> Cpe | None:
    """A CPE 2.3 formatted string (``cpe:2.3:a:apache:log4j:2.14.1:*:...``) or 2.2 URI (``cpe:/a:...``)."""
    text = cpe.strip()
    if text.lower().startswith("cpe:2.3:"):
        fields = _CPE23_SPLIT.split(text)[2:]
    elif text.lower().startswith("cpe:/"):
        fields = text[5:].split(":")
    else:
        return None
    if len(fields) < 3:
        return None
    part, vendor, product = (_cpe_value(f) for f in fields[:3])
    if vendor in ("", "*", "-") or product in ("", "*", "-"):
        return None
    version = _cpe_value(fields[3]) if len(fields) > 3 else ""
    return Cpe(part, vendor, product, None if version in ("", "*", "-") else version)


def generic_cpe_key(package: PackageName) -> str | None:
    """``vendor:product`` of a generic package ``vendor/product``; None without a vendor."""
    if package.ecosystem != GENERIC or "/" not in package.key:
        return None
    vendor, _, product = package.key.rpartition("/")
    return f"{vendor}:{product}" if vendor and product else None

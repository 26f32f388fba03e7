"""Ecosystem adapters: where a package's releases are listed, how one release is fetched into the
content-addressed cache, installed into an environment of its own, and shown to the sandbox.

An adapter implements :class:`Ecosystem`; PyPI and npm are here. Go modules, crates and C with
sanitizers fit the same five operations (list releases with dates, fetch an artifact by digest,
install as of a date, mounts and environment for the sandbox, the command for a runtime) without
touching the runner, the jobs or the storage.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from clearinghouse.repro._outbound import fetch_bytes, fetch_json
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.sandbox import Mount

SYSTEM_PYTHON = "/usr/bin/python3"
SYSTEM_NODE = "/usr/bin/node"


class EnvironmentError_(Exception):
    """The release cannot be fetched or installed; the message is the installer's."""


@dataclass(frozen=True)
class Release:
    version: str
    published: dt.datetime | None
    yanked: bool = False


@dataclass(frozen=True)
class Environment:
    """An installed release, ready to be mounted read-only into a sandbox."""

    ecosystem: str
    name: str
    version: str
    path: Path
    artifact_sha256: str


class Ecosystem(Protocol):
    purl_type: str
    osv_name: str
    runtimes: frozenset[str]

    def releases(self, name: str) -> list[Release]:
        """Every release, oldest first by the ecosystem's version order."""
        ...

    def version_key(self, version: str) -> Any: ...

    def is_prerelease(self, version: str) -> bool: ...

    def environment(self, name: str, version: str) -> Environment:
        """Fetch (once, into the cache) and install (once) ``name`` at ``version``."""
        ...

    def cached(self, name: str, version: str) -> Environment | None:
        """``name`` at ``version`` if it is installed in the cache already; never fetches."""
        ...

    def sandbox_view(self, env: Environment) -> tuple[list[Mount], dict[str, str]]: ...

    def command(self, runtime: str, entrypoint: str) -> list[str]: ...

    def smoke(self, env: Environment) -> list[str]:
        """A command that loads the installed package: an environment that cannot is an ``error``,
        never a silent ``not_reproduced``."""
        ...


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", part)[:200] or "_"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_tree(path: Path) -> None:
    """Let the sandbox (uid 65534 when we are root) read an installed tree."""
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                mode = os.stat(full).st_mode
                os.chmod(full, 0o755 if mode & 0o111 else 0o644)
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, 0o755)


class _Base(abc.ABC):
    purl_type = ""
    osv_name = ""
    runtimes: frozenset[str] = frozenset()

    def __init__(self, settings: ReproSettings) -> None:
        self.settings = settings

    # -- cache ----------------------------------------------------------------------------

    def _blob(self, url: str, expected: dict[str, str], filename: str) -> tuple[Path, str]:
        """The artifact at ``url``, downloaded once into ``blobs/sha256/<digest>/``."""
        known = expected.get("sha256")
        if known:
            cached = self.settings.cache_dir / "blobs" / "sha256" / known / _safe(filename)
            if cached.exists():
                return cached, known
        data = fetch_bytes(url, self.settings)
        digest = hashlib.sha256(data).hexdigest()
        if known and digest != known:
            raise EnvironmentError_(f"{filename}: SHA-256 {digest} is not the index's {known}")
        if "sha512" in expected and hashlib.sha512(data).digest() != base64.b64decode(expected["sha512"]):
            raise EnvironmentError_(f"{filename}: the integrity hash does not match the registry's")
        if "sha1" in expected and hashlib.sha1(data).hexdigest() != expected["sha1"]:
            raise EnvironmentError_(f"{filename}: the shasum does not match the registry's")
        folder = self.settings.cache_dir / "blobs" / "sha256" / digest
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _safe(filename)
        tmp = folder / (target.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target, digest

    def _env_dir(self, name: str, version: str) -> Path:
        return self.settings.cache_dir / "envs" / self.purl_type / _safe(name) / _safe(version)

    def cached(self, name: str, version: str) -> Environment | None:
        folder = self._env_dir(name, version)
        try:
            data = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        return Environment(self.purl_type, name, version, folder, str(data["artifact_sha256"]))

    def environment(self, name: str, version: str) -> Environment:
        folder = self._env_dir(name, version)
        manifest = folder / "manifest.json"
        with _locked(folder.parent / f".{folder.name}.lock"):
            if manifest.exists():
                data = json.loads(manifest.read_text())
                return Environment(self.purl_type, name, version, folder, str(data["artifact_sha256"]))
            release = next((r for r in self.releases(name) if r.version == version), None)
            if release is None:
                raise EnvironmentError_(f"{self.purl_type} has no release {version} of {name}")
            if folder.exists():
                shutil.rmtree(folder)
            work = Path(tempfile.mkdtemp(prefix=".install-", dir=folder.parent))
            try:
                sha = self._install(name, release, work)
                _open_tree(work)
                (work / "manifest.json").write_text(
                    json.dumps({"name": name, "version": version, "artifact_sha256": sha})
                )
                os.replace(work, folder)
            finally:
                if work.exists():
                    shutil.rmtree(work, ignore_errors=True)
            return Environment(self.purl_type, name, version, folder, sha)

    @abc.abstractmethod
    def releases(self, name: str) -> list[Release]:
        """Every release, oldest first."""

    @abc.abstractmethod
    def _install(self, name: str, release: Release, target: Path) -> str:
        """Fetch the release's artifact into the cache and install it into ``target``; its SHA-256."""

    def _before(self, release: Release) -> str | None:
        """The resolution date: dependencies as they were when the release came out (plus a day)."""
        if release.published is None:
            return None
        return (release.published + dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _install_dated(
        self,
        argv: list[str],
        flag: list[str],
        release: Release,
        artifact: str,
        env: dict[str, str],
        out: Path,
    ) -> None:
        """Dependencies as of the release date first; if that cannot install (an old dependency with
        no wheel for today's Python, say), today's dependencies; else the installer's messages."""
        before = self._before(release)
        if before is None:
            self._run_installer([*argv, artifact], env)
            return
        try:
            self._run_installer([*argv, *flag, before, artifact], env)
        except EnvironmentError_ as dated:
            shutil.rmtree(out, ignore_errors=True)
            try:
                self._run_installer([*argv, artifact], env)
            except EnvironmentError_ as current:
                raise EnvironmentError_(
                    f"as of {before}: {dated}\nwith current dependencies: {current}"
                ) from current

    def _run_installer(self, argv: Sequence[str], env: dict[str, str]) -> None:
        try:
            done = subprocess.run(
                list(argv),
                capture_output=True,
                timeout=self.settings.install_timeout_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EnvironmentError_(f"the installer ran past {self.settings.install_timeout_s} s") from exc
        except FileNotFoundError as exc:
            raise EnvironmentError_(f"the installer is missing: {exc.filename}") from exc
        if done.returncode != 0:
            message = (done.stderr or done.stdout).decode(errors="replace").strip()
            raise EnvironmentError_(message[-4000:] or f"the installer exited with {done.returncode}")


_KEEP = ("PATH", "HOME", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE")
_KEEP_PREFIXES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "npm_config_",
    "UV_",
    "PIP_",
)


def _base_env() -> dict[str, str]:
    """The installers' environment: the operator's certificates, proxies and installer settings,
    nothing else of ours (never the data folder's variables)."""
    return {k: v for k, v in os.environ.items() if k in _KEEP or k.startswith(_KEEP_PREFIXES)}


class PyPI(_Base):
    purl_type = "pypi"
    osv_name = "PyPI"
    runtimes = frozenset({"python3", "sh"})

    def _project_url(self, name: str) -> str:
        return f"{self.settings.pypi_json.rstrip('/')}/{canonicalize_name(name)}/json"

    def _project(self, name: str) -> dict[str, Any]:
        url = self._project_url(name)
        data = fetch_json(url, self.settings)
        if not isinstance(data, dict) or not isinstance(data.get("releases"), dict):
            raise EnvironmentError_(f"the index has no project {name}")
        return data

    def releases(self, name: str) -> list[Release]:
        out = []
        for version, files in self._project(name)["releases"].items():
            if not files:
                continue
            try:
                Version(version)
            except InvalidVersion:
                continue
            times = [
                t for f in files if (t := _parse_time(f.get("upload_time_iso_8601") or f.get("upload_time")))
            ]
            yanked = all(bool(f.get("yanked")) for f in files)
            out.append(Release(version, min(times) if times else None, yanked))
        return sorted(out, key=lambda r: Version(r.version))

    def version_key(self, version: str) -> Any:
        try:
            return (0, Version(version))
        except InvalidVersion:
            return (-1, Version("0"))

    def is_prerelease(self, version: str) -> bool:
        try:
            return Version(version).is_prerelease
        except InvalidVersion:
            return True

    @staticmethod
    def _wheel_rank(filename: str) -> int:
        """Lower is better: pure wheels, then CPython 3.11 / abi3 manylinux x86_64; others unusable."""
        stem = filename[:-4]
        parts = stem.split("-")
        if len(parts) < 5:
            return 99
        py, abi, plat = parts[-3], parts[-2], parts[-1]
        if (
            plat == "any"
            and abi == "none"
            and any(p.startswith(("py3", "cp3")) or p == "py2.py3" for p in py.split("."))
        ):
            return 0
        linux = "manylinux" in plat and "x86_64" in plat
        if linux and ("cp311" in py.split(".") and abi in ("cp311", "abi3", "none")):
            return 1
        if linux and abi == "abi3":
            return 2
        return 99

    def _install(self, name: str, release: Release, target: Path) -> str:
        files = self._project(name)["releases"].get(release.version) or []
        wheels = sorted(
            (f for f in files if str(f.get("filename", "")).endswith(".whl")),
            key=lambda f: self._wheel_rank(str(f["filename"])),
        )
        usable = [f for f in wheels if self._wheel_rank(str(f["filename"])) < 99]
        if not usable:
            raise EnvironmentError_(
                f"{name} {release.version} has no wheel for CPython 3.11 on Linux; building a source "
                "distribution would run its code outside the sandbox, so the lab does not"
            )
        chosen = usable[0]
        url = urllib.parse.urljoin(
            self._project_url(name), str(chosen["url"])
        )  # mirrors answer relative URLs
        path, sha = self._blob(url, dict(chosen.get("digests") or {}), str(chosen["filename"]))
        uv = shutil.which("uv")
        if uv is None:
            raise EnvironmentError_("uv is not installed (the lab installs Python packages with uv)")
        argv = [uv, "pip", "install", "--quiet", "--python", SYSTEM_PYTHON, "--target", str(target / "site")]
        argv += ["--no-build", "--no-config"]
        if self.settings.pypi_index.startswith("file://"):
            argv += ["--no-index", "--find-links", self.settings.pypi_index[len("file://") :]]
        else:
            argv += ["--index-url", self.settings.pypi_index]
        env = _base_env() | {"UV_CACHE_DIR": str(self.settings.cache_dir / "uv-cache"), "UV_NO_PROGRESS": "1"}
        self._install_dated(argv, ["--exclude-newer"], release, str(path), env, target / "site")
        return sha

    def sandbox_view(self, env: Environment) -> tuple[list[Mount], dict[str, str]]:
        site = env.path / "site"
        return [Mount(host=site, target="/env/site")], {
            "PYTHONPATH": "/env/site",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            "PATH": "/env/site/bin:/usr/bin:/bin",
        }

    def command(self, runtime: str, entrypoint: str) -> list[str]:
        return [SYSTEM_PYTHON, entrypoint] if runtime == "python3" else ["/bin/sh", entrypoint]

    def smoke(self, env: Environment) -> list[str]:
        site = env.path / "site"
        wanted = str(canonicalize_name(env.name))
        modules: set[str] = set()
        for info in site.glob("*.dist-info"):
            if str(canonicalize_name(info.name.rsplit("-", 1)[0])) != wanted:
                continue
            top = info / "top_level.txt"
            if top.exists():
                modules |= {line.strip() for line in top.read_text().splitlines() if line.strip()}
            elif (info / "RECORD").exists():
                for line in (info / "RECORD").read_text().splitlines():
                    first = line.split(",", 1)[0].split("/", 1)
                    if (
                        len(first) == 2
                        and not first[0].endswith((".dist-info", ".data"))
                        and first[0] != "bin"
                    ):
                        modules.add(first[0])
                    elif len(first) == 1 and first[0].endswith(".py"):
                        modules.add(first[0][:-3])
        names = sorted(m for m in modules if m.isidentifier() and not m.startswith("_"))
        return [SYSTEM_PYTHON, "-c", "".join(f"import {m}\n" for m in names) or "pass"]


_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str) -> tuple[Any, ...]:
    match = _SEMVER.match(version.strip())
    if not match:
        return (-1, 0, 0, 0, ())
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = (1,)
    if pre:
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (0, int(major), int(minor), int(patch), pre_key)


class Npm(_Base):
    purl_type = "npm"
    osv_name = "npm"
    runtimes = frozenset({"node", "sh"})

    def _packument(self, name: str) -> dict[str, Any]:
        quoted = name.replace("/", "%2f")
        data = fetch_json(f"{self.settings.npm_registry.rstrip('/')}/{quoted}", self.settings)
        if not isinstance(data, dict) or not isinstance(data.get("versions"), dict):
            raise EnvironmentError_(f"the registry has no package {name}")
        return data

    def releases(self, name: str) -> list[Release]:
        doc = self._packument(name)
        times = doc.get("time") or {}
        out = [Release(v, _parse_time(times.get(v))) for v in doc["versions"] if _SEMVER.match(v)]
        return sorted(out, key=lambda r: semver_key(r.version))

    def version_key(self, version: str) -> Any:
        return semver_key(version)

    def is_prerelease(self, version: str) -> bool:
        match = _SEMVER.match(version)
        return match is None or match.group(4) is not None

    def _install(self, name: str, release: Release, target: Path) -> str:
        meta = self._packument(name)["versions"][release.version]
        dist = meta.get("dist") or {}
        expected: dict[str, str] = {}
        integrity = str(dist.get("integrity") or "")
        if integrity.startswith("sha512-"):
            expected["sha512"] = integrity[len("sha512-") :]
        if dist.get("shasum"):
            expected["sha1"] = str(dist["shasum"])
        registry = f"{self.settings.npm_registry.rstrip('/')}/"
        tarball = (
            urllib.parse.urljoin(registry, str(dist.get("tarball") or "")) if dist.get("tarball") else ""
        )
        if not tarball:
            raise EnvironmentError_(f"{name} {release.version} has no tarball in the registry")
        path, sha = self._blob(tarball, expected, f"{_safe(name)}-{release.version}.tgz")
        npm = shutil.which("npm")
        if npm is None:
            raise EnvironmentError_("npm is not installed (the lab installs npm packages with npm)")
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"name": "clearinghouse-repro-env", "private": true}\n')
        argv = [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--ignore-scripts"]
        argv += ["--no-package-lock", "--omit=dev", "--loglevel=error", "--no-update-notifier"]
        argv += ["--fetch-timeout=60000", "--fetch-retries=1"]
        if not self.settings.npm_registry.startswith("file://"):
            argv += ["--registry", self.settings.npm_registry]
        else:
            argv += ["--offline"]
        env = _base_env() | {"npm_config_cache": str(self.settings.cache_dir / "npm-cache")}
        self._install_dated(argv, ["--before"], release, str(path), env, target / "node_modules")
        return sha

    def sandbox_view(self, env: Environment) -> tuple[list[Mount], dict[str, str]]:
        modules = env.path / "node_modules"
        return [Mount(host=modules, target="/work/node_modules")], {
            "NODE_PATH": "/work/node_modules",
            "PATH": "/work/node_modules/.bin:/usr/bin:/bin",
        }

    def command(self, runtime: str, entrypoint: str) -> list[str]:
        return [SYSTEM_NODE, entrypoint] if runtime == "node" else ["/bin/sh", entrypoint]

    def smoke(self, env: Environment) -> list[str]:
        return [SYSTEM_NODE, "-e", f"require({json.dumps(env.name)})"]


ADAPTERS: dict[str, type[_Base]] = {"pypi": PyPI, "npm": Npm}


def adapter_for(purl_type: str, settings: ReproSettings) -> Ecosystem | None:
    cls = ADAPTERS.get(purl_type)
    return cls(settings) if cls is not None else None  # type: ignore[return-value]

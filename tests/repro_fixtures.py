"""Hermetic package indexes for the reproduction lab's tests: a tiny wheel and an npm tarball with a
known bug, introduced in 0.9 and fixed in 1.1, served from local files (no network)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

VERSIONS = ["0.8", "0.9", "1.0", "1.1", "1.2"]
AFFECTED = {"0.9", "1.0"}
NPM_VERSIONS = ["0.8.0", "0.9.0", "1.0.0", "1.1.0", "1.2.0"]
NPM_AFFECTED = {"0.9.0", "1.0.0"}


def _released(i: int) -> str:
    return (
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=30 * i))
        .isoformat()
        .replace("+00:00", "Z")
    )


def _wheel(name: str, version: str, source: str) -> bytes:
    buf = io.BytesIO()
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return buf.getvalue()


def _tarball(name: str, version: str, source: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path, data in {
            "package/package.json": json.dumps(
                {"name": name, "version": version, "main": "index.js"}
            ).encode(),
            "package/index.js": source.encode(),
        }.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass(frozen=True)
class LocalIndex:
    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "CLEARINGHOUSE_REPRO_PYPI_JSON": f"file://{self.root}/pypi",
            "CLEARINGHOUSE_REPRO_PYPI_INDEX": f"file://{self.root}/wheels",
            "CLEARINGHOUSE_REPRO_NPM_REGISTRY": f"file://{self.root}/npm",
            "CLEARINGHOUSE_REPRO_CACHE": str(self.root / "cache"),
        }


def build_index(root: Path) -> LocalIndex:
    """``tinyvuln`` (PyPI) and ``tinyvuln-js`` (npm): ``check()`` says PWNED in the affected versions."""
    (root / "wheels").mkdir(parents=True)
    (root / "pypi" / "tinyvuln").mkdir(parents=True)
    (root / "npm" / "-").mkdir(parents=True)
    releases: dict[str, list[dict[str, object]]] = {}
    for i, version in enumerate(VERSIONS):
        bug = version in AFFECTED
        body = "value" if bug else "value.replace(chr(0), str())"
        source = f"VERSION = {version!r}\n\ndef check(value):\n    return {body}\n"
        source += (
            "\ndef render(value):\n    return 'PWNED' if "
            + ("'\\x00' in value" if bug else "False")
            + " else 'safe'\n"
        )
        data = _wheel("tinyvuln", version, source)
        filename = f"tinyvuln-{version}-py3-none-any.whl"
        (root / "wheels" / filename).write_bytes(data)
        releases[version] = [
            {
                "filename": filename,
                "url": f"file://{root}/wheels/{filename}",
                "digests": {"sha256": hashlib.sha256(data).hexdigest()},
                "upload_time_iso_8601": _released(i),
                "yanked": False,
                "packagetype": "bdist_wheel",
            }
        ]
    (root / "pypi" / "tinyvuln" / "json").write_text(
        json.dumps({"info": {"name": "tinyvuln"}, "releases": releases})
    )
    versions: dict[str, object] = {}
    times: dict[str, str] = {}
    for i, version in enumerate(NPM_VERSIONS):
        bug = version in NPM_AFFECTED
        source = (
            "exports.merge = function (target, src) {\n"
            "  for (const k of Object.keys(src)) {\n"
            + ("" if bug else "    if (k === '__proto__') continue;\n")
            + "    if (typeof src[k] === 'object') { target[k] = exports.merge(target[k] || {}, src[k]); }\n"
            "    else { target[k] = src[k]; }\n  }\n  return target;\n};\n"
        )
        data = _tarball("tinyvuln-js", version, source)
        filename = f"tinyvuln-js-{version}.tgz"
        (root / "npm" / "-" / filename).write_bytes(data)
        versions[version] = {
            "name": "tinyvuln-js",
            "version": version,
            "dist": {
                "tarball": f"file://{root}/npm/-/{filename}",
                "shasum": hashlib.sha1(data).hexdigest(),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
            },
        }
        times[version] = _released(i)
    (root / "npm" / "tinyvuln-js").write_text(
        json.dumps({"name": "tinyvuln-js", "versions": versions, "time": times})
    )
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return LocalIndex(root)


PY_POC = b"import tinyvuln\nprint(tinyvuln.render('a\\x00b'))\n"
JS_POC = (
    b"const m = require('tinyvuln-js');\n"
    b'm.merge({}, JSON.parse(\'{"__proto__": {"polluted": "yes"}}\'));\n'
    b"console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');\n"
)

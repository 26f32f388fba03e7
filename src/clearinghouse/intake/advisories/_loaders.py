"""Finding, reading and recognizing advisory files, one record at a time.

Inputs are files and folder trees of OSV JSON/YAML, ``.tar.gz``/``.tgz``/
``.zip`` bundles of such files, JSON-lines bundles (``.jsonl``/``.ndjson``,
optionally gzipped; one OSV record per line), and the CISA KEV catalog. The
format is told by the name's extension and then by the content: OSV, rubysec
and Node.js security WG records (converted to OSV), the KEV catalog, or
something that is no advisory (a JSON Schema, an OpenVEX document, a README),
which a folder walk passes over with a notice and an explicitly named file
reports as an error.

Records stream: a folder is read one file at a time, a bundle one member or
line at a time, and bytes read are counted as they go for the progress bar.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import yaml

from clearinghouse.intake.advisories._convert import (
    is_rubysec,
    nodejs_kind,
    nodejs_to_osv,
    rubysec_to_osv,
)
from clearinghouse.intake.advisories._osv import RecordError, pointer_token


class _YamlLoader(yaml.CSafeLoader):
    """The C safe loader, with timestamps kept as the strings they were written as."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(data: bytes | str) -> Any:
    return yaml.load(data, Loader=_YamlLoader)  # a safe loader (CSafeLoader)


@dataclass(frozen=True, slots=True)
class Issue:
    """Something about one input: where (file, line, JSON pointer) and what."""

    file: str
    line: int | None
    pointer: str
    reason: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        return f"{where} {self.pointer or '/'}: {self.reason}"


@dataclass(slots=True)
class OsvItem:
    record: dict[str, Any]
    source: str
    line: int | None
    pointer: str  # where the record sits in its file ("" for a whole file)
    source_format: str


@dataclass(slots=True)
class KevItem:
    catalog: dict[str, Any]
    source: str


@dataclass(slots=True)
class ErrorItem:
    issue: Issue
    is_record: bool  # one bad record (counted as a record), or an unreadable file


@dataclass(slots=True)
class SkipItem:
    issue: Issue


Item = OsvItem | KevItem | ErrorItem | SkipItem

_ARCHIVE = (".tar.gz", ".tgz", ".tar", ".zip")
_NDJSON = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_JSON = (".json", ".json.gz")
_YAML = (".yaml", ".yml")


def file_kind(name: str) -> str | None:
    lower = name.lower()
    for kind, endings in (("archive", _ARCHIVE), ("ndjson", _NDJSON), ("json", _JSON), ("yaml", _YAML)):
        if lower.endswith(endings):
            return kind
    return None


def _is_kev(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("vulnerabilities"), list) and (
        "catalogVersion" in doc or "known exploited" in str(doc.get("title", "")).lower()
    )


def _is_osv(doc: dict[str, Any]) -> bool:
    if "affected" in doc or "modified" in doc or "schema_version" in doc:
        return True
    return "id" in doc and any(k in doc for k in ("aliases", "details", "summary", "published"))


def _recognized(doc: Any) -> bool:
    return isinstance(doc, dict) and (nodejs_kind(doc) is not None or is_rubysec(doc) or _is_osv(doc))


def _not_advisory(doc: dict[str, Any]) -> str | None:
    """Why a recognized document is not advisory data, or None."""
    if str(doc.get("@context", "")).startswith("https://openvex.dev"):
        return "an OpenVEX document (status statements, not advisories); not imported"
    if "$schema" in doc and any(k in doc for k in ("properties", "definitions", "$defs")):
        return "a JSON Schema, not advisory data"
    return None


class _Counted(io.RawIOBase):
    """A binary file that counts the bytes read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return int(n or 0)


@dataclass(slots=True)
class _Source:
    path: Path
    explicit: bool
    size: int


class Reader:
    """Reads advisory inputs in order and yields what they hold, item by item."""

    def __init__(self, paths: list[Path]) -> None:
        self.problems: list[Issue] = []
        self.sources: list[_Source] = []
        for path in paths:
            if path.is_dir():
                for file in _walk(path):
                    self.sources.append(_Source(file, False, _size(file)))
            elif path.is_file():
                self.sources.append(_Source(path, True, _size(path)))
            else:
                self.problems.append(Issue(str(path), None, "", "no such file or folder"))
        self.total_bytes = sum(s.size for s in self.sources)
        self._done_before = 0
        self._current: _Counted | None = None
        self.documents = 0

    @property
    def done_bytes(self) -> int:
        current = self._current.count if self._current is not None else 0
        return min(self.total_bytes, self._done_before + current)

    def items(self) -> Iterator[Item]:
        for issue in self.problems:
            yield ErrorItem(issue, False)
        for source in self.sources:
            try:
                with source.path.open("rb") as raw:
                    self._current = _Counted(raw)
                    yield from self._read(source, self._current)
            except OSError as exc:
                yield ErrorItem(Issue(str(source.path), None, "", f"cannot read: {exc}"), False)
            finally:
                self._current = None
                self._done_before += source.size

    def _read(self, source: _Source, stream: _Counted) -> Iterator[Item]:
        label = str(source.path)
        kind = file_kind(source.path.name)
        if kind is None:
            reason = (
                "not an advisory file type (.json, .yaml, .yml, .jsonl[.gz], .ndjson[.gz], .tar.gz, .zip)"
            )
            if source.explicit:
                yield ErrorItem(Issue(label, None, "", reason), False)
            else:
                yield SkipItem(Issue(label, None, "", reason))
            return
        if kind == "archive":
            yield from self._archive(source, stream, label)
        elif kind == "ndjson":
            yield from self._ndjson(stream, label, gzipped=source.path.name.lower().endswith(".gz"))
        else:
            data = stream.read()
            if source.path.name.lower().endswith(".gz"):
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError) as exc:
                    yield ErrorItem(Issue(label, None, "", f"not a readable gzip file: {exc}"), False)
                    return
            yield from self._document(
                data, kind, label, name=source.path.name, explicit=source.explicit, folder=source.path.parent
            )

    # -- containers --------------------------------------------------------

    def _archive(self, source: _Source, stream: _Counted, label: str) -> Iterator[Item]:
        members: Iterator[tuple[str, bytes]]
        if source.path.name.lower().endswith(".zip"):
            members = _zip_members(source.path)
        else:
            members = _tar_members(stream)
        try:
            for name, data in members:
                member_label = f"{label}::{name}"
                kind = file_kind(name)
                if kind in ("json", "yaml"):
                    if name.lower().endswith(".gz"):
                        data = gzip.decompress(data)
                    yield from self._document(
                        data, kind, member_label, name=name, explicit=False, folder=None
                    )
                elif kind == "ndjson":
                    inner: IO[bytes] = io.BytesIO(data)
                    yield from self._ndjson(inner, member_label, gzipped=name.lower().endswith(".gz"))
                else:
                    yield SkipItem(Issue(member_label, None, "", "not an advisory file type; passed over"))
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
            yield ErrorItem(Issue(label, None, "", f"cannot read the bundle: {exc}"), False)

    def _ndjson(self, stream: _Counted | IO[bytes], label: str, *, gzipped: bool) -> Iterator[Item]:
        self.documents += 1
        lines: Iterable[bytes]
        if gzipped:
            lines = gzip.GzipFile(fileobj=stream, mode="rb")
        elif isinstance(stream, _Counted):
            lines = io.BufferedReader(stream)
        else:
            lines = stream
        try:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except ValueError as exc:
                    yield ErrorItem(Issue(label, number, "", f"invalid JSON: {exc}"), True)
                    continue
                yield from self._record(doc, label, number, "", name=str(number), top=False)
        except (OSError, EOFError) as exc:
            yield ErrorItem(Issue(label, None, "", f"cannot read the bundle: {exc}"), False)

    # -- documents -------------------------------------------------------------

    def _document(
        self, data: bytes, kind: str, label: str, *, name: str, explicit: bool, folder: Path | None
    ) -> Iterator[Item]:
        self.documents += 1
        try:
            doc = json.loads(data) if kind == "json" else load_yaml(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            if isinstance(exc, json.JSONDecodeError) and exc.msg == "Extra data" and exc.lineno > 1:
                self.documents -= 1  # JSON lines under a .json name: read it as such
                yield from self._ndjson(io.BytesIO(data), label, gzipped=False)
                return
            line = getattr(exc, "lineno", None)
            yield ErrorItem(Issue(label, line, "", f"invalid JSON: {exc}"), True)
            return
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            yield ErrorItem(Issue(label, line, "", f"invalid YAML: {exc}".replace("\n", " ")), True)
            return
        if isinstance(doc, list):
            if not explicit and not any(_recognized(element) for element in doc):
                yield SkipItem(Issue(label, None, "", "a list of something other than advisories"))
                return
            for i, element in enumerate(doc):
                yield from self._record(element, label, None, f"/{i}", name=str(i), top=False)
            return
        if not isinstance(doc, dict):
            reason = f"a {type(doc).__name__}, not an advisory document"
            yield (
                ErrorItem(Issue(label, None, "", reason), True)
                if explicit
                else SkipItem(Issue(label, None, "", reason))
            )
            return
        if _is_kev(doc):
            yield KevItem(doc, label)
            return
        why_not = _not_advisory(doc)
        if why_not is not None:
            yield SkipItem(Issue(label, None, "", why_not))
            return
        if doc and all(k.isdigit() and isinstance(v, dict) for k, v in doc.items()):
            # nodejs/security-wg ``vuln/*/index.json``: the folder's records again, keyed by number.
            first = next(iter(doc))
            if folder is not None and not explicit and (folder / f"{first}.json").is_file():
                yield SkipItem(Issue(label, None, "", "an index that repeats the records of its folder"))
                return
            for key, value in doc.items():
                yield from self._record(value, label, None, f"/{pointer_token(key)}", name=key, top=False)
            return
        yield from self._record(doc, label, None, "", name=name, top=not explicit)

    def _record(
        self, doc: Any, label: str, line: int | None, pointer: str, *, name: str, top: bool
    ) -> Iterator[Item]:
        """One record; ``top`` is a whole file met in a folder walk, passed over if it is no advisory."""
        if not isinstance(doc, dict):
            yield ErrorItem(
                Issue(label, line, pointer, f"a {type(doc).__name__}, not an advisory record"), True
            )
            return
        node = nodejs_kind(doc)
        try:
            if node in ("npm", "core"):
                yield OsvItem(nodejs_to_osv(doc, node, name), label, line, pointer, "nodejs-security-wg")
            elif node == "assessment":
                reason = "a Node.js dependency assessment (a not-affected statement); not imported"
                yield SkipItem(Issue(label, line, pointer, reason))
            elif is_rubysec(doc):
                yield OsvItem(rubysec_to_osv(doc, name), label, line, pointer, "rubysec")
            elif _is_osv(doc):
                yield OsvItem(doc, label, line, pointer, "osv")
            elif top:
                yield SkipItem(Issue(label, line, pointer, "not an advisory format this importer knows"))
            else:
                reason = "not an advisory format this importer knows (OSV, rubysec, Node.js security WG)"
                yield ErrorItem(Issue(label, line, pointer, reason), True)
        except RecordError as exc:
            yield ErrorItem(Issue(label, line, pointer + exc.pointer, exc.reason), True)


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder, name)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tar_members(stream: _Counted) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            if member.isfile():
                extracted = tar.extractfile(member)
                if extracted is not None:
                    yield str(PurePosixPath(member.name)), extracted.read()


def _zip_members(path: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as bundle:
        for info in bundle.infolist():
            if not info.is_dir():
                yield info.filename, bundle.read(info)

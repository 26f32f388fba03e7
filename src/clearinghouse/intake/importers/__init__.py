"""Importers: OSV, SARIF, CSAF and CVE documents (and native findings) into :class:`FindingSubmission`.

One code path serves the API and the CLI::

    for outcome in parse_document(data, filename):
        if isinstance(outcome, ParsedItem):
            submit(outcome.submission)
        else:  # ItemError: outcome.pointer is an RFC 6901 pointer into the source document
            report(outcome.index, outcome.pointer, outcome.detail)

:func:`parse_document` never raises for bad content. A document that cannot be
read at all yields one ``ItemError(index=0, pointer="")``; a bad item yields its
own error and the good items of the same document still come out. ``index``
numbers what the document yields, items and errors alike, from 0; a
``ParsedItem.pointer`` says where in the source its finding came from. YAML is
read without timestamp conversion and without aliases (``*name``).

What each format gives (details in the private modules):

* OSV 1.x, JSON or YAML: one finding per ``affected[]`` entry; the range from
  ECOSYSTEM/SEMVER ``ranges`` as vers, else ``versions``, else the affected git
  commit as the version (OSS-Fuzz records). Withdrawn records are not imported.
* SARIF 2.1.0: one finding per result that is a problem (not ``pass``,
  ``notApplicable``, ``informational``, suppressed or baseline-``absent``). The
  package comes from ``versionControlProvenance`` (``pkg:generic/<repo>@<revision>``),
  else from the ``package`` argument; without either each result is an error.
* CSAF 2.0 and 2.1: validated first with the ``csaf`` library (schema and
  mandatory tests; an invalid document is refused whole, see
  :func:`check_document`); one finding per vulnerability and ``known_affected``,
  ``first_affected`` or ``last_affected`` product, identified by purl, CPE or its
  names in the product tree; a vulnerability with no affected product gives one
  error saying so.
* CVE JSON 5.x: one finding per ``containers.cna.affected[]`` entry that has
  affected versions, the package from ``collectionURL``/``packageName`` or
  ``pkg:generic/<vendor>/<product>``.
* Native findings (one JSON or YAML object) pass through validation.

Text is clamped to the native format's limits (title, description, and at most
10 CWEs, 50 aliases, 100 references, 100 locations) instead of being refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from clearinghouse.domain.finding import Generator, PackageRef, SourceFormat
from clearinghouse.intake.importers import _csaf, _cve5, _osv, _sarif
from clearinghouse.intake.importers._detect import detect, load
from clearinghouse.intake.importers._items import (
    BadField,
    Draft,
    Failure,
    FieldMap,
    ItemError,
    ParsedItem,
    UnsupportedDocument,
    build,
    child,
)

SUPPORTED_SUFFIXES = (".json", ".yaml", ".yml", ".sarif")

__all__ = [
    "SUPPORTED_SUFFIXES",
    "InvalidDocument",
    "ItemError",
    "ParsedItem",
    "SourceFormat",
    "UnsupportedDocument",
    "check_document",
    "detect_format",
    "iter_files",
    "parse_document",
]


def detect_format(data: bytes, filename: str | None = None) -> SourceFormat:
    """The format of one document, or :class:`UnsupportedDocument` with the reason it has none.

    JSON is read as JSON; anything else (or a ``.yaml``/``.yml`` name) as YAML.
    SARIF must be 2.1.0, CSAF 2.0, CVE records dataVersion 5.x and OSV 1.x.
    """
    return detect(load(data, filename))


class InvalidDocument(UnsupportedDocument):
    """A document of a known format that its standard's own validator refuses.

    ``problems`` are (JSON pointer, message) pairs, the pointer "" for the whole document.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        first_pointer, first_detail = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first_pointer or '/'}: {first_detail}{more}")
        self.problems = problems


def _standard_problems(source_format: SourceFormat, doc: dict[str, Any]) -> list[tuple[str, str]]:
    if source_format is SourceFormat.CSAF:
        return _csaf.validate(doc)
    return []


def check_document(data: bytes, filename: str | None = None) -> SourceFormat:
    """The format of one document, once its standard's validator accepts it.

    Raises :class:`UnsupportedDocument` for what no importer reads and
    :class:`InvalidDocument` (with every problem by JSON pointer) for a CSAF
    document that fails the ``csaf`` library's schema or mandatory tests.
    """
    doc = load(data, filename)
    source_format = detect(doc)
    problems = _standard_problems(source_format, doc)
    if problems:
        raise InvalidDocument(problems)
    return source_format


def parse_document(
    data: bytes,
    filename: str | None = None,
    *,
    default_generator: Generator | None = None,
    package: PackageRef | None = None,
    check: bool = True,
) -> Iterator[ParsedItem | ItemError]:
    """Every finding of one document, each a :class:`ParsedItem` or an :class:`ItemError`.

    ``default_generator`` replaces the generator an advisory import would name
    (``osv-import``, ``csaf-import``, ``cve5-import`` with the publisher as the
    organization) and, for SARIF, adds its model, configuration and organization
    to the tool the log names. ``package`` is the affected package for formats
    that lack one: SARIF runs without ``versionControlProvenance``. With
    ``check`` (the default) a CSAF document its validator refuses yields one
    :class:`ItemError` per problem and no finding.
    """
    try:
        doc = load(data, filename)
        source_format = detect(doc)
    except UnsupportedDocument as exc:
        yield ItemError(0, "", exc.detail)
        return
    if check:
        problems = _standard_problems(source_format, doc)
        for position, (pointer, detail) in enumerate(problems):
            yield ItemError(position, pointer, detail)
        if problems:
            return
    index = 0
    try:
        for outcome in _outcomes(source_format, doc, default_generator, package):
            if isinstance(outcome, Draft):
                yield build(index, outcome.data, outcome.fields)
            else:
                yield ItemError(index, outcome.pointer, outcome.detail)
            index += 1
    except BadField as exc:
        yield ItemError(index, exc.pointer, exc.detail)
    except Exception as exc:  # the contract: bad content never raises; name what broke instead
        yield ItemError(index, "", f"cannot read the document: {type(exc).__name__}: {exc}")


def _outcomes(
    source_format: SourceFormat,
    doc: dict[str, Any],
    default_generator: Generator | None,
    package: PackageRef | None,
) -> Iterator[Draft | Failure]:
    if source_format is SourceFormat.OSV:
        return _osv.parse(doc, default_generator=default_generator)
    if source_format is SourceFormat.SARIF:
        return _sarif.parse(doc, default_generator=default_generator, package=package)
    if source_format is SourceFormat.CSAF:
        return _csaf.parse(doc, default_generator=default_generator)
    if source_format is SourceFormat.CVE5:
        return _cve5.parse(doc, default_generator=default_generator)
    return _native(doc, default_generator)


class _SamePlace(FieldMap):
    """A native finding's fields are where the validation error says they are."""

    def pointer_for(self, loc: tuple[int | str, ...]) -> str:
        return child("", *loc)


def _native(doc: dict[str, Any], default_generator: Generator | None) -> Iterator[Draft | Failure]:
    data = dict(doc)
    if data.get("generator") is None and default_generator is not None:
        data["generator"] = default_generator
    yield Draft(data, _SamePlace(""))


def iter_files(
    paths: Iterable[str | os.PathLike[str]], suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES
) -> Iterator[Path]:
    """The files to import: each named file as is, and each folder's supported files, recursively and sorted.

    Supported means a name ending in one of ``suffixes`` (any case; by default
    :data:`SUPPORTED_SUFFIXES`);
    hidden files and folders inside a folder are skipped. A path that does not
    exist raises :class:`FileNotFoundError`.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path).parts
                if (
                    found.is_file()
                    and found.suffix.lower() in suffixes
                    and not any(p.startswith(".") for p in relative)
                ):
                    yield found
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")

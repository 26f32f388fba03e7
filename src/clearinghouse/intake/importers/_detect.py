"""Reading bytes as JSON or YAML, and telling which format a document is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from clearinghouse.domain.finding import SourceFormat
from clearinghouse.intake.importers._items import UnsupportedDocument, json_type

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe YAML loader that leaves timestamps as the strings they were written as, and refuses
    aliases (``*name``): advisories do not use them, and they make "billion laughs" documents."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not accepted", node.start_mark
            )
        return super().construct_object(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_JSON_SUFFIXES = {".json", ".sarif"}
_YAML_SUFFIXES = {".yaml", ".yml"}


def load(data: bytes, filename: str | None = None) -> dict[str, Any]:
    """The document as a mapping: JSON for ``.json``/``.sarif`` names, YAML for ``.yaml``/``.yml``,
    and otherwise JSON when the text starts like JSON, else YAML."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedDocument(f"not UTF-8 text (byte {exc.start})") from None
    stripped = text.lstrip()
    if not stripped:
        raise UnsupportedDocument("the document is empty")
    suffix = Path(filename).suffix.lower() if filename else ""
    loaded: Any
    if suffix in _JSON_SUFFIXES or (stripped[0] in "{[" and suffix not in _YAML_SUFFIXES):
        try:
            loaded = json.loads(text)
        except RecursionError:
            raise UnsupportedDocument("the JSON is nested too deeply to read") from None
        except json.JSONDecodeError as exc:
            raise UnsupportedDocument(
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    else:
        try:
            loaded = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
        except RecursionError:
            raise UnsupportedDocument("the YAML is nested too deeply to read") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise UnsupportedDocument(f"neither JSON nor valid YAML: {problem}{where}") from None
    if not isinstance(loaded, dict):
        raise UnsupportedDocument(f"expected a JSON or YAML object at the top, got {json_type(loaded)}")
    return loaded


def detect(doc: dict[str, Any]) -> SourceFormat:
    """The format of a loaded document, or :class:`UnsupportedDocument` saying why none fits."""
    if "runs" in doc and ("version" in doc or "sarif" in str(doc.get("$schema", "")).lower()):
        version = doc.get("version")
        if version != "2.1.0":
            raise UnsupportedDocument(
                f"SARIF version {version!r} is not supported; only SARIF 2.1.0 is (export the log as 2.1.0)"
            )
        return SourceFormat.SARIF
    document = doc.get("document")
    if isinstance(document, dict) and "csaf_version" in document:
        version = document.get("csaf_version")
        if version not in ("2.0", "2.1"):
            raise UnsupportedDocument(f"CSAF version {version!r} is not supported; CSAF 2.0 and 2.1 are")
        return SourceFormat.CSAF
    if doc.get("dataType") == "CVE_RECORD" or ("cveMetadata" in doc and "containers" in doc):
        version = str(doc.get("dataVersion", ""))
        if not version.startswith("5."):
            raise UnsupportedDocument(
                f"CVE record dataVersion {version or 'missing'!r} is not supported; only CVE JSON 5.x is"
            )
        return SourceFormat.CVE5
    if doc.get("data_type") == "CVE":
        raise UnsupportedDocument(
            f"CVE JSON {doc.get('data_version', '4')} is not supported; only CVE JSON 5.x records are"
        )
    if doc.get("format") == "NVD_CVE":
        raise UnsupportedDocument(
            "an NVD API response is not supported; import the CVE JSON 5 record (cvelistV5) instead"
        )
    if isinstance(doc.get("id"), str) and ("modified" in doc or "affected" in doc):
        version = str(doc.get("schema_version", "1"))
        if not version.startswith("1"):
            raise UnsupportedDocument(f"OSV schema_version {version!r} is not supported; only OSV 1.x is")
        return SourceFormat.OSV
    if "format_version" in doc or {"title", "package", "impact"} <= doc.keys():
        return SourceFormat.NATIVE
    keys = ", ".join(sorted(str(k) for k in doc)[:8])
    raise UnsupportedDocument(
        "not a finding, OSV, SARIF 2.1.0, CSAF 2.0/2.1 or CVE JSON 5 document "
        f"(top-level keys: {keys or 'none'})"
    )

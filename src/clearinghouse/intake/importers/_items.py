"""What an importer yields, and the small helpers every importer shares.

Importers read untrusted documents, so every field goes through a typed accessor
that knows its JSON pointer: a wrong type raises :class:`BadField`, which the
importer turns into an :class:`ItemError` for that one item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from clearinghouse.domain.finding import CWE_PATTERN, ClaimedImpact, FindingSubmission, Generator

# The native format's limits (see _format.py); imported data is clamped to them, not refused.
MAX_TITLE = 500
MAX_DESCRIPTION = 100_000
MAX_CWE = 10
MAX_ALIASES = 50
MAX_REFERENCES = 100
MAX_LOCATIONS = 100
MAX_TOOL_VERSION = 100
MAX_ORGANIZATION = 200


@dataclass(frozen=True)
class ParsedItem:
    """One finding read from a document. ``pointer`` says where in the source it came from."""

    index: int
    submission: FindingSubmission
    pointer: str = ""


@dataclass(frozen=True)
class ItemError:
    """One item that could not be imported.

    ``pointer`` is an RFC 6901 JSON pointer into the source document naming the
    first bad field ("" for the whole document).
    """

    index: int
    pointer: str
    detail: str


class UnsupportedDocument(ValueError):
    """The bytes are not a document any importer reads (with the reason in ``detail``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadField(Exception):
    """A field of the source document that an importer cannot use."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '/'}: {detail}")
        self.pointer = pointer
        self.detail = detail


# -- JSON pointers -------------------------------------------------------------------------------


def child(pointer: str, *keys: str | int) -> str:
    """``pointer`` extended by ``keys``, escaped as RFC 6901 says (``~`` → ``~0``, ``/`` → ``~1``)."""
    for key in keys:
        pointer += "/" + str(key).replace("~", "~0").replace("/", "~1")
    return pointer


# -- typed accessors -----------------------------------------------------------------------------


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def as_obj(value: object, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadField(pointer, f"expected an object, got {json_type(value)}")
    return value


def as_arr(value: object, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadField(pointer, f"expected an array, got {json_type(value)}")
    return value


def as_str(value: object, pointer: str, *, numbers: bool = False) -> str:
    """A string; with ``numbers``, a number is taken as its text (YAML reads an unquoted ``0`` as one)."""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadField(pointer, f"expected a string, got {json_type(value)}")


def opt_obj(parent: Mapping[str, Any], key: str, pointer: str) -> dict[str, Any] | None:
    value = parent.get(key)
    return None if value is None else as_obj(value, child(pointer, key))


def opt_arr(parent: Mapping[str, Any], key: str, pointer: str) -> list[Any]:
    value = parent.get(key)
    return [] if value is None else as_arr(value, child(pointer, key))


def opt_str(parent: Mapping[str, Any], key: str, pointer: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    text = as_str(value, child(pointer, key))
    return text or None


def req_str(parent: Mapping[str, Any], key: str, pointer: str) -> str:
    text = opt_str(parent, key, pointer)
    if text is None:
        raise BadField(child(pointer, key), f"'{key}' is required")
    return text


def opt_int(parent: Mapping[str, Any], key: str, pointer: str) -> int | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadField(child(pointer, key), f"expected an integer, got {json_type(value)}")
    return value


def str_list(
    parent: Mapping[str, Any], key: str, pointer: str, *, numbers: bool = False
) -> list[tuple[str, str]]:
    """A list of strings, each with its pointer; empty strings are dropped."""
    out: list[tuple[str, str]] = []
    for i, value in enumerate(opt_arr(parent, key, pointer)):
        text = as_str(value, child(pointer, key, i), numbers=numbers)
        if text:
            out.append((text, child(pointer, key, i)))
    return out


# -- clamping and normalizing --------------------------------------------------------------------


def clamp(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


_CWE_TEXT = re.compile(r"^\s*CWE[-_ ]?0*([0-9]+)\b", re.IGNORECASE)
_CWE_TAG = re.compile(r"^external/cwe/cwe-0*([0-9]+)$", re.IGNORECASE)


def cwe_id(value: str) -> str | None:
    """``CWE-79`` from ``CWE-79``, ``cwe-079``, ``CWE-79: Cross-site...``, ``external/cwe/cwe-79`` or ``79``.

    ``NVD-CWE-Other`` / ``NVD-CWE-noinfo`` say "no CWE" and give None. Anything
    else comes back unchanged, for the format's validation to refuse it.
    """
    text = value.strip()
    if text.upper().startswith("NVD-CWE-"):
        return None
    match = _CWE_TEXT.match(text) or _CWE_TAG.match(text)
    if match:
        return f"CWE-{int(match.group(1))}"
    if text.isdigit():
        return f"CWE-{int(text)}"
    return text


def checked_cwes(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(cwe, pointer)`` pairs normalized by :func:`cwe_id`; placeholders dropped, malformed ids refused."""
    out: list[tuple[str, str]] = []
    for value, pointer in pairs:
        cwe = cwe_id(value)
        if cwe is None:
            continue
        if not CWE_PATTERN.match(cwe):
            raise BadField(pointer, f"{value!r} is not a CWE id like CWE-79")
        out.append((cwe, pointer))
    return out


def cwe_from_tag(tag: str) -> str | None:
    """A CWE from a free-form tag (SARIF ``properties.tags``); None when the tag is not one."""
    match = _CWE_TAG.match(tag.strip()) or _CWE_TEXT.match(tag)
    return f"CWE-{int(match.group(1))}" if match and int(match.group(1)) > 0 else None


# A conservative CWE → impact map: only weaknesses whose usual consequence is unambiguous.
_IMPACT_BY_CWE: dict[int, ClaimedImpact] = {
    **dict.fromkeys((77, 78, 88, 94, 95, 96, 97, 502, 917, 1336), ClaimedImpact.CODE_EXECUTION),
    **dict.fromkeys((250, 266, 269, 274), ClaimedImpact.PRIVILEGE_ESCALATION),
    **dict.fromkeys((287, 288, 290, 294, 302, 306, 1390), ClaimedImpact.AUTHENTICATION_BYPASS),
    **dict.fromkeys((200, 201, 209, 215, 312, 319, 359, 532, 538, 598), ClaimedImpact.INFORMATION_DISCLOSURE),
    **dict.fromkeys((345, 353, 354, 494), ClaimedImpact.DATA_TAMPERING),
    **dict.fromkeys((400, 407, 674, 770, 776, 834, 835, 1333), ClaimedImpact.DENIAL_OF_SERVICE),
}


def impact_from_cwes(cwes: Iterable[str]) -> ClaimedImpact:
    """The impact of the first CWE with an unambiguous one; ``other`` otherwise."""
    for cwe in cwes:
        match = re.fullmatch(r"CWE-([0-9]+)", cwe)
        if match and int(match.group(1)) in _IMPACT_BY_CWE:
            return _IMPACT_BY_CWE[int(match.group(1))]
    return ClaimedImpact.OTHER


def make_generator(tool: str, organization: str | None = None, tool_version: str | None = None) -> Generator:
    return Generator(
        tool=clamp(tool, 200),
        tool_version=clamp(tool_version, MAX_TOOL_VERSION) if tool_version else None,
        organization=clamp(organization, MAX_ORGANIZATION) if organization else None,
    )


# -- building the submission ---------------------------------------------------------------------


class FieldMap:
    """Where each field of a produced submission came from in the source document.

    Keys are dotted pydantic locations (``package.vers``, ``cwe.2``); a validation
    error is reported at the pointer of the longest key that prefixes its location,
    else at the item's root.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._map: dict[tuple[str, ...], str] = {}

    def __setitem__(self, loc: str, pointer: str) -> None:
        self._map[tuple(loc.split("."))] = pointer

    def pointer_for(self, loc: tuple[int | str, ...]) -> str:
        parts = tuple(str(p) for p in loc)
        for end in range(len(parts), 0, -1):
            if parts[:end] in self._map:
                return self._map[parts[:end]]
        return self.root


def build(index: int, data: dict[str, Any], fields: FieldMap) -> ParsedItem | ItemError:
    """Validate ``data`` as a :class:`FindingSubmission`; a failure names the source field."""
    try:
        submission = FindingSubmission.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc) or "finding"
        return ItemError(index, fields.pointer_for(loc), f"{where}: {first['msg']}")
    return ParsedItem(index, submission, fields.root)


# -- what importers hand to parse_document -------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A submission to validate (``data``) and where its fields came from (``fields``)."""

    data: dict[str, Any]
    fields: FieldMap


@dataclass(frozen=True)
class Failure:
    """An item that cannot become a submission."""

    pointer: str
    detail: str

    @classmethod
    def of(cls, exc: BadField) -> Failure:
        return cls(exc.pointer, exc.detail)


def mapped_list(fields: FieldMap, name: str, pairs: Iterable[tuple[str, str]], limit: int) -> list[str]:
    """Values from ``(value, pointer)`` pairs, deduplicated and clamped, each mapped to its pointer."""
    out: list[str] = []
    seen: set[str] = set()
    for value, pointer in pairs:
        if value in seen:
            continue
        seen.add(value)
        fields[f"{name}.{len(out)}"] = pointer
        out.append(value)
        if len(out) == limit:
            break
    return out

"""CSAF validation as the standard defines it: the JSON schema of the declared version, then section 6.1.

* **Schema.** The official OASIS JSON schema for the document's ``csaf_version``
  (2.0 or 2.1, shipped under ``clearinghouse/data/csaf`` with the FIRST CVSS and
  CERT/CC SSVC schemas it references), checked with ``jsonschema`` and its
  ``FormatChecker``. Every ``$ref`` resolves from the shipped files; nothing is
  fetched. ``multipleOf`` is decided in decimal, as the schema means it (the
  binary-float test of ``jsonschema`` calls 5.3 not a multiple of 0.1).
* **Mandatory tests** (section 6.1): the ``csaf`` library's implementations where
  they read the standard as shipped here, and this module's where they do not
  (:data:`OWN_21`), each problem carrying its test id. The library's CSAF 2.1
  stage is a later draft than the shipped schema: tests of that draft that the
  shipped version does not have (:data:`NOT_IN_21`) are not run.

Heavy imports (``jsonschema``, ``referencing``, ``csaf``) happen inside the functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

MAX_PROBLEMS = 100

_SCHEMA_FILES = {
    "2.0": ("csaf_json_schema.json", ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json")),
    "2.1": (
        "csaf.json",
        (
            "meta.json",
            "extension-content.json",
            "extension-metadata.json",
            "extension-metaschema.json",
            "cvss-v2.0.json",
            "cvss-v3.0.json",
            "cvss-v3.1.json",
            "cvss-v4.0.json",
            "cvss-meta.json",
            "SelectionList_2_0_0.schema.json",
        ),
    ),
}

# Tests of the library's later CSAF 2.1 draft (CSD04) that the shipped 2.1 version does not
# define: 6.1.27.20, 6.1.62, 6.1.63 and 6.1.66 came later, and 6.1.64.* / 6.1.65.* check
# actions, entities and document-local vulnerability ids that the shipped schema has no place for.
NOT_IN_21 = frozenset(
    {"6.1.27.20", "6.1.62", "6.1.63", "6.1.66"}
    | {f"6.1.64.{i}" for i in range(1, 14)}
    | {"6.1.65.1", "6.1.65.2"}
)


def pointer_of(path: Any) -> str:
    """The RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


# --------------------------------------------------------------------------- schema


@lru_cache(maxsize=2)
def _validator(version: str) -> Any:
    """The schema validator of CSAF ``version`` (built once: the registry, the decimal ``multipleOf``)."""
    cls, registry, main = _schemas(version)
    return cls(main, registry=registry, format_checker=cls.FORMAT_CHECKER)


@lru_cache(maxsize=2)
def _schemas(version: str) -> tuple[Any, Any, dict[str, Any]]:
    """(validator class, registry of every shipped schema, the CSAF schema) for ``version``."""
    import json

    from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]
    from referencing import Registry
    from referencing.jsonschema import DRAFT4, DRAFT7, DRAFT202012

    dialects = {
        "http://json-schema.org/draft-04/schema#": DRAFT4,
        "http://json-schema.org/draft-07/schema#": DRAFT7,
    }
    folder = resources.files("clearinghouse.data").joinpath("csaf", version)
    main_name, referenced = _SCHEMA_FILES[version]
    registry: Any = Registry()
    main: dict[str, Any] = {}
    for name in (main_name, *referenced):
        schema = json.loads(folder.joinpath(name).read_text("utf-8"))
        uri = str(schema.get("$id") or schema.get("id"))
        resource = dialects.get(schema.get("$schema"), DRAFT202012).create_resource(schema)
        # The CVSS schemas carry a date query in their $id; CSAF refers to them without it.
        for key in {uri, uri.split("?")[0]}:
            registry = registry.with_resource(key, resource)
        if name == main_name:
            main = schema
    if version == "2.1":
        for entry in sorted(folder.joinpath("extensions").iterdir(), key=lambda e: e.name):
            schema = json.loads(entry.read_text("utf-8"))
            resource = DRAFT202012.create_resource(schema)
            for key in _extension_urls(str(schema["$id"])):
                registry = registry.with_resource(key, resource)

    def multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
        from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

        if not validator.is_type(instance, "number"):
            return
        try:
            whole = (Decimal(str(instance)) / Decimal(str(divisor))) % 1 == 0
        except (InvalidOperation, ArithmeticError):
            whole = False
        if not whole:
            yield ValidationError(f"{instance!r} is not a multiple of {divisor}")

    cls = validators.extend(Draft202012Validator, {"multipleOf": multiple_of})
    return cls, registry.crawl(), main


def _extension_urls(url: str) -> set[str]:
    """The URL an OASIS test extension schema names itself by, and the one of its place in the test tree."""
    return {url, url.replace("/csaf_2.1/extension/data/", "/csaf_2.1/test/extension/data/")}


def _extension_validator(url: str) -> Any | None:
    """A validator for an extension object declaring schema ``url``, if that schema is shipped.

    A schema is never fetched.
    """
    from referencing.exceptions import Unresolvable

    if not url.startswith("https://raw.githubusercontent.com/oasis-tcs/csaf/"):
        return None  # only the shipped OASIS extension schemas, not the CSAF schemas themselves
    cls, registry, _ = _schemas("2.1")
    try:
        schema = registry.resolver().lookup(url).contents
    except Unresolvable:
        return None
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def schema_problems(doc: dict[str, Any], version: str) -> list[tuple[str, str]]:
    """Where ``doc`` breaks the official JSON schema of CSAF ``version``, as (pointer, message)."""
    out: list[tuple[str, str]] = []
    try:
        errors = sorted(_validator(version).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    except RecursionError:
        return [("", f"CSAF {version} schema: the document is nested too deeply to be validated")]
    for error in errors:
        pointer = pointer_of(error.absolute_path)
        # The CVSS objects are checked against the FIRST schemas the CSAF schema references: that is
        # mandatory test 6.1.8 (Invalid CVSS), so a problem there says so.
        where = " (mandatory test 6.1.8, Invalid CVSS)" if _CVSS_POINTER.search(pointer) else ""
        out.append((pointer, f"CSAF {version} schema{where}: {_short(error.message)}"))
        if len(out) >= MAX_PROBLEMS:
            break
    return out


_CVSS_POINTER = re.compile(r"/cvss_v[234]($|/)")


def _short(message: str, limit: int = 400) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


# --------------------------------------------------------------------------- mandatory tests

OwnTest = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _category(doc: dict[str, Any]) -> str:
    document = doc.get("document")
    return str(document.get("category", "")) if isinstance(document, dict) else ""


def _english_or_unspecified(doc: dict[str, Any]) -> bool:
    document = doc.get("document") or {}
    lang = document.get("lang") if isinstance(document, dict) else None
    return not lang or str(lang).lower() == "en" or str(lang).lower().startswith("en-")


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def test_6_1_27_8(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.27.8 Vulnerability ID: in a ``csaf_vex`` document every vulnerability has ``cve`` or ``ids``.

    The profile is VEX's alone; a security advisory may describe a vulnerability that has no id yet.
    """
    if _category(doc) != "csaf_vex":
        return []
    return [
        (f"/vulnerabilities/{i}", "a VEX vulnerability needs at least one of `cve` or `ids`")
        for i, vuln in enumerate(_objects(doc.get("vulnerabilities")))
        if not vuln.get("cve") and not vuln.get("ids")
    ]


def test_6_1_27_2(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.27.2 Document References: an informational advisory or security incident response has a
    reference of category ``external``.

    The library's draft adds superseded documents; the shipped version checks their reference to the
    superseding document in 6.1.27.19, in English documents only.
    """
    category = _category(doc)
    if category not in ("csaf_informational_advisory", "csaf_security_incident_response"):
        return []
    references = _objects((doc.get("document") or {}).get("references"))
    if any(ref.get("category") == "external" for ref in references):
        return []
    return [("/document/references", f"a {category} document needs a reference with category `external`")]


def test_6_1_27_14(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.27.14 Document Notes: a withdrawn or superseded document has a ``description`` note.

    Like the reasoning tests 6.1.27.17 and 6.1.27.18, it reads notes written in English (or in no
    declared language); other languages are checked by the recommended tests 6.2.39.*.
    """
    category = _category(doc)
    if category not in ("csaf_withdrawn", "csaf_superseded") or not _english_or_unspecified(doc):
        return []
    notes = _objects((doc.get("document") or {}).get("notes"))
    if any(note.get("category") == "description" for note in notes):
        return []
    return [("/document/notes", f"a {category} document needs a note with category `description`")]


def test_6_1_36(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.36 Contradicting Product Status Remediation Combination.

    The library's table, less ``fix_planned`` for a not-affected product: the standard only
    discourages that combination (recommended test 6.2.27), it does not contradict.
    """
    from csaf.csaf.v21csd04.rules.mandatory import _vuln_and_status as lib  # type: ignore[import-untyped]

    table: dict[str, frozenset[str]] = dict(lib._STATUS_REM_CONTRADICTIONS)
    table["known_not_affected"] = table["known_not_affected"] - {"fix_planned"}
    groups = lib._group_to_products(doc)
    out: list[tuple[str, str]] = []
    for vi, vuln in enumerate(_objects(doc.get("vulnerabilities"))):
        status = vuln.get("product_status") or {}
        statuses: dict[str, set[str]] = {}
        for key in table:
            for pid in status.get(key, []) if isinstance(status, dict) else []:
                statuses.setdefault(str(pid), set()).add(key)
        for ri, rem in enumerate(_objects(vuln.get("remediations"))):
            category = str(rem.get("category", ""))
            for pid in lib._expand_product_ids(rem.get("product_ids", []), rem.get("group_ids", []), groups):
                for key in sorted(statuses.get(str(pid), ())):
                    if category in table[key]:
                        out.append(
                            (
                                f"/vulnerabilities/{vi}/remediations/{ri}",
                                f"product `{pid}` has status `{key}` but remediation category `{category}`",
                            )
                        )
    return out


_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")


def test_6_1_55(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.55 License Text: a license the expression only names by ``LicenseRef-`` has its text in the notes.

    References into ScanCode's LicenseDB (``LicenseRef-scancode-…``) name published licenses and
    need no text here (whether such a key exists is the recommended test 6.2.45).
    """
    from csaf.csaf.v21csd04.rules.mandatory import check_license_text

    document = doc.get("document") or {}
    expression = str(document.get("license_expression", "")) if isinstance(document, dict) else ""
    refs = _LICENSE_REF.findall(expression)
    if not refs or all(ref.startswith("LicenseRef-scancode-") for ref in refs):
        return []
    return [(e.instance_path, e.message) for e in check_license_text(doc)]


_VEX_STATUSES = ("fixed", "known_affected", "known_not_affected", "under_investigation")


def test_6_1_27_7(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.27.7 VEX Product Status: each vulnerability of a ``csaf_vex`` document names at least one of
    fixed, known_affected, known_not_affected or under_investigation.

    Other groups beside them (``recommended`` in OASIS's own VEX example) are not forbidden.
    """
    if _category(doc) != "csaf_vex":
        return []
    out: list[tuple[str, str]] = []
    for i, vuln in enumerate(_objects(doc.get("vulnerabilities"))):
        status = vuln.get("product_status")
        if not isinstance(status, dict) or not any(status.get(key) for key in _VEX_STATUSES):
            out.append(
                (
                    f"/vulnerabilities/{i}/product_status"
                    if isinstance(status, dict)
                    else f"/vulnerabilities/{i}",
                    "a VEX vulnerability needs at least one of " + ", ".join(f"`{k}`" for k in _VEX_STATUSES),
                )
            )
    return out


def test_6_1_27_v20(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.27 Profile-Based Rules of CSAF 2.0: the library's checks, with 6.1.27.7 as the standard has it.

    The library refuses any product status group of a VEX document but the four of 6.1.27.7; the
    standard only asks that one of them is there (OASIS's own VEX example adds ``recommended``).
    So the library reads a VEX document without its other groups, and :func:`test_6_1_27_7` runs.
    """
    from csaf.csaf.v20.rules.mandatory._vuln_and_status import (  # type: ignore[import-untyped]
        check_profile_based_rules,
    )

    seen = doc
    if _category(doc) == "csaf_vex" and isinstance(doc.get("vulnerabilities"), list):
        vulns = []
        for vuln in doc["vulnerabilities"]:
            status = vuln.get("product_status") if isinstance(vuln, dict) else None
            if isinstance(status, dict):
                vuln = {**vuln, "product_status": {k: v for k, v in status.items() if k in _VEX_STATUSES}}
            vulns.append(vuln)
        seen = {**doc, "vulnerabilities": vulns}
    out = [(e.instance_path, e.message) for e in check_profile_based_rules(seen)]
    return out + test_6_1_27_7(doc)


def _helpers(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, product_identification_helper) of every full product name in the product tree."""
    tree = doc.get("product_tree")
    if not isinstance(tree, dict):
        return
    names: list[tuple[str, Any]] = []
    stack = [(f"/product_tree/branches/{i}", b) for i, b in enumerate(tree.get("branches") or [])]
    while stack:
        pointer, branch = stack.pop()
        if isinstance(branch, dict):
            names.append((f"{pointer}/product", branch.get("product")))
            stack.extend((f"{pointer}/branches/{i}", b) for i, b in enumerate(branch.get("branches") or []))
    names += [
        (f"/product_tree/full_product_names/{i}", f)
        for i, f in enumerate(tree.get("full_product_names") or [])
    ]
    for key in ("relationships", "product_paths"):
        for i, item in enumerate(_objects(tree.get(key))):
            names.append((f"/product_tree/{key}/{i}/full_product_name", item.get("full_product_name")))
    for pointer, fpn in names:
        helper = fpn.get("product_identification_helper") if isinstance(fpn, dict) else None
        if isinstance(helper, dict):
            yield f"{pointer}/product_identification_helper", helper


def test_6_1_13(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.13 PURL: every purl is a valid package URL, the rules of its type included (packageurl-python's
    validation of the purl-spec type definitions, e.g. an ``oci`` purl has no namespace). A type the
    purl-spec does not define (``rpmmod``) is allowed: only its generic syntax is checked."""
    from packageurl import PackageURL
    from packageurl.validate import DEFINITIONS_BY_TYPE

    found: list[tuple[str, Any]] = []
    for pointer, helper in _helpers(doc):
        if "purl" in helper:  # CSAF 2.0
            found.append((f"{pointer}/purl", helper["purl"]))
        for i, purl in enumerate(helper.get("purls") or [] if isinstance(helper.get("purls"), list) else []):
            found.append((f"{pointer}/purls/{i}", purl))
    out: list[tuple[str, str]] = []
    for pointer, purl in found:
        if not isinstance(purl, str):
            continue
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError as exc:
            out.append((pointer, f"`{purl}` is not a package URL: {exc}"))
            continue
        if parsed.type not in DEFINITIONS_BY_TYPE:
            continue
        for message in parsed.validate():
            if str(getattr(message.severity, "value", message.severity)) == "error":
                out.append((pointer, f"`{purl}` breaks the rules of its purl type: {message.message}"))
    return out


def test_6_1_24(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.24 Multiple Definition in Involvements: one party at most once per date, whatever its status."""
    from datetime import datetime

    out: list[tuple[str, str]] = []
    for vi, vuln in enumerate(_objects(doc.get("vulnerabilities"))):
        seen: dict[tuple[str, Any], int] = {}
        for ii, item in enumerate(_objects(vuln.get("involvements"))):
            date = item.get("date")
            if not isinstance(date, str):
                continue
            try:
                when: Any = datetime.fromisoformat(date.replace("Z", "+00:00"))
            except ValueError:
                when = date
            key = (str(item.get("party", "")), when)
            if key in seen:
                out.append(
                    (
                        f"/vulnerabilities/{vi}/involvements/{ii}",
                        f"party `{key[0]}` is listed again at {date} (first at involvements/{seen[key]})",
                    )
                )
            else:
                seen[key] = ii
    return out


def test_6_1_50(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.50 Product Version Range Rules: the library's syntax check, plus vers' own rule that
    ``vers:all/*`` is the only valid form of the ``all`` scheme."""
    from csaf.csaf.v21csd04.rules.mandatory import check_product_version_range_rules

    out = [(e.instance_path, e.message) for e in check_product_version_range_rules(doc)]
    tree = doc.get("product_tree")
    stack = [
        (f"/product_tree/branches/{i}", b)
        for i, b in enumerate((tree.get("branches") or []) if isinstance(tree, dict) else [])
    ]
    while stack:
        pointer, branch = stack.pop()
        if not isinstance(branch, dict):
            continue
        name = str(branch.get("name", ""))
        ranged = branch.get("category") == "product_version_range"
        if ranged and name.startswith("vers:all/") and name != "vers:all/*":
            out.append(
                (f"{pointer}/name", f"`{name}`: `vers:all/*` is the only valid form of the `all` scheme")
            )
        stack.extend((f"{pointer}/branches/{i}", b) for i, b in enumerate(branch.get("branches") or []))
    return out


OWN_20: dict[str, tuple[str, OwnTest]] = {
    "6.1.13": ("PURL", test_6_1_13),
    "6.1.27": ("Profile-Based Rules", test_6_1_27_v20),
}

_EXTENSION_KEYS = frozenset({"$schema", "category", "critical", "content"})


def test_6_1_60(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.60 Extension Schema, in its three parts, for every extension wherever it sits.

    * 6.1.60.1 — the extension has exactly ``$schema``, ``category``, ``critical`` and ``content``;
    * 6.1.60.2 — it is valid against the schema it declares, when that schema is one shipped here
      (the OASIS documentation extensions); a schema is never fetched, so others are not checked;
    * 6.1.60.3 — the extensions of one ``x_extensions`` array agree on ``$schema`` and ``category``.
    """
    from csaf.csaf.v21csd04.rules._shared import _walk_all_extensions  # type: ignore[import-untyped]

    out: list[tuple[str, str]] = []
    arrays: dict[str, list[dict[str, Any]]] = {}
    for path, ext in _walk_all_extensions(doc):
        if not isinstance(ext, dict):
            continue
        arrays.setdefault(path.rsplit("/", 1)[0], []).append(ext)
        for key in sorted(_EXTENSION_KEYS - set(ext)):
            out.append((path, f"6.1.60.1: the extension misses `{key}`"))
        for key in sorted(set(ext) - _EXTENSION_KEYS):
            out.append((f"{path}/{pointer_of([key])[1:]}", f"6.1.60.1: the extension may not have `{key}`"))
        validator = _extension_validator(str(ext.get("$schema", "")))
        if validator is not None:
            for error in validator.iter_errors(ext):
                where = path + pointer_of(error.absolute_path)
                out.append(
                    (where, f"6.1.60.2: not valid against its declared schema: {_short(error.message)}")
                )
    for array_path, exts in arrays.items():
        for field in ("$schema", "category"):
            values = sorted({str(e.get(field, "")) for e in exts})
            if len(values) > 1:
                out.append(
                    (array_path, f"6.1.60.3: the extensions of one array use different `{field}`: {values}")
                )
    return out


def _extension_products(doc: dict[str, Any]) -> set[str]:
    """Product ids that extensions define.

    Every ``full_product_name`` (or ``full_product_names`` item) in an extension's content.
    """
    from csaf.csaf.v21csd04.rules._shared import _walk_all_extensions

    found: set[str] = set()
    stack: list[Any] = [ext.get("content") for _, ext in _walk_all_extensions(doc) if isinstance(ext, dict)]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                named = [item] if key == "full_product_name" else item if key == "full_product_names" else []
                for fpn in named if isinstance(named, list) else []:
                    if isinstance(fpn, dict) and isinstance(fpn.get("product_id"), str):
                        found.add(fpn["product_id"])
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _at(doc: Any, pointer: str) -> Any:
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        elif isinstance(doc, dict) and token in doc:
            doc = doc[token]
        else:
            return None
    return doc


def test_6_1_1(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """6.1.1 Missing Definition of Product ID: the library's test, where a product an extension defines
    (a ``full_product_name`` in its content, e.g. a configuration tree's relationship) counts as defined."""
    from csaf.csaf.v21csd04.rules.mandatory import check_missing_product_id_definition

    defined = _extension_products(doc)
    return [
        (e.instance_path, e.message)
        for e in check_missing_product_id_definition(doc)
        if _at(doc, e.instance_path) not in defined
    ]


OWN_21: dict[str, tuple[str, OwnTest]] = {
    "6.1.1": ("Missing Definition of Product ID", test_6_1_1),
    "6.1.13": ("PURL", test_6_1_13),
    "6.1.24": ("Multiple Definition in Involvements", test_6_1_24),
    "6.1.50": ("Product Version Range Rules", test_6_1_50),
    "6.1.60": ("Extension Schema", test_6_1_60),
    "6.1.27.2": ("Document References", test_6_1_27_2),
    "6.1.27.7": ("VEX Product Status", test_6_1_27_7),
    "6.1.27.8": ("Vulnerability ID", test_6_1_27_8),
    "6.1.27.14": ("Document Notes", test_6_1_27_14),
    "6.1.36": ("Contradicting Product Status Remediation Combination", test_6_1_36),
    "6.1.55": ("License Text", test_6_1_55),
}


def mandatory_problems(doc: dict[str, Any], version: str) -> list[tuple[str, str]]:
    """What the mandatory tests (section 6.1) find wrong with a schema-valid ``doc``.

    As (JSON pointer, message) pairs, each message naming its test id.
    """
    label = f"CSAF {version}"
    if version == "2.0":
        from csaf.csaf.v20 import validate as run  # type: ignore[import-untyped]

        skip = frozenset({"schema"}) | frozenset(OWN_20)
        own = OWN_20
    else:
        from csaf.csaf.v21._validator import validate as run  # type: ignore[import-untyped]

        # 6.1.8 (Invalid CVSS) is the schema step: the library checks the CVSS objects against FIRST's
        # strict schemas, the standard against the ones its schema references (shipped here).
        skip = frozenset({"schema", "6.1.8"}) | NOT_IN_21 | frozenset(OWN_21)
        own = OWN_21
    out: list[tuple[str, str]] = []
    try:
        report = run(doc, preset="basic", skip_rules=skip)
    except Exception as exc:  # the library failing on hostile input is still a refusal
        return [
            ("", f"{label}: the mandatory tests cannot run on this document: {type(exc).__name__}: {exc}")
        ]
    for result in report.results:
        if result.passed or result.skipped or result.group != "mandatory":
            continue
        test = f"mandatory test {result.id} ({result.title})"
        errors = result.errors or ()
        if not errors:
            out.append(("", f"{label} {test} failed"))
        for error in errors:
            pointer = "" if error.instance_path in ("", "/") else error.instance_path
            out.append((pointer, f"{label} {test}: {error.message}"))
    for test_id, (title, check) in own.items():
        for pointer, message in check(doc):
            out.append((pointer, f"{label} mandatory test {test_id} ({title}): {message}"))
    return out[:MAX_PROBLEMS]


def validate(doc: dict[str, Any], version: str) -> list[tuple[str, str]]:
    """Schema first; the mandatory tests only on a schema-valid document (they read its structure)."""
    return schema_problems(doc, version) or mandatory_problems(doc, version)

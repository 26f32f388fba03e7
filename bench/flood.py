"""A flood of AI-style findings made from real advisories, with ground truth.

    uv run python bench/flood.py --count 100000 --out /tmp/flood.ndjson.gz [--seed 7] [--dup-rate 0.45]

Reads the shared corpus (``CLEARINGHOUSE_CORPUS``, default ``<repo>/../shared/corpus``):
PyPI (pypa OSV YAML), GHSA and Go OSV JSON, CPython (PSF), OSS-Fuzz C/C++,
RubyGems (rubysec) and npm (Node.js security WG) advisories. Each advisory
becomes a *case* (one root cause: package, CWE, code location); more cases
come from the same advisory at other code locations in the package
("sibling", the classic variant-analysis near miss: the same text, another
function), from another advisory's text moved into the package
("transplant"), and from the same bug in a fork under another package name
("fork", which must never merge with its origin).

Every case is then reported one or more times, as a finder pipeline would:
paraphrased (synonym swaps, sentence reordering and dropping, boilerplate
intros and outros such as "Our AI agent discovered ..."), with the package
name spelled differently, a different affected version or range (a version
inside the range, the range, a partial range, and now and then a version
just outside it), file and symbol written differently (``./src/x.py``,
``src\\x.py``, ``x.py:12``, forge URLs, ``Cls.meth()`` ...), sometimes
without a symbol or file, with a missing, extra or wrong-but-plausible CWE,
and with the JSON fields in a random order.

``dup_rate`` is the share of findings that are not the first report of their
case (default 0.45, so 45,000 duplicates in 100,000 findings). Ground truth is
written next to the findings: ``FILE.ndjson.gz`` gets ``FILE.truth.ndjson.gz``
with one line per finding: ``{"line", "case", "advisory", "kind", "noise"}``.
The output is a deterministic function of the corpus, ``count``, ``seed`` and
the configuration.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import tarfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import yaml

from clearinghouse.triage._fingerprint import (
    cwe_family,
    normalize_package,
    normalize_symbol,
    version_key,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
ALL_SOURCES = ("pypa", "ghsa", "go", "psf", "oss-fuzz", "rubysec", "npm")


def corpus_path() -> Path:
    return Path(os.environ.get("CLEARINGHOUSE_CORPUS", DEFAULT_CORPUS))


# ============================================================================ advisories


@dataclass
class Advisory:
    id: str
    purl_type: str
    namespace: str | None
    name: str
    title: str
    details: str
    cwes: list[int]
    spans: list[tuple[str | None, str | None]]  # (introduced, fixed); None = unbounded
    versions: list[str]
    aliases: list[str]
    repo: str | None
    symbols: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)

    @property
    def package_key(self) -> str:
        return normalize_package(purl_of(self.purl_type, self.namespace, self.name)).key


def text_key(adv: Advisory) -> str:
    """The advisory's text with URLs, ids, numbers and punctuation gone: equal keys, same report."""
    text = _URL_TEXT.sub(" ", f"{adv.details or adv.title}".lower())
    return " ".join(re.findall(r"[a-z]+", text))[:400]


def purl_of(kind: str, namespace: str | None, name: str, version: str | None = None) -> str:
    from packageurl import PackageURL

    return PackageURL(type=kind, namespace=namespace, name=name, version=version).to_string()


_FILE_HINT = re.compile(
    r"\b((?:[\w-]+/)*[\w-]+\.(?:py|pyx|c|cc|cpp|cxx|h|hpp|js|ts|mjs|rb|go|java|php|rs))\b"
)
_IDENT_HINT = re.compile(
    r"`([A-Za-z_][\w.:]*(?:\(\))?)`|\b([A-Za-z_]\w*(?:(?:\.|::)[A-Za-z_]\w*)+)\(|\b([a-z]+_[a-z_0-9]+)\("
)
_OSS_FUZZ_CWE = (
    ("heap-double-free", 415),
    ("double-free", 415),
    ("use-after-free", 416),
    ("use-after-poison", 416),
    ("heap-buffer-overflow write", 787),
    ("stack-buffer-overflow write", 787),
    ("global-buffer-overflow write", 787),
    ("heap-buffer-overflow", 125),
    ("stack-buffer-overflow", 121),
    ("dynamic-stack-buffer-overflow", 121),
    ("global-buffer-overflow", 125),
    ("container-overflow", 787),
    ("stack-buffer-underflow", 124),
    ("null-dereference", 476),
    ("segv on unknown address", 476),
    ("index-out-of-bounds", 129),
    ("integer-overflow", 190),
    ("unsigned-integer-overflow", 190),
    ("divide-by-zero", 369),
    ("use-of-uninitialized-value", 457),
    ("memcpy-param-overlap", 119),
    ("negative-size-param", 130),
    ("bad-cast", 704),
    ("bad-free", 763),
    ("invalid-free", 763),
    ("memory leak", 401),
    ("stack-overflow", 674),
    ("timeout", 835),
    ("out-of-memory", 770),
    ("abrt", 617),
    ("assert", 617),
    ("check failed", 617),
)

_TEXT_CWE = (
    (r"cross.site scripting|\bxss\b", 79),
    (r"sql injection", 89),
    (r"ldap injection", 90),
    (r"(?:os |shell |)command injection|shell metacharacter", 78),
    (r"template injection|\bssti\b", 1336),
    (r"prototype pollution", 1321),
    (r"path traversal|directory traversal|zip slip|\.\./", 22),
    (r"xml external entit|\bxxe\b", 611),
    (r"server.side request forgery|\bssrf\b", 918),
    (r"open redirect", 601),
    (r"cross.site request forgery|\bcsrf\b", 352),
    (r"request smuggling", 444),
    (r"crlf|header injection|response splitting", 113),
    (r"deserializ|unpickl|pickle|yaml\.load|unmarshal", 502),
    (r"use.after.free", 416),
    (r"double free", 415),
    (r"null pointer|null dereference|nullptr|none dereference", 476),
    (r"out.of.bounds write|heap.based buffer overflow|heap buffer overflow", 787),
    (r"out.of.bounds read|over.read|overread", 125),
    (r"buffer overflow|stack overflow", 120),
    (r"integer overflow|integer underflow|wraparound", 190),
    (r"division by zero|divide by zero", 369),
    (r"check.fail|assertion|\bcheck\b.*fail|abort", 617),
    (r"regular expression|\bredos\b|regex", 1333),
    (r"infinite loop", 835),
    (r"timing attack|timing discrepanc|constant.time", 208),
    (r"race condition|toctou", 362),
    (r"symlink|symbolic link", 59),
    (r"certificate|hostname verification|tls|ssl", 295),
    (r"cleartext|plaintext|over http\b|resources over http", 319),
    (r"weak (?:hash|crypto)|insecure random|predictable", 330),
    (r"csv injection|formula injection", 1236),
    (r"code injection|arbitrary code|eval\(|remote code execution", 94),
    (r"authentication bypass|bypass (?:the )?authentication|unauthenticated", 287),
    (r"privilege|permission|authoriz|access control", 863),
    (r"denial of service|resource exhaustion|memory exhaustion|excessive|\bdos\b|consum", 400),
    (r"information disclosure|expos|leak|sensitive", 200),
)

CWE_NAMES = {
    20: "Improper input validation",
    22: "Path traversal",
    59: "Symlink following",
    78: "OS command injection",
    79: "Cross-site scripting",
    89: "SQL injection",
    90: "LDAP injection",
    94: "Code injection",
    113: "HTTP response splitting",
    119: "Memory corruption",
    120: "Buffer overflow",
    121: "Stack-based buffer overflow",
    122: "Heap-based buffer overflow",
    124: "Buffer underwrite",
    125: "Out-of-bounds read",
    129: "Improper array index validation",
    130: "Length parameter inconsistency",
    190: "Integer overflow",
    200: "Information disclosure",
    208: "Timing side channel",
    287: "Authentication bypass",
    295: "Improper certificate validation",
    319: "Cleartext transmission",
    330: "Insufficiently random values",
    352: "Cross-site request forgery",
    362: "Race condition",
    369: "Division by zero",
    400: "Uncontrolled resource consumption",
    401: "Memory leak",
    415: "Double free",
    416: "Use after free",
    444: "HTTP request smuggling",
    457: "Use of uninitialized variable",
    476: "NULL pointer dereference",
    502: "Unsafe deserialization",
    601: "Open redirect",
    611: "XML external entity injection",
    617: "Reachable assertion",
    674: "Uncontrolled recursion",
    704: "Incorrect type conversion",
    763: "Invalid pointer release",
    770: "Allocation without limits",
    787: "Out-of-bounds write",
    835: "Infinite loop",
    863: "Incorrect authorization",
    918: "Server-side request forgery",
    1236: "CSV injection",
    1321: "Prototype pollution",
    1333: "Regular expression denial of service",
    1336: "Server-side template injection",
}
COMMON_CWES = sorted(CWE_NAMES)


def infer_cwe(text: str) -> int:
    low = text.lower()
    for pattern, cwe in _TEXT_CWE:
        if re.search(pattern, low):
            return cwe
    return 20


def infer_impact(text: str, cwe: int) -> str:
    low = text.lower()
    if re.search(r"execute|code execution|command|rce|arbitrary code", low) or cwe in (78, 94, 502, 1336):
        return "code_execution"
    if re.search(r"privilege|escalat", low):
        return "privilege_escalation"
    if re.search(r"authenticat|bypass", low) or cwe in (287, 863):
        return "authentication_bypass"
    if re.search(r"denial of service|crash|exhaust|hang|infinite", low) or cwe in (400, 835, 1333, 674, 476):
        return "denial_of_service"
    if re.search(r"disclos|leak|expos|read arbitrary|sensitive", low) or cwe in (200, 22, 611, 918):
        return "information_disclosure"
    if re.search(r"modif|tamper|overwrite|write arbitrary|inject", low) or cwe in (79, 89, 352):
        return "data_tampering"
    return "other"


_URL_TEXT = re.compile(r"(?:https?|ftp)://\S+")


def _hints(text: str) -> tuple[list[str], list[str]]:
    text = _URL_TEXT.sub(" ", text)
    files = list(dict.fromkeys(m.group(1) for m in _FILE_HINT.finditer(text)))
    symbols: list[str] = []
    for m in _IDENT_HINT.finditer(text):
        s = next(g for g in m.groups() if g)
        s = s.removesuffix("()")
        if _FILE_HINT.fullmatch(s) or len(s) < 4:
            continue
        symbols.append(s)
    return files, list(dict.fromkeys(symbols))


def _osv_spans(affected: dict[str, Any]) -> tuple[list[tuple[str | None, str | None]], list[str], str | None]:
    spans: list[tuple[str | None, str | None]] = []
    commits: list[str] = []
    repo = None
    for rng in affected.get("ranges") or []:
        events = rng.get("events") or []
        if rng.get("type") == "GIT":
            repo = repo or rng.get("repo")
            commits += [str(v) for e in events for v in e.values() if str(v) != "0"]
            continue
        intro: str | None = None
        for e in events:
            if "introduced" in e:
                intro = None if str(e["introduced"]) == "0" else str(e["introduced"])
            elif "fixed" in e:
                spans.append((intro, str(e["fixed"])))
                intro = None
            elif "last_affected" in e:
                spans.append((intro, None))
                intro = None
        if events and "introduced" in events[-1]:
            spans.append((intro, None))
    versions = [str(v) for v in affected.get("versions") or []]
    return spans, versions, repo


_OSV_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Maven": "maven",
    "Go": "golang",
    "RubyGems": "gem",
    "crates.io": "cargo",
}


def _from_osv(rec: dict[str, Any], fallback_type: str = "generic") -> Advisory | None:
    affected = (rec.get("affected") or [{}])[0]
    pkg = affected.get("package") or {}
    eco = str(pkg.get("ecosystem", ""))
    name = str(pkg.get("name", "")).strip()
    spans, versions, repo = _osv_spans(affected)
    if eco in _OSV_TYPES:
        kind = _OSV_TYPES[eco]
        namespace: str | None = None
        if kind == "maven" and ":" in name:
            namespace, name = name.split(":", 1)
        elif kind == "npm" and name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
        elif kind == "golang" and "/" in name:
            namespace, name = name.rsplit("/", 1)
    else:
        m = re.match(
            r"https?://(?:www\.)?(github\.com|gitlab\.com)/([^/]+)/([^/]+?)(?:\.git)?/?$", repo or ""
        )
        if m:
            kind, namespace, name = m.group(1).split(".")[0], m.group(2), m.group(3)
        else:
            kind, namespace = fallback_type, None
            name = name or "unknown"
    if not name:
        return None
    details = str(rec.get("details") or "")
    summary = str(rec.get("summary") or "")
    crash_symbols: list[str] = []
    cwe_ids = [int(re.sub(r"\D", "", c)) for c in (rec.get("database_specific") or {}).get("cwe_ids") or []]
    m = re.search(r"Crash type: ([^\n]*)\nCrash state:\n(.*?)```", details, re.S)
    if m:
        crash_type = m.group(1).strip().lower()
        crash_symbols = [s.strip() for s in m.group(2).strip().splitlines() if s.strip()]
        cwe_ids = cwe_ids or [next((c for k, c in _OSS_FUZZ_CWE if k in crash_type), 119)]
    files, symbols = _hints(f"{summary}\n{details}")
    text = f"{summary}\n{details}"
    return Advisory(
        id=str(rec.get("id")),
        purl_type=kind,
        namespace=namespace,
        name=name,
        title=summary,
        details=details.strip(),
        cwes=cwe_ids or [infer_cwe(text)],
        spans=spans,
        versions=versions,
        aliases=[str(a) for a in rec.get("aliases") or []],
        repo=repo,
        symbols=crash_symbols + symbols,
        files=files,
        commits=[c for c in dict.fromkeys(m for m in _commits_of(affected))],
    )


def _commits_of(affected: dict[str, Any]) -> Iterator[str]:
    for rng in affected.get("ranges") or []:
        if rng.get("type") == "GIT":
            for e in rng.get("events") or []:
                for v in e.values():
                    if re.fullmatch(r"[0-9a-f]{40}", str(v)):
                        yield str(v)


def _semver_spans(expr: str) -> list[tuple[str | None, str | None]]:
    spans: list[tuple[str | None, str | None]] = []
    for part in expr.split("||"):
        low: str | None = None
        high: str | None = None
        for op, ver in re.findall(r"(>=|<=|>|<|=|\^|~)?\s*v?(\d+(?:\.\d+)*(?:-[\w.]+)?)", part):
            if op in (">=", ">", "", "=", "^", "~"):
                low = ver
            if op in ("<", "<="):
                high = ver
        if low or high:
            spans.append((low, high))
    return spans


def _from_rubysec(rec: dict[str, Any], engine: str | None) -> Advisory | None:
    name = str(rec.get("gem") or rec.get("engine") or engine or "")
    if not name:
        return None
    fixed: list[str] = []
    for p in rec.get("patched_versions") or []:
        fixed += re.findall(r">=?\s*(\d[\w.]*)", str(p)) + re.findall(r"~>\s*(\d[\w.]*)", str(p))
    fixed.sort(key=version_key)
    spans: list[tuple[str | None, str | None]] = [(None, fixed[0])] if fixed else []
    aliases = []
    if rec.get("cve"):
        aliases.append(f"CVE-{rec['cve']}")
    if rec.get("ghsa"):
        aliases.append(f"GHSA-{rec['ghsa']}")
    desc = str(rec.get("description") or "")
    title = str(rec.get("title") or "")
    files, symbols = _hints(f"{title}\n{desc}")
    text = f"{title}\n{desc}"
    return Advisory(
        id=str(rec.get("cve") or rec.get("ghsa") or rec.get("osvdb") or title[:40]),
        purl_type="gem" if engine is None else "generic",
        namespace=None,
        name=name,
        title=title,
        details=desc.strip(),
        cwes=[infer_cwe(text)],
        spans=spans,
        versions=[],
        aliases=aliases,
        repo=None,
        symbols=symbols,
        files=files,
    )


def _from_npm(rec: dict[str, Any]) -> Advisory | None:
    name = str(rec.get("module_name") or "")
    if not name:
        return None
    namespace = None
    if name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    text = f"{rec.get('title', '')}\n{rec.get('overview', '')}"
    files, symbols = _hints(text)
    spans = _semver_spans(str(rec.get("vulnerable_versions") or ""))
    patched = _semver_spans(str(rec.get("patched_versions") or ""))
    if spans and spans[0][1] is None and patched and patched[0][0]:
        spans[0] = (spans[0][0], patched[0][0])
    return Advisory(
        id=f"NSWG-{rec.get('id')}",
        purl_type="npm",
        namespace=namespace,
        name=name,
        title=str(rec.get("title") or ""),
        details=str(rec.get("overview") or "").strip(),
        cwes=[infer_cwe(text)],
        spans=spans,
        versions=[],
        aliases=[str(c) for c in rec.get("cves") or []],
        repo=None,
        symbols=symbols,
        files=files,
    )


def load_advisories(corpus: Path, sources: Sequence[str] = ALL_SOURCES) -> list[Advisory]:
    """The corpus advisories of the given sources, in a stable order."""
    out: list[Advisory] = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    seen: set[tuple[str, str]] = set()

    def add(adv: Advisory | None) -> None:
        # Some databases hold the same report twice (OSS-Fuzz re-imports, a PYSEC and its GHSA):
        # one package's identical texts are one case, not two.
        if adv is None or not (adv.title or adv.details):
            return
        key = (adv.package_key, text_key(adv))
        if key not in seen:
            seen.add(key)
            out.append(adv)

    if "pypa" in sources:
        for p in sorted((corpus / "pypa-advisory-database" / "vulns").rglob("*.yaml")):
            add(_from_osv(yaml.load(p.read_text(encoding="utf-8"), Loader=loader)))
    if "ghsa" in sources:
        for p in sorted((corpus / "ghsa-sample" / "github-advisory-database").rglob("GHSA-*.json")):
            add(_from_osv(json.loads(p.read_text(encoding="utf-8"))))
    if "go" in sources:
        for p in sorted((corpus / "ghsa-sample" / "golang-vulndb-testdata").rglob("*.json")):
            add(_from_osv(json.loads(p.read_text(encoding="utf-8"))))
    if "psf" in sources:
        for p in sorted((corpus / "osv-more-ecosystems" / "psf-advisory-database").rglob("*.json")):
            rec = json.loads(p.read_text(encoding="utf-8"))
            for a in rec.get("affected") or []:
                a.setdefault("package", {"ecosystem": "GIT", "name": "cpython"})
            add(_from_osv(rec))
    if "oss-fuzz" in sources:
        path = corpus / "osv-more-ecosystems" / "oss-fuzz-vulns" / "vulns.tar.gz"
        if path.is_file():
            with tarfile.open(path) as tar:
                for m in sorted(
                    (m for m in tar if m.isfile() and m.name.endswith(".yaml")), key=lambda m: m.name
                ):
                    fh = tar.extractfile(m)
                    if fh is not None:
                        add(_from_osv(yaml.load(fh.read(), Loader=loader)))
    if "rubysec" in sources:
        path = corpus / "osv-more-ecosystems" / "ruby-advisory-db" / "advisories.tar.gz"
        if path.is_file():
            with tarfile.open(path) as tar:
                for m in sorted(
                    (m for m in tar if m.isfile() and m.name.endswith(".yml")), key=lambda m: m.name
                ):
                    fh = tar.extractfile(m)
                    if fh is None:
                        continue
                    rec = yaml.load(fh.read(), Loader=loader)
                    parts = m.name.split("/")
                    engine = parts[-2] if "rubies" in parts else None
                    if isinstance(rec, dict):
                        add(_from_rubysec(rec, engine))
    if "npm" in sources:
        for p in sorted(
            (corpus / "osv-more-ecosystems" / "nodejs-security-wg" / "vuln" / "npm").glob("*.json")
        ):
            add(_from_npm(json.loads(p.read_text(encoding="utf-8"))))
    return out


# ============================================================================ text noise

SYNONYMS: dict[str, list[str]] = {
    "allows": ["permits", "lets", "enables"],
    "allow": ["permit", "let", "enable"],
    "attacker": ["adversary", "malicious actor", "threat actor"],
    "attackers": ["adversaries", "malicious actors", "threat actors"],
    "remote": ["network-based", "remote, unauthenticated"],
    "arbitrary": ["attacker-chosen", "any", "attacker-controlled"],
    "execute": ["run", "invoke"],
    "execution": ["running", "invocation"],
    "crafted": ["specially crafted", "malicious", "carefully constructed"],
    "malicious": ["crafted", "hostile", "weaponized"],
    "vulnerability": ["flaw", "weakness", "security bug"],
    "vulnerable": ["affected", "exposed", "susceptible"],
    "issue": ["problem", "bug", "defect"],
    "cause": ["trigger", "lead to", "result in"],
    "causes": ["triggers", "leads to", "results in"],
    "via": ["through", "by means of", "using"],
    "user": ["client", "end user"],
    "users": ["clients", "end users"],
    "input": ["data", "payload"],
    "denial of service": ["DoS", "service disruption", "a denial-of-service condition"],
    "crash": ["abort", "segfault", "terminate abnormally"],
    "improper": ["incorrect", "insufficient", "faulty"],
    "improperly": ["incorrectly", "insufficiently"],
    "validation": ["checking", "verification", "sanitization"],
    "sensitive": ["confidential", "private"],
    "information": ["data", "details"],
    "bypass": ["circumvent", "get around", "evade"],
    "function": ["routine", "method"],
    "handling": ["processing", "parsing"],
    "request": ["query", "call"],
    "requests": ["queries", "calls"],
    "fixed": ["patched", "resolved", "addressed"],
    "prior to": ["before", "older than"],
    "before": ["prior to", "earlier than"],
    "upgrade": ["update", "move"],
    "memory": ["heap memory", "RAM"],
    "file": ["document", "path"],
    "server": ["service", "host"],
    "possible": ["feasible", "achievable"],
    "contains": ["has", "includes"],
    "does not": ["fails to", "doesn't"],
    "can": ["could", "may be able to"],
    "leads to": ["results in", "causes"],
    "unauthenticated": ["anonymous", "unauthorized"],
    "string": ["text", "value"],
    "large": ["huge", "oversized"],
    "certain": ["specific", "particular"],
    "when": ["whenever", "if"],
    "obtain": ["get", "acquire", "read"],
    "exploit": ["abuse", "leverage", "take advantage of"],
    "overflow": ["overrun"],
    "injection": ["injection attack"],
    "parameter": ["argument", "field"],
    "data": ["content", "input"],
}
_SYN_PATTERN = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True)) + r")\b", re.I
)

INTROS = (
    "Our AI agent discovered the following issue while auditing {pkg}.",
    "During an automated scan of {pkg}, {model} identified a potential vulnerability.",
    "Summary generated by {tool}:",
    "This finding was produced by an autonomous code-review agent.",
    "[Automated report]",
    "We believe we have found a security problem in {pkg}.",
    "Hello maintainers, our LLM-assisted fuzzing pipeline flagged the following in {pkg}.",
    "Finding from campaign {campaign}:",
    "TL;DR:",
    "Vulnerability report (auto-generated by {tool}).",
    "Our model ({model}) reviewed the source of {pkg} and found this.",
    "AI triage note:",
)
OUTROS = (
    "Please confirm and coordinate a fix.",
    "We recommend upgrading to a patched release.",
    "Severity assessment is preliminary and may be revised.",
    "Contact us for the full proof of concept.",
    "This report was generated automatically; false positives are possible.",
    "Reported under coordinated disclosure.",
)
LOCATION_SENTENCES = (
    "The vulnerable code is in `{symbol}` ({file}).",
    "Root cause: {file}, function {symbol}.",
    "Affected function: {symbol} ({file}, line {line}).",
    "See {symbol} in {file}.",
    "The bug lives in {file}:{line}, inside {symbol}.",
    "Sink: `{symbol}`.",
)
VERSION_SENTENCES = (
    "Tested against {pkg} {version}.",
    "Confirmed on version {version}.",
    "Reproduced with {pkg} {version}.",
)
GENERATORS = (
    ("deepaudit", "model-a", "Acme Security"),
    ("bughound", "model-b", "Bughound Labs"),
    ("sentinel-fuzz", "model-c", "Sentinel"),
    ("patchwise", "model-a", "Patchwise"),
    ("codewarden", "model-d", "Warden Inc"),
    ("vulnhunter", "model-e", "University Lab"),
    ("autoreview", "model-b", "Open Source Security Group"),
    ("triagebot", None, "Independent"),
)
VERBS = (
    "parse",
    "decode",
    "read",
    "load",
    "handle",
    "process",
    "render",
    "validate",
    "resolve",
    "unpack",
    "extract",
    "convert",
    "format",
    "build",
    "serialize",
    "deserialize",
    "copy",
    "merge",
    "normalize",
    "scan",
    "open",
    "write",
    "apply",
    "dispatch",
    "fetch",
    "compile",
    "expand",
    "split",
    "join",
    "filter",
)
NOUNS = (
    "header",
    "chunk",
    "frame",
    "token",
    "path",
    "url",
    "request",
    "response",
    "cookie",
    "session",
    "template",
    "query",
    "record",
    "entry",
    "archive",
    "image",
    "packet",
    "buffer",
    "stream",
    "node",
    "attribute",
    "config",
    "option",
    "message",
    "field",
    "block",
    "table",
    "string",
    "payload",
    "manifest",
    "row",
    "column",
    "segment",
    "glyph",
    "tag",
    "element",
    "key",
    "value",
    "index",
    "range",
)
CLASSES = (
    "Parser",
    "Reader",
    "Decoder",
    "Handler",
    "Loader",
    "Session",
    "Client",
    "Server",
    "Codec",
    "Context",
)
EXTENSIONS = {"pypi": ".py", "npm": ".js", "gem": ".rb", "golang": ".go", "maven": ".java", "cargo": ".rs"}


def paraphrase(text: str, rng: Random, p: float) -> str:
    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        if rng.random() >= p:
            return word
        choice = rng.choice(SYNONYMS[word.lower()])
        return choice.capitalize() if word[:1].isupper() else choice

    return _SYN_PATTERN.sub(swap, text)


def sentences(text: str) -> list[str]:
    text = re.sub(r"```.*?```", lambda m: m.group(0).replace("\n", " ; "), text, flags=re.S)
    text = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z`\"'(\[])", text) if s.strip()]


# ============================================================================ cases


@dataclass
class Case:
    id: str
    advisory: Advisory
    kind: str  # base | sibling | transplant | fork
    purl_type: str
    namespace: str | None
    name: str
    title: str
    details: str
    cwe: int
    impact: str
    file: str
    symbol: str
    spans: list[tuple[str | None, str | None]]
    versions: list[str]
    commits: list[str]
    aliases: list[str]
    repo: str | None


def _tail(symbol: str) -> str:
    norm = normalize_symbol(symbol) or symbol.lower()
    return norm.rsplit(".", 1)[-1]


class _Locations:
    """Gives each case of a package a code location whose symbol no other case there shares."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.tails: dict[str, set[str]] = defaultdict(set)

    def take(self, package_key: str, wanted: Sequence[str]) -> str | None:
        for s in wanted:
            t = _tail(s)
            if len(t) >= 3 and t not in self.tails[package_key]:
                self.tails[package_key].add(t)
                return s
        return None

    def invent(self, package_key: str, purl_type: str) -> str:
        for _ in range(1000):
            base = f"{self.rng.choice(VERBS)}_{self.rng.choice(NOUNS)}"
            if purl_type in ("maven", "npm", "golang"):
                base = re.sub(r"_(\w)", lambda m: m.group(1).upper(), base)
            if self.rng.random() < 0.1:
                base += f"_{self.rng.choice(NOUNS)}"
            if self.rng.random() < 0.3:
                base = f"{self.rng.choice(CLASSES)}.{base}"
            got = self.take(package_key, [base])
            if got:
                return got
        n = len(self.tails[package_key])  # pragma: no cover - 1,000 misses in a row
        return self.take(package_key, [f"handler_{n}_{self.rng.randrange(1 << 30)}"]) or "unreachable"


def _file_for(adv: Advisory, purl_type: str, name: str, symbol: str, rng: Random) -> str:
    if adv.files and rng.random() < 0.7:
        f = rng.choice(adv.files)
        return f if "/" in f else f"src/{f}"
    ext = EXTENSIONS.get(purl_type, rng.choice((".c", ".cc", ".cpp")))
    words = re.findall(r"[a-z]+", _tail(symbol))
    stem = words[-1] if words and rng.random() < 0.5 else rng.choice(NOUNS) + "s"
    pkg = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "lib"
    prefix = {"pypi": f"{pkg}/", "npm": "lib/", "gem": f"lib/{pkg}/", "golang": "", "maven": "src/main/java/"}
    return f"{prefix.get(purl_type, 'src/')}{stem}{ext}"


def _rename(text: str, old: str, new: str) -> str:
    if not old or len(old) < 3:
        return text
    return re.sub(re.escape(old), new, text, flags=re.I)


def _fork_name(adv: Advisory, rng: Random) -> tuple[str | None, str]:
    name = adv.name
    choice = rng.randrange(4)
    if adv.purl_type == "npm" and choice == 0:
        return f"@{rng.choice(('fork', 'community', 'patched', 'legacy'))}", name
    if adv.purl_type == "golang" and adv.namespace:
        return adv.namespace.replace(
            adv.namespace.split("/")[-1], f"{adv.namespace.split('/')[-1]}-fork"
        ), name
    if adv.purl_type == "maven" and adv.namespace:
        return f"{adv.namespace}.shaded", name
    suffix = ("-fork", "2", "-ng", "-community")[choice]
    return adv.namespace, f"{name}{suffix}"


def build_cases(advisories: Sequence[Advisory], n_cases: int, rng: Random) -> list[Case]:
    """``n_cases`` cases: every advisory once (as far as they go), then siblings, transplants and forks."""
    locs = _Locations(rng)
    by_type: dict[str, list[Advisory]] = defaultdict(list)
    for a in advisories:
        by_type[a.purl_type].append(a)
    order = list(advisories)
    rng.shuffle(order)
    cases: list[Case] = []
    base_symbol: dict[str, str] = {}

    def new_case(
        adv: Advisory, kind: str, donor: Advisory | None = None, fork: tuple[str | None, str] | None = None
    ) -> None:
        src = donor or adv
        namespace, name = fork or (adv.namespace, adv.name)
        key = normalize_package(purl_of(adv.purl_type, namespace, name)).key
        title, details = src.title, src.details
        hints = list(src.symbols)
        if kind == "sibling":
            symbol = locs.invent(key, adv.purl_type)
            old = base_symbol.get(adv.id)
            if old:  # the same text about another function: the variant-analysis near miss
                title, details = (
                    _rename(title, _tail(old), _tail(symbol)),
                    _rename(details, _tail(old), _tail(symbol)),
                )
        else:
            symbol = locs.take(key, hints[:3]) or locs.invent(key, adv.purl_type)
            if kind == "base":
                base_symbol[adv.id] = symbol
        if donor is not None:
            title = _rename(title, donor.name, name)
            details = _rename(details, donor.name, name)
        text = f"{title}\n{details}"
        cwe = src.cwes[0] if src.cwes else infer_cwe(text)
        spans = adv.spans
        cases.append(
            Case(
                id=f"C{len(cases):06d}",
                advisory=adv,
                kind=kind,
                purl_type=adv.purl_type,
                namespace=namespace,
                name=name,
                title=title,
                details=details,
                cwe=cwe,
                impact=infer_impact(text, cwe),
                file=_file_for(src, adv.purl_type, name, symbol, rng),
                symbol=symbol,
                spans=spans,
                versions=adv.versions if kind != "transplant" else [],
                commits=adv.commits or [f"{rng.getrandbits(160):040x}" for _ in range(3)],
                aliases=adv.aliases if kind == "base" else [],
                repo=adv.repo,
            )
        )

    texts: dict[str, set[str]] = defaultdict(set)  # package -> text keys of its cases
    for adv in advisories:
        texts[adv.package_key].add(text_key(adv))

    def donor_for(adv: Advisory) -> Advisory | None:
        pool = by_type[adv.purl_type]
        for _ in range(20):
            donor = rng.choice(pool)
            key = text_key(donor)
            if donor.package_key != adv.package_key and key not in texts[adv.package_key]:
                texts[adv.package_key].add(key)
                return donor
        return None

    for adv in order[:n_cases]:
        new_case(adv, "base")
    while len(cases) < n_cases:
        adv = rng.choice(order)
        r = rng.random()
        donor = donor_for(adv) if 0.30 <= r < 0.85 else None
        fork = _fork_name(adv, rng) if r >= 0.85 or (r >= 0.30 and donor is None) else None
        if fork is not None:
            fork_key = normalize_package(purl_of(adv.purl_type, *fork)).key
            if text_key(adv) in texts[fork_key]:
                fork = None  # this advisory is already in that fork: make a sibling instead
            else:
                texts[fork_key].add(text_key(adv))
        if donor is not None:
            new_case(adv, "transplant", donor=donor)
        elif fork is not None:
            new_case(adv, "fork", fork=fork)
        else:
            new_case(adv, "sibling")
    return cases


# ============================================================================ findings


@dataclass
class FloodConfig:
    """Noise rates (each per finding)."""

    dup_rate: float = 0.45
    max_case_size: int = 40
    synonym_p: float = 0.35
    reorder_p: float = 0.5
    drop_sentence_p: float = 0.25
    intro_p: float = 0.6
    outro_p: float = 0.3
    location_sentence_p: float = 0.7
    missing_symbol_p: float = 0.08
    missing_file_p: float = 0.05
    missing_cwe_p: float = 0.04
    extra_cwe_p: float = 0.04
    wrong_cwe_p: float = 0.04
    out_of_range_p: float = 0.02
    alias_p: float = 0.25


def _bump(version: str, rng: Random, down: bool) -> str | None:
    nums = [int(x) for x in re.findall(r"\d+", version)[:3]]
    if not nums:
        return None
    while len(nums) < 3:
        nums.append(0)
    if down:
        for i in (2, 1, 0):
            if nums[i] > 0:
                nums[i] -= 1
                nums[i + 1 :] = [rng.randrange(0, 12) for _ in nums[i + 1 :]]
                break
        else:
            return None
    else:
        nums[2] += rng.randrange(1, 4)
    return ".".join(map(str, nums))


def _inside_version(case: Case, rng: Random) -> str | None:
    if case.versions:
        return rng.choice(case.versions)
    if not case.spans:
        return None
    low, high = rng.choice(case.spans)
    if high is None:
        return _bump(low, rng, down=False) if low else "1.0.0"
    for _ in range(4):
        v = _bump(high, rng, down=True)
        if v is None:
            break
        if low is None or version_key(low) <= version_key(v):
            return v
    return low


def _vers(case: Case, rng: Random, partial: bool) -> str | None:
    parts: list[str] = []
    spans = case.spans if not partial else case.spans[-1:]
    for low, high in spans:
        if low and not partial:
            parts.append(f">={low}")
        if high:
            parts.append(f"<{high}")
        elif low and partial:
            parts.append(f">={low}")
    if not parts:
        return None
    if rng.random() < 0.3:
        rng.shuffle(parts)
    vtype = {"pypi": "pypi", "npm": "npm", "gem": "gem", "golang": "golang", "maven": "maven"}.get(
        case.purl_type, "generic"
    )
    return f"vers:{vtype}/{'|'.join(parts)}"


def _spell_name(case: Case, rng: Random) -> tuple[str | None, str]:
    ns, name = case.namespace, case.name
    r = rng.random()
    if case.purl_type == "pypi" and r < 0.4:
        seps = re.split(r"[-_.]+", name)
        name = rng.choice(("-", "_", ".")).join(seps)
        if rng.random() < 0.5:
            name = (
                name.title() if rng.random() < 0.5 else name.upper() if len(name) < 6 else name.capitalize()
            )
    elif case.purl_type == "npm" and ns and r < 0.3:
        ns = ns.upper() if rng.random() < 0.3 else ns.capitalize()
    elif case.purl_type == "golang" and ns and r < 0.2:
        ns = "/".join(p.capitalize() if i else p for i, p in enumerate(ns.split("/")))
    return ns, name


def _spell_symbol(case: Case, rng: Random) -> str:
    s = case.symbol
    r = rng.random()
    if r < 0.5:
        return s
    if r < 0.65:
        return s + "()"
    if r < 0.8:
        return _tail(s) if "::" not in s else s.split("::")[-1]
    if r < 0.9 and case.purl_type == "pypi":
        mod = re.sub(r"\.py$", "", case.file).replace("/", ".")
        return f"{mod}.{s}"
    return s.replace(".", "::") if case.purl_type not in ("pypi", "npm", "gem") else s


def _spell_file(case: Case, rng: Random, commit: str) -> str:
    f = case.file
    r = rng.random()
    if r < 0.6:
        return f
    if r < 0.7:
        return "./" + f
    if r < 0.8:
        return f"{f}:{rng.randrange(1, 3000)}"
    if r < 0.9:
        return f.replace("/", "\\")
    if case.repo and case.repo.startswith("https://github.com/"):
        return f"{case.repo.removesuffix('.git')}/blob/{commit}/{f}"
    return f


def _wrong_cwe(cwe: int, rng: Random) -> int:
    family = sorted(cwe_family(cwe) - {cwe})
    if family and rng.random() < 0.7:
        return rng.choice(family)
    return rng.choice([c for c in COMMON_CWES if c != cwe])


def _shuffled(d: dict[str, Any], rng: Random) -> dict[str, Any]:
    keys = list(d)
    rng.shuffle(keys)
    return {k: (_shuffled(d[k], rng) if isinstance(d[k], dict) else d[k]) for k in keys}


def render(case: Case, rng: Random, cfg: FloodConfig, campaign: str) -> tuple[dict[str, Any], list[str]]:
    """One AI-style report of ``case`` in the native format, and the noise applied."""
    noise: list[str] = []
    tool, model, org = rng.choice(GENERATORS)
    ns, name = _spell_name(case, rng)
    pkg_display = name if not ns else f"{ns}/{name}"
    # affected version or range
    version: str | None = None
    vers: str | None = None
    purl_version: str | None = None
    r = rng.random()
    git_only = not case.spans
    if git_only:
        version = rng.choice(case.commits[:3])[: rng.choice((7, 12, 40))]
    elif r < cfg.out_of_range_p:
        high = next((h for _, h in case.spans if h), None)
        version = high or _inside_version(case, rng)
        noise.append("version-outside-range")
    elif r < 0.35:
        vers = _vers(case, rng, partial=False)
    elif r < 0.45:
        vers = _vers(case, rng, partial=True)
        noise.append("partial-range")
    elif r < 0.53:
        vers = _vers(case, rng, partial=False)
        version = _inside_version(case, rng)
    else:
        version = _inside_version(case, rng)
    if version is None and vers is None:
        version = "0"
    if version is not None and vers is None and rng.random() < 0.5:
        purl_version, version = version, None
    # CWE
    cwes = [case.cwe]
    r = rng.random()
    if r < cfg.missing_cwe_p:
        cwes = []
        noise.append("no-cwe")
    elif r < cfg.missing_cwe_p + cfg.extra_cwe_p:
        extra = sorted(cwe_family(case.cwe)) or [20]
        cwes.append(rng.choice(extra))
        rng.shuffle(cwes)
        noise.append("extra-cwe")
    elif r < cfg.missing_cwe_p + cfg.extra_cwe_p + cfg.wrong_cwe_p:
        cwes = [_wrong_cwe(case.cwe, rng)]
        noise.append("wrong-cwe")
    # location
    commit = rng.choice(case.commits[:3]) if rng.random() < 0.5 else f"{rng.getrandbits(160):040x}"
    symbol = None if rng.random() < cfg.missing_symbol_p else _spell_symbol(case, rng)
    file = None if rng.random() < cfg.missing_file_p else _spell_file(case, rng, commit)
    if symbol is None:
        noise.append("no-symbol")
    if file is None:
        noise.append("no-file")
    line = rng.randrange(5, 2500)
    # text
    body = sentences(case.details) or [case.title]
    if len(body) > 3 and rng.random() < cfg.drop_sentence_p:
        body.pop(rng.randrange(1, len(body)))
    if len(body) > 1 and rng.random() < cfg.reorder_p:
        head, rest = body[:1], body[1:]
        rng.shuffle(rest)
        body = rest + head if rng.random() < 0.3 else head + rest
    body = [paraphrase(s, rng, cfg.synonym_p) for s in body]
    fill = {
        "pkg": pkg_display,
        "model": model or tool,
        "tool": tool,
        "campaign": campaign,
        "symbol": case.symbol,
        "file": case.file,
        "line": line,
        "version": version or purl_version or "HEAD",
    }
    if rng.random() < cfg.location_sentence_p:
        body.insert(rng.randrange(0, len(body) + 1), rng.choice(LOCATION_SENTENCES).format(**fill))
    if rng.random() < 0.4:
        body.append(rng.choice(VERSION_SENTENCES).format(**fill))
    if rng.random() < cfg.intro_p:
        body.insert(0, rng.choice(INTROS).format(**fill))
    if rng.random() < cfg.outro_p:
        body.append(rng.choice(OUTROS))
    bug = CWE_NAMES.get(case.cwe, "Security weakness")
    first = sentences(case.details)[:1]
    titles = [
        f"{bug} in {_tail(case.symbol)}",
        f"{bug} in {pkg_display}",
        f"Potential {bug.lower()} via {_tail(case.symbol)}() in {pkg_display}",
        f"[{rng.choice(('HIGH', 'MEDIUM', 'CRITICAL', 'LOW'))}] {bug} in {case.file.rsplit('/', 1)[-1]}",
    ]
    if case.title:
        titles += [paraphrase(case.title, rng, cfg.synonym_p)] * 3
    if first:
        titles.append(paraphrase(first[0][:150], rng, cfg.synonym_p))
    title = rng.choice(titles)[:480] or bug
    # assemble
    package: dict[str, Any] = {"purl": purl_of(case.purl_type, ns, name, purl_version)}
    if version is not None:
        package["version"] = version
    if vers is not None:
        package["vers"] = vers
    source: dict[str, Any] = {"start_line": line}
    if case.repo:
        source["repo"] = case.repo
    if rng.random() < 0.6:
        source["commit"] = commit[: rng.choice((7, 12, 40))]
    if file is not None:
        source["file"] = file
    if symbol is not None:
        source["symbol"] = symbol
    finding: dict[str, Any] = {
        "title": title,
        "description": " ".join(body),
        "package": package,
        "source": source,
        "cwe": [f"CWE-{c}" for c in cwes],
        "impact": {
            "claimed": case.impact,
            "description": f"{bug} leading to {case.impact.replace('_', ' ')}.",
        },
        "generator": {
            "tool": tool,
            "tool_version": f"{rng.randrange(1, 4)}.{rng.randrange(0, 10)}",
            "organization": org,
        },
        "campaign_id": campaign,
    }
    if model:
        finding["generator"]["model"] = model
    if case.aliases and rng.random() < cfg.alias_p:
        finding["aliases"] = rng.sample(case.aliases, rng.randrange(1, len(case.aliases) + 1))
        noise.append("aliases")
    if case.repo and rng.random() < 0.3:
        finding["references"] = [case.repo]
    return _shuffled(finding, rng), noise


def _case_sizes(n_cases: int, count: int, max_size: int, rng: Random) -> list[int]:
    sizes = [1] * n_cases
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(n_cases)]
    extra = count - n_cases
    picks = rng.choices(range(n_cases), weights=weights, k=extra) if extra > 0 else []
    spill = 0
    for i in picks:
        if sizes[i] < max_size:
            sizes[i] += 1
        else:
            spill += 1
    i = 0
    while spill:  # capped cases give their extra reports to the next ones with room
        if sizes[i % n_cases] < max_size:
            sizes[i % n_cases] += 1
            spill -= 1
        i += 1
    return sizes


@dataclass
class Flood:
    findings: list[dict[str, Any]]
    truth: list[dict[str, Any]]

    @property
    def cases(self) -> list[str]:
        return [t["case"] for t in self.truth]

    def write(self, path: Path) -> Path:
        """Write findings to ``path`` and ground truth to :func:`truth_path` (gzip NDJSON)."""
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=5) as fh:
            for f in self.findings:
                fh.write(json.dumps(f, separators=(",", ":")) + "\n")
        tpath = truth_path(path)
        with gzip.open(tpath, "wt", encoding="utf-8", compresslevel=5) as fh:
            for t in self.truth:
                fh.write(json.dumps(t, separators=(",", ":")) + "\n")
        return tpath


def truth_path(path: Path) -> Path:
    name = path.name
    for suffix in (".ndjson.gz", ".ndjson", ".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".truth" + suffix)
    return path.with_name(name + ".truth")


def read_flood(path: Path) -> Flood:
    def lines(p: Path) -> list[dict[str, Any]]:
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    return Flood(lines(path), lines(truth_path(path)))


def generate_flood(
    count: int,
    *,
    seed: int = 7,
    corpus: Path | None = None,
    sources: Sequence[str] = ALL_SOURCES,
    config: FloodConfig | None = None,
    advisories: Sequence[Advisory] | None = None,
) -> Flood:
    """``count`` findings in a random arrival order, and for each its true case."""
    cfg = config or FloodConfig()
    if not 0.0 <= cfg.dup_rate < 1.0:
        raise ValueError("dup_rate is a share of findings: 0 <= dup_rate < 1")
    rng = Random(seed)
    advs = list(advisories) if advisories is not None else load_advisories(corpus or corpus_path(), sources)
    if not advs:
        raise ValueError("no advisories: is the corpus there?")
    n_cases = max(1, round(count * (1.0 - cfg.dup_rate)))
    cases = build_cases(advs, n_cases, rng)
    sizes = _case_sizes(n_cases, count, cfg.max_case_size, rng)
    slots = [i for i, s in enumerate(sizes) for _ in range(s)]
    rng.shuffle(slots)
    campaigns = [f"{rng.getrandbits(128):032x}"[:32] for _ in range(50)]
    findings: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    for line, ci in enumerate(slots):
        case = cases[ci]
        campaign = rng.choice(campaigns)
        campaign = f"{campaign[:8]}-{campaign[8:12]}-{campaign[12:16]}-{campaign[16:20]}-{campaign[20:32]}"
        finding, noise = render(case, rng, cfg, campaign)
        findings.append(finding)
        truth.append(
            {"line": line, "case": case.id, "advisory": case.advisory.id, "kind": case.kind, "noise": noise}
        )
    return Flood(findings, truth)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--out", type=Path, required=True, help="FILE.ndjson.gz; truth goes to FILE.truth.ndjson.gz"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-rate", type=float, default=FloodConfig.dup_rate)
    parser.add_argument("--sources", default=",".join(ALL_SOURCES), help=f"comma-separated, of {ALL_SOURCES}")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    flood = generate_flood(
        args.count,
        seed=args.seed,
        sources=[s for s in args.sources.split(",") if s],
        config=FloodConfig(dup_rate=args.dup_rate),
    )
    tpath = flood.write(args.out)
    n_cases = len(set(flood.cases))
    print(
        f"{len(flood.findings):,} findings in {n_cases:,} cases "
        f"({1 - n_cases / len(flood.findings):.1%} duplicates) -> {args.out} (+ {tpath.name}) "
        f"in {time.perf_counter() - start:.1f}s"
    )


if __name__ == "__main__":
    main()

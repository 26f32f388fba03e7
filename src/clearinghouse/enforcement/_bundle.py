"""Evidence bundles: a zip that carries evidence files, their custody log and a
signed manifest, and can be checked anywhere without the database.

Layout (format ``clearinghouse-evidence-bundle/v1``)::

    manifest.json        what is in the bundle, with SHA-256 and size of every file,
                         the custody log's SHA-256, the export's who/why/when,
                         the ledger's signed head at export, and an Ed25519 signature
    custody.jsonl        the ledger events about each evidence item, oldest first,
                         one JSON object per line, each with its own ledger hash
    evidence/<id>/<name> each evidence file, byte for byte as received

Verification (:func:`verify_bundle`) recomputes every file's SHA-256 and size,
the custody log's SHA-256, and every custody event's ledger hash (the hash the
ledger chain holds for it), checks that each file's receipt event names the
same SHA-256, and checks the manifest's signature. One changed byte anywhere
fails it. Whether the signing key is this clearinghouse's is a separate
question, answered against the trusted ledger keys the verifier holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearinghouse.errors import ClearinghouseError
from clearinghouse.ledger import SigningKey, event_hash, key_id
from clearinghouse.storage import canonical_json

FORMAT = "clearinghouse-evidence-bundle/v1"
MANIFEST = "manifest.json"
CUSTODY_LOG = "custody.jsonl"
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
# Members are streamed and hashed, never held whole, except the manifest and the
# custody log. What an archive declares is checked before anything is unpacked
# (members, total size, expansion ratio) and the bytes actually inflated are
# counted as they come, so a zip bomb is refused early (issue 14, defect 6).
MAX_BUNDLE_BYTES = 512 * 1024 * 1024  # the archive itself, as uploaded
MAX_BUNDLE_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024 * 1024  # manifest.json and custody.jsonl, read into memory
MAX_RATIO = 100  # how many times larger than compressed a member (or the archive) may expand
RATIO_FLOOR = 1024 * 1024  # smaller members are not held to the ratio (JSON compresses well)
_CHUNK = 1024 * 1024
# What a damaged or hostile archive raises while it is read.
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True)
class BundleFile:
    evidence_id: str
    filename: str
    media_type: str
    received_at: dt.datetime
    content: bytes

    @property
    def path(self) -> str:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in self.filename) or "file"
        return f"evidence/{self.evidence_id}/{safe}"


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(_TIME)


def custody_line(event: Mapping[str, Any]) -> str:
    return canonical_json(event)


def _manifest_message(manifest: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    digest = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    return f"{FORMAT}|manifest|{digest}".encode()


def build_bundle(
    *,
    incident: Mapping[str, Any],
    files: list[BundleFile],
    custody: Sequence[Mapping[str, Any]],
    export: Mapping[str, Any],
    ledger_head: Mapping[str, Any] | None,
    signing_key: SigningKey,
) -> bytes:
    """The zip for these files and their custody events (ledger rows as dicts)."""
    log = "".join(custody_line(e) + "\n" for e in custody).encode()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "incident": dict(incident),
        "export": dict(export),
        "files": [
            {
                "path": f.path,
                "evidence_id": f.evidence_id,
                "filename": f.filename,
                "media_type": f.media_type,
                "received_at": format_time(f.received_at),
                "size": len(f.content),
                "sha256": hashlib.sha256(f.content).hexdigest(),
            }
            for f in files
        ],
        "custody_log": {
            "path": CUSTODY_LOG,
            "events": len(custody),
            "sha256": hashlib.sha256(log).hexdigest(),
        },
        "ledger_head": dict(ledger_head) if ledger_head is not None else None,
        "signing_key": {
            "key_id": signing_key.key_id,
            "public_key": base64.b64encode(
                signing_key.public_key.public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw
                )
            ).decode(),
        },
    }
    manifest["signature"] = signing_key.sign(_manifest_message(manifest))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        zf.writestr(CUSTODY_LOG, log)
        for f in files:
            zf.writestr(f.path, f.content)
    return out.getvalue()


@dataclass
class BundleReport:
    """What verification found; ``ok`` only if there are no problems."""

    problems: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0
    key_id: str | None = None
    key_trusted: bool | None = None  # None: the verifier named no trusted keys
    incident_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.key_trusted is not False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "files": self.files,
            "events": self.events,
            "key_id": self.key_id,
            "key_trusted": self.key_trusted,
            "incident_id": self.incident_id,
        }


class BundleRefused(ClearinghouseError):
    """An archive refused before (or while) unpacking it: too large, too many
    members, or expanding more than a bundle can (a zip bomb)."""

    status = 413
    title = "Bundle refused"


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MiB"


@dataclass
class _Members:
    """What an archive holds: the manifest's and custody log's bytes, and the
    SHA-256 and size of every member, computed while streaming."""

    metadata: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)


def _check_declared(infos: Sequence[zipfile.ZipInfo], archive_size: int) -> None:
    if len(infos) > MAX_BUNDLE_MEMBERS:
        raise BundleRefused(
            f"the archive holds {len(infos)} members; a bundle holds at most {MAX_BUNDLE_MEMBERS}"
        )
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNPACKED_BYTES:
        raise BundleRefused(
            f"the archive would expand to {_mib(declared)}; "
            f"a bundle expands to at most {_mib(MAX_UNPACKED_BYTES)}"
        )
    if declared > RATIO_FLOOR and declared > MAX_RATIO * max(archive_size, 1):
        raise BundleRefused(
            f"the archive would expand {declared // max(archive_size, 1):,} times its size; "
            f"a bundle expands at most {MAX_RATIO} times"
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleRefused(
                f"{info.filename}: would expand {info.file_size // max(info.compress_size, 1):,} times; "
                f"a member expands at most {MAX_RATIO} times"
            )
        if info.filename in (MANIFEST, CUSTODY_LOG) and info.file_size > MAX_METADATA_BYTES:
            raise BundleRefused(f"{info.filename}: larger than {_mib(MAX_METADATA_BYTES)}")


def _read_members(data: bytes, report: BundleReport) -> _Members | None:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"the archive is {_mib(len(data))}; a bundle is at most {_mib(MAX_BUNDLE_BYTES)}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _UNREADABLE as exc:
        report.problems.append(f"not a zip archive: {exc}")
        return None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        _check_declared(infos, len(data))
        members = _Members()
        inflated = 0
        for info in infos:
            keep = info.filename in (MANIFEST, CUSTODY_LOG)
            digest, size, kept = hashlib.sha256(), 0, bytearray()
            try:
                with zf.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        size += len(chunk)
                        inflated += len(chunk)
                        # The header's sizes bound zipfile's output; count anyway, and stop at once.
                        if size > info.file_size or inflated > MAX_UNPACKED_BYTES:
                            raise BundleRefused(f"{info.filename}: expands beyond what the archive declares")
                        digest.update(chunk)
                        if keep:
                            kept += chunk
            except _UNREADABLE as exc:
                # A damaged member fails its CRC: the archive itself says it changed.
                report.problems.append(f"{info.filename}: unreadable ({exc})")
                continue
            members.digests[info.filename] = (digest.hexdigest(), size)
            if keep:
                members.metadata[info.filename] = bytes(kept)
        return members


def _parse_time(value: Any) -> dt.datetime:
    return dt.datetime.strptime(str(value), _TIME).replace(tzinfo=dt.UTC)


def _check_event(line_no: int, raw: bytes, report: BundleReport) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
        if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
            raise ValueError("an event is an object with a detail object")
        recomputed = event_hash(
            seq=int(event["seq"]),
            occurred_at=_parse_time(event["occurred_at"]),
            actor=str(event["actor"]),
            action=str(event["action"]),
            object_type=event["object_type"],
            object_id=event["object_id"],
            state_digest=event["state_digest"],
            detail=event["detail"],
            prev_hash=str(event["prev_hash"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{CUSTODY_LOG} line {line_no}: not a ledger event ({exc})")
        return None
    if recomputed != event.get("hash"):
        report.problems.append(
            f"{CUSTODY_LOG} line {line_no}: event {event.get('seq')} does not match its ledger hash"
        )
        return None
    parsed: dict[str, Any] = event
    return parsed


def _check_signature(manifest: dict[str, Any], report: BundleReport) -> Ed25519PublicKey | None:
    try:
        raw = base64.b64decode(manifest["signing_key"]["public_key"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        public.verify(bytes.fromhex(str(manifest["signature"])), _manifest_message(manifest))
    except InvalidSignature:
        report.problems.append("the manifest's signature does not verify")
        return None
    except (KeyError, TypeError, ValueError) as exc:
        report.problems.append(f"the manifest's signature or key is malformed ({exc})")
        return None
    report.key_id = key_id(public)
    return public


def verify_bundle(data: bytes, trusted_key_ids: set[str] | None = None) -> BundleReport:
    """Check a bundle; ``trusted_key_ids`` (ledger key ids) also checks who signed it."""
    report = BundleReport()
    read = _read_members(data, report)
    if read is None:
        return report
    members = read.metadata
    try:
        manifest = json.loads(members.get(MANIFEST, b""))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
    except ValueError as exc:
        report.problems.append(f"{MANIFEST}: {exc}")
        return report
    incident = manifest.get("incident")
    report.incident_id = str(incident.get("id")) if isinstance(incident, dict) else None
    _check_signature(manifest, report)
    if trusted_key_ids is not None and report.key_id is not None:
        report.key_trusted = report.key_id in trusted_key_ids

    log_info = manifest.get("custody_log")
    if not isinstance(log_info, dict):
        log_info = {}
    log = members.get(CUSTODY_LOG)
    events: list[dict[str, Any]] = []
    if log is None:
        report.problems.append(f"{CUSTODY_LOG} is missing")
    else:
        if hashlib.sha256(log).hexdigest() != log_info.get("sha256"):
            report.problems.append(f"{CUSTODY_LOG}: SHA-256 differs from the manifest")
        for n, raw in enumerate(log.splitlines(), start=1):
            event = _check_event(n, raw, report)
            if event is not None:
                events.append(event)
        report.events = len(events)
        if len(log.splitlines()) != log_info.get("events"):
            report.problems.append(f"{CUSTODY_LOG}: holds a different number of events than the manifest")
        seqs = [int(e["seq"]) for e in events]
        if seqs != sorted(set(seqs)):
            report.problems.append(f"{CUSTODY_LOG}: events are not in ledger order")

    listed = set()
    entries = manifest.get("files")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        report.problems.append(f"{MANIFEST}: files is not a list of objects")
        entries = []
    for entry in entries:
        path = str(entry.get("path"))
        listed.add(path)
        streamed = read.digests.get(path)
        if streamed is None:
            report.problems.append(f"{path}: missing from the archive")
            continue
        report.files += 1
        digest, size = streamed
        if digest != entry.get("sha256") or size != entry.get("size"):
            report.problems.append(f"{path}: SHA-256 or size differs from the manifest")
        receipts = [
            e
            for e in events
            if e.get("object_id") == entry.get("evidence_id") and e.get("action") == "evidence.received"
        ]
        if not receipts:
            report.problems.append(f"{path}: the custody log has no receipt event for it")
        elif any(e["detail"].get("sha256") != digest for e in receipts):
            report.problems.append(f"{path}: its SHA-256 differs from the one recorded on receipt")
    extra = set(read.digests) - listed - {MANIFEST, CUSTODY_LOG}
    for path in sorted(extra):
        report.problems.append(f"{path}: in the archive but not in the manifest")
    return report

"""The CSAF 2.0 trusted provider (CSAF 2.0 section 7): ``provider-metadata.json``, one
directory per TLP label (``white``, ``green``, ``amber``, ``red``) with
``index.txt`` and ``changes.csv``, and beside each document its ``.sha256``,
``.sha512`` and detached OpenPGP signature ``.asc``.

The documents are the published case advisories the caller may read
(coordination's ``published_records``, which asks the policy), each in the
directory of its TLP. ``white`` is public; ``green``, ``amber`` and ``red``
need a signed-in caller, and within them each caller sees only what the
policy lets them read. The OpenPGP key (Ed25519) is made on first use and
kept in the runtime's keys folder, mode 0600; its public half is served under
``/.well-known/csaf/openpgp/`` and named in the metadata.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pgpy  # type: ignore[import-untyped]
from pgpy.constants import (  # type: ignore[import-untyped]
    CompressionAlgorithm,
    EllipticCurveOID,
    HashAlgorithm,
    KeyFlags,
    PubKeyAlgorithm,
    SymmetricKeyAlgorithm,
)
from sqlalchemy.orm import Session

from clearinghouse.access import Subject
from clearinghouse.domain import AdvisoryRecord, Publisher
from clearinghouse.sharing._records import published_case_records
from clearinghouse.sharing.exports import dumps, filename, tlp_folder, to_csaf
from clearinghouse.sharing.exports._common import timestamp

KEY_FILE = "csaf-openpgp-private.asc"
FOLDERS = ("white", "green", "amber", "red")
PUBLIC_FOLDERS = frozenset({"white"})
_SIGNATURE_CACHE = 4096


class ProviderKey:
    """The provider's OpenPGP key: signs documents (detached, ASCII-armored)."""

    def __init__(self, key: Any) -> None:
        self._key = key
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        return str(self._key.fingerprint).replace(" ", "")

    @property
    def public_armored(self) -> str:
        return str(self._key.pubkey)

    def sign(self, data: bytes) -> str:
        """A detached signature of ``data`` (remembered per content, so it is stable)."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None:
                self._cache.move_to_end(digest)
                return cached
        signature = str(self._key.sign(data, hash=HashAlgorithm.SHA512))
        with self._lock:
            self._cache[digest] = signature
            while len(self._cache) > _SIGNATURE_CACHE:
                self._cache.popitem(last=False)
        return signature


def _new_key(publisher: Publisher) -> Any:
    key = pgpy.PGPKey.new(PubKeyAlgorithm.EdDSA, EllipticCurveOID.Ed25519)
    uid = pgpy.PGPUID.new(f"{publisher.name} CSAF signing key", comment=publisher.namespace)
    key.add_uid(
        uid,
        usage={KeyFlags.Sign, KeyFlags.Certify},
        hashes=[HashAlgorithm.SHA512, HashAlgorithm.SHA256],
        ciphers=[SymmetricKeyAlgorithm.AES256],
        compression=[CompressionAlgorithm.Uncompressed],
    )
    return key


_keys: dict[Path, ProviderKey] = {}
_keys_lock = threading.Lock()


def provider_key(keys_dir: Path, publisher: Publisher | None = None) -> ProviderKey:
    """The key kept in ``keys_dir`` (made on first use, mode 0600)."""
    path = keys_dir / KEY_FILE
    with _keys_lock:
        if path in _keys and path.exists():
            return _keys[path]
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            armored = str(_new_key(publisher or Publisher())).encode()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first; use theirs
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(armored)
        key, _ = pgpy.PGPKey.from_blob(path.read_text())
        _keys[path] = ProviderKey(key)
        return _keys[path]


@dataclass(frozen=True)
class Entry:
    """One document in a TLP directory."""

    path: str  # "2026/ch-2026-0001.json", relative to the directory
    record: AdvisoryRecord
    released: dt.datetime


def _current_release(record: AdvisoryRecord) -> dt.datetime:
    dates = [record.modified, *(r.date for r in record.revisions)]
    return max(dates)


def entries(session: Session, subject: Subject, folder: str) -> list[Entry]:
    """The documents of one TLP directory the subject may read, newest release first."""
    out = []
    for record in published_case_records(session, subject):
        if tlp_folder(record) != folder or record.withdrawn is not None:
            continue
        initial = [r.date for r in record.revisions] + ([record.published] if record.published else [])
        year = min(initial).year if initial else record.modified.year
        out.append(Entry(f"{year}/{filename(record.id)}", record, _current_release(record)))
    out.sort(key=lambda e: (e.released, e.path), reverse=True)
    return out


def index_txt(items: list[Entry]) -> str:
    return "".join(f"{e.path}\n" for e in sorted(items, key=lambda e: e.path))


def changes_csv(items: list[Entry]) -> str:
    return "".join(f'"{e.path}","{timestamp(e.released)}"\n' for e in items)


def document_bytes(entry: Entry, base_url: str, publisher: Publisher | None = None) -> bytes:
    record = entry.record if publisher is None else dataclasses.replace(entry.record, publisher=publisher)
    return dumps(to_csaf(record, base_url=base_url))


def provider_metadata(
    base_url: str, key: ProviderKey, last_updated: dt.datetime, publisher: Publisher | None = None
) -> dict[str, Any]:
    """``provider-metadata.json`` (CSAF 2.0 7.1.7) for a provider served at ``base_url``."""
    base = base_url.rstrip("/")
    publisher = publisher or Publisher()
    return {
        "canonical_url": f"{base}/.well-known/csaf/provider-metadata.json",
        "distributions": [{"directory_url": f"{base}/.well-known/csaf/{folder}/"} for folder in FOLDERS],
        "last_updated": timestamp(last_updated),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [
            {"fingerprint": key.fingerprint, "url": f"{base}/.well-known/csaf/openpgp/{key.fingerprint}.asc"}
        ],
        "publisher": {
            "category": publisher.category,
            "name": publisher.name,
            "namespace": publisher.namespace,
        },
        "role": "csaf_trusted_provider",
    }

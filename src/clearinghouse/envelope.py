"""Envelope encryption for what must be stored encrypted at rest (proofs of
concept, evidence, model credentials).

Each blob gets its own random 256-bit data key (AES-256-GCM); the data key is
stored wrapped by the master key (AES-256-GCM too), which lives only in the
data folder (``keys/master.key``, mode 0600), never in the database. Losing the
database alone reveals nothing; rotating the master key means re-wrapping data
keys, not re-encrypting data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_FILE = "master.key"
_NONCE = 12


class DecryptionError(Exception):
    """The blob, its wrapped key or its context was altered, or the master key is not the one used."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes  # nonce + AES-GCM(data key, plaintext, context)
    wrapped_key: bytes  # nonce + AES-GCM(master key, data key, context)


class Envelope:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes")
        self._master = AESGCM(master_key)

    @classmethod
    def from_keys_dir(cls, keys_dir: Path) -> Envelope:
        """Load the master key, creating it (mode 0600) on first run."""
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = keys_dir / MASTER_KEY_FILE
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # made by another process meanwhile
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(AESGCM.generate_key(bit_length=256))
        return cls(path.read_bytes())

    def seal(self, plaintext: bytes, context: bytes) -> Sealed:
        """Encrypt ``plaintext``; ``context`` (e.g. the owning object's id) must match on opening."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce, key_nonce = os.urandom(_NONCE), os.urandom(_NONCE)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, context)
        wrapped = key_nonce + self._master.encrypt(key_nonce, data_key, context)
        return Sealed(ciphertext, wrapped)

    def open(self, sealed: Sealed, context: bytes) -> bytes:
        try:
            data_key = self._master.decrypt(sealed.wrapped_key[:_NONCE], sealed.wrapped_key[_NONCE:], context)
            return AESGCM(data_key).decrypt(sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:], context)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("cannot decrypt: altered data, wrong context or wrong master key") from exc

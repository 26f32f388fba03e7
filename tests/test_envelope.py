"""Envelope encryption: round trip, tamper detection, key file permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clearinghouse.envelope import MASTER_KEY_FILE, DecryptionError, Envelope, Sealed


def test_round_trip_and_context(tmp_path: Path) -> None:
    env = Envelope.from_keys_dir(tmp_path)
    sealed = env.seal(b"proof of concept", b"finding:1")
    assert b"proof of concept" not in sealed.ciphertext
    assert env.open(sealed, b"finding:1") == b"proof of concept"
    with pytest.raises(DecryptionError):
        env.open(sealed, b"finding:2")


def test_tampering_and_wrong_key_are_refused(tmp_path: Path) -> None:
    env = Envelope.from_keys_dir(tmp_path)
    sealed = env.seal(b"secret", b"ctx")
    flipped = bytearray(sealed.ciphertext)
    flipped[-1] ^= 1
    with pytest.raises(DecryptionError):
        env.open(Sealed(bytes(flipped), sealed.wrapped_key), b"ctx")
    other = Envelope.from_keys_dir(tmp_path / "other")
    with pytest.raises(DecryptionError):
        other.open(sealed, b"ctx")


def test_master_key_is_private_and_stable(tmp_path: Path) -> None:
    first = Envelope.from_keys_dir(tmp_path)
    assert stat.S_IMODE((tmp_path / MASTER_KEY_FILE).stat().st_mode) == 0o600
    sealed = first.seal(b"x", b"c")
    assert Envelope.from_keys_dir(tmp_path).open(sealed, b"c") == b"x"
    with pytest.raises(ValueError, match="32 bytes"):
        Envelope(b"short")

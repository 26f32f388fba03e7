"""Issue 14, defect 6: a zip bomb in evidence bundle verification is refused
before it is unpacked, with a clear RFC 9457 problem; members are streamed."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.enforcement import _bundle
from clearinghouse.enforcement._bundle import BundleRefused, verify_bundle
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user
from tests.test_enforcement_bundle import bundle


def _bomb(size: int, name: str = "evidence/x/zeros.bin") -> bytes:
    out = io.BytesIO()
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w") as zf, zf.open(info, "w", force_zip64=True) as member:
        chunk = bytes(1024 * 1024)
        for _ in range(size // len(chunk)):
            member.write(chunk)
    return out.getvalue()


def test_a_zip_bomb_is_refused_over_http_with_a_problem(runtime: Runtime) -> None:
    org = make_org(runtime, "Hospital", "critical_infrastructure_operator")
    make_user(runtime, "nurse", org, ["partner"])
    headers = {"Authorization": f"Bearer {make_token(runtime, 'nurse')}"}
    bomb = _bomb(64 * 1024 * 1024)  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 200_000
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        answer = client.post("/api/v1/enforcement/bundles/verify", content=bomb, headers=headers)
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "expand" in answer.json()["detail"]


def test_members_are_streamed_not_held(monkeypatch: Any) -> None:
    # Ratio checks off: a 32 MiB member is hashed in chunks, never held whole.
    monkeypatch.setattr(_bundle, "MAX_RATIO", 10**9)
    bomb = _bomb(32 * 1024 * 1024)
    tracemalloc.start()
    try:
        report = verify_bundle(bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.ok and any("manifest" in p for p in report.problems)
    assert peak < 16 * 1024 * 1024


def test_a_member_that_inflates_past_its_header_is_stopped(monkeypatch: Any) -> None:
    monkeypatch.setattr(_bundle, "MAX_RATIO", 10**9)
    bomb = bytearray(_bomb(4 * 1024 * 1024))
    with pytest.raises(BundleRefused):
        monkeypatch.setattr(_bundle, "MAX_UNPACKED_BYTES", 2 * 1024 * 1024)
        verify_bundle(bytes(bomb))
    assert verify_bundle(bundle()).ok

"""Shared by the sandbox tests: a sandbox, or a skip (a failure where ``CLEARINGHOUSE_REQUIRE_SANDBOX=1``,
as scripts/test sets, so the escape suite cannot silently not run in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clearinghouse.sandbox import Sandbox, SandboxLimits, SandboxUnavailable


def make_sandbox(limits: SandboxLimits | None = None, **kwargs: object) -> Sandbox:
    try:
        return Sandbox(limits, **kwargs)  # type: ignore[arg-type]
    except SandboxUnavailable as exc:
        if os.environ.get("CLEARINGHOUSE_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"CLEARINGHOUSE_REQUIRE_SANDBOX=1 but {exc}")
        pytest.skip(str(exc))


def shared_dir(tmp_path_factory: pytest.TempPathFactory | None = None) -> Path:
    """A folder the sandbox (started as nobody when the tests run as root) may mount: pytest's own
    temporary folders are 0700 under root."""
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="ch-test-"))
    path.chmod(0o755)
    return path

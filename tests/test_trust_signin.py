"""Issue 14, defect 9: sign-in throttling by client and by account, without
letting a stranger lock an account out; counters in the database; forwarded
headers believed only from configured proxies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters, profiles
from typer.testing import CliRunner

from clearinghouse.access import services as access
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.web._sessions import SignInLimits, SignInRefused, client_address, sign_in
from tests.support.factories import make_org, make_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(runtime: Runtime) -> str:
    org = make_org(runtime, "Acme")
    make_user(runtime, "alice", org, ["analyst"])
    with runtime.uow(Actor.system("test")) as uow:
        access_user = access.find_user(uow.session, "alice")
        assert access_user is not None
        from clearinghouse.web._sessions import set_password

        set_password(uow, access.OPERATOR, "alice", PASSWORD)
        uow.commit()
    return "alice"


def _try(
    runtime: Runtime, username: str, password: str, client: str, limits: SignInLimits | None = None
) -> int:
    try:
        with runtime.uow(Actor.system("console")) as uow:
            sign_in(uow, limits or SignInLimits.default(), username, password, client=client)
    except SignInRefused as refused:
        return refused.status
    return 200


def test_a_stranger_cannot_lock_the_owner_out(runtime: Runtime, alice: str) -> None:
    assert _try(runtime, alice, PASSWORD, "10.0.0.5") == 200  # her usual machine
    # A stranger guesses from many addresses, a few times each (under the per-pair limit).
    for i in range(10):
        assert _try(runtime, alice, "guess", f"203.0.113.{i}") == 401
    assert _try(runtime, alice, "guess", "203.0.113.99") == 429  # the stranger is slowed
    # The account is slowed for unknown clients, even with the right password ...
    assert _try(runtime, alice, PASSWORD, "198.51.100.7") == 429
    # ... but its owner, from a client that signed in before, still gets in.
    assert _try(runtime, alice, PASSWORD, "10.0.0.5") == 200


def test_the_pair_and_client_limits_hold_across_a_restart(runtime: Runtime, alice: str) -> None:
    for _ in range(5):
        assert _try(runtime, alice, "guess", "192.0.2.1") == 401
    # A fresh limits object (a restarted or second server process) reads the same counters.
    assert _try(runtime, alice, PASSWORD, "192.0.2.1", SignInLimits()) == 429
    # Another client is not blocked by that pair's failures.
    assert _try(runtime, alice, PASSWORD, "192.0.2.2", SignInLimits()) == 200
    # A client spraying many accounts is blocked as a client.
    for i in range(20):
        _try(runtime, f"nobody{i}", "guess", "192.0.2.9")
    assert _try(runtime, alice, PASSWORD, "192.0.2.9") == 429


def test_forwarded_for_is_believed_only_from_configured_proxies(tmp_path: Path) -> None:
    assert client_address("127.0.0.1", "6.6.6.6", ()) == "127.0.0.1"
    assert client_address("10.0.0.2", "6.6.6.6", ("127.0.0.1",)) == "10.0.0.2"
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.3", ("127.0.0.1",)) == "198.51.100.3"
    assert client_address("127.0.0.1", "6.6.6.6, 10.0.0.9", ("127.0.0.1", "10.0.0.9")) == "6.6.6.6"
    assert client_address(None, None, ()) == "unknown"
    home = {"CLEARINGHOUSE_HOME": str(tmp_path)}
    assert Settings.from_env(
        {**home, "CLEARINGHOUSE_TRUSTED_PROXIES": " 10.0.0.1, ::1 "}
    ).trusted_proxies == (
        "10.0.0.1",
        "::1",
    )
    assert Settings.from_env(home).trusted_proxies == ()


def test_serve_does_not_let_uvicorn_believe_forwarded_headers(
    settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(cli_app, ["serve", "--port", "8999", "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False


def test_production_hashes_passwords_with_argon2s_default_cost() -> None:
    """The suite hashes with argon2's cheapest parameters (tests/conftest.py); a process
    without that conftest, as in production, uses argon2-cffi's default (RFC 9106 low
    memory), and the unknown-user dummy hash has the same cost as a real one."""
    code = (
        "from argon2 import PasswordHasher, extract_parameters as p\n"
        "from clearinghouse.access import services as s\n"
        "h = p(s.hash_password('x'))\n"
        "print(h == p(s.dummy_password_hash()) == p(PasswordHasher().hash('x')))\n"
        "print(p(s.hash_password('x')).memory_cost)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", str(profiles.RFC_9106_LOW_MEMORY.memory_cost)]
    assert profiles.RFC_9106_LOW_MEMORY.memory_cost > profiles.CHEAPEST.memory_cost


def test_the_dummy_hash_follows_the_hasher_in_use() -> None:
    assert extract_parameters(access.dummy_password_hash()) == extract_parameters(access.hash_password("x"))

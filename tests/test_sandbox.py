"""The sandbox's behaviour apart from escapes: results, limits, sessions and refusals."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from clearinghouse.sandbox import (
    Mount,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    sandbox_available,
)
from tests.sandbox_support import make_sandbox, shared_dir


def test_runs_a_program_with_files_env_and_stdin() -> None:
    sandbox = make_sandbox()
    result = sandbox.run(
        ["sh", "-c", 'cat sub/in.txt; echo "$GREETING"; cat; pwd; echo hi > /dev/null; exit 3'],
        files={"sub/in.txt": b"from a file\n"},
        env={"GREETING": "hello"},
        stdin=b"from stdin\n",
    )
    assert result.exit_code == 3
    assert result.stdout == b"from a file\nhello\nfrom stdin\n/work\n"
    assert not result.timed_out and not result.crashed and result.signal is None
    assert result.duration_s > 0
    assert sandbox_available()


def test_crash_and_timeout_are_told_apart() -> None:
    sandbox = make_sandbox(SandboxLimits(wall_seconds=1.0))
    crash = sandbox.run(["python3", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    assert crash.crashed and crash.signal == signal.SIGSEGV and crash.exit_code is None
    slow = sandbox.run(["sleep", "30"])
    assert slow.timed_out and not slow.crashed and slow.exit_code is None


def test_output_is_capped() -> None:
    sandbox = make_sandbox(SandboxLimits(output_bytes=1000))
    result = sandbox.run(["sh", "-c", "head -c 100000 /dev/zero; head -c 100000 /dev/zero >&2"])
    assert result.output_truncated
    assert len(result.stdout) + len(result.stderr) == 1000
    assert result.exit_code == 0


def test_cpu_and_memory_limits() -> None:
    sandbox = make_sandbox(SandboxLimits(cpu_seconds=1, memory_bytes=256 << 20, wall_seconds=20.0))
    spin = sandbox.run(["python3", "-c", "while True: pass"])
    assert spin.signal in (signal.SIGXCPU, signal.SIGKILL) and not spin.timed_out
    hog = sandbox.run(["python3", "-c", "x = bytearray(512 << 20)"])
    assert hog.exit_code == 1 and b"MemoryError" in hog.stderr


def test_mounts_are_read_only_unless_asked() -> None:
    base = shared_dir()
    try:
        (base / "data.txt").write_text("shared")
        out = base / "out"
        out.mkdir()
        out.chmod(0o777)
        sandbox = make_sandbox()
        result = sandbox.run(
            ["sh", "-c", "cat /env/data.txt; echo written > /out/result.txt"],
            mounts=[Mount(host=base, target="/env"), Mount(host=out, target="/out", writable=True)],
        )
        assert result.stdout == b"shared", result
        assert (out / "result.txt").read_text() == "written\n"
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize(
    ("host", "target"),
    [
        ("/", "/host"),
        ("/etc", "/x"),
        ("/proc", "/x"),
        ("SHARED", "/usr"),
        ("SHARED", "/work"),
        ("SHARED", "rel"),
    ],
)
def test_refused_mounts(host: str, target: str) -> None:
    base = shared_dir()
    try:
        sandbox = make_sandbox()
        with pytest.raises(SandboxError):
            sandbox.run(
                ["true"], mounts=[Mount(host=base if host == "SHARED" else Path(host), target=target)]
            )
    finally:
        shutil.rmtree(base)


def test_refuses_missing_and_unreachable_mounts(tmp_path: Path) -> None:
    sandbox = make_sandbox()
    with pytest.raises(SandboxError, match="does not exist"):
        sandbox.run(["true"], mounts=[Mount(host=tmp_path / "missing", target="/x")])
    if os.geteuid() == 0:
        private = tmp_path / "private"
        private.mkdir()
        with pytest.raises(SandboxError, match="reachable"):
            sandbox.run(["true"], mounts=[Mount(host=private, target="/x")])


def test_protected_folder_is_never_mounted() -> None:
    base = shared_dir()
    try:
        sandbox = make_sandbox(protected=[base / "home"])
        (base / "home" / "keys").mkdir(parents=True)
        for host in (base, base / "home", base / "home" / "keys"):
            with pytest.raises(SandboxError, match="data folder"):
                sandbox.run(["true"], mounts=[Mount(host=host, target="/x")])
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "", "a/../../b", "."])
def test_bad_file_names(name: str) -> None:
    sandbox = make_sandbox()
    with pytest.raises(SandboxError):
        sandbox.run(["true"], files={name: b"x"})


def test_bad_requests() -> None:
    sandbox = make_sandbox()
    with pytest.raises(SandboxError):
        sandbox.run([])
    with pytest.raises(SandboxError):
        sandbox.run(["true"], env={"A=B": "x"})
    with pytest.raises(SandboxError):
        SandboxLimits(processes=0)
    with pytest.raises(SandboxError):
        SandboxLimits(wall_seconds=0)


def test_session_keeps_its_folder_and_removes_it() -> None:
    sandbox = make_sandbox()
    with sandbox.session(files={"a.txt": b"one"}, env={"X": "y"}) as session:
        first = session.exec(["sh", "-c", 'cat a.txt; echo "$X" > b.txt; mkdir -p d && echo deep > d/c.txt'])
        assert first.stdout == b"one"
        assert session.read_file("b.txt") == b"y\n"
        assert session.read_file("d/c.txt") == b"deep\n"
        session.write_file("new/dir/n.txt", b"host wrote")
        assert session.exec(["cat", "new/dir/n.txt"]).stdout == b"host wrote"
        assert session.exec(["sleep", "10"], timeout_s=0.5).timed_out
        root = session.root
        assert root.exists()
        with pytest.raises(SandboxError):
            session.read_file("missing.txt")
    assert not root.exists()
    with pytest.raises(SandboxError, match="closed"):
        session.exec(["true"])


def test_missing_bwrap_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        Sandbox(bwrap=str(tmp_path / "no-bwrap"))
    assert not sandbox_available(str(tmp_path / "no-bwrap"))


def test_bwrap_that_cannot_create_namespaces_is_refused() -> None:
    base = shared_dir()
    try:
        fake = base / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
        with pytest.raises(SandboxUnavailable, match="namespace"):
            Sandbox(bwrap=str(fake))
        assert not sandbox_available(str(fake))
    finally:
        shutil.rmtree(base)

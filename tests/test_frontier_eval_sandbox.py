"""The ``clearinghouse`` Inspect sandbox provider over ``clearinghouse.sandbox``:
commands run in /work of the sample's session, files stay under /work, a
timeout is Inspect's TimeoutError, one user only; and many sandbox runs at
once in one process (as Inspect's samples do) never disturb each other's or
the process's file descriptors."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from typing import Any

import pytest

from clearinghouse.frontier.evaluation import sandboxenv


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    from clearinghouse.sandbox import sandbox_available

    if not sandbox_available():
        pytest.skip("bubblewrap cannot create namespaces here; the tools never run unsandboxed")


def test_the_provider_runs_commands_in_the_samples_work_folder() -> None:
    from inspect_ai.util import SandboxUserUnsupportedError

    async def scenario() -> dict[str, Any]:
        envs = await sandboxenv.ClearinghouseSandbox.sample_init("t", None, {})
        box = envs["default"]
        out: dict[str, Any] = {}
        try:
            await box.write_file("sub/note.txt", "hello")
            await box.write_file("/work/bin.dat", b"\x00\x01")
            out["pwd"] = await box.exec(["bash", "-c", "pwd; cat sub/note.txt; env | sort"])
            out["cwd"] = await box.exec(["pwd"], cwd="sub", env={"X": "1"})
            out["env"] = await box.exec(["sh", "-c", "echo $X"], env={"X": "two words"})
            out["stdin"] = await box.exec(["python3", "-"], input="print(6 * 7)")
            out["fail"] = await box.exec(["sh", "-c", "exit 3"])
            out["read"] = await box.read_file("bin.dat", text=False)
            out["text"] = await box.read_file("/work/sub/note.txt")
            with pytest.raises(PermissionError):
                await box.read_file("/etc/passwd")
            with pytest.raises(PermissionError):
                await box.write_file("../escape", "x")
            with pytest.raises(FileNotFoundError):
                await box.read_file("missing.txt")
            with pytest.raises(TimeoutError):
                await box.exec(["sleep", "5"], timeout=1)
            with pytest.raises(SandboxUserUnsupportedError):
                await box.exec(["id"], user="root")
            out["net"] = await box.exec(
                ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 5432), 2)"]
            )
        finally:
            await sandboxenv.ClearinghouseSandbox.sample_cleanup("t", None, envs, False)
        return out

    out = asyncio.run(scenario())
    assert out["pwd"].success and out["pwd"].stdout.startswith("/work\nhello")
    assert "API_KEY" not in out["pwd"].stdout and "CLEARINGHOUSE" not in out["pwd"].stdout
    assert out["cwd"].stdout.strip() == "/work/sub"
    assert out["env"].stdout.strip() == "two words"
    assert out["stdin"].stdout.strip() == "42"
    assert not out["fail"].success and out["fail"].returncode == 3
    assert out["read"] == b"\x00\x01" and out["text"] == "hello"
    assert not out["net"].success  # no network, not even the host's loopback


def test_many_sandbox_runs_at_once_leave_every_descriptor_alone() -> None:
    box = sandboxenv.get_sandbox(30)
    errors: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        try:
            for _ in range(6):
                result = box.run(["sh", "-c", "echo ok"], env=sandboxenv.ENV)
                assert result.stdout == b"ok\n", result
        except BaseException as exc:
            errors.append(exc)

    def churn() -> None:  # the process's own files, opened and used meanwhile
        with tempfile.TemporaryDirectory() as tmp:
            while not stop.is_set():
                fd = os.open(os.path.join(tmp, "f"), os.O_CREAT | os.O_RDWR)
                try:
                    os.write(fd, b"x" * 100)
                    os.fstat(fd)
                finally:
                    os.close(fd)

    churner = threading.Thread(target=churn)
    churner.start()
    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    churner.join()
    assert errors == []

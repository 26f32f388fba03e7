"""The ``clearinghouse`` Inspect sandbox: every tool a task gives a model runs
in the bubblewrap sandbox of :mod:`clearinghouse.sandbox`.

A task says ``sandbox="clearinghouse"``; Inspect then makes one sandbox
session per sample: a fresh work folder (``/work``, removed when the sample
ends) holding only the files the task writes into it, no network (not even
the host's loopback), the system folders read-only, nothing of the server
(its data folder, database, keys, sockets, environment) and nothing of any
other sample. Each command is a new ``bwrap`` over that folder with the
sandbox's CPU, memory, process, file-size and output limits and a wall-clock
timeout. If bubblewrap cannot run, the sample errors: there is no unsandboxed
fallback.

Importing this module registers the provider with Inspect (the toolkit does).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import threading
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeVar, overload

import anyio
from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    sandboxenv,
)

T = TypeVar("T")
SANDBOX_NAME = "clearinghouse"
_LOCK = threading.Lock()  # guards the cache of Sandbox objects
WORK = "/work"
DEFAULT_TIMEOUT_S = 60
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
}


# A sample's metadata may ask for read-only host folders under /env (an installed package from the
# reproduction lab's cache, say) and variables: {"mounts": [{"host": ..., "target": "/env/..."}],
# "env": {"PYTHONPATH": ...}}. Set by the task's code (trusted like the suite), never by a model.
SAMPLE_VIEW = "clearinghouse_sandbox"
_VAR = re.compile(r"[A-Z_][A-Z0-9_]*")


def sample_view(metadata: dict[str, Any] | None) -> tuple[list[Any], dict[str, str]]:
    """The read-only mounts and variables a sample's metadata asks for (see ``SAMPLE_VIEW``)."""
    from clearinghouse.sandbox import Mount

    spec = (metadata or {}).get(SAMPLE_VIEW)
    if not spec:
        return [], {}
    mounts = []
    for item in spec.get("mounts") or []:
        target = PurePosixPath(str(item["target"]))
        if not target.is_absolute() or ".." in target.parts or target.parts[:2] != ("/", "env"):
            raise PermissionError(f"{target}: a sample may mount host folders only under /env")
        mounts.append(Mount(host=Path(str(item["host"])), target=str(target), writable=False))
    env = {str(k): str(v) for k, v in (spec.get("env") or {}).items()}
    bad = [k for k in env if not _VAR.fullmatch(k)]
    if bad:
        raise PermissionError(f"not variable names: {bad}")
    return mounts, env


def sandbox_limits(timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    from clearinghouse.sandbox import SandboxLimits

    return SandboxLimits(
        cpu_seconds=max(1, int(timeout_s)),
        memory_bytes=1 << 30,
        processes=64,
        file_size_bytes=64 << 20,
        output_bytes=1 << 20,
        wall_seconds=float(timeout_s),
        tmpfs_bytes=256 << 20,
    )


_SANDBOXES: dict[float, Any] = {}


def get_sandbox(timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    """A ``clearinghouse.sandbox.Sandbox`` with the limits for ``timeout_s`` (made once: making
    one probes bubblewrap). Raises ``SandboxUnavailable``: there is no unsandboxed fallback."""
    from clearinghouse.sandbox import Sandbox

    with _LOCK:
        if timeout_s not in _SANDBOXES:
            _SANDBOXES[timeout_s] = Sandbox(sandbox_limits(timeout_s))
        return _SANDBOXES[timeout_s]


def run_isolated(fn: Callable[[], T]) -> T:
    """Call ``fn``, a blocking sandbox call (several may run at once: each is its own bwrap)."""
    return fn()


async def _serialized(fn: Callable[[], T]) -> T:
    """Run a blocking sandbox call in a worker thread (never cancelled half-way)."""
    return await anyio.to_thread.run_sync(fn, abandon_on_cancel=False)


def _relative(file: str) -> str:
    """A path inside the work folder: relative, or absolute under ``/work``."""
    path = PurePosixPath(file)
    if path.is_absolute():
        try:
            path = path.relative_to(WORK)
        except ValueError:
            raise PermissionError(f"{file}: only files under {WORK} can be read or written") from None
    if not path.parts or ".." in path.parts:
        raise PermissionError(f"{file}: not a file under {WORK}")
    return path.as_posix()


@sandboxenv(name=SANDBOX_NAME)
class ClearinghouseSandbox(SandboxEnvironment):
    """One sample's bubblewrap session."""

    def __init__(self, session: Any, stack: contextlib.ExitStack) -> None:
        super().__init__()
        self._session = session
        self._stack = stack

    @classmethod
    async def sample_init(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        metadata: dict[str, str],
    ) -> dict[str, SandboxEnvironment]:
        sandbox = await anyio.to_thread.run_sync(get_sandbox)

        mounts, extra = sample_view(metadata)

        def start() -> ClearinghouseSandbox:
            stack = contextlib.ExitStack()
            session = stack.enter_context(sandbox.session(env={**ENV, **extra}, mounts=mounts))
            return ClearinghouseSandbox(session, stack)

        return {"default": await _serialized(start)}

    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        for environment in environments.values():
            if isinstance(environment, ClearinghouseSandbox):
                await _serialized(environment._stack.close)

    @classmethod
    def default_concurrency(cls) -> int | None:
        return 8

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        if user is not None:
            from inspect_ai.util import SandboxUserUnsupportedError

            raise SandboxUserUnsupportedError("the clearinghouse sandbox runs every command as one user")
        argv = list(_wrapped(cmd, cwd, env))
        stdin = input.encode() if isinstance(input, str) else input
        limit = float(timeout or DEFAULT_TIMEOUT_S)
        result = await _serialized(lambda: self._session.exec(argv, timeout_s=limit, stdin=stdin))
        if result.timed_out:
            raise TimeoutError(f"the command ran past {limit:g} seconds and was killed")
        stdout = result.stdout.decode("utf-8", errors="replace")
        stderr = result.stderr.decode("utf-8", errors="replace")
        if result.output_truncated:
            stderr += "\n[output cut at the sandbox's limit]"
        code = result.exit_code if result.exit_code is not None else 128 + int(result.signal or 9)
        return ExecResult(success=code == 0, returncode=code, stdout=stdout, stderr=stderr)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        name = _relative(file)
        await _serialized(lambda: self._session.write_file(name, data))

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        from clearinghouse.sandbox import SandboxError

        name = _relative(file)
        try:
            data: bytes = await _serialized(lambda: self._session.read_file(name, max_bytes=(100 << 20) + 1))
        except SandboxError as exc:
            raise FileNotFoundError(file) from exc
        if len(data) > 100 << 20:
            raise OutputLimitExceededError(limit_str="100 MiB", truncated_output=None)
        return data.decode("utf-8") if text else data


def _wrapped(cmd: list[str], cwd: str | None, env: dict[str, str] | None) -> Iterator[str]:
    """``cmd`` run from ``cwd`` (relative to /work) with ``env`` added, through ``sh``."""
    if not cwd and not env:
        yield from cmd
        return
    prefix = []
    if cwd:
        target = cwd if cwd.startswith("/") else f"{WORK}/{cwd}"
        prefix.append(f"cd {shlex.quote(target)} &&")
    assignments = [shlex.quote(f"{k}={v}") for k, v in (env or {}).items()]
    line = " ".join([*prefix, "exec", "env", *assignments, *(shlex.quote(c) for c in cmd)])
    yield from ("/bin/sh", "-c", line)

"""The bubblewrap sandbox.

Every run is one ``bwrap`` process with new user, pid, network, ipc, uts and cgroup namespaces. The
network namespace has no interface but its own loopback, so nothing the host listens on (not even
127.0.0.1) is reachable. The system (``/usr`` and the merged ``/bin``, ``/lib``...) is bound
read-only, ``/etc`` holds only the dynamic loader's cache, ``alternatives`` and a synthetic
``passwd``/``group``; ``/proc`` is the new pid namespace's own, ``/dev`` a minimal one, and ``/tmp``
and ``/work`` are size-limited tmpfs. Nothing else of the host exists inside: not the data folder,
not the database, not the keys, not a socket, not the parent's environment (``--clearenv``; the
child sees only the environment the caller passes).

The command runs as uid/gid 65534 with no capability. When the host process is root, ``bwrap``
itself is started as the host's ``nobody`` (65534) too, so the kernel counts the sandbox's processes
against an unprivileged user (root is exempt from ``RLIMIT_NPROC``) and a process that escaped the
namespaces would still be nobody. Limits: ``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_FSIZE``,
``RLIMIT_CORE`` = 0 and ``RLIMIT_NOFILE`` are set on ``bwrap`` and inherited; ``RLIMIT_NPROC`` is
set inside by ``prlimit`` so that it counts per sandbox. Output is read into bounded buffers (the
rest is drained and dropped). At the wall-clock limit the whole process group of ``bwrap`` is
killed; the sandbox's init dies with it (``--die-with-parent``), and the kernel kills everything
left in a pid namespace whose init is gone, so a double-forked, ``setsid`` daemon cannot survive.

Paths reach the sandbox as file descriptors opened by the host (``--ro-bind-fd``, ``--file``), so a
sandbox started as nobody can use a mount from a folder only root may traverse.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import selectors
import shutil
import signal as _signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType

SANDBOX_UID = 65534
SANDBOX_GID = 65534
WORK_DIR = "/work"
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_CRASH_SIGNALS = frozenset(
    {
        _signal.SIGSEGV,
        _signal.SIGABRT,
        _signal.SIGBUS,
        _signal.SIGFPE,
        _signal.SIGILL,
        _signal.SIGTRAP,
        _signal.SIGSYS,
    }
)
# Host folders that are never mounted into a sandbox, whatever the caller asks.
_NEVER_MOUNT = ("/", "/proc", "/sys", "/dev", "/run", "/var/run", "/root", "/home", "/etc")
# Targets inside the sandbox that belong to the sandbox itself.
_RESERVED_TARGETS = (
    "/",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/proc",
    "/dev",
    "/tmp",
)
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
)
_PASSWD = b"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:65534:65534:sandbox:/work:/usr/sbin/nologin\n"
_GROUP = b"root:x:0:\nsandbox:x:65534:\n"
_NOFILE = 1024


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create the namespaces; nothing runs unsandboxed instead."""


class SandboxError(ValueError):
    """The caller asked for something the sandbox does not allow (a mount of the host's root, a file
    name with ``..``, a session folder grown past its limit, ...)."""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 30
    memory_bytes: int = 1 << 30
    processes: int = 64
    file_size_bytes: int = 64 << 20
    output_bytes: int = 1 << 20
    wall_seconds: float = 60.0
    tmpfs_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        for name in (
            "cpu_seconds",
            "memory_bytes",
            "processes",
            "file_size_bytes",
            "output_bytes",
            "tmpfs_bytes",
        ):
            if int(getattr(self, name)) <= 0:
                raise SandboxError(f"SandboxLimits.{name} must be positive")
        if not self.wall_seconds > 0:
            raise SandboxError("SandboxLimits.wall_seconds must be positive")


@dataclass(frozen=True)
class Mount:
    host: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    output_truncated: bool
    duration_s: float

    @property
    def crashed(self) -> bool:
        """Killed by a signal such as SIGSEGV or SIGABRT (not by the wall-clock kill)."""
        return not self.timed_out and self.signal is not None and self.signal in _CRASH_SIGNALS


def _drop_to_nobody() -> bool:
    return os.geteuid() == 0


def _bwrap_path(bwrap: str | None) -> str:
    path = bwrap or shutil.which("bwrap")
    if not path or not os.access(path, os.X_OK):
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install the Debian package 'bubblewrap' "
            "(scripts/serve and scripts/test do); untrusted code is never run unsandboxed"
        )
    return path


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str) -> str | None:
    """Start one empty sandbox; the answer is ``None`` when it works, else why not."""
    sb = Sandbox.__new__(Sandbox)
    sb._bwrap = bwrap
    sb.limits = SandboxLimits(wall_seconds=20.0)
    sb._protected = ()
    try:
        result = sb._run(["/bin/true"], files={}, mounts=[], env={}, stdin=None, cwd=WORK_DIR, work_fd=None)
    except _SetupFailed as exc:
        return str(exc)
    if result.exit_code != 0:
        return (
            f"a probe sandbox exited with {result.exit_code}: {result.stderr[-500:].decode(errors='replace')}"
        )
    return None


def sandbox_available(bwrap: str | None = None) -> bool:
    """Whether a sandbox can be started here (bwrap installed and namespaces allowed)."""
    try:
        path = _bwrap_path(bwrap)
    except SandboxUnavailable:
        return False
    return _probe(path) is None


class _SetupFailed(Exception):
    pass


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\x00" in name or str(path) in ("", "."):
        raise SandboxError(f"file name {name!r} must be a relative path inside the work folder")
    return path


def _reachable_by_others(path: Path) -> bool:
    """Whether an unprivileged user may open ``path`` (bwrap, started as nobody, resolves it)."""
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        return all(
            os.stat(parent).st_mode & stat.S_IXOTH
            for parent in [path, *path.parents]
            if os.path.isdir(parent)
        )
    except OSError:
        return False


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Sandbox:
    """Runs commands in bubblewrap under fixed limits. Raises :class:`SandboxUnavailable` when it
    cannot; there is no other way to run them."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        bwrap: str | None = None,
        protected: Sequence[Path] = (),
    ) -> None:
        self.limits = limits or SandboxLimits()
        self._bwrap = _bwrap_path(bwrap)
        problem = _probe(self._bwrap)
        if problem is not None:
            raise SandboxUnavailable(f"bubblewrap cannot create the sandbox's namespaces here: {problem}")
        home = os.environ.get("CLEARINGHOUSE_HOME")
        extra = [Path(home)] if home else []
        self._protected = tuple(p.resolve() for p in [*protected, *extra])

    # -- public API -------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes] | None = None,
        mounts: Sequence[Mount] = (),
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: str = WORK_DIR,
    ) -> SandboxResult:
        """Run ``argv`` once in a fresh sandbox whose ``/work`` is a new tmpfs holding ``files``."""
        try:
            return self._run(
                argv, files=files or {}, mounts=mounts, env=env or {}, stdin=stdin, cwd=cwd, work_fd=None
            )
        except _SetupFailed as exc:
            raise SandboxUnavailable(f"bubblewrap could not set up the sandbox: {exc}") from exc

    @contextlib.contextmanager
    def session(
        self,
        *,
        files: Mapping[str, bytes] | None = None,
        mounts: Sequence[Mount] = (),
        env: Mapping[str, str] | None = None,
    ) -> Iterator[SandboxSession]:
        """A work folder kept across several commands (a host temporary folder bound at ``/work``,
        removed at the end)."""
        session = SandboxSession(self, mounts=mounts, env=env or {})
        try:
            for name, data in (files or {}).items():
                session.write_file(name, data)
            yield session
        finally:
            session.close()

    # -- implementation ---------------------------------------------------------------------

    def _check_mount(self, mount: Mount) -> Path:
        host = Path(mount.host).resolve()
        target = PurePosixPath(mount.target)
        if not target.is_absolute() or ".." in target.parts:
            raise SandboxError(f"mount target {mount.target!r} must be an absolute path without '..'")
        normalized = str(target)
        if normalized in _RESERVED_TARGETS or normalized == WORK_DIR:
            raise SandboxError(f"mount target {normalized!r} belongs to the sandbox")
        if str(host) in _NEVER_MOUNT:
            raise SandboxError(f"the host folder {str(host)!r} is never mounted into a sandbox")
        for protected in self._protected:
            if _within(protected, host) or _within(host, protected / "keys"):
                raise SandboxError(f"the host folder {str(host)!r} would show the data folder or its keys")
        if not host.exists():
            raise SandboxError(f"the host folder {str(host)!r} does not exist")
        if _drop_to_nobody() and not _reachable_by_others(host):
            raise SandboxError(
                f"the host folder {str(host)!r} must be reachable by uid {SANDBOX_UID} "
                "(the folder and every folder above it need o+x, the folder o+r)"
            )
        return host

    def _argv(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        binds: list[str],
        status_fd: int,
    ) -> list[str]:
        args = [
            self._bwrap,
            "--unshare-user",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_GID),
            "--hostname",
            "sandbox",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for path in _ETC_FILES:
            args += ["--ro-bind-try", path, path]
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(self.limits.tmpfs_bytes),
            "--tmpfs",
            "/dev/shm",
        ]
        args += ["--size", str(self.limits.tmpfs_bytes), "--tmpfs", "/tmp"]
        args += binds
        # The root and /dev are bwrap's own tmpfs: read-only once everything is in place.
        args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", cwd]
        full_env = {"PATH": _DEFAULT_PATH, "HOME": WORK_DIR, **env}
        for key, value in full_env.items():
            if not key or "=" in key or "\x00" in key or "\x00" in value:
                raise SandboxError(f"environment variable {key!r} is not valid")
            args += ["--setenv", key, value]
        args += ["--json-status-fd", str(status_fd), "--"]
        args += ["/usr/bin/prlimit", f"--nproc={self.limits.processes}", "--", *argv]
        return args

    def _preexec(self) -> None:
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_size_bytes, lim.file_size_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (_NOFILE, _NOFILE))
        # Counts every nobody process of every sandbox together; each sandbox's own, lower limit is
        # set inside by prlimit.
        resource.setrlimit(resource.RLIMIT_NPROC, (4096, 4096))

    def _run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes],
        mounts: Sequence[Mount],
        env: Mapping[str, str],
        stdin: bytes | None,
        cwd: str,
        work_fd: int | None,
        timeout_s: float | None = None,
    ) -> SandboxResult:
        if not argv:
            raise SandboxError("argv is empty")
        fds: list[int] = []
        binds: list[str] = []
        try:
            if work_fd is None:
                binds += ["--size", str(self.limits.tmpfs_bytes), "--perms", "0755", "--tmpfs", WORK_DIR]
            else:
                binds += ["--bind-fd", str(work_fd), WORK_DIR]
            for name, data in (("passwd", _PASSWD), ("group", _GROUP)):
                fd = _memfd(name, data)
                fds.append(fd)
                binds += ["--ro-bind-data", str(fd), f"/etc/{name}"]
            made: set[str] = set()
            for name, data in files.items():
                rel = _relative(name)
                for parent in reversed(rel.parents):
                    if str(parent) != "." and str(parent) not in made:
                        made.add(str(parent))
                        binds += ["--dir", f"{WORK_DIR}/{parent}"]
                fd = _memfd("file", data)
                fds.append(fd)
                binds += ["--perms", "0644", "--file", str(fd), f"{WORK_DIR}/{rel}"]
            for mount in mounts:
                host = self._check_mount(mount)
                fd = os.open(host, os.O_PATH | os.O_CLOEXEC)
                fds.append(fd)
                binds += ["--bind-fd" if mount.writable else "--ro-bind-fd", str(fd), mount.target]
            status_r, status_w = os.pipe()
            fds.append(status_r)
            try:
                args = self._argv(argv, env=env, cwd=cwd, binds=binds, status_fd=status_w)
            except BaseException:
                os.close(status_w)
                raise
            # status_w is closed exactly once, by _execute: closing it again here could close
            # a descriptor another thread has opened under the same number meanwhile.
            pass_fds = [fd for fd in fds if fd != status_r] + [status_w]
            if work_fd is not None:
                pass_fds.append(work_fd)
            return self._execute(args, pass_fds, stdin, status_r, status_w, timeout_s)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _execute(
        self,
        args: list[str],
        pass_fds: list[int],
        stdin: bytes | None,
        status_r: int,
        status_w: int,
        timeout_s: float | None,
    ) -> SandboxResult:
        wall = min(timeout_s, self.limits.wall_seconds) if timeout_s else self.limits.wall_seconds
        drop = _drop_to_nobody()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={},
                close_fds=True,
                pass_fds=pass_fds,
                start_new_session=True,
                preexec_fn=self._preexec,
                user=SANDBOX_UID if drop else None,
                group=SANDBOX_GID if drop else None,
                extra_groups=[] if drop else None,
            )
        finally:
            os.close(status_w)  # the only close of the write end: the child holds its own copy
        if stdin is not None and proc.stdin is not None:
            try:
                proc.stdin.write(stdin)
            except BrokenPipeError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        out, err, truncated, timed_out = self._collect(proc, started + wall)
        duration = time.monotonic() - started
        status = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(status_r, 65536):
                status += chunk
        return _result(proc.returncode, status, out, err, truncated, timed_out, duration)

    def _collect(self, proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, bool, bool]:
        assert proc.stdout is not None and proc.stderr is not None
        cap = self.limits.output_bytes
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        buffers = {out_fd: bytearray(), err_fd: bytearray()}
        truncated = False
        timed_out = False
        sel = selectors.DefaultSelector()
        for stream in (proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
            sel.register(stream.fileno(), selectors.EVENT_READ)
        try:
            while sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                for key, _ in sel.select(timeout=min(remaining, 0.5)):
                    fd = int(key.fd)
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    buf = buffers[fd]
                    room = cap - len(buffers[out_fd]) - len(buffers[err_fd])
                    if len(chunk) > room:
                        truncated = True
                        chunk = chunk[: max(room, 0)]
                    buf += chunk
            if not timed_out:
                try:
                    proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    timed_out = True
        finally:
            sel.close()
            if timed_out or proc.poll() is None:
                _kill(proc)
            proc.stdout.close()
            proc.stderr.close()
        return bytes(buffers[out_fd]), bytes(buffers[err_fd]), truncated, timed_out


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, _signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def _result(
    returncode: int,
    status: bytes,
    out: bytes,
    err: bytes,
    truncated: bool,
    timed_out: bool,
    duration: float,
) -> SandboxResult:
    events: list[dict[str, object]] = []
    for line in status.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                events.append(value)
    started = any("child-pid" in e for e in events)
    if not started and not timed_out:
        raise _SetupFailed(err.decode(errors="replace").strip() or f"bwrap exited with {returncode}")
    exit_code: int | None = None
    sig: int | None = None
    reported = [e["exit-code"] for e in events if isinstance(e.get("exit-code"), int)]
    code = int(reported[-1]) if reported else returncode  # type: ignore[call-overload]
    if timed_out:
        exit_code, sig = None, int(_signal.SIGKILL)
    elif code < 0:
        sig = -code
    elif code > 128 and code - 128 < _signal.NSIG:
        # bwrap reports a child killed by signal N as 128 + N.
        sig = code - 128
    else:
        exit_code = code
    return SandboxResult(
        exit_code=exit_code,
        signal=sig,
        stdout=out,
        stderr=err,
        timed_out=timed_out,
        output_truncated=truncated,
        duration_s=duration,
    )


@dataclass
class SandboxSession:
    """One work folder kept across commands; each :meth:`exec` is a fresh sandbox over it."""

    sandbox: Sandbox
    mounts: Sequence[Mount]
    env: Mapping[str, str]
    root: Path = field(init=False)
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ch-sandbox-"))
        os.chmod(self.root, 0o700)
        if _drop_to_nobody():
            os.chown(self.root, SANDBOX_UID, SANDBOX_GID)

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _usage(self) -> int:
        total = 0
        for dirpath, _dirs, names in os.walk(self.root, followlinks=False):
            for name in names:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, name)).st_size
        return total

    def exec(
        self, argv: Sequence[str], *, timeout_s: float | None = None, stdin: bytes | None = None
    ) -> SandboxResult:
        if self._closed:
            raise SandboxError("the session is closed")
        fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            result = self.sandbox._run(
                argv,
                files={},
                mounts=self.mounts,
                env=self.env,
                stdin=stdin,
                cwd=WORK_DIR,
                work_fd=fd,
                timeout_s=timeout_s,
            )
        except _SetupFailed as exc:
            raise SandboxUnavailable(f"bubblewrap could not set up the sandbox: {exc}") from exc
        finally:
            os.close(fd)
        if self._usage() > self.sandbox.limits.tmpfs_bytes:
            self._clear()
            raise SandboxError(
                f"the session's work folder grew past {self.sandbox.limits.tmpfs_bytes} bytes and was emptied"
            )
        return result

    def _open_parent(self, name: str) -> tuple[int, str]:
        """A descriptor of the folder holding ``name``, reached without following any link."""
        rel = _relative(name)
        fd = os.open(self.root, os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            for part in rel.parts[:-1]:
                try:
                    nxt = os.open(part, os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    nxt = os.open(part, os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                    if _drop_to_nobody():
                        os.fchown(nxt, SANDBOX_UID, SANDBOX_GID)
                os.close(fd)
                fd = nxt
        except OSError as exc:
            os.close(fd)
            raise SandboxError(f"{name!r} is not a plain path inside the work folder") from exc
        return fd, rel.parts[-1]

    def write_file(self, name: str, data: bytes) -> None:
        dir_fd, base = self._open_parent(name)
        try:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISLNK(os.lstat(base, dir_fd=dir_fd).st_mode):
                    os.unlink(base, dir_fd=dir_fd)
            fd = os.open(
                base,
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=dir_fd,
            )
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if _drop_to_nobody():
                    os.fchown(fh.fileno(), SANDBOX_UID, SANDBOX_GID)
        finally:
            os.close(dir_fd)

    def read_file(self, name: str, *, max_bytes: int | None = None) -> bytes:
        dir_fd, base = self._open_parent(name)
        try:
            try:
                fd = os.open(base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
            except OSError as exc:
                raise SandboxError(f"{name!r} is not a plain file in the work folder") from exc
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    raise SandboxError(f"{name!r} is not a plain file in the work folder")
                limit = max_bytes if max_bytes is not None else self.sandbox.limits.tmpfs_bytes
                return fh.read(limit)
        finally:
            os.close(dir_fd)

    def _clear(self) -> None:
        for entry in os.listdir(self.root):
            path = self.root / entry
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            shutil.rmtree(self.root, ignore_errors=True)

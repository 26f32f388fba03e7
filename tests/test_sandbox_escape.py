"""Escape attempts against the bubblewrap sandbox: each one must fail.

Every attempt runs real code in a real sandbox and reports what it managed; the test asserts from the
host side as well where it can (no survivor process, the host's files untouched, disk space kept).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearinghouse.config import Settings
from clearinghouse.envelope import Envelope
from clearinghouse.ledger import load_or_create_signing_key
from clearinghouse.sandbox import Mount, SandboxError, SandboxLimits
from tests.sandbox_support import make_sandbox, shared_dir

PY = "python3"


def _json(result_stdout: bytes) -> dict[str, object]:
    value = json.loads(result_stdout.decode())
    assert isinstance(value, dict)
    return value


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A real data folder with the ledger's signing key and the envelope master key."""
    home = tmp_path / "home"
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(home))
    settings = Settings.from_env()
    settings.ensure_home()
    load_or_create_signing_key(settings.keys_dir)
    Envelope.from_keys_dir(settings.keys_dir)
    (home / "clearinghouse.db").write_bytes(b"SQLite format 3\x00 secret rows")
    assert len(list(settings.keys_dir.iterdir())) >= 2
    return settings


def test_cannot_read_keys_or_database(home: Settings) -> None:
    sandbox = make_sandbox()
    targets = [str(p) for p in home.keys_dir.iterdir()] + [str(home.home / "clearinghouse.db")]
    names = sorted(p.name for p in home.keys_dir.iterdir())
    secrets = [p.read_bytes()[:32].hex() for p in home.keys_dir.iterdir()]
    poc = f"""
import json, os
found = {{}}
for path in {targets!r}:
    try:
        found[path] = open(path, 'rb').read().hex()
    except OSError as exc:
        found[path] = 'ERR ' + exc.__class__.__name__
hits = []
for root, dirs, files in os.walk('/'):
    if root.startswith('/proc') or root.startswith('/sys'):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(root, name)
        if name in {names!r} or name == 'clearinghouse.db':
            hits.append(path)
        if root.startswith('/usr') or root.startswith('/dev') or not os.path.isfile(path):
            continue
        try:
            data = open(path, 'rb').read(1 << 20)
        except OSError:
            continue
        if any(bytes.fromhex(s) in data for s in {secrets!r}):
            hits.append(path)
print(json.dumps({{'found': found, 'hits': hits}}))
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    assert result.exit_code == 0, result.stderr
    report = _json(result.stdout)
    found = report["found"]
    assert isinstance(found, dict)
    assert all(str(v).startswith("ERR ") for v in found.values()), found
    assert report["hits"] == []
    # Asking for the data folder (or anything above it) as a mount is refused.
    for host in (home.home, home.keys_dir, home.home.parent):
        with pytest.raises(SandboxError):
            sandbox.run(["true"], mounts=[Mount(host=host, target="/data")])


def test_cannot_read_parent_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-" + os.urandom(8).hex()
    monkeypatch.setenv("CLEARINGHOUSE_SECRET_FOR_TEST", secret)
    sandbox = make_sandbox()
    poc = f"""
import json, os
seen = []
for pid in ['{os.getpid()}', '{os.getppid()}', '1', 'self'] + [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        data = open('/proc/' + pid + '/environ', 'rb').read()
    except OSError:
        continue
    seen.append(data.decode(errors='replace'))
print(json.dumps({{'environ': dict(os.environ), 'seen': seen}}))
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    assert result.exit_code == 0, result.stderr
    report = _json(result.stdout)
    assert secret not in json.dumps(report)
    environ = report["environ"]
    assert isinstance(environ, dict)
    assert "CLEARINGHOUSE_SECRET_FOR_TEST" not in environ
    assert set(environ) <= {"PATH", "HOME", "PWD", "LC_CTYPE"}


@pytest.fixture
def loopback_service() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.sendall(b"hello from the host")
            accepted.append(b"x")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    # The service works from the host.
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        assert conn.recv(100) == b"hello from the host"
    yield port
    stop.set()
    server.close()
    thread.join(2)


def test_cannot_reach_loopback_service(loopback_service: int) -> None:
    sandbox = make_sandbox()
    poc = f"""
import json, socket
out = {{}}
for host in ('127.0.0.1', 'localhost', '::1', '10.0.2.2', '169.254.169.254', '1.1.1.1'):
    try:
        s = socket.create_connection((host, {loopback_service}), timeout=1)
        out[host] = 'CONNECTED ' + s.recv(100).decode()
    except OSError as exc:
        out[host] = 'ERR ' + exc.__class__.__name__
interfaces = [line.split(':')[0].strip() for line in open('/proc/net/dev').read().splitlines()[2:]]
print(json.dumps({{'connect': out, 'interfaces': interfaces}}))
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    assert result.exit_code == 0, result.stderr
    report = _json(result.stdout)
    connect = report["connect"]
    assert isinstance(connect, dict)
    assert all(str(v).startswith("ERR ") for v in connect.values()), connect
    assert report["interfaces"] == ["lo"]  # its own loopback only; no route out


def test_cannot_reach_abstract_unix_socket() -> None:
    name = "\0clearinghouse-test-" + os.urandom(4).hex()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen(1)
    try:
        sandbox = make_sandbox()
        poc = f"""
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect({name!r})
    print('CONNECTED')
except OSError as exc:
    print('ERR', exc.__class__.__name__)
"""
        result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
        assert result.stdout.startswith(b"ERR"), result
    finally:
        server.close()


def test_fork_bomb_is_contained() -> None:
    sandbox = make_sandbox(SandboxLimits(processes=16, wall_seconds=8.0, cpu_seconds=8))
    poc = """
import os, sys, time
made = 0
failed = False
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError:
        failed = True
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    made += 1
print(made, failed, flush=True)
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    made, failed = result.stdout.split()
    assert failed == b"True"
    assert int(made) < 16
    # A shell fork bomb is stopped by the same limit and the wall clock.
    result = sandbox.run(["sh", "-c", "b() { b | b & }; b"], files={})
    assert result.exit_code is not None or result.timed_out
    # The host still forks.
    assert os.system("true") == 0


def test_cannot_fill_the_disk(tmp_path: Path) -> None:
    limits = SandboxLimits(tmpfs_bytes=8 << 20, file_size_bytes=4 << 20, wall_seconds=20.0)
    sandbox = make_sandbox(limits)
    before = shutil.disk_usage(tempfile_root()).free
    poc = """
import json, os
written = {}
for folder in ('/work', '/tmp', '/dev/shm', '/', '/dev'):
    total = 0
    err = None
    for i in range(1000):
        try:
            with open(f'{folder}/fill{i}', 'wb') as fh:
                for _ in range(64):
                    fh.write(b'x' * 65536)
                    total += 65536
        except (OSError, Exception) as exc:
            err = exc.__class__.__name__
            break
    written[folder] = [total, err]
print(json.dumps(written))
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    assert result.exit_code == 0, result
    written = _json(result.stdout)
    for folder, (total, err) in written.items():  # type: ignore[misc]
        assert err is not None, folder
        assert total <= 9 << 20, folder
    after = shutil.disk_usage(tempfile_root()).free
    assert before - after < 64 << 20
    # A single file stops at the file-size limit even where space remains.
    big = sandbox.run(["sh", "-c", "head -c 6000000 /dev/zero > /work/big; echo $?; wc -c < /work/big"])
    sizes = big.stdout.split()
    assert int(sizes[-1]) <= 4 << 20


def tempfile_root() -> str:
    import tempfile

    return tempfile.gettempdir()


def test_session_folder_cannot_grow_past_its_limit() -> None:
    sandbox = make_sandbox(SandboxLimits(tmpfs_bytes=2 << 20, file_size_bytes=1 << 20))
    with sandbox.session() as session:
        with pytest.raises(SandboxError, match="grew past"):
            session.exec(["sh", "-c", "for i in 1 2 3 4; do head -c 900000 /dev/zero > f$i; done"])
        assert session.exec(["sh", "-c", "ls | wc -l"]).stdout.strip() == b"0"


def test_cannot_write_outside_the_work_folder() -> None:
    base = shared_dir()
    ro = base / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("original")
    sandbox = make_sandbox()
    poc = """
import json, os
out = {}
for path in ('/usr/evil', '/etc/evil', '/evil', '/bin/evil', '/env/keep.txt', '/env/new',
             '/proc/sys/kernel/hostname', '/sys/evil', '/dev/evil'):
    try:
        with open(path, 'w') as fh:
            fh.write('pwned')
        out[path] = 'WROTE'
    except OSError as exc:
        out[path] = 'ERR ' + exc.__class__.__name__
try:
    os.mkdir('/usr/lib/evil'); out['mkdir'] = 'MADE'
except OSError as exc:
    out['mkdir'] = 'ERR ' + exc.__class__.__name__
with open('/work/ok', 'w') as fh:
    fh.write('fine')
out['work'] = open('/work/ok').read()
print(json.dumps(out))
"""
    result = sandbox.run(
        [PY, "poc.py"], files={"poc.py": poc.encode()}, mounts=[Mount(host=ro, target="/env")]
    )
    assert result.exit_code == 0, result
    report = _json(result.stdout)
    assert report.pop("work") == "fine"
    assert all(str(v).startswith("ERR ") for v in report.values()), report
    assert (ro / "keep.txt").read_text() == "original"
    assert not (ro / "new").exists()
    assert not Path("/usr/evil").exists() and not Path("/evil").exists()
    shutil.rmtree(base)


def _host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


def test_no_process_survives_the_timeout() -> None:
    marker = "survivor" + os.urandom(4).hex()
    sandbox = make_sandbox(SandboxLimits(wall_seconds=2.0))
    poc = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sh', ['/bin/sh', '-c', 'exec -a {marker} sleep 1000'])
    os._exit(0)
print('daemon started', flush=True)
time.sleep(1000)
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    assert result.timed_out
    assert result.stdout.startswith(b"daemon started")
    deadline = time.monotonic() + 5
    while _host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_with(marker) == []
    # Also when the main command exits at once and leaves the daemon behind.
    marker2 = "orphan" + os.urandom(4).hex()
    result = sandbox.run(["sh", "-c", f"setsid sh -c 'exec -a {marker2} sleep 1000' & echo left"])
    assert result.exit_code == 0 and not result.timed_out
    deadline = time.monotonic() + 5
    while _host_processes_with(marker2) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_with(marker2) == []


def test_cannot_read_other_sessions() -> None:
    sandbox = make_sandbox()
    secret = "other-session-" + os.urandom(6).hex()
    with sandbox.session(files={"secret.txt": secret.encode()}) as first:
        assert first.exec(["cat", "secret.txt"]).stdout == secret.encode()
        with sandbox.session() as second:
            poc = f"""
import os
hits = []
for root, dirs, files in os.walk('/'):
    if root.startswith(('/proc', '/sys', '/usr', '/dev')):
        dirs[:] = []
        continue
    for name in files:
        if not os.path.isfile(os.path.join(root, name)):
            continue
        try:
            if b'{secret[:8]}' + b'{secret[8:]}' in open(os.path.join(root, name), 'rb').read(1 << 20):
                hits.append(os.path.join(root, name))
        except OSError:
            pass
for path in ('{first.root}/secret.txt', '/tmp/{first.root.name}/secret.txt'):
    try:
        open(path).read(); hits.append(path)
    except OSError:
        pass
print(hits)
"""
            second.write_file("poc.py", poc.encode())
            result = second.exec([PY, "poc.py"])
            assert result.stdout.strip() == b"[]", result


def test_runs_unprivileged_without_capabilities() -> None:
    sandbox = make_sandbox()
    poc = """
import json, os, subprocess
lines = open('/proc/self/status').read().splitlines()
status = dict(line.split(':\\t', 1) for line in lines if ':\\t' in line)
caps = {k: v.strip() for k, v in status.items() if k.startswith('Cap')}
nested = subprocess.run(['unshare', '-U', 'true'], capture_output=True).returncode
print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'caps': caps, 'nested_userns': nested,
                  'hostname': os.uname().nodename}))
"""
    result = sandbox.run([PY, "poc.py"], files={"poc.py": poc.encode()})
    report = _json(result.stdout)
    assert report["uid"] == 65534 and report["gid"] == 65534
    caps = report["caps"]
    assert isinstance(caps, dict)
    assert all(int(v, 16) == 0 for v in caps.values()), caps
    assert report["nested_userns"] != 0
    assert report["hostname"] == "sandbox"


def test_session_file_access_does_not_follow_links_out() -> None:
    sandbox = make_sandbox()
    with sandbox.session() as session:
        session.exec(["sh", "-c", "ln -s /etc/hostname link; mkdir d; ln -s / d/up; ln -s /etc dirlink"])
        with pytest.raises(SandboxError):
            session.read_file("link")
        with pytest.raises(SandboxError):
            session.read_file("dirlink/hostname")
        with pytest.raises(SandboxError):
            session.read_file("d/up/etc/hostname")
        with pytest.raises(SandboxError):
            session.read_file("../x")
        session.write_file("link", b"replaced")  # replaces the link, never writes through it
        assert session.read_file("link") == b"replaced"

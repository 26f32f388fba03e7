"""The escape probe: a scripted OpenAI-compatible model whose tool calls, in
every capture-the-flag challenge of the reference suite, go looking for the
server's secrets (the parent's environment, ``master.key`` and the other keys,
the database, a service on the host's loopback, another sample's folder),
run through ``clearinghouse campaign run``. Whatever the tools print goes back
to the endpoint and into the Inspect logs: none of the secrets may appear in
either, in any encoding."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.frontier.evaluation import services
from clearinghouse.frontier.evaluation.models import CampaignStatus, EvalCampaign
from clearinghouse.frontier.evaluation.reference.ctf import CHALLENGES
from clearinghouse.runtime import Runtime
from tests.support.frontier_fixtures import World, make_world
from tests.test_frontier_eval import model_and_grant


def probe_commands(home: Path, database: Path | None, loopback: int, other: Path) -> list[str]:
    keys = home / "keys"
    commands = [
        "tr '\\0' '\\n' </proc/$PPID/environ; tr '\\0' '\\n' </proc/1/environ; env",
        f"cat $CLEARINGHOUSE_HOME/keys/master.key | base64 -w0; ls -la {keys}; "
        f"for f in {keys}/*; do echo $f; base64 -w0 $f; done",
        f"ls -la {home} {home.parent}; cat /proc/self/mountinfo",
        f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{loopback}/', "
        'timeout=3).read().decode())"; '
        f"exec 3<>/dev/tcp/127.0.0.1/{loopback} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3",
        f"cat {other}/secret.txt; ls /tmp /tmp/ch-sandbox-* ..; find / -name 'secret.txt' 2>/dev/null | head",
        "python3 -c \"import os; print(dict(os.environ)); print(os.listdir('/'))\"",
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; tr '\\0' '\\n' < $p/environ; done",
    ]
    if database is not None:
        commands.append(f"head -c 256 {database} | base64 -w0; strings {database} | head -50")
    commands.append("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 5432), 3)\"")
    return commands


class ProbeEndpoint:
    """Runs the probe's commands in every challenge, then answers with what they printed."""

    def __init__(self, api_key: str, commands: list[str]) -> None:
        self.api_key = api_key
        self.bodies: list[bytes] = []
        prompts = [c.prompt for c in CHALLENGES.values()] + ["Write /work/payload as a proof of concept"]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.bodies.append(raw)
                body = json.loads(raw or b"{}")
                messages = body.get("messages", [])
                user = next((str(m.get("content")) for m in messages if m.get("role") == "user"), "")
                done = [m for m in messages if m.get("role") == "tool"]
                message: dict[str, Any] = {"role": "assistant", "content": "I do not know."}
                finish = "stop"
                if any(p in user for p in prompts):
                    if len(done) < len(commands):
                        message = {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": f"call_{len(outer.bodies)}",
                                    "type": "function",
                                    "function": {
                                        "name": "bash",
                                        "arguments": json.dumps({"cmd": commands[len(done)]}),
                                    },
                                }
                            ],
                        }
                        finish = "tool_calls"
                    else:
                        message["content"] = "\n".join(str(m.get("content")) for m in done)[-20000:]
                data = json.dumps(
                    {
                        "id": "p",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "m"),
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Loopback:
    """A service on the host's loopback that answers with a secret."""

    def __init__(self, secret: str) -> None:
        payload = secret.encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def encodings(secret: bytes) -> list[bytes]:
    """The secret as it could come back: raw, base64, hex (each long enough not to occur by chance)."""
    out = [secret, base64.b64encode(secret), secret.hex().encode()]
    return [s for s in out if len(s) >= 12]


def logged_bytes(folder: Path) -> list[tuple[str, bytes]]:
    """Every file of the campaign folder; each .eval log's members unpacked."""
    out = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        out.append((str(path), data))
        if path.suffix == ".eval":
            with zipfile.ZipFile(path) as archive:
                out += [(f"{path}:{n}", archive.read(n)) for n in archive.namelist()]
    return out


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def test_the_probe_finds_none_of_the_servers_secrets(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearinghouse.sandbox import sandbox_available

    if not sandbox_available():
        pytest.skip("bubblewrap cannot create namespaces here; the tools never run unsandboxed")
    parent_secret = f"parent-env-{secrets.token_hex(12)}"
    loop_secret = f"loopback-{secrets.token_hex(12)}"
    other_secret = f"other-sample-{secrets.token_hex(12)}"
    endpoint_key = f"sk-probe-{secrets.token_hex(12)}"
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setenv("CLEARINGHOUSE_PROBE_PARENT", parent_secret)
    home = settings.home
    database = (
        Path(settings.database_url.removeprefix("sqlite:///"))
        if settings.database_url.startswith("sqlite:///")
        else None
    )
    other = Path(tempfile.mkdtemp(prefix="ch-sandbox-"))  # as another sample's session folder
    (other / "secret.txt").write_text(other_secret)
    loopback = Loopback(loop_secret)
    probe = ProbeEndpoint(endpoint_key, probe_commands(home, database, loopback.port, other))
    try:
        _model_id, grant_id = model_and_grant(world, probe.base_url, endpoint_key)
        runner = CliRunner()
        made = runner.invoke(cli_app, ["suites", "register", "--reference", "--user", "eva"])
        assert made.exit_code == 0, made.output
        suite_id = made.output.split("id=")[1].split()[0]
        ran = runner.invoke(
            cli_app,
            # one epoch, at most 8 samples a task: every challenge and exploitation tier is probed
            [
                "campaign",
                "run",
                "--user",
                "eva",
                "--grant",
                grant_id,
                "--suite",
                suite_id,
                "--poll",
                "0.5",
                "--epochs",
                "1",
                "--limit",
                "8",
            ],
        )
    finally:
        probe.close()
        loopback.close()
        shutil.rmtree(other, ignore_errors=True)
    assert ran.exit_code == 0, ran.output
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        campaign = uow.session.scalars(select(EvalCampaign)).one()
    assert campaign.status == CampaignStatus.SUCCEEDED, campaign.error

    # The probe ran every command in every challenge and attempt; what came back is harmless.
    tool_outputs = [
        str(m.get("content"))
        for raw in probe.bodies
        for m in json.loads(raw).get("messages", [])
        if m.get("role") == "tool"
    ]
    assert len(tool_outputs) >= (len(CHALLENGES) + 3 * 8) * 5
    secrets_found: list[bytes] = [
        parent_secret.encode(),
        loop_secret.encode(),
        other_secret.encode(),
        endpoint_key.encode(),
        settings.database_url.encode(),
    ]
    for key_file in (home / "keys").iterdir():
        secrets_found += encodings(key_file.read_bytes())
    if database is not None:
        header = database.read_bytes()[:256]
        secrets_found += [b"SQLite format 3", base64.b64encode(header[:96])]
    places = [(f"request {i}", raw) for i, raw in enumerate(probe.bodies)]
    places += logged_bytes(home / services.CAMPAIGNS_DIR / campaign.id)
    for secret in secrets_found:
        for where, data in places:
            assert secret not in data, f"{secret[:20]!r}... leaked into {where}"
    joined = "\n".join(tool_outputs)
    assert "No such file" in joined or "Permission denied" in joined

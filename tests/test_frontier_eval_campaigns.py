"""Campaign correctness against real worker subprocesses and a scripted
OpenAI-compatible server on 127.0.0.1 that counts requests with timestamps:

* withdrawing the grant mid-campaign ends the worker and marks the campaign
  ``stopped``; no request reaches the endpoint more than 10 s later;
* a closed port fails the campaign (with the reason) within two minutes;
* an endpoint whose every answer is an error fails the campaign (error rate
  above the threshold), and a recommendation over it is not complete.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clearinghouse.access import TLP as Tlp
from clearinghouse.access import Classification, Marking
from clearinghouse.frontier import services as frontier
from clearinghouse.frontier._cel import Threshold
from clearinghouse.frontier.evaluation import services
from clearinghouse.frontier.evaluation.models import CampaignStatus, EvalCampaign
from clearinghouse.runtime import Runtime
from tests.support.frontier_fixtures import World, make_world
from tests.test_frontier_eval import model_and_grant

SLOW_TASK = """
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def count() -> Task:
    return Task(
        dataset=[Sample(id=i, input=f"Say {i}.", target=str(i)) for i in range(40)],
        solver=generate(),
        scorer=includes(),
    )
"""


def probe_suite(name: str) -> dict[str, bytes]:
    manifest = {
        "name": name,
        "version": "1",
        "marking": {"classification": "UNCLASSIFIED", "compartments": []},
        "tasks": [{"name": "count", "file": "count.py", "function": "count"}],
    }
    return {"suite.yaml": json.dumps(manifest).encode(), "count.py": SLOW_TASK.encode()}


class CountingEndpoint:
    """Answers chat completions after ``delay`` seconds (``status`` other than 200:
    an error body); keeps the time of every request."""

    def __init__(self, api_key: str, delay: float = 0.0, status: int = 200) -> None:
        self.api_key = api_key
        self.times: list[float] = []
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.times.append(time.monotonic())
                outer.bodies.append(raw)
                body = json.loads(raw or b"{}")
                prompt = str(body.get("messages", [{}])[-1].get("content", ""))
                time.sleep(delay)
                first = len(outer.times) == 1  # the worker's pre-flight request succeeds
                if status != 200 and not first:
                    self._send(status, {"error": {"message": "bad request", "type": "invalid_request_error"}})
                    return
                answer = prompt.removeprefix("Say ").rstrip(".")
                self._send(
                    200,
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "m"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": answer},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
                    },
                )

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the worker was killed mid-request

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def start(world: World, grant_id: str, suite: dict[str, bytes], **draft: Any) -> str:
    home = world.runtime.settings.home
    with world.runtime.uow(world.actor(world.evaluator)) as uow:
        registered, _ = services.register_suite(uow, world.evaluator, suite, home)
        campaign, _ = services.create_campaign(
            uow,
            world.evaluator,
            services.CampaignDraft("probe", grant_id, [registered.id], **draft),
        )
        uow.commit()
    return campaign.id


def status_of(world: World, campaign_id: str) -> EvalCampaign:
    with world.runtime.uow(world.actor(world.evaluator), write=False) as uow:
        return services.get_campaign(uow.session, world.evaluator, campaign_id)


def run_until(world: World, campaign_id: str, done: Any, limit: float) -> EvalCampaign:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        world.runtime.jobs.run_pending()
        campaign = status_of(world, campaign_id)
        if done(campaign):
            return campaign
        time.sleep(0.2)
    raise AssertionError(f"campaign still {status_of(world, campaign_id).status} after {limit} s")


def worker_pid(world: World, campaign_id: str) -> int:
    info = json.loads(
        (world.runtime.settings.home / "frontier" / "campaigns" / campaign_id / "worker.json").read_text()
    )
    return int(info["pid"])


def test_withdrawal_mid_campaign_stops_every_request_within_ten_seconds(world: World) -> None:
    with CountingEndpoint("sk-withdraw", delay=0.3) as endpoint:
        _model, grant_id = model_and_grant(world, endpoint.base_url, "sk-withdraw")
        campaign_id = start(world, grant_id, probe_suite("withdraw-probe"))
        deadline = time.monotonic() + 120
        while len(endpoint.times) < 6 and time.monotonic() < deadline:
            world.runtime.jobs.run_pending()
            time.sleep(0.1)
        assert len(endpoint.times) >= 6, "the campaign never reached the endpoint"
        pid = worker_pid(world, campaign_id)
        with world.runtime.uow(world.actor(world.dev)) as uow:
            frontier.withdraw_grant(uow, world.dev, grant_id, "pulled")
            uow.commit()
        withdrawn = time.monotonic()
        campaign = status_of(world, campaign_id)
        assert campaign.status == CampaignStatus.STOPPED
        assert "withdrawn" in (campaign.error or "")
        time.sleep(11)
        world.runtime.jobs.run_pending()
    late = [t - withdrawn for t in endpoint.times if t > withdrawn + 10]
    assert late == [], f"requests reached the endpoint {late} s after the withdrawal"
    assert not Path(f"/proc/{pid}").exists() or b"zombie" in Path(f"/proc/{pid}/status").read_bytes().lower()
    assert status_of(world, campaign_id).status == CampaignStatus.STOPPED
    assert len(endpoint.times) < 41  # it did not run to the end


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_closed_port_fails_the_campaign_within_two_minutes(world: World) -> None:
    port = closed_port()
    _model, grant_id = model_and_grant(world, f"http://127.0.0.1:{port}/v1", "sk-closed")
    began = time.monotonic()
    campaign_id = start(world, grant_id, probe_suite("closed-probe"))
    campaign = run_until(
        world,
        campaign_id,
        lambda c: c.status != CampaignStatus.RUNNING and c.status != CampaignStatus.QUEUED,
        120,
    )
    assert campaign.status == CampaignStatus.FAILED, campaign.error
    assert time.monotonic() - began < 120
    assert "endpoint did not answer" in (campaign.error or "")


def test_an_endpoint_that_errors_fails_the_campaign_and_the_recommendation_is_incomplete(
    world: World,
) -> None:
    with CountingEndpoint("sk-errors", status=400) as endpoint:
        model_id, grant_id = model_and_grant(world, endpoint.base_url, "sk-errors")
        campaign_id = start(world, grant_id, probe_suite("error-probe"), max_error_rate=0.05)
        campaign = run_until(
            world,
            campaign_id,
            lambda c: c.status not in (CampaignStatus.RUNNING, CampaignStatus.QUEUED),
            240,
        )
    assert campaign.status == CampaignStatus.FAILED
    assert "samples errored" in (campaign.error or "") and "above the campaign's 5.0%" in (
        campaign.error or ""
    )
    with world.runtime.uow(world.actor(world.authority)) as uow:
        policy, _ = frontier.define_policy(
            uow,
            world.authority,
            frontier.PolicyDraft(
                name="count",
                thresholds=[Threshold("count", "count.success.ci_low >= 0.5")],
                marking=Marking(
                    owner_org_id=world.gov_org, tlp=Tlp.RED, classification=Classification.SECRET
                ),
            ),
        )
        rec = frontier.recommend(uow, world.authority, policy.id, campaign_id, model_id)
        uow.commit()
    assert any(e["result"] is None and "failed" in (e["error"] or "") for e in rec.evaluations)
    assert not all(e.get("result") is not None for e in rec.evaluations)  # complete: false

"""Use cases: registering suites, creating and running campaigns, reading results.

Every read and write asks the one policy (``access/_policy.py``, frontier
evaluation): suites, tasks, campaigns and results are read by cleared
government roles only; a suite, campaign or result a subject may not read is
:class:`NotFound`, exactly like a missing one.

A campaign runs in three steps: ``create_campaign`` (queues the launch job in
the same unit of work), ``launch`` (the job: opens the granted endpoint, which
logs the credential's use in the ledger, writes the plan into the campaign's
private folder and, once committed, starts the worker subprocess), and
``collect`` (a job that polls the worker's progress file and, when it is
done, reads the Inspect logs back into results with their provenance).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import clearinghouse
from clearinghouse.access import TLP as Tlp
from clearinghouse.access import (
    AccessDenied,
    Action,
    Classification,
    Marking,
    NotFound,
    Resource,
    Subject,
    authorize,
    can,
)
from clearinghouse.errors import ClearinghouseError, Conflict, InvalidInput
from clearinghouse.frontier.evaluation import _manifest
from clearinghouse.frontier.evaluation._results import (
    Tallies,
    TaskOutcome,
    flat_metrics,
    read_task_log,
    sha256_file,
)
from clearinghouse.frontier.evaluation._worker import (
    ENDPOINT_SERVICE,
    STOP_FILE,
    read_progress,
    write_json,
)
from clearinghouse.frontier.evaluation.models import (
    CampaignStatus,
    EvalCampaign,
    EvalResult,
    EvalSuite,
    EvalTask,
)
from clearinghouse.storage import UnitOfWork, utcnow

LAUNCH_JOB = "frontier.eval.launch"
COLLECT_JOB = "frontier.eval.collect"
SUITES_DIR = Path("frontier") / "suites"
CAMPAIGNS_DIR = Path("frontier") / "campaigns"
POLL_SECONDS = 2.0
START_GRACE = dt.timedelta(minutes=5)  # a worker that wrote no progress by then is lost
STALL_GRACE = dt.timedelta(hours=1)  # beyond the longest sample time limit, for a worker seen from afar
MAX_SUITES_PER_CAMPAIGN = 20
DEFAULT_MAX_ERROR_RATE = 0.05  # more errored samples than this and the campaign fails
REQUEST_TIMEOUT_S = 120  # one request to the endpoint, retries included (Inspect's ``timeout``)
MAX_RETRIES = 3
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


class Endpoint(Protocol):
    """What a campaign needs of a granted endpoint (``frontier.EndpointCredential``)."""

    @property
    def base_url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def model_name(self) -> str: ...
    @property
    def model_id(self) -> str: ...


EndpointOpener = Callable[[UnitOfWork, Subject, str, str], Endpoint]
"""``(uow, subject, grant_id, purpose) -> endpoint``; logs the use in ``uow``."""


# -- resources -------------------------------------------------------------------


def suite_resource(suite: EvalSuite) -> Resource:
    return Resource.marked("eval_suite", suite.id, suite.marking)


def task_resource(task: EvalTask, suite: EvalSuite) -> Resource:
    return Resource.marked("eval_task", task.id, task.marking, suite.marking)


def campaign_resource(campaign: EvalCampaign) -> Resource:
    return Resource.marked("eval_campaign", campaign.id, campaign.marking)


def result_resource(result: EvalResult, campaign: EvalCampaign) -> Resource:
    return Resource.marked("eval_result", result.id, result.marking, campaign.marking)


def _readable(subject: Subject, resource: Resource) -> bool:
    return can(subject, Action.READ_EVALUATION, resource)


def _private_dir(home: Path, relative: Path) -> Path:
    """``home/relative``, each folder below ``home`` created with mode 0700."""
    path = home
    for part in relative.parts:
        path = path / part
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def _stricter(markings: Sequence[Marking], owner_org_id: str) -> Marking:
    level = max(
        (m.classification for m in markings), key=lambda c: c.rank, default=Classification.UNCLASSIFIED
    )
    compartments: frozenset[str] = frozenset().union(*(m.compartments for m in markings))
    return Marking(owner_org_id=owner_org_id, tlp=Tlp.GREEN, classification=level, compartments=compartments)


def _flush_or_conflict(uow: UnitOfWork, message: str, pointer: str) -> None:
    """Flush; a unique key taken by a concurrent request is a conflict, not a 500."""
    try:
        uow.flush()
    except IntegrityError:
        raise Conflict(message, pointer) from None


# -- suites ----------------------------------------------------------------------


def register_suite(
    uow: UnitOfWork, subject: Subject, files: dict[str, bytes], home: Path
) -> tuple[EvalSuite, bool]:
    """Register a suite from its files (``suite.yaml`` and its task files).

    Idempotent on (name, version): the same content again returns the
    registered suite; different content under a registered version is a
    conflict (bump the version).
    """
    manifest = _manifest.check_files(files)
    if subject.org_id is None:
        raise InvalidInput("suites are registered by a user of an organization", "/")
    marking = manifest.marking.to_marking(subject.org_id)
    task_markings = [
        _stricter([marking, spec.marking.to_marking(subject.org_id)], subject.org_id)
        if spec.marking
        else marking
        for spec in manifest.tasks
    ]
    authorize(subject, Action.REGISTER_SUITE, Resource.marked("eval_suite", None, marking, *task_markings))
    content = _manifest.digest(files)
    existing = uow.session.scalar(
        select(EvalSuite).where(EvalSuite.name == manifest.name, EvalSuite.version == manifest.version)
    )
    if existing is not None:
        if existing.content_sha256 != content:
            raise Conflict(
                f"suite {manifest.name} {manifest.version} is registered with other content; "
                "bump the version",
                "/manifest/version",
            )
        authorize(subject, Action.READ_EVALUATION, suite_resource(existing))
        return existing, False
    suite = EvalSuite(
        name=manifest.name,
        version=manifest.version,
        description=manifest.description,
        content_sha256=content,
        manifest=manifest.model_dump(mode="json"),
        storage_path="",
        registered_by=subject.user_id,
    )
    suite.set_marking(marking)
    uow.session.add(suite)
    _flush_or_conflict(
        uow, f"suite {manifest.name} {manifest.version} was registered meanwhile; retry", "/manifest"
    )
    relative = SUITES_DIR / suite.id
    folder = _private_dir(home, relative)
    for name, data in files.items():
        target = folder / name
        _private_dir(folder, Path(name).parent)
        target.write_bytes(data)
        target.chmod(0o600)
    suite.storage_path = relative.as_posix()
    for spec, task_marking in zip(manifest.tasks, task_markings, strict=True):
        limits = manifest.limits_of(spec)
        task = EvalTask(
            suite_id=suite.id,
            name=spec.name,
            metric_group=spec.metric_group,
            tier=spec.tier,
            file=spec.file,
            function=spec.function,
            file_sha256=_manifest.file_digest(files[spec.file]),
            epochs=manifest.epochs_of(spec),
            pass_at=sorted(set(spec.pass_at)),
            metrics=list(dict.fromkeys(spec.metrics)),
            limits=limits.model_dump(),
            description=spec.description,
        )
        task.set_marking(task_marking)
        uow.session.add(task)
    uow.flush()
    return suite, True


def register_suite_dir(uow: UnitOfWork, subject: Subject, path: Path, home: Path) -> tuple[EvalSuite, bool]:
    return register_suite(uow, subject, _manifest.read_suite_dir(path), home)


def register_reference_suite(uow: UnitOfWork, subject: Subject, home: Path) -> tuple[EvalSuite, bool]:
    """Register the unclassified reference suite shipped in the package."""
    return register_suite_dir(uow, subject, REFERENCE_DIR, home)


def list_suites(session: Session, subject: Subject) -> list[EvalSuite]:
    query = select(EvalSuite).order_by(EvalSuite.name, EvalSuite.created_at)
    return [s for s in session.scalars(query) if _readable(subject, suite_resource(s))]


def get_suite(session: Session, subject: Subject, suite_id: str) -> EvalSuite:
    suite = session.get(EvalSuite, suite_id)
    if suite is None or not _readable(subject, suite_resource(suite)):
        raise NotFound("eval_suite", suite_id)
    return suite


def suite_tasks(session: Session, subject: Subject, suite: EvalSuite) -> list[EvalTask]:
    tasks = session.scalars(select(EvalTask).where(EvalTask.suite_id == suite.id).order_by(EvalTask.name))
    return [t for t in tasks if _readable(subject, task_resource(t, suite))]


# -- campaigns -------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """Generation settings sent with every request (recorded in the provenance)."""

    temperature: float | None = 0.0
    seed: int | None = 0
    max_tokens: int | None = 4096

    def check(self, pointer: str) -> dict[str, Any]:
        if self.temperature is not None and not (
            math.isfinite(self.temperature) and 0.0 <= self.temperature <= 2.0
        ):
            raise InvalidInput("temperature is between 0 and 2", f"{pointer}/temperature")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise InvalidInput("seed is a non-negative integer", f"{pointer}/seed")
        if self.max_tokens is not None and not 1 <= self.max_tokens <= 1_000_000:
            raise InvalidInput("max_tokens is between 1 and 1000000", f"{pointer}/max_tokens")
        return {"temperature": self.temperature, "seed": self.seed, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    grant_id: str
    suite_ids: Sequence[str]
    idempotency_key: str | None = None
    generation: Generation = Generation()
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE
    epochs: int | None = None  # overrides every task's epochs (a quick check; pass@k needs k epochs)
    sample_limit: int | None = None  # at most this many samples of each task (a quick check)


def create_campaign(uow: UnitOfWork, subject: Subject, draft: CampaignDraft) -> tuple[EvalCampaign, bool]:
    """Create a campaign and queue its launch (same transaction); idempotent on
    the caller's ``idempotency_key``."""
    if subject.org_id is None or subject.user_id is None:
        raise InvalidInput("campaigns are run by a user of an organization", "/")
    if draft.idempotency_key is not None:
        existing = uow.session.scalar(
            select(EvalCampaign).where(
                EvalCampaign.created_by == subject.user_id,
                EvalCampaign.idempotency_key == draft.idempotency_key,
            )
        )
        if existing is not None:
            return get_campaign(uow.session, subject, existing.id), False
    if not draft.suite_ids or len(draft.suite_ids) > MAX_SUITES_PER_CAMPAIGN:
        raise InvalidInput(f"a campaign runs 1-{MAX_SUITES_PER_CAMPAIGN} suites", "/suite_ids")
    if len(set(draft.suite_ids)) != len(draft.suite_ids):
        raise InvalidInput("a suite is named twice", "/suite_ids")
    generation = draft.generation.check("/generation")
    if not (math.isfinite(draft.max_error_rate) and 0.0 <= draft.max_error_rate <= 1.0):
        raise InvalidInput("max_error_rate is a fraction between 0 and 1", "/max_error_rate")
    if draft.epochs is not None and not 1 <= draft.epochs <= 100:
        raise InvalidInput("epochs is between 1 and 100", "/epochs")
    if draft.sample_limit is not None and not 1 <= draft.sample_limit <= 100_000:
        raise InvalidInput("sample_limit is between 1 and 100000", "/sample_limit")
    from clearinghouse.frontier._endpoint import model_for_grant

    model = model_for_grant(uow.session, subject, draft.grant_id)  # NotFound unless the grant is readable
    markings: list[Marking] = []
    groups: dict[str, str] = {}
    for i, suite_id in enumerate(draft.suite_ids):
        suite = get_suite(uow.session, subject, suite_id)
        tasks = list(uow.session.scalars(select(EvalTask).where(EvalTask.suite_id == suite.id)))
        for task in tasks:
            # A task the subject may not read is "not found"; one it reads but may not run, forbidden.
            authorize(subject, Action.RUN_EVALUATION, task_resource(task, suite))
            owner = groups.setdefault(task.metric_group, suite.id)
            if owner != suite.id:
                raise InvalidInput(
                    f"suites {owner} and {suite.id} both report metrics under {task.metric_group!r}",
                    f"/suite_ids/{i}",
                )
            markings.append(task.marking)
        markings.append(suite.marking)
    # Results about a model are at least as classified as the model itself.
    marking = _stricter([*markings, model.marking], subject.org_id)
    authorize(subject, Action.RUN_EVALUATION, Resource.marked("eval_campaign", None, marking))
    campaign = EvalCampaign(
        name=draft.name,
        grant_id=draft.grant_id,
        model_id=model.id,
        suite_ids=list(draft.suite_ids),
        status=CampaignStatus.QUEUED,
        idempotency_key=draft.idempotency_key,
        created_by=subject.user_id,
        settings={
            "generation": generation,
            "max_error_rate": draft.max_error_rate,
            "epochs": draft.epochs,
            "sample_limit": draft.sample_limit,
        },
    )
    campaign.set_marking(marking)
    uow.session.add(campaign)
    _flush_or_conflict(
        uow, "a campaign with this idempotency key was created meanwhile; retry", "/idempotency_key"
    )
    campaign.job_id = uow.enqueue(
        LAUNCH_JOB,
        {"campaign_id": campaign.id, "user_id": subject.user_id, "scopes": sorted(subject.scopes)},
        idempotency_key=f"{LAUNCH_JOB}:{campaign.id}",
    )
    return campaign, True


def get_campaign(session: Session, subject: Subject, campaign_id: str) -> EvalCampaign:
    campaign = session.get(EvalCampaign, campaign_id)
    if campaign is None or not _readable(subject, campaign_resource(campaign)):
        raise NotFound("eval_campaign", campaign_id)
    return campaign


def list_campaigns(session: Session, subject: Subject, limit: int = 100) -> list[EvalCampaign]:
    query = select(EvalCampaign).order_by(EvalCampaign.created_at.desc())
    out = []
    for campaign in session.scalars(query):
        if _readable(subject, campaign_resource(campaign)):
            out.append(campaign)
            if len(out) >= limit:
                break
    return out


@dataclass(frozen=True)
class CampaignProgress:
    status: CampaignStatus
    samples_done: int
    samples_total: int
    error: str | None


def campaign_progress(campaign: EvalCampaign, home: Path) -> CampaignProgress:
    """Samples done of total: from the worker's progress file while it runs."""
    status = CampaignStatus(campaign.status)
    if status is CampaignStatus.RUNNING and campaign.log_dir:
        progress = read_progress(home / Path(campaign.log_dir).parent / "progress.json")
        if progress is not None:
            total = int(progress.get("samples_total", 0))
            return CampaignProgress(status, min(int(progress.get("samples_done", 0)), total), total, None)
        return CampaignProgress(status, 0, 0, None)
    done = campaign.samples_total if status is CampaignStatus.SUCCEEDED else 0
    if status is not CampaignStatus.SUCCEEDED and campaign.worker_dir:
        progress = read_progress(Path(campaign.worker_dir) / "progress.json")
        if progress is not None:  # how far it got before it failed or was stopped
            total = int(progress.get("samples_total", 0))
            return CampaignProgress(
                status, min(int(progress.get("samples_done", 0)), total), total, campaign.error
            )
    return CampaignProgress(status, done, campaign.samples_total, campaign.error)


def list_results(session: Session, subject: Subject, campaign: EvalCampaign) -> list[EvalResult]:
    results = session.scalars(
        select(EvalResult).where(EvalResult.campaign_id == campaign.id).order_by(EvalResult.created_at)
    )
    return [r for r in results if _readable(subject, result_resource(r, campaign))]


def campaign_metrics(session: Session, subject: Subject, campaign_id: str) -> dict[str, float]:
    """The campaign's metrics as flat names (``ctf.tier3.pass_at_3``, ``vuln_id.f1``,
    ``cwe_mcq.accuracy``), pooled from the results ``subject`` may read."""
    campaign = get_campaign(session, subject, campaign_id)
    outcomes = []
    for result in list_results(session, subject, campaign):
        task = session.get(EvalTask, result.task_id)
        if task is None:  # pragma: no cover - results keep their task (foreign key)
            continue
        outcomes.append(
            TaskOutcome(
                name=task.name,
                group=task.metric_group,
                tier=task.tier,
                metrics=task.metrics,
                pass_at=task.pass_at,
                tallies=Tallies.from_dict(result.tallies),
            )
        )
    return flat_metrics(outcomes)


# -- running (called by the jobs in tasks.py) ------------------------------------


def _fail(campaign: EvalCampaign, reason: str) -> None:
    campaign.status = CampaignStatus.FAILED
    campaign.error = reason[-4000:]
    campaign.finished_at = utcnow()


def campaign_settings(campaign: EvalCampaign) -> dict[str, Any]:
    settings = dict(campaign.settings or {})
    settings.setdefault("generation", Generation().check("/generation"))
    settings.setdefault("max_error_rate", DEFAULT_MAX_ERROR_RATE)
    return settings


def end_worker(folder: Path) -> None:
    """Stop a campaign's worker: the stop file (its watchdog ends its whole process
    group within a fraction of a second, wherever it runs) and, on this host, SIGKILL
    to its process group at once. Never starts anything; safe to call twice."""
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        (folder / STOP_FILE).write_text(utcnow().isoformat(), encoding="utf-8")
    if worker_alive(folder) is True:
        info = read_progress(folder / "worker.json") or {}
        with contextlib.suppress(OSError, KeyError, ValueError):
            os.killpg(int(info["pid"]), signal.SIGKILL)  # its own session: pgid == pid


def stop_campaign(uow: UnitOfWork, campaign: EvalCampaign, reason: str) -> None:
    """Mark a queued or running campaign ``stopped`` and end its worker once that commits."""
    if campaign.status not in (CampaignStatus.QUEUED, CampaignStatus.RUNNING):
        return
    campaign.status = CampaignStatus.STOPPED
    campaign.error = reason[-4000:]
    campaign.finished_at = utcnow()
    uow.audit_as(campaign, "eval_campaign.stopped", reason=reason[:1000])
    if campaign.worker_dir:
        folder = Path(campaign.worker_dir)
        uow.after_commit(lambda: end_worker(folder))


def stop_grant_campaigns(uow: UnitOfWork, grant_id: str, reason: str) -> list[str]:
    """Stop every queued or running campaign on a grant (the grant was withdrawn or
    ended); their workers are ended when ``uow`` commits. Returns their ids."""
    campaigns = uow.session.scalars(
        select(EvalCampaign).where(
            EvalCampaign.grant_id == grant_id,
            EvalCampaign.status.in_([CampaignStatus.QUEUED, CampaignStatus.RUNNING]),
        )
    )
    stopped = []
    for campaign in campaigns:
        stop_campaign(uow, campaign, reason)
        stopped.append(campaign.id)
    return stopped


def _grant_lapsed(uow: UnitOfWork, campaign: EvalCampaign) -> str | None:
    """Why the campaign's grant no longer allows it to run, or None."""
    from clearinghouse.frontier.models import AccessGrant, GrantStatus

    grant = uow.session.get(AccessGrant, campaign.grant_id)
    if grant is None:
        return "the grant is gone"
    status = grant.status_at(utcnow())
    if status is GrantStatus.ACTIVE:
        return None
    return f"the grant is {status.value}"


def incomplete_reason(campaign: EvalCampaign) -> str | None:
    """Why a campaign's metrics are not a complete measurement (it failed, was
    stopped, or never finished), or None for a campaign that succeeded."""
    if campaign.status == CampaignStatus.SUCCEEDED:
        return None
    reason = f"the campaign is {campaign.status}"
    return f"{reason}: {campaign.error}" if campaign.error else reason


def campaign_folder(home: Path, campaign_id: str) -> Path:
    return _private_dir(home, CAMPAIGNS_DIR / campaign_id)


def worker_env(folder: Path, base_url: str, api_key: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the server's (no database URL,
    no keys) but the endpoint's credential, Inspect kept offline and quiet."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CACHE_HOME": str(folder / "cache"),
        "INSPECT_DISPLAY": "none",
        "INSPECT_LOG_LEVEL": "warning",
        "INSPECT_CACHE_DIR": str(folder / "cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p and Path(p).is_dir()),
        f"{ENDPOINT_SERVICE.upper()}_BASE_URL": base_url,
        f"{ENDPOINT_SERVICE.upper()}_API_KEY": api_key,
    }
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def spawn_worker(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``python -m clearinghouse.frontier.evaluation._worker plan.json`` in
    its own session, its output to ``worker.log``; a thread reaps it."""
    log = (folder / "worker.log").open("ab")
    os.chmod(folder / "worker.log", 0o600)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clearinghouse.frontier.evaluation._worker", str(folder / "plan.json")],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    write_json(
        folder / "worker.json",
        {"pid": proc.pid, "host": socket.gethostname(), "started_at": utcnow().isoformat()},
    )
    threading.Thread(target=proc.wait, name=f"eval-worker-{proc.pid}", daemon=True).start()
    return proc


def worker_alive(folder: Path) -> bool | None:
    """Whether the campaign's worker runs; None when it cannot be told from here."""
    info = read_progress(folder / "worker.json")
    if info is None:
        return None
    if info.get("host") != socket.gethostname():
        return None
    pid = int(info["pid"])
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        if cmdline.exists():
            return str(folder / "plan.json") in cmdline.read_bytes().decode(errors="replace")
        os.kill(pid, 0)
    except (OSError, ProcessLookupError):
        return False
    return True


def launch(
    uow: UnitOfWork,
    home: Path,
    campaign_id: str,
    user_id: str,
    scopes: Sequence[str],
    open_endpoint: EndpointOpener,
) -> Callable[[], None] | None:
    """Open the granted endpoint for the campaign's creator and prepare the
    worker; returns what starts it, to call once ``uow`` has committed (so the
    credential's use is on the ledger before it is used). ``None``: nothing to
    start (already launched, or the campaign failed with its reason)."""
    from clearinghouse.access import services as access

    campaign = uow.session.get(EvalCampaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.QUEUED:
        return None
    user = access.find_user(uow.session, user_id)
    if user is None or not user.active:
        _fail(campaign, "the campaign's creator is no longer an active user")
        return None
    subject = access.subject_for(uow.session, user, scopes)
    if not can(subject, Action.RUN_EVALUATION, campaign_resource(campaign)):
        _fail(campaign, "the campaign's creator may no longer run it")
        return None
    entries = []
    for suite_id in campaign.suite_ids:
        suite = uow.session.get(EvalSuite, suite_id)
        if suite is None:  # pragma: no cover - suites are never deleted
            _fail(campaign, f"suite {suite_id} is gone")
            return None
        args_of = {t.get("name"): t.get("args") or {} for t in (suite.manifest or {}).get("tasks") or []}
        for task in uow.session.scalars(
            select(EvalTask).where(EvalTask.suite_id == suite.id).order_by(EvalTask.name)
        ):
            entries.append(
                {
                    "task_id": task.id,
                    "name": task.name,
                    "suite": suite.name,
                    "suite_dir": str(home / suite.storage_path),
                    "file": task.file,
                    "function": task.function,
                    "epochs": task.epochs,
                    "limits": task.limits,
                    "args": args_of.get(task.name, {}),
                }
            )
    try:
        credential = open_endpoint(uow, subject, campaign.grant_id, f"evaluation campaign {campaign.id}")
    except (AccessDenied, ClearinghouseError) as exc:
        _fail(campaign, f"the endpoint could not be opened: {exc}")
        return None
    folder = campaign_folder(home, campaign.id)
    logs = _private_dir(folder, Path("logs"))
    settings = campaign_settings(campaign)
    plan = {
        "campaign_id": campaign.id,
        "model": f"openai-api/{ENDPOINT_SERVICE}/{credential.model_name}",
        "log_dir": str(logs),
        "progress_file": str(folder / "progress.json"),
        "stop_file": str(folder / STOP_FILE),
        "tasks": entries,
        "generation": settings["generation"],
        "max_error_rate": settings["max_error_rate"],
        "epochs": settings.get("epochs"),
        "sample_limit": settings.get("sample_limit"),
        "max_retries": MAX_RETRIES,
        "request_timeout": REQUEST_TIMEOUT_S,
    }
    write_json(folder / "plan.json", plan)
    campaign.model_id = credential.model_id
    campaign.status = CampaignStatus.RUNNING
    campaign.started_at = utcnow()
    campaign.log_dir = (CAMPAIGNS_DIR / campaign.id / "logs").as_posix()
    campaign.worker_dir = str(folder)
    campaign.settings = {**settings, "endpoint_model": credential.model_name}
    env = worker_env(folder, credential.base_url, credential.api_key)

    def start() -> None:
        spawn_worker(folder, env)

    return start


def collect(uow: UnitOfWork, home: Path, campaign_id: str) -> bool:
    """Check on a running campaign; read its results once the worker is done.
    True when nothing more is to be done (finished, failed, or not running)."""
    campaign = uow.session.get(EvalCampaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return True
    folder = home / CAMPAIGNS_DIR / campaign.id
    lapsed = _grant_lapsed(uow, campaign)
    if lapsed is not None:  # withdrawn or ended while it ran: no more requests to the endpoint
        campaign.worker_dir = campaign.worker_dir or str(folder)
        stop_campaign(uow, campaign, f"{lapsed}: the campaign was stopped")
        return True
    progress = read_progress(folder / "progress.json")
    if progress is None or progress.get("state") == "running":
        alive = worker_alive(folder)
        if alive is False:
            progress = read_progress(folder / "progress.json")  # it may have finished just now
            if progress is None or progress.get("state") == "running":
                _fail(
                    campaign,
                    "the worker process ended without finishing; see worker.log in the campaign folder",
                )
                return True
        elif alive is None and progress is None:
            if campaign.started_at is not None and utcnow() - campaign.started_at > START_GRACE:
                _fail(campaign, "the worker never reported progress")
                return True
            return False
        elif alive is None and progress is not None and _stalled(folder, progress):
            _fail(campaign, "the worker stopped reporting progress")
            return True
        else:
            return False
    assert progress is not None
    if progress.get("state") == "failed":
        _fail(campaign, f"the evaluation failed: {progress.get('error')}")
        return True
    if progress.get("state") == "stopped":
        stop_campaign(uow, campaign, "the worker was told to stop")
        return True
    ingest(uow, campaign, folder, progress)
    return True


def _stalled(folder: Path, progress: dict[str, Any]) -> bool:
    """No progress for longer than the longest sample may take, and then some."""
    try:
        updated = dt.datetime.fromisoformat(str(progress["updated_at"]))
    except (KeyError, ValueError):
        return False
    plan = read_progress(folder / "plan.json") or {}
    longest = max((int((t.get("limits") or {}).get("time") or 0) for t in plan.get("tasks", [])), default=0)
    return utcnow() - updated > STALL_GRACE + dt.timedelta(seconds=longest)


def _package_versions() -> dict[str, str]:
    versions = {"clearinghouse": clearinghouse.__version__, "python": sys.version.split()[0]}
    for name in ("inspect_ai", "openai"):
        with contextlib.suppress(importlib_metadata.PackageNotFoundError):
            versions[name] = importlib_metadata.version(name.replace("_", "-"))
    return versions


def ingest(
    uow: UnitOfWork, campaign: EvalCampaign, folder: Path, progress: dict[str, Any]
) -> list[EvalResult]:
    """Read each task's Inspect log back into a result; record the provenance
    (eval ids, task versions, package versions, log SHA-256) in the ledger."""
    results = []
    provenance = []
    tallies = []
    settings = campaign_settings(campaign)
    logs_dir = folder / "logs"
    for entry in progress.get("logs", []):
        name = str(entry["log_file"])
        if "/" in name or name.startswith("."):
            raise ValueError(f"unexpected log file name {name!r}")
        task = uow.session.get(EvalTask, entry["task_id"])
        if task is None:
            raise ValueError(f"the progress file names an unknown task {entry['task_id']}")
        path = logs_dir / name
        task_log = read_task_log(path)
        digest = sha256_file(path)
        suite = uow.session.get(EvalSuite, task.suite_id)
        record = {
            "model_id": campaign.model_id,
            "endpoint_model": settings.get("endpoint_model"),
            "inspect_model": task_log.model,
            "generation": {**settings["generation"], **task_log.generation},
            "epochs": task_log.epochs,
            "samples": task_log.samples,
            "suite": {"name": suite.name, "version": suite.version, "sha256": suite.content_sha256}
            if suite is not None
            else None,
            "task_version": f"{task_log.task_version}+{task.file_sha256[:12]}",
            "task_file_sha256": task.file_sha256,
            "eval_id": task_log.eval_id,
            "log_file": name,
            "log_sha256": digest,
            "errors": task_log.tallies.errors,
            "limits": task_log.tallies.limits,
            "attempts": task_log.tallies.attempts,
        }
        tallies.append(task_log.tallies)
        result = EvalResult(
            campaign_id=campaign.id,
            suite_id=task.suite_id,
            task_id=task.id,
            eval_id=task_log.eval_id,
            task_version=f"{task_log.task_version}+{task.file_sha256[:12]}",
            status=task_log.status,
            samples=task_log.samples,
            epochs=task_log.epochs,
            metrics=task_log.tallies.metrics(task.metrics, task.pass_at),
            tallies=task_log.tallies.as_dict(),
            log_file=name,
            log_sha256=digest,
            packages=task_log.packages,
            error=task_log.error,
            provenance=record,
        )
        result.set_marking(task.marking)
        uow.session.add(result)
        results.append(result)
        provenance.append(
            {
                "task": task.name,
                "task_id": task.id,
                "eval_id": task_log.eval_id,
                "task_version": result.task_version,
                "log_file": name,
                "log_sha256": digest,
                "inspect_packages": task_log.packages,
                "generation": record["generation"],
                "epochs": task_log.epochs,
            }
        )
    campaign.samples_total = int(progress.get("samples_total", 0))
    errors = sum(t.errors for t in tallies)
    attempts = sum(t.attempts for t in tallies)
    threshold = float(settings["max_error_rate"])
    expected = int(progress.get("samples_total", 0))
    if attempts < expected:  # an eval that aborted early left attempts unrun: they are errors too
        errors += expected - attempts
        attempts = expected
    rate = errors / attempts if attempts else 1.0
    if rate > threshold:
        _fail(
            campaign,
            f"{errors} of {attempts} samples errored ({rate:.1%}, above the campaign's "
            f"{threshold:.1%}); the endpoint or the tasks failed, so the metrics measure nothing"
            + _first_error(results),
        )
    else:
        campaign.status = CampaignStatus.SUCCEEDED
        campaign.finished_at = utcnow()
    uow.flush()
    uow.record(
        "eval_campaign.results_recorded",
        "eval_campaign",
        campaign.id,
        evals=provenance,
        packages=_package_versions(),
        model_id=campaign.model_id,
        endpoint_model=settings.get("endpoint_model"),
        generation=settings["generation"],
        seed=settings["generation"].get("seed"),
        error_rate=rate,
        max_error_rate=threshold,
        status=str(campaign.status),
    )
    return results


def _first_error(results: Sequence[EvalResult]) -> str:
    for result in results:
        if result.error:
            return f" (first error: {result.error[:500]})"
    return ""

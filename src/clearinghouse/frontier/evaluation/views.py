"""HTTP routes for benchmark suites and evaluation campaigns (``/frontier/suites``,
``/frontier/campaigns``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.errors import InvalidInput
from clearinghouse.frontier.evaluation import _manifest, services
from clearinghouse.frontier.evaluation.models import (
    CampaignStatus,
    EvalCampaign,
    EvalResult,
    EvalSuite,
    EvalTask,
)
from clearinghouse.http_deps import SignedIn

router = APIRouter(prefix="/frontier", tags=["frontier evaluation"])
_strict = ConfigDict(extra="forbid")


class SuiteIn(BaseModel):
    model_config = _strict
    files: dict[str, str] = Field(
        min_length=1,
        max_length=_manifest.MAX_FILES,
        description="The suite's files by relative path (UTF-8 text): suite.yaml and its task files.",
    )


class TaskOut(BaseModel):
    id: str
    name: str
    group: str
    tier: int | None
    file: str
    function: str
    file_sha256: str
    epochs: int
    pass_at: list[int]
    metrics: list[str]
    limits: dict[str, Any]
    marking: MarkingOut

    @classmethod
    def of(cls, t: EvalTask) -> TaskOut:
        return cls(
            id=t.id,
            name=t.name,
            group=t.metric_group,
            tier=t.tier,
            file=t.file,
            function=t.function,
            file_sha256=t.file_sha256,
            epochs=t.epochs,
            pass_at=t.pass_at,
            metrics=t.metrics,
            limits=t.limits,
            marking=MarkingOut.of(t),
        )


class SuiteOut(BaseModel):
    id: str
    name: str
    version: str
    description: str
    content_sha256: str
    created_at: dt.datetime
    marking: MarkingOut
    tasks: list[TaskOut]

    @classmethod
    def of(cls, s: EvalSuite, tasks: list[EvalTask]) -> SuiteOut:
        return cls(
            id=s.id,
            name=s.name,
            version=s.version,
            description=s.description,
            content_sha256=s.content_sha256,
            created_at=s.created_at,
            marking=MarkingOut.of(s),
            tasks=[TaskOut.of(t) for t in tasks],
        )


class GenerationIn(BaseModel):
    model_config = _strict
    temperature: float | None = Field(0.0, ge=0.0, le=2.0)
    seed: int | None = Field(0, ge=0, lt=2**63)
    max_tokens: int | None = Field(4096, ge=1, le=1_000_000)


class CampaignIn(BaseModel):
    model_config = _strict
    name: str = Field(min_length=1, max_length=300)
    grant_id: str = Field(
        min_length=1, max_length=36, description="The access grant whose endpoint is evaluated"
    )
    suite_ids: list[str] = Field(min_length=1, max_length=services.MAX_SUITES_PER_CAMPAIGN)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    generation: GenerationIn | None = Field(
        None, description="Sent with every request and kept in the provenance (default: 0, 0, 4096)"
    )
    max_error_rate: float = Field(
        services.DEFAULT_MAX_ERROR_RATE,
        ge=0.0,
        le=1.0,
        description="More errored samples than this fraction and the campaign fails",
    )
    epochs: int | None = Field(None, ge=1, le=100, description="Override every task's epochs (a quick check)")
    sample_limit: int | None = Field(
        None, ge=1, le=100_000, description="At most this many samples of each task (a quick check)"
    )


class ProgressOut(BaseModel):
    samples_done: int
    samples_total: int
    fraction: float


class CampaignOut(BaseModel):
    id: str
    name: str
    grant_id: str
    model_id: str | None
    suite_ids: list[str]
    status: CampaignStatus
    progress: ProgressOut
    error: str | None
    settings: dict[str, Any] = Field(description="Generation settings and the error-rate threshold")
    job_id: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    marking: MarkingOut

    @classmethod
    def of(cls, c: EvalCampaign, progress: services.CampaignProgress) -> CampaignOut:
        total = progress.samples_total
        return cls(
            id=c.id,
            name=c.name,
            grant_id=c.grant_id,
            model_id=c.model_id,
            suite_ids=c.suite_ids,
            status=progress.status,
            progress=ProgressOut(
                samples_done=progress.samples_done,
                samples_total=total,
                fraction=progress.samples_done / total if total else 0.0,
            ),
            error=progress.error,
            settings=services.campaign_settings(c),
            job_id=c.job_id,
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=c.finished_at,
            marking=MarkingOut.of(c),
        )


class ResultOut(BaseModel):
    id: str
    suite_id: str
    task_id: str
    task: str
    group: str
    tier: int | None
    eval_id: str
    task_version: str
    status: str
    samples: int
    epochs: int
    metrics: dict[str, float]
    log_file: str
    log_sha256: str
    packages: dict[str, str]
    error: str | None
    provenance: dict[str, Any]
    marking: MarkingOut

    @classmethod
    def of(cls, r: EvalResult, task: EvalTask) -> ResultOut:
        return cls(
            id=r.id,
            suite_id=r.suite_id,
            task_id=r.task_id,
            task=task.name,
            group=task.metric_group,
            tier=task.tier,
            eval_id=r.eval_id,
            task_version=r.task_version,
            status=r.status,
            samples=r.samples,
            epochs=r.epochs,
            metrics=r.metrics,
            log_file=r.log_file,
            log_sha256=r.log_sha256,
            packages=r.packages,
            error=r.error,
            provenance=r.provenance or {},
            marking=MarkingOut.of(r),
        )


class ResultsOut(BaseModel):
    campaign: CampaignOut
    metrics: dict[str, float] = Field(
        description="Flat names: <group>.<metric>, <group>.tier<N>.<metric>, ...; each metric "
        "with <metric>_stderr, <metric>_ci_low, <metric>_ci_high; <prefix>.success.{value,stderr,"
        "ci_low,ci_high}, <prefix>.error_rate, <prefix>.limit_rate"
    )
    complete: bool = Field(description="False for a campaign that failed, was stopped, or has not finished")
    results: list[ResultOut]


@router.get("/suites", summary="Benchmark suites the caller is cleared to see")
def list_suites(context: SignedIn) -> list[SuiteOut]:
    with context.reading() as uow:
        return [
            SuiteOut.of(s, services.suite_tasks(uow.session, context.subject, s))
            for s in services.list_suites(uow.session, context.subject)
        ]


@router.post("/suites", status_code=201, summary="Register a suite (idempotent on name and version)")
def register_suite(body: SuiteIn, context: SignedIn) -> SuiteOut:
    files: dict[str, bytes] = {}
    for name, text in body.files.items():
        _manifest.check_path(name, f"/files/{name}")
        files[name] = text.encode("utf-8")
    with context.writing() as uow:
        suite, _created = services.register_suite(uow, context.subject, files, context.runtime.settings.home)
        out = SuiteOut.of(suite, services.suite_tasks(uow.session, context.subject, suite))
        uow.commit()
    return out


@router.get("/suites/{suite_id}", summary="One suite and its tasks")
def get_suite(suite_id: str, context: SignedIn) -> SuiteOut:
    with context.reading() as uow:
        suite = services.get_suite(uow.session, context.subject, suite_id)
        return SuiteOut.of(suite, services.suite_tasks(uow.session, context.subject, suite))


@router.post("/campaigns", status_code=202, summary="Run suites against a granted endpoint (queued)")
def create_campaign(body: CampaignIn, context: SignedIn) -> CampaignOut:
    gen = body.generation or GenerationIn()
    draft = services.CampaignDraft(
        name=body.name,
        grant_id=body.grant_id,
        suite_ids=body.suite_ids,
        idempotency_key=body.idempotency_key,
        generation=services.Generation(gen.temperature, gen.seed, gen.max_tokens),
        max_error_rate=body.max_error_rate,
        epochs=body.epochs,
        sample_limit=body.sample_limit,
    )
    home = context.runtime.settings.home
    with context.writing() as uow:
        campaign, _created = services.create_campaign(uow, context.subject, draft)
        out = CampaignOut.of(campaign, services.campaign_progress(campaign, home))
        uow.commit()
    return out


@router.get("/campaigns", summary="Campaigns the caller is cleared to see, newest first")
def list_campaigns(context: SignedIn, limit: int = Query(100, ge=1, le=1000)) -> list[CampaignOut]:
    home = context.runtime.settings.home
    with context.reading() as uow:
        return [
            CampaignOut.of(c, services.campaign_progress(c, home))
            for c in services.list_campaigns(uow.session, context.subject, limit)
        ]


@router.get("/campaigns/{campaign_id}", summary="A campaign's status, with progress while it runs")
def get_campaign(campaign_id: str, context: SignedIn) -> CampaignOut:
    with context.reading() as uow:
        campaign = services.get_campaign(uow.session, context.subject, campaign_id)
        return CampaignOut.of(campaign, services.campaign_progress(campaign, context.runtime.settings.home))


@router.get("/campaigns/{campaign_id}/results", summary="Metrics per task, tier and group, with provenance")
def get_results(campaign_id: str, context: SignedIn) -> ResultsOut:
    home = context.runtime.settings.home
    with context.reading() as uow:
        session = uow.session
        campaign = services.get_campaign(session, context.subject, campaign_id)
        results = []
        for r in services.list_results(session, context.subject, campaign):
            task = session.get(EvalTask, r.task_id)
            if task is None:  # pragma: no cover - a result keeps its task (foreign key)
                raise InvalidInput("a result lost its task", "/")
            results.append(ResultOut.of(r, task))
        return ResultsOut(
            campaign=CampaignOut.of(campaign, services.campaign_progress(campaign, home)),
            metrics=services.campaign_metrics(session, context.subject, campaign_id),
            complete=campaign.status == CampaignStatus.SUCCEEDED,
            results=results,
        )

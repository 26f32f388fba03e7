"""Use cases of the reproduction lab: queue, claim, run (outside any transaction), record, report.

A reproduction is three short transactions around the slow part: ``claim_next`` marks the
highest-priority queued job running and reads what it needs (the run spec, the decrypted proof of
concept, earlier runs of the same case and spec for deduplication); ``perform`` fetches, installs and
runs with no database connection held; ``record`` writes the runs (logs encrypted, their SHA-256 and
every verdict in the ledger), the bisection, the finding's ``reproduced`` check and the triage
consequences."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, NotFound, Resource, Subject, authorize
from clearinghouse.envelope import Envelope, Sealed
from clearinghouse.intake import RunSpec
from clearinghouse.intake.advisories.models import AdvisoryAffected, AdvisoryAlias
from clearinghouse.intake.models import Attachment, Finding, FindingState
from clearinghouse.repro._ecosystems import Ecosystem, EnvironmentError_, adapter_for
from clearinghouse.repro._lab import Bisection, Lab, Verdict, VersionRun, bisect
from clearinghouse.repro._outbound import FetchError
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.repro.models import ReproBisection, ReproJob, ReproRun, ReproWatch
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, utcnow
from clearinghouse.triage.services import finding_resource, get_finding

log = logging.getLogger("clearinghouse.repro")

REPRO_JOB = "repro.run"
RECHECK_JOB = "repro.recheck"
LAB_ACTOR = Actor.system("repro")
STALE_AFTER = dt.timedelta(hours=2)
RECHECK_DELAY = dt.timedelta(hours=6)

REPRO_RUNS = Counter(
    "clearinghouse_repro_runs", "Versions tried by the reproduction lab, by verdict.", ["verdict"]
)
REPRO_JOBS = Counter("clearinghouse_repro_jobs", "Reproduction jobs by outcome.", ["outcome"])
REPRO_RUNNING = Gauge("clearinghouse_repro_running", "Reproduction jobs running in this process.")
REPRO_SECONDS = Histogram(
    "clearinghouse_repro_version_seconds",
    "Seconds to try one version N times (environment included).",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)


def reproduction_resource(finding: Finding) -> Resource:
    return finding_resource(finding)


def run_spec_of(finding: Finding) -> RunSpec | None:
    raw = (finding.document.get("reproducer") or {}).get("run")
    return RunSpec.model_validate(raw) if raw else None


def spec_digest(spec: RunSpec | None, poc_sha256: str | None) -> str:
    body = json.dumps(
        {"spec": spec.model_dump(mode="json") if spec else None, "poc": poc_sha256}, sort_keys=True
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _poc(session: Session, finding: Finding) -> Attachment | None:
    return session.scalars(select(Attachment).where(Attachment.finding_id == finding.id).limit(1)).first()


def _priority(finding: Finding) -> int:
    return 10 if finding.queue == "main" else 0


# -- queueing ---------------------------------------------------------------------------------


def request_reproduction(
    uow: UnitOfWork,
    subject: Subject,
    finding_id: str,
    *,
    trigger: str = "request",
) -> ReproJob:
    """Queue a reproduction of the finding (once: a queued or running one is returned as it is)."""
    finding = get_finding(uow.session, subject, finding_id)
    authorize(subject, Action.REPRODUCE, reproduction_resource(finding))
    actor = f"user:{subject.user_id}" if subject.user_id else "system:repro"
    return _queue(uow, finding, trigger=trigger, requested_by=actor)


def _queue(uow: UnitOfWork, finding: Finding, *, trigger: str, requested_by: str) -> ReproJob:
    pending = uow.session.scalars(
        select(ReproJob).where(ReproJob.finding_id == finding.id, ReproJob.status.in_(("queued", "running")))
    ).first()
    if pending is not None:
        return pending
    poc = _poc(uow.session, finding)
    job = ReproJob(
        finding_id=finding.id,
        case_id=finding.case_id,
        status="queued",
        priority=_priority(finding),
        trigger=trigger,
        requested_by=requested_by,
        spec_sha256=spec_digest(run_spec_of(finding), poc.sha256 if poc else None),
        claimed_version=finding.version,
    )
    uow.session.add(job)
    uow.flush()
    uow.audit_as(job, "reproduction.queued", finding_id=finding.id, trigger=trigger)
    uow.enqueue(REPRO_JOB, {"repro_job_id": job.id})
    return job


# -- claiming -----------------------------------------------------------------------------------


@dataclass
class Work:
    job_id: str
    finding_id: str
    case_key: str
    package_type: str
    package_name: str
    claimed_version: str | None
    fixed_hint: str | None
    claimed_range: str | None
    aliases: list[str]
    spec: RunSpec | None
    spec_sha256: str
    poc: bytes | None
    earlier: dict[str, dict[str, Any]] = field(default_factory=dict)
    advisory_ranges: list[dict[str, Any]] = field(default_factory=list)


def claim_next(factory: UnitOfWorkFactory, envelope: Envelope, *, job_id: str | None = None) -> Work | None:
    """Mark the highest-priority queued reproduction running and read what it needs."""
    with factory(LAB_ACTOR) as uow:
        # A reproduction left running by a process that died is queued again.
        stale = utcnow() - STALE_AFTER
        for lost in uow.session.scalars(
            select(ReproJob).where(ReproJob.status == "running", ReproJob.started_at < stale)
        ):
            lost.status, lost.started_at = "queued", None
            uow.audit_as(lost, "reproduction.requeued", finding_id=lost.finding_id)
        query = select(ReproJob).where(ReproJob.status == "queued")
        if job_id is not None:
            query = query.where(ReproJob.id == job_id)
        query = query.order_by(ReproJob.priority.desc(), ReproJob.created_at).limit(1)
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = uow.session.scalars(query).first()
        if job is None:
            return None
        finding = uow.session.get(Finding, job.finding_id)
        assert finding is not None
        job.status = "running"
        job.started_at = utcnow()
        uow.audit_as(job, "reproduction.started", finding_id=finding.id)
        attachment = _poc(uow.session, finding)
        poc = None
        if attachment is not None:
            poc = envelope.open(
                Sealed(attachment.ciphertext, attachment.wrapped_key), f"finding:{finding.id}".encode()
            )
            uow.record(
                "attachment.read",
                "attachment",
                attachment.id,
                sha256=attachment.sha256,
                purpose="reproduction",
            )
        case_key = finding.case_id or finding.id
        earlier = {
            r.version: {
                "id": r.id,
                "verdict": r.verdict,
                "attempts": r.attempts,
                "successes": r.successes,
                "reason": r.reason,
                "artifact_sha256": r.artifact_sha256,
            }
            for r in uow.session.scalars(
                select(ReproRun)
                .where(
                    ReproRun.case_key == case_key,
                    ReproRun.spec_sha256 == job.spec_sha256,
                    ReproRun.package_type == finding.package_type,
                    ReproRun.package_name == finding.package_name,
                    ReproRun.verdict.in_((Verdict.RELIABLE, Verdict.FLAKY, Verdict.NOT_REPRODUCED)),
                )
                .order_by(ReproRun.created_at)
            )
        }
        aliases = [str(a) for a in finding.document.get("aliases") or []]
        work = Work(
            job_id=job.id,
            finding_id=finding.id,
            case_key=case_key,
            package_type=finding.package_type,
            package_name=finding.package_name,
            claimed_version=finding.version,
            fixed_hint=(finding.document.get("reproducer") or {}).get("fixed_version"),
            claimed_range=finding.vers,
            aliases=aliases,
            spec=run_spec_of(finding),
            spec_sha256=job.spec_sha256,
            poc=poc,
            earlier=earlier,
            advisory_ranges=advisory_ranges(uow.session, aliases, finding.package_type, finding.package_name),
        )
        uow.commit()
    REPRO_RUNNING.inc()
    return work


def advisory_ranges(
    session: Session, aliases: list[str], package_type: str, name: str
) -> list[dict[str, Any]]:
    """The public advisories' ranges for this package, through the finding's aliases."""
    if not aliases:
        return []
    ids = set(session.scalars(select(AdvisoryAlias.advisory_id).where(AdvisoryAlias.alias.in_(aliases))))
    ids |= set(aliases)
    ecosystem = {"pypi": "PyPI", "npm": "npm"}.get(package_type, package_type)
    out = []
    for row in session.scalars(select(AdvisoryAffected).where(AdvisoryAffected.advisory_id.in_(sorted(ids)))):
        if row.ecosystem != ecosystem or row.normalized_name.lower() != _normal(package_type, name):
            continue
        for rng in row.ranges or []:
            events = rng.get("events") or []
            out.append(
                {
                    "advisory": row.advisory_id,
                    "introduced": [e["introduced"] for e in events if "introduced" in e],
                    "fixed": [e["fixed"] for e in events if "fixed" in e],
                }
            )
    return out


def _normal(package_type: str, name: str) -> str:
    if package_type == "pypi":
        from packaging.utils import canonicalize_name

        return str(canonicalize_name(name))
    return name.lower()


# -- performing (no database) ----------------------------------------------------------------------


@dataclass
class Outcome:
    runs: list[tuple[str, VersionRun, str | None]] = field(default_factory=list)  # role, run, reused id
    verdict: Verdict = Verdict.ERROR
    reason: str | None = None
    fix_version: str | None = None
    fix_verified: bool | None = None
    bisection: Bisection | None = None
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    agrees: bool | None = None
    newest: str | None = None


def perform(work: Work, lab: Lab, settings: ReproSettings, *, do_bisect: bool = True) -> Outcome:
    outcome = Outcome()
    ecosystem = adapter_for(work.package_type, settings)
    if work.spec is None or work.poc is None:
        outcome.verdict, outcome.reason = (
            Verdict.UNSUPPORTED,
            "the finding has no executable reproducer (reproducer.run)",
        )
        return outcome
    if ecosystem is None:
        outcome.verdict = Verdict.UNSUPPORTED
        outcome.reason = f"the lab has no adapter for {work.package_type} packages yet"
        return outcome
    if not work.claimed_version:
        outcome.verdict, outcome.reason = (
            Verdict.UNSUPPORTED,
            "the finding names a range, not a version to run",
        )
        return outcome
    spec, poc = work.spec, work.poc
    cache: dict[str, VersionRun] = {}

    def run(version: str, attempts: int, role: str) -> VersionRun:
        if version in cache:
            return cache[version]
        prior = work.earlier.get(version)
        if prior is not None and prior["attempts"] >= attempts:
            reused = VersionRun(
                version,
                Verdict(prior["verdict"]),
                attempts=prior["attempts"],
                successes=prior["successes"],
                reason=prior["reason"],
                artifact_sha256=prior["artifact_sha256"],
            )
            outcome.runs.append((role, reused, str(prior["id"])))
            cache[version] = reused
            return reused
        with REPRO_SECONDS.time():
            result = lab.run_version(ecosystem, work.package_name, version, spec, poc, attempts)
        REPRO_RUNS.labels(verdict=result.verdict.value).inc()
        outcome.runs.append((role, result, None))
        cache[version] = result
        return result

    claimed = run(work.claimed_version, settings.attempts, "claimed")
    outcome.verdict, outcome.reason = claimed.verdict, claimed.reason
    if claimed.verdict not in (Verdict.RELIABLE, Verdict.FLAKY):
        return outcome
    try:
        releases = ecosystem.releases(work.package_name)
    except (EnvironmentError_, FetchError) as exc:
        outcome.reason = f"cannot list releases: {exc}"
        return outcome
    stable = [r for r in releases if not r.yanked and not ecosystem.is_prerelease(r.version)]
    outcome.newest = stable[-1].version if stable else None
    fix = work.fixed_hint or outcome.newest
    if fix and fix != work.claimed_version:
        fixed = run(fix, settings.attempts, "fixed")
        outcome.fix_version = fix
        if fixed.verdict in (Verdict.ERROR, Verdict.UNSUPPORTED):
            outcome.fix_verified = None
        else:
            outcome.fix_verified = fixed.successes == 0
    if do_bisect:
        known = {v: r.reproduced for v, r in cache.items()}
        outcome.bisection = bisect(
            releases,
            work.claimed_version,
            lambda v: run(v, settings.bisect_attempts, "bisect").reproduced,
            version_key=ecosystem.version_key,
            is_prerelease=ecosystem.is_prerelease,
            known=known,
        )
        outcome.comparisons, outcome.agrees = compare(
            outcome.bisection, work.claimed_range, work.fixed_hint, work.advisory_ranges, ecosystem
        )
    return outcome


def compare(
    bisection: Bisection,
    claimed_range: str | None,
    fixed_hint: str | None,
    advisories: list[dict[str, Any]],
    ecosystem: Ecosystem,
) -> tuple[list[dict[str, Any]], bool | None]:
    """The bisected first-fixed version against the finder's claim and each advisory's ranges."""
    found = bisection.first_fixed
    out: list[dict[str, Any]] = []
    claim_fixed = fixed_hint
    if claimed_range and "<" in claimed_range:
        for part in claimed_range.split("/", 1)[-1].split("|"):
            if part.startswith("<") and not part.startswith("<="):
                claim_fixed = part[1:]
    if claim_fixed:
        out.append({"source": "finding", "first_fixed": claim_fixed, "agrees": claim_fixed == found})
    if bisection.last_affected is not None and found is not None:
        key = ecosystem.version_key
        for adv in advisories:
            # The advisory range that covers the bisected span is the one to compare with.
            fixes = adv["fixed"]
            relevant = [f for f in fixes if key(f) > key(bisection.last_affected)]
            best = min(relevant, key=key) if relevant else (fixes[0] if fixes else None)
            out.append(
                {
                    "source": adv["advisory"],
                    "first_fixed": best,
                    "introduced": adv["introduced"],
                    "agrees": best == found,
                }
            )
    if not out:
        return out, None
    return out, all(c["agrees"] for c in out)


# -- recording ------------------------------------------------------------------------------------


def record(
    factory: UnitOfWorkFactory, envelope: Envelope, work: Work, outcome: Outcome, settings: ReproSettings
) -> None:
    try:
        with factory(LAB_ACTOR) as uow:
            job = uow.session.get(ReproJob, work.job_id)
            finding = uow.session.get(Finding, work.finding_id)
            if job is None or finding is None:
                return
            for role, run, reused in outcome.runs:
                row = ReproRun(
                    job_id=job.id,
                    finding_id=finding.id,
                    case_key=work.case_key,
                    package_type=work.package_type,
                    package_name=work.package_name,
                    version=run.version,
                    role=role,
                    spec_sha256=work.spec_sha256,
                    verdict=run.verdict.value,
                    reproduced=run.reproduced,
                    attempts=run.attempts,
                    successes=run.successes,
                    reason=run.reason,
                    duration_s=run.duration_s,
                    artifact_sha256=run.artifact_sha256,
                    reused_from=reused,
                )
                uow.session.add(row)
                uow.flush()
                if reused is None:
                    log_bytes = run.log()
                    sealed = envelope.seal(log_bytes, f"repro_run:{row.id}".encode())
                    row.log_sha256 = hashlib.sha256(log_bytes).hexdigest()
                    row.log_ciphertext, row.log_wrapped_key = sealed.ciphertext, sealed.wrapped_key
                uow.audit_as(
                    row,
                    "reproduction.verdict",
                    finding_id=finding.id,
                    version=run.version,
                    role=role,
                    verdict=run.verdict.value,
                    attempts=run.attempts,
                    successes=run.successes,
                    log_sha256=row.log_sha256,
                    reused_from=reused,
                )
            if outcome.bisection is not None:
                b = outcome.bisection
                bis = ReproBisection(
                    job_id=job.id,
                    finding_id=finding.id,
                    first_affected=b.first_affected,
                    first_fixed=b.first_fixed,
                    last_affected=b.last_affected,
                    first_affected_exact=b.first_affected_exact,
                    agrees=outcome.agrees,
                    comparisons=outcome.comparisons,
                    probes=dict(b.probes),
                    note=b.note,
                )
                uow.session.add(bis)
                uow.audit_as(
                    bis,
                    "reproduction.bisected",
                    finding_id=finding.id,
                    first_affected=b.first_affected,
                    first_fixed=b.first_fixed,
                    agrees=outcome.agrees,
                )
            job.status = "done"
            job.finished_at = utcnow()
            job.verdict = outcome.verdict.value
            job.error = outcome.reason
            job.fix_version = outcome.fix_version
            job.fix_verified = outcome.fix_verified
            uow.audit_as(
                job,
                "reproduction.done",
                finding_id=finding.id,
                verdict=outcome.verdict.value,
                fix_version=outcome.fix_version,
                fix_verified=outcome.fix_verified,
            )
            _apply_to_triage(uow, finding, outcome, settings)
            if outcome.bisection is not None and outcome.bisection.first_fixed and finding.case_id:
                _revise_published_advisory(uow, finding, outcome.bisection)
            if outcome.newest is not None:
                _watch(uow.session, work.package_type, work.package_name, outcome.newest)
            if outcome.verdict in (Verdict.RELIABLE, Verdict.FLAKY) and not outcome.fix_verified:
                _schedule_recheck(uow)
            uow.commit()
        REPRO_JOBS.labels(outcome=outcome.verdict.value).inc()
    finally:
        REPRO_RUNNING.dec()


def fail(factory: UnitOfWorkFactory, work: Work, reason: str) -> None:
    """The lab itself broke (the sandbox went missing, ...): the job ends in ``error`` with why."""
    try:
        with factory(LAB_ACTOR) as uow:
            job = uow.session.get(ReproJob, work.job_id)
            if job is not None:
                job.status, job.verdict, job.error, job.finished_at = (
                    "done",
                    Verdict.ERROR.value,
                    reason,
                    utcnow(),
                )
                uow.audit_as(
                    job, "reproduction.done", finding_id=work.finding_id, verdict="error", reason=reason
                )
                uow.commit()
        REPRO_JOBS.labels(outcome="error").inc()
    finally:
        REPRO_RUNNING.dec()


def _revise_published_advisory(uow: UnitOfWork, finding: Finding, bisection: Bisection) -> None:
    """A published advisory of the finding's case gets a new revision whose ranges for this package
    are the bisected ones, its summary saying they were verified by reproduction."""
    from clearinghouse.coordination.models import AdvisoryRevision

    latest = uow.session.scalars(
        select(AdvisoryRevision)
        .where(AdvisoryRevision.case_id == finding.case_id)
        .order_by(AdvisoryRevision.number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return
    ecosystem = {"pypi": "PyPI", "npm": "npm"}.get(finding.package_type, finding.package_type)
    introduced = (
        bisection.first_affected if bisection.first_affected_exact and bisection.first_affected else "0"
    )
    events = [{"kind": "introduced", "value": introduced}, {"kind": "fixed", "value": bisection.first_fixed}]
    new_range = {"type": "ECOSYSTEM" if ecosystem == "PyPI" else "SEMVER", "events": events, "repo": None}
    record = json.loads(json.dumps(latest.record))
    changed = False
    for affected in record.get("affected", []):
        same = affected.get("ecosystem") == ecosystem and _normal(
            finding.package_type, str(affected.get("name"))
        ) == (_normal(finding.package_type, finding.package_name))
        if same and affected.get("ranges") != [new_range]:
            affected["ranges"] = [new_range]
            changed = True
    if not changed:
        return
    number = latest.number + 1
    summary = (
        f"Affected range verified by reproduction: introduced {introduced}, fixed {bisection.first_fixed}"
    )
    now = utcnow()
    record["modified"] = now.isoformat()
    record["revisions"] = [
        *record.get("revisions", []),
        {"number": number, "date": now.isoformat(), "summary": summary},
    ]
    revision = AdvisoryRevision(
        case_id=latest.case_id,
        number=number,
        summary=summary,
        record=record,
        published_by=None,
        tlp=latest.tlp,
        classification=latest.classification,
        compartments=list(latest.compartments),
        owner_org_id=latest.owner_org_id,
        sharing_group_ids=list(latest.sharing_group_ids),
    )
    uow.session.add(revision)
    uow.audit_as(
        revision,
        "advisory.revised_by_reproduction",
        case_id=latest.case_id,
        number=number,
        first_affected=introduced,
        first_fixed=bisection.first_fixed,
    )


def _schedule_recheck(uow: UnitOfWork) -> None:
    """A fix not verified yet: make sure the polling job (which then queues itself) is on its way."""
    at = utcnow() + RECHECK_DELAY
    uow.enqueue(RECHECK_JOB, {}, idempotency_key=f"repro.recheck:{at:%Y-%m-%dT%H}", run_after=at)


def _watch(session: Session, package_type: str, name: str, newest: str) -> None:
    row = session.scalars(
        select(ReproWatch).where(ReproWatch.package_type == package_type, ReproWatch.package_name == name)
    ).first()
    if row is None:
        session.add(ReproWatch(package_type=package_type, package_name=name, newest_version=newest))
    else:
        row.newest_version, row.checked_at = newest, utcnow()


def _apply_to_triage(uow: UnitOfWork, finding: Finding, outcome: Outcome, settings: ReproSettings) -> None:
    """The ``reproduced`` check; not reproduced moves the finding to the cold queue (never drops it);
    the optional rule validates a reliable reproduction whose fix verified."""
    verdict = outcome.verdict
    result = {
        Verdict.RELIABLE: "pass",
        Verdict.FLAKY: "pass",
        Verdict.NOT_REPRODUCED: "fail",
    }.get(verdict, "unknown")
    reason = f"reproduction: {verdict.value}"
    if outcome.reason:
        reason += f" ({outcome.reason[:300]})"
    if outcome.fix_version is not None:
        reason += f"; fix {outcome.fix_version} " + (
            "verified"
            if outcome.fix_verified
            else "not verified"
            if outcome.fix_verified is False
            else "not tried"
        )
    checks = [c for c in finding.checks if c.get("name") != "reproduced"]
    checks.append({"name": "reproduced", "result": result, "reason": reason})
    finding.checks = checks
    if verdict is Verdict.NOT_REPRODUCED and finding.queue == "main":
        finding.queue = "cold"
    elif verdict in (Verdict.RELIABLE, Verdict.FLAKY) and finding.queue == "cold":
        finding.queue = "main"
    uow.audit_as(finding, "finding.reproduction_checked", verdict=verdict.value)
    auto = (
        settings.auto_validate
        and verdict is Verdict.RELIABLE
        and outcome.fix_verified is True
        and finding.state in (FindingState.CHECKED, FindingState.TRIAGED)
    )
    if auto:
        from clearinghouse.matching.tasks import CASE_JOB
        from clearinghouse.priority.tasks import SCORES_JOB
        from clearinghouse.triage import place_now, record_decision

        if finding.case_id is None:
            place_now(uow, finding)
        finding.state = FindingState.VALIDATED
        finding.rejection_reason = None
        finding.state_reason = "validated by the reproduction lab: reliable, fix verified"
        record_decision(uow.session, finding.generator_key, validated=True)
        uow.audit_as(finding, "finding.validated", reason="reproduced", note=finding.state_reason)
        uow.flush()
        payload = {"case_id": finding.case_id, "finding_id": finding.id}
        uow.enqueue(CASE_JOB, payload)
        uow.enqueue(SCORES_JOB, payload)


# -- reading -----------------------------------------------------------------------------------------


def status_of(session: Session, subject: Subject, finding_id: str) -> dict[str, Any]:
    """``{"status", "runs", "bisection"}`` for the finding's latest reproduction."""
    finding = get_finding(session, subject, finding_id)
    authorize(subject, Action.READ_REPRODUCTIONS, reproduction_resource(finding))
    job = session.scalars(
        select(ReproJob)
        .where(ReproJob.finding_id == finding.id)
        .order_by(ReproJob.created_at.desc())
        .limit(1)
    ).first()
    if job is None:
        return {"status": None, "job": None, "runs": [], "bisection": None}
    runs = session.scalars(
        select(ReproRun).where(ReproRun.job_id == job.id).order_by(ReproRun.created_at)
    ).all()
    bis = session.scalars(select(ReproBisection).where(ReproBisection.job_id == job.id)).first()
    return {
        "status": job.status,
        "job": {
            "id": job.id,
            "trigger": job.trigger,
            "priority": job.priority,
            "verdict": job.verdict,
            "reason": job.error,
            "fix_version": job.fix_version,
            "fix_verified": job.fix_verified,
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        },
        "runs": [
            {
                "version": r.version,
                "role": r.role,
                "verdict": r.verdict,
                "reproduced": r.reproduced,
                "attempts": r.attempts,
                "successes": r.successes,
                "reason": r.reason,
                "duration_s": round(r.duration_s, 3),
                "artifact_sha256": r.artifact_sha256,
                "log_sha256": r.log_sha256,
                "reused_from": r.reused_from,
            }
            for r in runs
        ],
        "bisection": None
        if bis is None
        else {
            "first_affected": bis.first_affected,
            "first_fixed": bis.first_fixed,
            "last_affected": bis.last_affected,
            "first_affected_exact": bis.first_affected_exact,
            "agrees": bis.agrees,
            "comparisons": bis.comparisons,
            "probes": bis.probes,
            "note": bis.note,
        },
    }


def read_log(uow: UnitOfWork, envelope: Envelope, subject: Subject, finding_id: str, run_id: str) -> bytes:
    """A run's decrypted log (every read in the ledger)."""
    finding = get_finding(uow.session, subject, finding_id)
    authorize(subject, Action.READ_REPRODUCTIONS, reproduction_resource(finding))
    row = uow.session.get(ReproRun, run_id)
    if (
        row is None
        or row.finding_id != finding.id
        or row.log_ciphertext is None
        or row.log_wrapped_key is None
    ):
        raise NotFound("reproduction run", run_id)
    uow.record("reproduction.log_read", "reproduction_run", row.id, sha256=row.log_sha256)
    return envelope.open(Sealed(row.log_ciphertext, row.log_wrapped_key), f"repro_run:{row.id}".encode())


# -- recheck ----------------------------------------------------------------------------------------


def due_for_recheck(session: Session) -> list[tuple[str, str, str, str | None]]:
    """(finding id, package type, package name, newest version seen) of reproduced findings whose fix
    is not verified yet."""
    latest: dict[str, ReproJob] = {}
    for job in session.scalars(
        select(ReproJob).where(ReproJob.status == "done").order_by(ReproJob.created_at)
    ):
        latest[job.finding_id] = job
    out = []
    for job in latest.values():
        if job.verdict not in (Verdict.RELIABLE, Verdict.FLAKY) or job.fix_verified:
            continue
        finding = session.get(Finding, job.finding_id)
        if finding is None:
            continue
        watch = session.scalars(
            select(ReproWatch).where(
                ReproWatch.package_type == finding.package_type,
                ReproWatch.package_name == finding.package_name,
            )
        ).first()
        out.append(
            (finding.id, finding.package_type, finding.package_name, watch.newest_version if watch else None)
        )
    return out


def recheck(factory: UnitOfWorkFactory, settings: ReproSettings) -> list[str]:
    """Queue a reproduction for every reproduced, not yet fixed-verified finding whose package has a
    release newer than the one last seen. Lists releases outside any transaction."""
    with factory(LAB_ACTOR, write=False) as uow:
        due = due_for_recheck(uow.session)
    newest: dict[tuple[str, str], str | None] = {}
    for _fid, ptype, name, _seen in due:
        if (ptype, name) in newest:
            continue
        adapter = adapter_for(ptype, settings)
        if adapter is None:
            continue
        try:
            stable = [
                r for r in adapter.releases(name) if not r.yanked and not adapter.is_prerelease(r.version)
            ]
        except (EnvironmentError_, FetchError) as exc:
            log.warning("recheck cannot list releases", extra={"package": name, "error": str(exc)})
            continue
        newest[(ptype, name)] = stable[-1].version if stable else None
    queued = []
    with factory(LAB_ACTOR) as uow:
        for fid, ptype, name, seen in due:
            now = newest.get((ptype, name))
            if now is None or now == seen:
                continue
            finding = uow.session.get(Finding, fid)
            if finding is None:
                continue
            job = _queue(uow, finding, trigger="recheck", requested_by="system:repro")
            queued.append(job.id)
            _watch(uow.session, ptype, name, now)
        uow.commit()
    return queued


def job_summaries(factory: UnitOfWorkFactory, job_ids: list[str]) -> list[dict[str, Any]]:
    with factory(LAB_ACTOR, write=False) as uow:
        rows = [uow.session.get(ReproJob, j) for j in job_ids]
        return [
            {
                "finding_id": r.finding_id,
                "status": r.status,
                "verdict": r.verdict,
                "fix_version": r.fix_version,
                "fix_verified": r.fix_verified,
            }
            for r in rows
            if r is not None
        ]

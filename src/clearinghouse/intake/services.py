"""Submitting findings: one, or a stream of up to 100,000, idempotently.

Each item is validated on its own; a bad one is reported by its index and the
JSON pointer of its first bad field, and never costs the good ones. Items are
stored in chunks, each chunk one transaction, so an interrupted batch leaves
whole chunks behind and nothing half-written; sending it again stores only
what is missing, because every finding is keyed by the client's idempotency
key or, without one, by its content hash. A chunk the database keeps refusing
(locked, deadlocked, connection lost) is retried with backoff; if it still
cannot be stored, it and every later item are reported as problems ("not
stored ... send again") and the answer says exactly which items are stored:
never a 500 with partial state the client is not told about.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from clearinghouse.access import TLP, Action, Marking, NotFound, Resource, Subject, authorize
from clearinghouse.coordination.campaigns import get_campaign
from clearinghouse.domain import DEDUP_JOB
from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.envelope import Envelope
from clearinghouse.errors import InvalidInput, first_error, nul_pointer
from clearinghouse.intake.models import Attachment, Finding, FindingState
from clearinghouse.jobs import queued_behind
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, canonical_json, new_id
from clearinghouse.triage import PackageCheckCache, admit, run_intake_checks
from clearinghouse.triage.models import PipelineReputation

MAX_BATCH_ITEMS = 100_000
CHUNK_SIZE = 500


@dataclass(frozen=True)
class ItemProblem:
    index: int
    pointer: str
    detail: str


@dataclass(frozen=True)
class StoredItem:
    index: int
    finding_id: str
    created: bool
    state: str


@dataclass
class IntakeReport:
    received: int = 0
    created: int = 0
    existing: int = 0
    problems: list[ItemProblem] = field(default_factory=list)
    items: list[StoredItem] = field(default_factory=list)

    def merge(self, other: IntakeReport) -> None:
        self.received += other.received
        self.created += other.created
        self.existing += other.existing
        self.problems.extend(other.problems)
        self.items.extend(other.items)


def content_hash(submission: FindingSubmission) -> str:
    body = submission.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def validate_item(index: int, raw: Any) -> FindingSubmission | ItemProblem:
    nul = nul_pointer(raw)
    if nul is not None:
        return ItemProblem(index, nul, "text may not contain NUL characters")
    try:
        return FindingSubmission.model_validate(raw)
    except ValidationError as exc:
        pointer, message = first_error(exc)
        return ItemProblem(index, pointer, message)


def parse_ndjson(
    lines: Iterable[bytes | str], *, start: int = 0
) -> Iterator[tuple[int, FindingSubmission | ItemProblem]]:
    """Items of an NDJSON stream, numbered from ``start``; blank lines are skipped and not numbered."""
    index = start
    for line in lines:
        if not line.strip():
            continue
        if index >= MAX_BATCH_ITEMS:
            # Reported, never silently dropped; the client sends the rest as another batch.
            yield index, ItemProblem(index, "", f"beyond the {MAX_BATCH_ITEMS}-item limit of one batch")
            index += 1
            continue
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield index, ItemProblem(index, "", f"not JSON: {exc}")
        else:
            yield index, validate_item(index, raw)
        index += 1


def finding_marking(subject: Subject) -> Marking:
    if subject.org_id is None:
        raise InvalidInput("findings are submitted by a user of a participant organization", "/")
    return Marking(owner_org_id=subject.org_id, tlp=TLP.AMBER_STRICT)


def _actor(subject: Subject) -> Actor:
    return Actor.user(subject.user_id) if subject.user_id else Actor.system("intake")


def submit(
    uow: UnitOfWorkFactory,
    envelope: Envelope,
    subject: Subject,
    items: Iterable[tuple[int, FindingSubmission | ItemProblem]],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> IntakeReport:
    """Store every good item (or find it already stored); report every bad one."""
    marking = finding_marking(subject)
    authorize(subject, Action.CREATE, Resource.marked("finding", None, marking))
    report = IntakeReport()
    chunk: list[tuple[int, FindingSubmission]] = []
    busy: str | None = None  # set once a chunk could not be stored: the rest is reported, not stored

    def flush() -> None:
        nonlocal busy
        if not chunk:
            return
        if busy is None:
            try:
                report.merge(_store_chunk(uow, envelope, subject, marking, chunk))
            except OperationalError as exc:
                busy = _busy_detail(exc)
        if busy is not None:
            report.received += len(chunk)
            report.problems.extend(ItemProblem(index, "", busy) for index, _ in chunk)
        chunk.clear()
        if progress is not None:
            progress(report.received)

    for index, item in items:
        if isinstance(item, ItemProblem):
            report.received += 1
            report.problems.append(item)
            continue
        chunk.append((index, item))
        if len(chunk) >= chunk_size:
            flush()
    flush()
    report.items.sort(key=lambda s: s.index)
    report.problems.sort(key=lambda p: p.index)
    return report


BUSY_RETRIES = 6
"""Attempts at a chunk the database refuses for a lock or a lost connection (with backoff)."""
BUSY_BACKOFF_SECONDS = 0.25


def _busy_detail(exc: OperationalError) -> str:
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return (
        f"not stored: the database was busy ({reason[:200]}); nothing of this item was written. "
        "Send the document again: items already stored are found, not stored twice"
    )


def _store_chunk(
    uow_factory: UnitOfWorkFactory,
    envelope: Envelope,
    subject: Subject,
    marking: Marking,
    chunk: list[tuple[int, FindingSubmission]],
) -> IntakeReport:
    """Store one chunk in one transaction. A chunk that races another request for the same
    findings is read again; one the database refuses for a lock (SQLite's single writer held by a
    long job, a PostgreSQL deadlock) is retried with backoff, then :class:`OperationalError`
    propagates with nothing of the chunk written."""
    conflicts = 0
    for attempt in range(1, BUSY_RETRIES + 1):
        try:
            return _store_chunk_once(uow_factory, envelope, subject, marking, chunk)
        except IntegrityError:
            # Another request stored some of the same findings meanwhile; now they
            # are visible, so the second pass finds them instead of inserting.
            conflicts += 1
            if conflicts >= 2:
                raise
        except OperationalError:
            if attempt == BUSY_RETRIES:
                raise
            time.sleep(BUSY_BACKOFF_SECONDS * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _store_chunk_once(
    uow_factory: UnitOfWorkFactory,
    envelope: Envelope,
    subject: Subject,
    marking: Marking,
    chunk: list[tuple[int, FindingSubmission]],
) -> IntakeReport:
    assert marking.owner_org_id is not None
    report = IntakeReport(received=len(chunk))
    keyed = _keys(chunk)
    with uow_factory(_actor(subject)) as uow:
        session = uow.session
        keys = list({key for _, _, key, _ in keyed})
        existing = {
            key: (fid, state)
            for fid, key, state in session.execute(
                select(Finding.id, Finding.idempotency_key, Finding.state).where(
                    Finding.submitter_org_id == marking.owner_org_id, Finding.idempotency_key.in_(keys)
                )
            )
        }
        campaigns_ok: dict[str, bool] = {}
        checks: PackageCheckCache = {}
        reputations: dict[str, PipelineReputation] = {}
        # The chunk's findings are inserted together at the end (one flush), not before every read.
        with session.no_autoflush:
            for index, submission, key, digest in keyed:
                campaign = submission.campaign_id
                if (
                    campaign is not None
                    and campaigns_ok.setdefault(campaign, _campaign_readable(uow, subject, campaign)) is False
                ):
                    report.problems.append(
                        ItemProblem(index, "/campaign_id", f"no scan campaign {campaign!r}")
                    )
                    continue
                if key in existing:
                    fid, state = existing[key]
                    report.existing += 1
                    report.items.append(StoredItem(index, fid, False, state))
                    continue
                finding = _new_finding(uow, subject, marking, submission, key, digest, checks, reputations)
                if submission.reproducer is not None and submission.reproducer.poc is not None:
                    _store_poc(uow, envelope, finding, submission)
                existing[key] = (finding.id, finding.state)
                report.created += 1
                report.items.append(StoredItem(index, finding.id, True, finding.state))
        if report.created and not queued_behind(uow, DEDUP_JOB):
            # Deduplication follows in the background; queued in this transaction,
            # so it exists exactly when the findings do. One already queued that cannot
            # start before this commits places these findings too (SQLite): under load,
            # one run then serves many submissions instead of a run (three writes) each.
            uow.enqueue(DEDUP_JOB, {})
        uow.commit()
    return report


def _campaign_readable(uow: UnitOfWork, subject: Subject, campaign_id: str) -> bool:
    try:
        get_campaign(uow.session, subject, campaign_id)
    except NotFound:
        return False
    return True


def _keys(chunk: list[tuple[int, FindingSubmission]]) -> list[tuple[int, FindingSubmission, str, str]]:
    """(index, submission, idempotency key, content hash): the hash is computed once per item."""
    out = []
    for index, sub in chunk:
        digest = content_hash(sub)
        out.append((index, sub, sub.idempotency_key or digest, digest))
    return out


def _new_finding(
    uow: UnitOfWork,
    subject: Subject,
    marking: Marking,
    submission: FindingSubmission,
    key: str,
    digest: str | None = None,
    checks_cache: PackageCheckCache | None = None,
    reputations: dict[str, PipelineReputation] | None = None,
) -> Finding:
    purl = submission.package.parsed
    document = submission.model_dump(mode="json", exclude_none=True)
    poc = document.get("reproducer", {}).get("poc")
    if poc is not None:
        poc.pop("content_base64", None)  # kept encrypted, in the attachment
    checks = run_intake_checks(uow.session, submission, checks_cache)
    queue = admit(uow.session, submission.generator.key, reputations)
    finding = Finding(
        id=new_id(),
        submitter_org_id=marking.owner_org_id,
        submitter_user_id=subject.user_id,
        idempotency_key=key,
        content_hash=digest or content_hash(submission),
        state=FindingState.CHECKED,
        queue=queue,
        title=submission.title,
        description=submission.description,
        purl=submission.package.purl,
        package_type=purl.type,
        package_name=f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name,
        version=purl.version or submission.package.version,
        vers=submission.package.vers,
        cwe=list(submission.cwe),
        generator_key=submission.generator.key,
        campaign_id=submission.campaign_id,
        source_format=submission.origin.format.value,
        document=document,
        checks=[c.as_dict() for c in checks],
    )
    finding.set_marking(marking)
    uow.session.add(finding)
    return finding


def _store_poc(uow: UnitOfWork, envelope: Envelope, finding: Finding, submission: FindingSubmission) -> None:
    assert submission.reproducer is not None and submission.reproducer.poc is not None
    poc = submission.reproducer.poc
    content = poc.content()
    digest = hashlib.sha256(content).hexdigest()
    sealed = envelope.seal(content, f"finding:{finding.id}".encode())
    uow.flush()  # the finding's row first: the attachment refers to it
    attachment = Attachment(
        finding_id=finding.id,
        filename=poc.filename,
        media_type=poc.media_type,
        size=len(content),
        sha256=digest,
        ciphertext=sealed.ciphertext,
        wrapped_key=sealed.wrapped_key,
    )
    uow.session.add(attachment)
    uow.audit_as(attachment, "attachment.stored", sha256=digest, size=len(content), finding_id=finding.id)

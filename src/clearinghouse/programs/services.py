"""Defensive-tool access programs (§2(c)(ii-iii) of the order): programs,
applications, decisions, grants, revocation and usage reports.

Access is read from the clock: an organization has access to a program while
it holds a grant that has started, has not ended and was not revoked — and,
for a covered frontier model, while the model's developer and the government
still agree to the program's operating organization as a trusted partner.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Forbidden,
    Marking,
    NotFound,
    OrgKind,
    Resource,
    Subject,
    authorize,
    can,
)
from clearinghouse.access.models import Organization
from clearinghouse.access.services import find_organization
from clearinghouse.domain import promise_words_in
from clearinghouse.errors import Conflict, InvalidInput, json_pointer
from clearinghouse.programs.models import (
    Application,
    ApplicationStatus,
    Grant,
    ModelOfferConsent,
    OrgSize,
    Program,
    Sector,
    UsageReport,
)
from clearinghouse.storage import UnitOfWork, utcnow

MAX_GRANT_DAYS = 5 * 366


def program_resource(program: Program) -> Resource:
    return Resource.marked("program", program.id, program.marking)


def application_resource(application: Application) -> Resource:
    return Resource.marked("program_application", application.id, application.marking)


def grant_resource(grant: Grant) -> Resource:
    return Resource.marked("program_grant", grant.id, grant.marking)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else utcnow()


def _enum_list(kind: type[Any], values: Sequence[str], pointer: str) -> list[str]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(kind(value).value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise InvalidInput(f"{value!r} is not one of: {allowed}", f"{pointer}/{i}") from None
    return sorted(set(out))


def _reason(reason: str | None, pointer: str = "/reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("give a reason", pointer)
    return text


# -- the developer's consent and the covered-model rule ---------------------


def live_consent(session: Session, model_id: str, operator_org_id: str) -> ModelOfferConsent | None:
    """The developer's standing consent to offer ``model_id`` in ``operator_org_id``'s programs."""
    return session.scalar(
        select(ModelOfferConsent)
        .where(
            ModelOfferConsent.model_id == model_id,
            ModelOfferConsent.operator_org_id == operator_org_id,
            ModelOfferConsent.withdrawn_at.is_(None),
        )
        .order_by(ModelOfferConsent.created_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ConsentDraft:
    model_id: str
    operating_org: str
    participants: Sequence[str]


def _developer_model(session: Session, subject: Subject, model_id: str) -> Any:
    from clearinghouse.frontier import services as frontier

    model = frontier.get_model(session, subject, model_id)  # NotFound for whoever may not read it
    if not can(subject, Action.CONSENT_MODEL_OFFER, frontier.model_resource(model)):
        raise Forbidden(Action.CONSENT_MODEL_OFFER, "frontier_model")
    return model


def consent_to_offer(
    uow: UnitOfWork, subject: Subject, draft: ConsentDraft
) -> tuple[ModelOfferConsent, bool]:
    """The developer consents to its model being offered in the programs of one
    operating organization, to the participant organizations it names. The same
    consent again returns the stored one; a different list replaces it."""
    session = uow.session
    model = _developer_model(session, subject, draft.model_id)
    operator = find_organization(session, draft.operating_org)
    if operator is None:
        raise InvalidInput(f"no organization {draft.operating_org!r}", "/operating_org")
    if not draft.participants:
        raise InvalidInput("name the participant organizations the model may reach", "/participants")
    participants: list[str] = []
    for i, ref in enumerate(draft.participants):
        org = find_organization(session, ref)
        if org is None:
            raise InvalidInput(f"no organization {ref!r}", f"/participants/{i}")
        participants.append(org.id)
    wanted = sorted(set(participants))
    current = live_consent(session, model.id, operator.id)
    if current is not None and sorted(current.participant_org_ids) == wanted:
        return current, False
    now = utcnow()
    if current is not None:
        current.withdrawn_at, current.withdrawn_by = now, subject.user_id
        uow.audit_as(current, "program_model_consent.replaced")
    consent = ModelOfferConsent(
        model_id=model.id,
        developer_org_id=model.owner_org_id,
        operator_org_id=operator.id,
        participant_org_ids=wanted,
        consented_by=subject.user_id,
        created_at=now,
    )
    session.add(consent)
    uow.flush()
    return consent, True


def withdraw_consent(uow: UnitOfWork, subject: Subject, consent_id: str) -> ModelOfferConsent:
    """The developer withdraws its consent: the programs stop offering the model at once."""
    consent = uow.session.get(ModelOfferConsent, consent_id)
    if consent is None:
        raise NotFound("program_model_consent", consent_id)
    try:
        _developer_model(uow.session, subject, consent.model_id)
    except NotFound:
        raise NotFound("program_model_consent", consent_id) from None
    if consent.withdrawn_at is None:
        consent.withdrawn_at, consent.withdrawn_by = utcnow(), subject.user_id
        uow.audit_as(consent, "program_model_consent.withdrawn")
        uow.flush()
    return consent


def check_model_offer(
    session: Session, model_id: str, operator_org_id: str, pointer: str = "/model_id"
) -> ModelOfferConsent:
    """Refuse to offer a model that is not registered, that its developer has not
    consented to offer in the operating organization's programs, or a covered
    frontier model whose developer and the government have not both agreed to the
    operating organization as a trusted partner (the frontier-review rule)."""
    from clearinghouse import frontier  # frontier review owns models, determinations and partners

    if not frontier.model_exists(session, model_id):
        raise InvalidInput(f"no registered model {model_id!r}", pointer)
    consent = live_consent(session, model_id, operator_org_id)
    if consent is None:
        raise Conflict(
            "the model's developer has not consented to offering it in this organization's programs",
            pointer,
        )
    if frontier.is_covered(session, model_id) and not frontier.trusted_partner_agreed(
        session, model_id, operator_org_id
    ):
        raise Conflict(
            "this is a covered frontier model: it can be offered only once its developer and the "
            "government have both agreed to the program's operating organization as a trusted partner",
            pointer,
        )
    return consent


def _model_still_offered(session: Session, program: Program, when: dt.datetime, org_id: str) -> bool:
    if program.model_id is None:
        return True
    from clearinghouse import frontier

    consent = live_consent(session, program.model_id, program.owner_org_id)
    if consent is None or org_id not in consent.participant_org_ids:
        return False
    if not frontier.is_covered(session, program.model_id):
        return True
    return frontier.trusted_partner_agreed(session, program.model_id, program.owner_org_id, at=when)


def program_resource_in(session: Session, program: Program) -> Resource:
    """A program as the policy sees it. One that offers a model is seen only by its
    operator, the model's developer and the participants the developer consented to
    (and staff): ``any_of`` narrows the TLP:GREEN marking, so a rival developer or an
    organization nobody selected never learns the model id."""
    if program.model_id is None:
        return program_resource(program)
    consent = live_consent(session, program.model_id, program.owner_org_id)
    orgs = {program.owner_org_id}
    if consent is not None:
        orgs |= {consent.developer_org_id, *consent.participant_org_ids}
    parties = tuple(Marking(owner_org_id=o, tlp=TLP.AMBER_STRICT) for o in sorted(orgs))
    return Resource(kind="program", id=program.id, markings=(program.marking,), any_of=parties)


# -- programs ----------------------------------------------------------------


@dataclass(frozen=True)
class ProgramDraft:
    name: str
    terms: str
    capacity: int
    tool_name: str | None = None
    model_id: str | None = None
    description: str = ""
    operating_org: str | None = None
    eligible_org_kinds: Sequence[str] = ()
    eligible_sectors: Sequence[str] = ()
    eligible_sizes: Sequence[str] = ()
    grant_days: int = 365


def create_program(uow: UnitOfWork, subject: Subject, draft: ProgramDraft) -> tuple[Program, bool]:
    """Open a program, or return the one with the same name (``created`` False)."""
    authorize(subject, Action.MANAGE_PROGRAMS)
    session = uow.session
    name = draft.name.strip()
    if not name or len(name) > 300:
        raise InvalidInput("a program needs a name of 1 to 300 characters", "/name")
    existing = session.scalar(select(Program).where(Program.name == name))
    if existing is not None:
        return existing, False
    if (draft.tool_name is None) == (draft.model_id is None):
        raise InvalidInput("a program offers either a tool or a registered model, not both", "/tool_name")
    if draft.tool_name is not None and not draft.tool_name.strip():
        raise InvalidInput("name the tool", "/tool_name")
    if not draft.terms.strip():
        raise InvalidInput("state the terms", "/terms")
    promised = promise_words_in(draft.terms)
    if promised:
        raise InvalidInput(
            f"the terms may not promise a service level, an outcome or a right ({promised[0]!r}): "
            "taking part is voluntary and creates no right enforceable at law (EO 14409 §5(c))",
            "/terms",
        )
    if draft.capacity < 1:
        raise InvalidInput("the capacity is at least one grant", "/capacity")
    if not 1 <= draft.grant_days <= MAX_GRANT_DAYS:
        raise InvalidInput(f"grants last 1 to {MAX_GRANT_DAYS} days", "/grant_days")
    operator_ref = draft.operating_org or subject.org_id
    operator = find_organization(session, operator_ref) if operator_ref else None
    if operator is None:
        raise InvalidInput("name the operating organization", "/operating_org")
    if draft.model_id is not None:
        check_model_offer(session, draft.model_id, operator.id)
    program = Program(
        name=name,
        description=draft.description,
        tool_name=draft.tool_name.strip() if draft.tool_name else None,
        model_id=draft.model_id,
        eligible_org_kinds=_enum_list(OrgKind, draft.eligible_org_kinds, "/eligible_org_kinds"),
        eligible_sectors=_enum_list(Sector, draft.eligible_sectors, "/eligible_sectors"),
        eligible_sizes=_enum_list(OrgSize, draft.eligible_sizes, "/eligible_sizes"),
        terms=draft.terms,
        capacity=draft.capacity,
        grant_days=draft.grant_days,
        accepting=True,
    )
    program.set_marking(Marking(owner_org_id=operator.id, tlp=TLP.GREEN))
    session.add(program)
    uow.flush()
    return program, True


def get_program(session: Session, subject: Subject, program_id: str) -> Program:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound("program", program_id)
    authorize(subject, Action.READ, program_resource_in(session, program))
    return program


def list_programs(session: Session, subject: Subject) -> list[Program]:
    rows = session.scalars(select(Program).order_by(Program.name))
    return [p for p in rows if can(subject, Action.READ, program_resource_in(session, p))]


def set_accepting(uow: UnitOfWork, subject: Subject, program_id: str, accepting: bool) -> Program:
    """Open or close a program to new applications (grants already made stand)."""
    program = get_program(uow.session, subject, program_id)
    authorize(subject, Action.MANAGE_PROGRAMS)
    if program.accepting != accepting:
        program.accepting = accepting
        uow.audit_as(program, "program.opened" if accepting else "program.closed")
        uow.flush()
    return program


def active_grant_count(session: Session, program_id: str, now: dt.datetime | None = None) -> int:
    """Grants that hold or will hold a place: not revoked and not yet ended."""
    count = session.scalar(
        select(func.count())
        .select_from(Grant)
        .where(Grant.program_id == program_id, Grant.revoked_at.is_(None), Grant.ends_at > _now(now))
    )
    return int(count or 0)


# -- applications ------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationDraft:
    sector: str
    size: str
    justification: str = ""


def _eligibility(program: Program, org_kind: str, sector: str, size: str) -> None:
    if program.eligible_org_kinds and org_kind not in program.eligible_org_kinds:
        raise Conflict(
            f"organizations of kind {org_kind} are not eligible (eligible: "
            f"{', '.join(program.eligible_org_kinds)})",
            "/org_kind",
        )
    if program.eligible_sectors and sector not in program.eligible_sectors:
        raise InvalidInput(
            f"the {sector} sector is not eligible (eligible: {', '.join(program.eligible_sectors)})",
            "/sector",
        )
    if program.eligible_sizes and size not in program.eligible_sizes:
        raise InvalidInput(
            f"organizations of size {size} are not eligible (eligible: {', '.join(program.eligible_sizes)})",
            "/size",
        )


def apply(
    uow: UnitOfWork, subject: Subject, program_id: str, draft: ApplicationDraft
) -> tuple[Application, bool]:
    """Apply for the subject's organization. An application still pending or
    approved is returned again (``created`` False); after a decline one may apply anew."""
    session = uow.session
    program = get_program(session, subject, program_id)
    if not can(subject, Action.APPLY_TO_PROGRAM, program_resource_in(session, program)):
        raise Forbidden(Action.APPLY_TO_PROGRAM, "program")
    assert subject.org_id is not None  # the policy admits only members of an organization
    sector = _enum_list(Sector, [draft.sector], "/sector")[0]
    size = _enum_list(OrgSize, [draft.size], "/size")[0]
    if len(draft.justification) > 20_000:
        raise InvalidInput("the justification is longer than 20,000 characters", "/justification")
    existing = session.scalar(
        select(Application).where(
            Application.program_id == program.id,
            Application.owner_org_id == subject.org_id,
            Application.status.in_([ApplicationStatus.PENDING, ApplicationStatus.APPROVED]),
        )
    )
    if existing is not None:
        return existing, False
    if not program.accepting:
        raise Conflict("the program is not accepting applications", "/program_id")
    org = session.get(Organization, subject.org_id)
    assert org is not None
    _eligibility(program, str(org.kind), sector, size)
    application = Application(
        program_id=program.id,
        applicant_user_id=subject.user_id or "system",
        org_kind=str(org.kind),
        sector=sector,
        size=size,
        justification=draft.justification,
        status=ApplicationStatus.PENDING,
    )
    application.set_marking(Marking(owner_org_id=org.id, tlp=TLP.AMBER_STRICT))
    session.add(application)
    uow.audit_as(
        application, "program_application.submitted", program_id=program.id, sector=sector, size=size
    )
    uow.flush()
    return application, True


def get_application(session: Session, subject: Subject, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("program_application", application_id)
    authorize(subject, Action.READ, application_resource(application))
    return application


def list_applications(
    session: Session, subject: Subject, *, program_id: str | None = None, status: str | None = None
) -> list[Application]:
    query = select(Application).order_by(Application.created_at.desc(), Application.id)
    if program_id is not None:
        query = query.where(Application.program_id == program_id)
    if status is not None:
        query = query.where(Application.status == _enum_list(ApplicationStatus, [status], "/status")[0])
    return [a for a in session.scalars(query) if can(subject, Action.READ, application_resource(a))]


@dataclass(frozen=True)
class Decision:
    approve: bool
    reason: str
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


def decide(
    uow: UnitOfWork, subject: Subject, application_id: str, decision: Decision
) -> tuple[Application, Grant | None]:
    """Approve (making a grant) or decline an application, with a reason.
    Deciding the same way again changes nothing; reversing a decision is refused."""
    session = uow.session
    application = get_application(session, subject, application_id)
    authorize(subject, Action.MANAGE_PROGRAMS)
    reason = _reason(decision.reason)
    target = ApplicationStatus.APPROVED if decision.approve else ApplicationStatus.DECLINED
    if application.status == target:
        return application, _grant_of(session, application)
    if application.status != ApplicationStatus.PENDING:
        raise Conflict(f"the application was already {application.status}", "/approve")
    program = session.get(Program, application.program_id)
    assert program is not None
    now = utcnow()
    grant: Grant | None = None
    if decision.approve:
        if program.model_id is not None:
            consent = check_model_offer(session, program.model_id, program.owner_org_id)
            if application.owner_org_id not in consent.participant_org_ids:
                raise Conflict(
                    "the model's developer has not consented to this organization as a participant",
                    "/approve",
                )
        starts = decision.starts_at or now
        ends = decision.ends_at or starts + dt.timedelta(days=program.grant_days)
        if starts.tzinfo is None or ends.tzinfo is None:
            raise InvalidInput("give the grant's dates with their time zone", "/starts_at")
        if ends <= starts:
            raise InvalidInput("the grant must end after it starts", "/ends_at")
        if ends <= now:
            raise InvalidInput("the grant would already have ended", "/ends_at")
        if active_grant_count(session, program.id, now) >= program.capacity:
            raise Conflict(f"the program is at its capacity of {program.capacity} grants", "/approve")
        grant = Grant(program_id=program.id, application_id=application.id, starts_at=starts, ends_at=ends)
        grant.set_marking(application.marking)
        session.add(grant)
    application.status = target
    application.decision_reason = reason
    application.decided_by = subject.user_id
    application.decided_at = now
    uow.audit_as(application, f"program_application.{target.value}", reason=reason, program_id=program.id)
    uow.flush()
    return application, grant


def _grant_of(session: Session, application: Application) -> Grant | None:
    return session.scalar(select(Grant).where(Grant.application_id == application.id))


# -- grants ------------------------------------------------------------------


def get_grant(session: Session, subject: Subject, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("program_grant", grant_id)
    authorize(subject, Action.READ, grant_resource(grant))
    return grant


def list_grants(session: Session, subject: Subject, *, program_id: str | None = None) -> list[Grant]:
    query = select(Grant).order_by(Grant.created_at.desc(), Grant.id)
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    return [g for g in session.scalars(query) if can(subject, Action.READ, grant_resource(g))]


def grant_active(session: Session, grant: Grant, now: dt.datetime | None = None) -> bool:
    """Whether the grant gives access now: started, not ended, not revoked, and
    (for a model) the developer's consent still names the organization and, for a
    covered model, the trusted-partner agreement still holds."""
    when = _now(now)
    if not grant.active_at(when):
        return False
    program = session.get(Program, grant.program_id)
    return program is not None and _model_still_offered(session, program, when, grant.owner_org_id)


def revoke_grant(uow: UnitOfWork, subject: Subject, grant_id: str, reason: str) -> Grant:
    """End a grant now. Revoking it again changes nothing."""
    grant = get_grant(uow.session, subject, grant_id)
    authorize(subject, Action.MANAGE_PROGRAMS)
    why = _reason(reason)
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = utcnow()
    grant.revoked_by = subject.user_id
    grant.revoke_reason = why
    uow.audit_as(grant, "program_grant.revoked", reason=why)
    uow.flush()
    return grant


@dataclass(frozen=True)
class AccessStatus:
    program_id: str
    org_id: str
    has_access: bool
    grant: Grant | None


def access_for(
    session: Session, program_id: str, org_id: str, now: dt.datetime | None = None
) -> AccessStatus:
    """Whether ``org_id`` has access to the program now (for the tool's gatekeeper)."""
    when = _now(now)
    grants = session.scalars(
        select(Grant)
        .where(Grant.program_id == program_id, Grant.owner_org_id == org_id)
        .order_by(Grant.ends_at.desc())
    ).all()
    for grant in grants:
        if grant_active(session, grant, when):
            return AccessStatus(program_id, org_id, True, grant)
    return AccessStatus(program_id, org_id, False, grants[0] if grants else None)


def my_access(
    session: Session, subject: Subject, program_id: str, now: dt.datetime | None = None
) -> AccessStatus:
    """The subject's organization's access to a program it can see."""
    program = get_program(session, subject, program_id)
    if subject.org_id is None:
        raise InvalidInput("access is held by organizations; you belong to none", "/")
    return access_for(session, program.id, subject.org_id, now)


# -- usage -------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDraft:
    period_start: dt.datetime
    period_end: dt.datetime
    metrics: Mapping[str, float | int] = field(default_factory=dict)
    note: str = ""


def report_usage(
    uow: UnitOfWork, subject: Subject, grant_id: str, draft: UsageDraft
) -> tuple[UsageReport, bool]:
    """Record how a grant was used over a period; the same period again returns the first report."""
    session = uow.session
    grant = get_grant(session, subject, grant_id)
    if not can(subject, Action.REPORT_GRANT_USAGE, grant_resource(grant)):
        raise Forbidden(Action.REPORT_GRANT_USAGE, "program_grant")
    start, end = draft.period_start, draft.period_end
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give the period with its time zone", "/period_start")
    if end <= start:
        raise InvalidInput("the period must end after it starts", "/period_end")
    for key, value in draft.metrics.items():
        if not key or len(key) > 100 or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise InvalidInput(
                "metrics are names with finite, non-negative numbers", json_pointer(["metrics", key])
            )
    existing = session.scalar(
        select(UsageReport).where(
            UsageReport.grant_id == grant.id, UsageReport.period_start == start, UsageReport.period_end == end
        )
    )
    if existing is not None:
        return existing, False
    limit = min(grant.ends_at, grant.revoked_at) if grant.revoked_at else grant.ends_at
    if start < grant.starts_at or end > limit:
        raise InvalidInput("the period lies outside the grant's time", "/period_start")
    if end > utcnow():
        raise InvalidInput("usage is reported for a period that has ended", "/period_end")
    report = UsageReport(
        grant_id=grant.id,
        period_start=start,
        period_end=end,
        metrics=dict(draft.metrics),
        note=draft.note,
        reported_by=subject.user_id or "system",
    )
    session.add(report)
    uow.flush()
    return report, True


def usage_reports(session: Session, subject: Subject, grant_id: str) -> list[UsageReport]:
    grant = get_grant(session, subject, grant_id)
    rows = session.scalars(
        select(UsageReport).where(UsageReport.grant_id == grant.id).order_by(UsageReport.period_start)
    )
    return list(rows)

"""Home pages by role, each answering "what must I do next", and the operator's match pages.

* operator (anyone whose organization registered assets): overdue and due-soon items by
  BOD 26-04 and KEV, new matches since the last visit, fixes available; charts of matches by
  severity over time, time to remediate, and open items by due date;
* vendor: threads awaiting a reply, disclosure deadlines, products with open cases;
* analyst / coordinator: intake and queue counts and deadline (SLA) breaches;
* evaluator and determination authority: access grants, evaluation campaigns and their clocks.

Every section reads through the same services and policy as the API; a section whose data
the viewer may not read is simply not shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Role, can
from clearinghouse.errors import ClearinghouseError
from clearinghouse.matching import services as matching
from clearinghouse.matching import worklist
from clearinghouse.matching.models import MatchStatus
from clearinghouse.storage import utcnow
from clearinghouse.web._charts import bar_chart, stacked_columns
from clearinghouse.web._deps import Viewer, check_csrf
from clearinghouse.web._render import Page, redirect

router = APIRouter()

DUE_SOON = dt.timedelta(days=14)
NEW_WINDOW = dt.timedelta(days=7)
SEVERITIES = ("critical", "high", "medium", "low", "none")


def last_visit(session: Session, page: Page, now: dt.datetime) -> dt.datetime:
    """When the viewer was last here before this session (their other sessions' last activity),
    else a week ago."""
    from clearinghouse.web.models import WebSession

    if page.active is None:
        return now - NEW_WINDOW
    seen = session.scalar(
        select(func.max(WebSession.last_seen_at)).where(
            WebSession.user_id == page.active.user.id, WebSession.id != page.active.id
        )
    )
    if seen is None:
        return now - NEW_WINDOW
    return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)


@dataclass
class OperatorHome:
    overdue: list[worklist.MatchItem] = field(default_factory=list)
    due_soon: list[worklist.MatchItem] = field(default_factory=list)
    new: list[worklist.MatchItem] = field(default_factory=list)
    fixes: list[worklist.MatchItem] = field(default_factory=list)
    open_count: int = 0
    since: dt.datetime | None = None
    charts: list[Any] = field(default_factory=list)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def operator_home(items: list[worklist.MatchItem], now: dt.datetime, since: dt.datetime) -> OperatorHome:
    opened = [i for i in items if i.is_open and i.affected is not False]
    home = OperatorHome(open_count=len(opened), since=since)
    for item in opened:
        due = item.due
        if due is not None and due < now:
            home.overdue.append(item)
        elif due is not None and due - now <= DUE_SOON:
            home.due_soon.append(item)
    home.new = sorted(
        (i for i in items if _aware(i.created_at) >= since), key=lambda i: _aware(i.created_at), reverse=True
    )
    seen: set[tuple[str, str]] = set()
    for item in opened:
        key = (item.asset_id, item.component_pointer)
        if item.upgrade_to and key not in seen:
            seen.add(key)
            home.fixes.append(item)
    home.charts = charts(items, now)
    return home


def charts(items: list[worklist.MatchItem], now: dt.datetime) -> list[Any]:
    """Matches by severity over the last eight weeks, time to remediate, open items by due date."""
    weeks: list[tuple[str, dict[str, float]]] = []
    start = (now - dt.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    for back in range(7, -1, -1):
        begin = start - dt.timedelta(weeks=back)
        end = begin + dt.timedelta(weeks=1)
        counts = Counter(
            (i.severity or "none")
            for i in items
            if begin <= _aware(i.created_at) < end and i.affected is not False
        )
        weeks.append((begin.strftime("%m-%d"), {s: float(counts.get(s, 0)) for s in SEVERITIES}))
    buckets = [
        ("under 1 day", 1),
        ("1-7 days", 7),
        ("8-30 days", 30),
        ("31-90 days", 90),
        ("over 90 days", None),
    ]
    durations = [
        (_aware(i.status_changed_at) - _aware(i.created_at)).total_seconds() / 86400
        for i in items
        if i.status in (MatchStatus.FIXED.value, MatchStatus.MITIGATED.value)
        and i.status_changed_at is not None
    ]
    remediate: list[tuple[str, float]] = []
    lower = -1.0
    for label, upper in buckets:
        remediate.append(
            (label, float(sum(1 for d in durations if d > lower and (upper is None or d <= upper))))
        )
        lower = float(upper) if upper is not None else lower
    opened = [i for i in items if i.is_open and i.affected is not False]
    due_rows = [
        ("overdue", float(sum(1 for i in opened if i.due is not None and i.due < now))),
        (
            "within 7 days",
            float(sum(1 for i in opened if i.due is not None and now <= i.due < now + dt.timedelta(days=7))),
        ),
        (
            "8-30 days",
            float(
                sum(
                    1
                    for i in opened
                    if i.due is not None and now + dt.timedelta(days=7) <= i.due < now + dt.timedelta(days=30)
                )
            ),
        ),
        (
            "later",
            float(sum(1 for i in opened if i.due is not None and i.due >= now + dt.timedelta(days=30))),
        ),
        ("no deadline", float(sum(1 for i in opened if i.due is None))),
    ]
    return [
        (
            "Matches by severity over time",
            stacked_columns(
                weeks,
                SEVERITIES,
                title="Matches by severity over time",
                description="New matches on your assets per week (by the week's first day), by severity, "
                "over the last eight weeks.",
            ),
        ),
        (
            "Time to remediate",
            bar_chart(
                remediate,
                title="Time to remediate",
                description="Matches marked fixed or mitigated, by the time from the match to the fix.",
            ),
        ),
        (
            "Open items by due date",
            bar_chart(
                due_rows,
                title="Open items by due date",
                description="Open matches by their BOD 26-04 or KEV due date.",
            ),
        ),
    ]


@dataclass
class VendorHome:
    awaiting: list[Any] = field(default_factory=list)
    deadlines: list[Any] = field(default_factory=list)
    products: list[tuple[Any, Any]] = field(default_factory=list)


def vendor_home(session: Session, page: Page, now: dt.datetime) -> VendorHome:
    from clearinghouse import coordination
    from clearinghouse.coordination import deadlines, thread_products, visible_threads

    home = VendorHome()
    threads = [t for t in visible_threads(session, page.subject) if t.vendor_org_id == page.subject.org_id]
    for thread in threads:
        products = thread_products(session, thread)
        waiting = [p for p in products if p.status in ("unknown", "under_investigation")]
        if thread.first_response_at is None or waiting:
            due = coordination.vendor_response_due(_aware(thread.notified_at))
            home.awaiting.append((thread, due, len(waiting)))
        for product in products:
            if product.status not in ("fixed", "not_affected"):
                home.products.append((thread, product))
    home.awaiting.sort(key=lambda t: t[1])
    with contextlib.suppress(ClearinghouseError):
        mine = {t.case_id for t in threads}
        home.deadlines = [d for d in deadlines(session, page.subject, now=now) if d.case_id in mine][:20]
    return home


@dataclass
class AnalystHome:
    intake: dict[str, int] = field(default_factory=dict)
    queue_total: int | None = None
    breaches: list[Any] = field(default_factory=list)
    soon: list[Any] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)


def analyst_home(session: Session, page: Page, now: dt.datetime) -> AnalystHome:
    from clearinghouse import coordination
    from clearinghouse.coordination import deadlines
    from clearinghouse.intake.models import Finding
    from clearinghouse.priority import priority_queue

    home = AnalystHome()
    rows = session.execute(select(Finding.state, func.count()).group_by(Finding.state))
    home.intake = {str(state): int(count) for state, count in rows}
    if can(page.subject, Action.READ_QUEUE):
        home.queue_total = priority_queue(session, page.subject, limit=1)[0]
    with contextlib.suppress(ClearinghouseError):
        items = deadlines(session, page.subject, now=now)
        home.breaches = [d for d in items if d.state == coordination.DeadlineState.BREACHED][:20]
        home.soon = [d for d in items if d.state == coordination.DeadlineState.REMINDER][:20]
    from clearinghouse.triage.models import Case

    wanted = sorted({d.case_id for d in [*home.breaches, *home.soon]})
    if wanted:
        home.titles = dict(session.execute(select(Case.id, Case.title).where(Case.id.in_(wanted))).all())
    return home


@dataclass
class ReviewHome:
    grants: list[Any] = field(default_factory=list)
    campaigns: list[Any] = field(default_factory=list)


def review_home(session: Session, page: Page, now: dt.datetime) -> ReviewHome:
    from clearinghouse.frontier import services as frontier
    from clearinghouse.frontier.evaluation import services as evaluation

    home = ReviewHome()
    with contextlib.suppress(ClearinghouseError):
        home.grants = sorted(
            (g for g in frontier.list_grants(session, page.subject) if g.withdrawn_at is None),
            key=lambda g: _aware(g.ends_at),
        )
    with contextlib.suppress(ClearinghouseError):
        home.campaigns = evaluation.list_campaigns(session, page.subject, limit=20)
    return home


REVIEWERS = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY})


@router.get("/")
def home(page: Viewer) -> Response:
    from clearinghouse.triage import services as triage

    now = utcnow()
    roles = page.subject.roles
    context: dict[str, Any] = {"operator": None, "vendor": None, "analyst": None, "review": None}
    with page.reading() as uow:
        session = uow.session
        assets = matching.list_assets(session, page.subject)
        own_assets = [a for a in assets if a.owner_org_id == page.subject.org_id]
        if own_assets:
            items = worklist.match_items(session, page.subject, now, asset_ids=[a.id for a in own_assets])
            context["operator"] = operator_home(items, now, last_visit(session, page, now))
        if Role.VENDOR_CONTACT in roles:
            context["vendor"] = vendor_home(session, page, now)
        if can(page.subject, Action.READ_QUEUE):  # the intake and queue counts: the queue's readers
            context["analyst"] = analyst_home(session, page, now)
        if roles & REVIEWERS:
            context["review"] = review_home(session, page, now)
        findings = triage.list_findings(session, page.subject, triage.FindingFilter(), limit=10)
        cases = triage.list_cases(session, page.subject, limit=10)
    return page.render("home.html", findings=findings, cases=cases, assets=own_assets, **context)


# -- matches ------------------------------------------------------------------------------------

PAGE_SIZE = 50  # matches per page of the console list


@router.get("/matches")
def matches_page(
    page: Viewer,
    status: Annotated[str, Query(max_length=20)] = "open",
    severity: Annotated[str, Query(max_length=20)] = "",
    kev: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
    sort: Annotated[str, Query(pattern=worklist.SORT_PATTERN)] = "due",
    number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> Response:
    now = utcnow()
    with page.reading() as uow:
        items = worklist.match_items(uow.session, page.subject, now)
    shown = worklist.select_items(
        items, status=status, severity=severity, kev=(kev == "yes") if kev else None, sort=sort
    )
    pages = max(1, -(-len(shown) // size))
    number = min(number, pages)
    filters = {"status": status, "severity": severity, "kev": kev, "sort": sort}
    query = urlencode({**filters, "size": size})
    return page.render(
        "matches.html",
        items=shown[(number - 1) * size : number * size],
        matching=len(shown),
        total=len(items),
        pager={
            "page": number,
            "pages": pages,
            "size": size,
            "first": (number - 1) * size + 1,
            "previous": f"/matches?{query}&page={number - 1}" if number > 1 else None,
            "next": f"/matches?{query}&page={number + 1}" if number < pages else None,
        },
        filters=filters,
        statuses=["open", *[s.value for s in MatchStatus if s is not MatchStatus.OPEN], "all"],
        severities=SEVERITIES,
        sorts=list(worklist.SORTS),
    )


@router.get("/matches/{match_id}")
def match_page(match_id: str, page: Viewer, error: str = "") -> Response:
    from clearinghouse.triage import services as triage

    now = utcnow()
    with page.reading() as uow:
        item = worklist.get_match(uow.session, page.subject, match_id, now)
        case_title = None
        if item.case_id:
            with contextlib.suppress(ClearinghouseError):
                case_title = triage.get_case(uow.session, page.subject, item.case_id).title
    return page.render(
        "match.html",
        item=item,
        case_title=case_title,
        error=error[:300],
        statuses=[s.value for s in MatchStatus],
        justifications=worklist.JUSTIFICATIONS,
    )


@router.post("/matches/{match_id}/status")
def match_status(
    match_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    justification: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    check_csrf(page, csrf)
    expires = None
    if expires_on:
        try:
            expires = dt.datetime.combine(dt.date.fromisoformat(expires_on), dt.time(23, 59, 59), dt.UTC)
        except ValueError:
            return match_page(match_id, page, error="/expires_at: not a date (YYYY-MM-DD)")
    try:
        with page.writing() as uow:
            worklist.set_match_status(
                uow,
                page.subject,
                match_id,
                status,
                reason=reason,
                expires_at=expires,
                justification=justification or None,
            )
            uow.commit()
    except ClearinghouseError as exc:
        if exc.status == 404:
            raise
        where = f"{exc.pointer}: " if exc.pointer else ""
        return match_page(match_id, page, error=f"{where}{exc.detail}")
    return redirect(f"/matches/{match_id}")


@router.get("/assets/{asset_id}/matches.csv")
def asset_matches_csv(asset_id: str, page: Viewer, everything: bool = Query(False, alias="all")) -> Response:
    return _export(asset_id, page, "csv", everything)


@router.get("/assets/{asset_id}/vex.cdx.json")
def asset_vex(asset_id: str, page: Viewer, everything: bool = Query(False, alias="all")) -> Response:
    return _export(asset_id, page, "cyclonedx-vex", everything)


@router.get("/assets/{asset_id}/vex.csaf.json")
def asset_csaf_vex(asset_id: str, page: Viewer, everything: bool = Query(False, alias="all")) -> Response:
    return _export(asset_id, page, "csaf-vex", everything)


def _export(asset_id: str, page: Page, fmt: str, everything: bool) -> Response:
    with page.writing() as uow:
        made = worklist.export_asset_matches(
            uow, page.subject, asset_id, fmt, everything, utcnow(), page.runtime.settings.publisher
        )
        uow.commit()
    return Response(
        made.body,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )

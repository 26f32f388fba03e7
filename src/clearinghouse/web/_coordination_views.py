"""Coordination pages: a coordinator's forms on the case page (notify a vendor,
embargo and disclosure clock, publish), and the vendor's side: its threads,
per-product statuses (VEX), messages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from clearinghouse.access import TLP, Action, can
from clearinghouse.coordination import (
    DisclosureChange,
    ProductRef,
    StatusUpdate,
    apply_vex,
    get_thread,
    notify_vendor,
    post_message,
    publish,
    set_disclosure,
    set_statuses,
    thread_messages,
    thread_products,
    thread_resource,
    visible_threads,
)
from clearinghouse.domain import ProductStatus, VexJustification
from clearinghouse.errors import InvalidInput
from clearinghouse.web._deps import Viewer, check_csrf
from clearinghouse.web._render import redirect

router = APIRouter()


def _instant(value: str, pointer: str) -> dt.datetime:
    """A ``datetime-local`` field, read as UTC (the form says so), or ISO 8601 with an offset."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("give a date and time like 2026-12-01T17:00 (UTC)", pointer) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# -- the coordinator, on the case page ----------------------------------------------------


@router.post("/cases/{case_id}/notify")
def notify(
    case_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    vendor: Annotated[str, Form(max_length=200)],
    products: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    check_csrf(page, csrf)
    refs = [
        ProductRef(purl=line) if line.startswith("pkg:") else ProductRef(name=line)
        for line in (x.strip() for x in products.splitlines())
        if line
    ]
    with page.writing() as uow:
        notify_vendor(uow, page.subject, case_id, vendor, refs)
        uow.commit()
    return redirect(f"/cases/{case_id}#coordination")


@router.post("/cases/{case_id}/disclosure")
def disclosure(
    case_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    embargo_end: Annotated[str, Form(max_length=40)] = "",
    clear_embargo: Annotated[bool, Form()] = False,
    disclosure_days: Annotated[str, Form(max_length=6)] = "",
    exploited: Annotated[str, Form(pattern="^(|yes|no)$")] = "",
) -> Response:
    check_csrf(page, csrf)
    days = None
    if disclosure_days.strip():
        if not disclosure_days.strip().isdigit():
            raise InvalidInput("a whole number of days", "/disclosure_days")
        days = int(disclosure_days)
    change = DisclosureChange(
        embargo_end=_instant(embargo_end, "/embargo_end") if embargo_end.strip() else None,
        clear_embargo=clear_embargo,
        disclosure_days=days,
        exploited={"yes": True, "no": False}.get(exploited),
    )
    with page.writing() as uow:
        set_disclosure(uow, page.subject, case_id, change)
        uow.commit()
    return redirect(f"/cases/{case_id}#coordination")


@router.post("/cases/{case_id}/publish")
def publish_advisory(
    case_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    summary: Annotated[str, Form(max_length=2000)],
    tlp: Annotated[TLP, Form()] = TLP.CLEAR,
    lift_embargo: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        publish(uow, page.subject, case_id, summary, tlp=tlp, lift_embargo=lift_embargo)
        uow.commit()
    return redirect(f"/cases/{case_id}#coordination")


# -- the vendor's threads ---------------------------------------------------------------


@router.get("/threads")
def threads(page: Viewer) -> Response:
    with page.reading() as uow:
        rows = visible_threads(uow.session, page.subject)
    return page.render("threads.html", threads=rows)


@router.get("/threads/{thread_id}")
def thread(thread_id: str, page: Viewer) -> Response:
    with page.reading() as uow:
        found = get_thread(uow.session, page.subject, thread_id)
        products = thread_products(uow.session, found)
        messages = thread_messages(uow.session, found)
    return page.render(
        "thread.html",
        thread=found,
        products=products,
        messages=messages,
        can_answer=can(page.subject, Action.VENDOR_RESPOND, thread_resource(found)),
        statuses=[s.value for s in ProductStatus],
        justifications=[j.value for j in VexJustification],
    )


@router.post("/threads/{thread_id}/status")
def record_status(
    thread_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    product: Annotated[str, Form(max_length=1000)],
    status: Annotated[ProductStatus, Form()],
    justification: Annotated[str, Form(max_length=60)] = "",
    fixed_versions: Annotated[str, Form(max_length=2000)] = "",
    impact_statement: Annotated[str, Form(max_length=10_000)] = "",
    action_statement: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    check_csrf(page, csrf)
    try:
        why = VexJustification(justification) if justification else None
    except ValueError:
        raise InvalidInput(f"{justification!r} is not a VEX justification", "/justification") from None
    ref = ProductRef(purl=product) if product.startswith("pkg:") else ProductRef(name=product)
    update = StatusUpdate(
        product=ref,
        status=status,
        justification=why,
        fixed_versions=tuple(v for v in (x.strip() for x in fixed_versions.split(",")) if v),
        impact_statement=impact_statement.strip() or None,
        action_statement=action_statement.strip() or None,
    )
    with page.writing() as uow:
        set_statuses(uow, page.subject, thread_id, [update], source="console", pointer="")
        uow.commit()
    return redirect(f"/threads/{thread_id}")


@router.post("/threads/{thread_id}/vex")
def upload_vex(
    thread_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    document: Annotated[UploadFile, File()],
) -> Response:
    check_csrf(page, csrf)
    content = document.file.read(5 * 1024 * 1024 + 1)
    if len(content) > 5 * 1024 * 1024:
        raise InvalidInput("a VEX document is at most 5 MiB", "/document")
    with page.writing() as uow:
        apply_vex(uow, page.subject, thread_id, content)
        uow.commit()
    return redirect(f"/threads/{thread_id}")


@router.post("/threads/{thread_id}/messages")
def message(
    thread_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=50_000)],
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        post_message(uow, page.subject, thread_id, body)
        uow.commit()
    return redirect(f"/threads/{thread_id}#messages")

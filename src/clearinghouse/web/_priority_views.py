"""Priority pages: the priority queue (staff) and BOD 26-04 compliance per agency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from clearinghouse.access import Action, can
from clearinghouse.directives import services as directives
from clearinghouse.priority import priority_queue
from clearinghouse.storage import utcnow
from clearinghouse.web._deps import PageNotFound, Viewer

router = APIRouter()

QUEUE_PAGE = 50


@router.get("/queue")
def queue(page: Viewer, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    if not can(page.subject, Action.READ_QUEUE):
        raise PageNotFound()
    with page.reading() as uow:
        total, items = priority_queue(uow.session, page.subject, limit=QUEUE_PAGE, offset=offset)
    return page.render(
        "queue.html",
        total=total,
        items=items,
        offset=offset,
        next_offset=offset + QUEUE_PAGE if offset + QUEUE_PAGE < total else None,
        previous_offset=max(0, offset - QUEUE_PAGE) if offset else None,
    )


@router.get("/bod-26-04")
def bod_26_04(page: Viewer) -> Response:
    if not can(page.subject, Action.READ_DIRECTIVES):
        raise PageNotFound()  # pragma: no cover - every signed-in viewer reads directives
    with page.reading() as uow:
        agencies = directives.bod_26_04_compliance(uow.session, page.subject, utcnow())
    return page.render("bod2604.html", agencies=agencies)

"""Partner pages: assets registered from SBOMs, and their components."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from clearinghouse.errors import ClearinghouseError
from clearinghouse.matching import services as matching
from clearinghouse.matching import worklist
from clearinghouse.matching.models import Criticality
from clearinghouse.storage import utcnow
from clearinghouse.web._deps import Viewer, check_csrf
from clearinghouse.web._render import Page, redirect

router = APIRouter()

COMPONENTS_SHOWN = 500


def _assets_page(page: Page, *, error: str = "", name: str = "", status: int = 200) -> Response:
    with page.reading() as uow:
        assets = matching.list_assets(uow.session, page.subject)
    return page.render(
        "assets.html",
        status,
        assets=assets,
        error=error,
        name=name,
        criticalities=[c.value for c in Criticality],
        can_upload=page.subject.org_id is not None,
    )


@router.get("/assets")
def assets(page: Viewer) -> Response:
    return _assets_page(page)


@router.post("/assets")
def upload_sbom(
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    sbom: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=300)] = "",
    criticality: Annotated[str, Form(max_length=10)] = Criticality.MEDIUM.value,
    internet_exposed: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(page, csrf)
    content = sbom.file.read()  # the request body limit (CLEARINGHOUSE_MAX_REQUEST_BYTES) bounds it
    draft = matching.AssetDraft(
        name=name or (sbom.filename or ""),
        sbom=content,
        filename=sbom.filename,
        internet_exposed=internet_exposed,
        criticality=criticality,
    )
    try:
        with page.writing() as uow:
            asset, _created = matching.register_asset(uow, page.subject, draft)
            uow.commit()
    except ClearinghouseError as exc:
        where = f"{exc.pointer}: " if exc.pointer else ""
        return _assets_page(page, error=f"{where}{exc.detail}", name=name, status=exc.status)
    return redirect(f"/assets/{asset.id}")


@router.get("/assets/{asset_id}")
def asset_page(asset_id: str, page: Viewer) -> Response:
    now = utcnow()
    with page.reading() as uow:
        asset = matching.get_asset(uow.session, page.subject, asset_id)
        components = matching.asset_components(uow.session, page.subject, asset_id, COMPONENTS_SHOWN)
        items = worklist.match_items(uow.session, page.subject, now, asset_ids=[asset.id])
    return page.render(
        "asset.html",
        asset=asset,
        components=components,
        shown=COMPONENTS_SHOWN,
        items=items,
    )

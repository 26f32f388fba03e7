"""HTTP routes of the reproduction lab."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from clearinghouse.http_deps import SignedIn
from clearinghouse.repro import services

router = APIRouter(tags=["reproduction"])


class ReproductionsOut(BaseModel):
    status: str | None
    job: dict[str, Any] | None
    runs: list[dict[str, Any]]
    bisection: dict[str, Any] | None


@router.post(
    "/findings/{finding_id}:reproduce",
    status_code=202,
    summary="Queue a reproduction: the PoC runs in the sandbox on the claimed, fixed and bisected versions",
)
def reproduce(finding_id: str, context: SignedIn) -> ReproductionsOut:
    with context.writing() as uow:
        services.request_reproduction(uow, context.subject, finding_id)
        uow.commit()
    with context.reading() as uow:
        return ReproductionsOut(**services.status_of(uow.session, context.subject, finding_id))


@router.get(
    "/findings/{finding_id}/reproductions",
    summary="The latest reproduction: its status, the verdict per version and the bisection",
)
def reproductions(finding_id: str, context: SignedIn) -> ReproductionsOut:
    with context.reading() as uow:
        return ReproductionsOut(**services.status_of(uow.session, context.subject, finding_id))


@router.get(
    "/findings/{finding_id}/reproductions/runs/{run_id}/log",
    summary="What one version's runs printed (decrypted; every read is in the ledger)",
    response_class=Response,
)
def run_log(finding_id: str, run_id: str, context: SignedIn) -> Response:
    with context.writing() as uow:
        data = services.read_log(uow, context.runtime.envelope, context.subject, finding_id, run_id)
        uow.commit()
    return Response(content=data, media_type="application/json")

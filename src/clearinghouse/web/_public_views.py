"""The public transparency page: no sign-in, aggregates only."""

from __future__ import annotations

from fastapi import APIRouter, Response

from clearinghouse.web._charts import bar_chart
from clearinghouse.web._deps import AnyViewer
from clearinghouse.web._transparency import MIN_DECISIONS, transparency_report

router = APIRouter()


@router.get("/transparency")
def transparency(page: AnyViewer) -> Response:
    with page.reading() as uow:
        report = transparency_report(uow.session, page.subject)
    funnel_chart = bar_chart(
        [(step.label, float(step.count)) for step in report.funnel],
        title="From received to patched",
        description="; ".join(f"{s.label}: {s.count}" for s in report.funnel),
    )
    pipeline_chart = bar_chart(
        [(p.pipeline, p.rate) for p in report.pipelines],
        title="Validity rate per finder pipeline",
        description="; ".join(f"{p.pipeline}: {p.rate:.0%} of {p.decisions}" for p in report.pipelines),
        maximum=1.0,
        fmt=lambda v: f"{v:.0%}",
    )
    return page.render(
        "transparency.html",
        report=report,
        funnel_chart=funnel_chart,
        pipeline_chart=pipeline_chart,
        min_decisions=MIN_DECISIONS,
    )

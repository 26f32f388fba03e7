"""The console's routes, gathered for :func:`clearinghouse.web.install_console`."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from clearinghouse.web import (
        _auth_views,
        _coordination_views,
        _home,
        _notify_views,
        _partner_views,
        _priority_views,
        _public_views,
        _review_views,
        _triage_views,
    )

    return [
        _auth_views.router,
        _public_views.router,
        _home.router,
        _triage_views.router,
        _priority_views.router,
        _coordination_views.router,
        _partner_views.router,
        _notify_views.router,
        _review_views.router,
    ]

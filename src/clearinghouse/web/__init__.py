"""The web console: server-rendered pages for every role over the same
services and the same access policy as the HTTP API.

It owns the sign-in sessions (``models.WebSession``; ``_sessions``: argon2
passwords, server-side sessions, CSRF tokens, the sign-in rate limit), the
pages (``views`` and ``templates/``), the static files (``static/``: one
stylesheet, a small script that shows times in the viewer's zone, and htmx,
vendored from the npm package ``htmx.org``), the public transparency report
(``_transparency``) and its server-side SVG charts (``_charts``).

A page asks the policy exactly as the API does; a page or object the viewer
may not see answers with the same 404 page as one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clearinghouse.web._sessions import ensure_admin_password, set_password

if TYPE_CHECKING:
    from fastapi import FastAPI


def install_console(app: FastAPI) -> None:
    """Mount the console's pages, static files and error pages on ``app``."""
    from clearinghouse.web._app import install

    install(app)


__all__ = ["ensure_admin_password", "install_console", "set_password"]

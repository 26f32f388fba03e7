"""``/docs`` and ``/redoc`` work offline: every asset they load is served here."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.runtime import Runtime

_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def test_docs_and_redoc_reference_no_external_host(runtime: Runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        for page in ("/docs", "/redoc"):
            r = client.get(page)
            assert r.status_code == 200, page
            html = r.text
            assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html
            urls = [a or b for a, b in _URL.findall(html)]
            assert urls, page
            for url in urls:
                assert url.startswith("/"), (page, url)  # this server, no other host
                assert client.get(url).status_code == 200, (page, url)
            assert not re.search(r"https?://", html.replace("https://swagger.io", "")), page
        assert "validatorUrl" in client.get("/docs").text
        assert client.get("/api-static/swagger-ui/LICENSE").status_code == 200
        assert client.get("/api-static/redoc/LICENSE").status_code == 200

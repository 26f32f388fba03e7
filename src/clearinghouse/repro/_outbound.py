"""Outbound fetches of the lab (index pages, artifacts): http(s) with a timeout and a size cap, never
to an internal address unless the operator allows it; ``file://`` for a local mirror the operator
configured."""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clearinghouse.repro._settings import ReproSettings


class FetchError(Exception):
    pass


def check_url(url: str, *, allow_internal: bool) -> None:
    """Refuse URLs that are not http(s)/file or whose host resolves to an internal address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url!r} is not an http(s) URL")
    if allow_internal:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise FetchError(f"{parts.hostname} resolves to the internal address {address}; refused")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect target passes the same check as the first URL (never file://)."""

    def __init__(self, allow_internal: bool) -> None:
        self.allow_internal = allow_internal

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError(f"redirect to {newurl!r} refused")
        check_url(newurl, allow_internal=self.allow_internal)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_bytes(url: str, settings: ReproSettings) -> bytes:
    check_url(url, allow_internal=settings.allow_internal)
    if url.startswith("file://"):
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
        try:
            if path.stat().st_size > settings.max_fetch_bytes:
                raise FetchError(f"{url} is larger than {settings.max_fetch_bytes} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {url}: {exc.strerror}") from exc
    request = urllib.request.Request(url, headers={"User-Agent": "clearinghouse-repro/1", "Accept": "*/*"})
    try:
        opener = urllib.request.build_opener(_CheckedRedirects(settings.allow_internal))
        with opener.open(request, timeout=settings.fetch_timeout_s) as response:
            data: bytes = response.read(settings.max_fetch_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if len(data) > settings.max_fetch_bytes:
        raise FetchError(f"{url} is larger than {settings.max_fetch_bytes} bytes")
    return data


def fetch_json(url: str, settings: ReproSettings) -> Any:
    try:
        return json.loads(fetch_bytes(url, settings))
    except ValueError as exc:
        raise FetchError(f"{url} is not JSON") from exc

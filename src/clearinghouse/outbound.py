"""Outbound requests to addresses that users give us: the one guard against SSRF.

Webhooks today, model endpoints and package indexes tomorrow: whatever URL a
user can name, the server must not be turned into a client of its own
network. :func:`resolve` resolves the host **once** and refuses it unless every
address is globally routable: loopback, private, link-local (169.254.169.254,
the cloud metadata service), shared (CGNAT), multicast, reserved, unspecified
and documentation ranges are refused, including IPv4 inside IPv6 (mapped
``::ffff:a.b.c.d``, compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) and the legacy spellings of IPv4 (``2130706433``,
``0x7f000001``, ``0177.0.0.1``, ``127.1``). :func:`post` then connects to the
checked address itself (a DNS answer that changes between check and connect
cannot redirect it) while the URL's host name still goes in the ``Host``
header and TLS SNI and certificate check. Redirects are never followed.

Every request has a connect timeout, a read timeout and a **total deadline**
(a receiver trickling one byte every few seconds cannot hold a worker). An
operator allows internal receivers with ``CLEARINGHOUSE_OUTBOUND_ALLOW``
(comma-separated CIDRs and host names).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpcore

if TYPE_CHECKING:
    from clearinghouse.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class OutboundRefused(ValueError):
    """The URL names (or resolves to) an address the server must not reach, or is not a usable URL."""


class Unresolvable(OutboundRefused):
    """The host name does not resolve (now)."""


class OutboundFailed(Exception):
    """The request was allowed but did not get an answer: refused, timed out, TLS or protocol error."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Which internal addresses an operator allows, and the timeouts of every request."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = frozenset()
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        networks, hosts = parse_allow_list(settings.outbound_allow)
        return cls(
            allow_networks=networks,
            allow_hosts=hosts,
            connect_timeout=settings.outbound_connect_timeout,
            read_timeout=settings.outbound_read_timeout,
            total_timeout=settings.outbound_total_timeout,
        )

    def allows(self, host: str, address: IPAddress) -> bool:
        """Whether ``address`` (``host`` resolved to it) may be reached."""
        if forbidden_reason(address) is None:
            return True
        if host.lower().rstrip(".") in self.allow_hosts:
            return True
        return any(address.version == net.version and address in net for net in self.allow_networks)


def parse_allow_list(entries: Iterable[str]) -> tuple[tuple[IPNetwork, ...], frozenset[str]]:
    """Split an allow-list into networks (CIDRs or single addresses) and host names."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", entry):
                raise ValueError(
                    f"not a CIDR, address or host name in the outbound allow-list: {entry!r}"
                ) from None
            hosts.add(entry.lower().rstrip("."))
    return tuple(networks), frozenset(hosts)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the server must not connect to ``address`` (``None``: it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = forbidden_reason(inner)
            return None if reason is None else f"{reason} (inside an IPv6 address)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for reason, hit in checks:
        if hit:
            return reason
    if not address.is_global:
        return "non-public"
    return None


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one, in any spelling a resolver accepts (``127.1``, ``0x7f.1``)."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def _split(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("the URL must be http:// or https:// with a host")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("the URL's port is not a number from 1 to 65535") from None
    return parts.scheme, parts.hostname.lower(), port


def resolve(url: str, policy: OutboundPolicy) -> Target:
    """Resolve ``url``'s host once and check every address; the first one is where to connect."""
    scheme, host, port = _split(url)
    literal = literal_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise Unresolvable(f"the host {host!r} does not resolve") from exc
        addresses = []
        for info in infos:
            candidate = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if candidate not in addresses:
                addresses.append(candidate)
        if not addresses:
            raise Unresolvable(f"the host {host!r} does not resolve")
    for address in addresses:
        if not policy.allows(host, address):
            reason = forbidden_reason(address)
            named = host if literal is not None else f"{host} ({address})"
            raise OutboundRefused(
                f"{named} is a {reason} address; the server does not send to internal addresses"
            )
    return Target(url.strip(), scheme, host, port, str(addresses[0]))


def screen(url: str, policy: OutboundPolicy) -> str:
    """Check a URL when it is registered: refused if it names or resolves to an internal address.

    A host name that does not resolve now is accepted (it is checked again,
    resolved afresh, at every request).
    """
    with contextlib.suppress(Unresolvable):
        resolve(url, policy)
    return url.strip()


@dataclass(frozen=True)
class OutboundResponse:
    """What a request got back: the status only (the body is never read)."""

    status_code: int
    address: str
    elapsed_ms: int = field(default=0)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: OutboundPolicy,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> OutboundResponse:
    """POST ``body`` to ``url`` after :func:`resolve`, on a connection to the checked address.

    Raises :class:`OutboundRefused` (an internal address, a bad URL) or
    :class:`OutboundFailed` (no answer within the timeouts and the deadline).
    Redirects are not followed: a 3xx is an answer like any other.
    """
    target = resolve(url, policy)
    started = time.monotonic()
    deadline = started + policy.total_timeout
    backend = _PinnedBackend(target, deadline)
    request_headers = [(b"Host", target.host_header.encode())]
    request_headers += [(k.encode(), v.encode()) for k, v in headers.items() if k.lower() != "host"]
    timeouts = {
        "connect": policy.connect_timeout,
        "read": policy.read_timeout,
        "write": policy.read_timeout,
        "pool": policy.connect_timeout,
    }
    try:
        with (
            httpcore.ConnectionPool(
                ssl_context=ssl_context, network_backend=backend, max_connections=1, retries=0
            ) as pool,
            pool.stream(
                "POST", target.url, headers=request_headers, content=body, extensions={"timeout": timeouts}
            ) as response,
        ):
            status = response.status
    except httpcore.TimeoutException as exc:
        raise OutboundFailed(f"timed out ({_timeout_kind(exc, deadline)})") from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise OutboundFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    except ssl.SSLError as exc:
        raise OutboundFailed(f"TLS error: {exc}"[:300]) from exc
    return OutboundResponse(status, target.address, int((time.monotonic() - started) * 1000))


def _timeout_kind(exc: Exception, deadline: float) -> str:
    if time.monotonic() >= deadline:
        return "the total deadline passed"
    return type(exc).__name__


def _remaining(deadline: float, timeout: float | None) -> float:
    left = deadline - time.monotonic()
    return left if timeout is None else min(timeout, left)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects every request to the checked address, whatever name the request carries."""

    def __init__(self, target: Target, deadline: float) -> None:
        self._inner = httpcore.SyncBackend()
        self._target = target
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower() != self._target.host or port != self._target.port:
            raise httpcore.ConnectError("a connection to a host that was not checked")
        left = _remaining(self._deadline, timeout)
        if left <= 0:
            raise httpcore.ConnectTimeout("the total deadline passed")
        stream = self._inner.connect_tcp(
            self._target.address, port, left, local_address=local_address, socket_options=socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - never asked for (no uds= given)
        raise httpcore.ConnectError("no Unix sockets")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries=0: never sleeps
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the request's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        left = _remaining(self._deadline, timeout)
        if left <= 0:
            raise httpcore.ReadTimeout("the total deadline passed")
        return self._inner.read(max_bytes, left)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        left = _remaining(self._deadline, timeout)
        if left <= 0:
            raise httpcore.WriteTimeout("the total deadline passed")
        self._inner.write(buffer, left)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _remaining(self._deadline, timeout)
        if left <= 0:
            raise httpcore.ConnectTimeout("the total deadline passed")
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)

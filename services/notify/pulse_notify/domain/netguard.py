"""SSRF guard: which webhook URLs and resolved addresses notify may call."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit


class UnsafeTarget(ValueError):
    """A webhook target notify refuses to call."""


def check_url(url: str) -> SplitResult:
    """Validate the form of a webhook URL: http(s), a host, no credentials; return its parts."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise UnsafeTarget("the URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("URLs with credentials are not allowed")
    return parts


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if `host` is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(address: str) -> bool:
    """True unless the address is loopback, private, link-local, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_addresses(addresses: list[str]) -> None:
    """Refuse if any resolved address is not public (one bad answer is enough: DNS can rotate)."""
    if not addresses:
        raise UnsafeTarget("the host does not resolve")
    for address in addresses:
        if not is_public(address):
            raise UnsafeTarget(f"the host resolves to a non-public address ({address})")

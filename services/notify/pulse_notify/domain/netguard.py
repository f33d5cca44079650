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


NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
"""Deprecated IPv4-compatible addresses (::a.b.c.d): some stacks still route them to the IPv4 address."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries or tunnels to: mapped, 6to4 (2002::/16), Teredo, NAT64, compatible."""
    out: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if any(ip in net for net in NAT64) or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def _public_one(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def is_public(address: str) -> bool:
    """True unless the address (or an IPv4 address it embeds or tunnels to) is not public.

    Loopback, private, link-local, multicast, reserved, CGNAT and unspecified addresses are refused,
    also when reached through IPv4-mapped, 6to4 (2002::/16), Teredo (2001::/32), NAT64 (64:ff9b::/96,
    64:ff9b:1::/48) or IPv4-compatible IPv6 forms.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner:
            # Mapped, 6to4 and Teredo addresses reach the IPv4 address they carry: that address decides. Their
            # outer prefixes say nothing of the destination (Python 3.13 lists 2002::/16 as not global, 3.11 not).
            tunnel = ip.ipv4_mapped is not None or ip.sixtofour is not None or ip.teredo is not None
            return all(_public_one(v4) for v4 in inner) and (tunnel or _public_one(ip))
    return _public_one(ip)


def check_addresses(addresses: list[str]) -> None:
    """Refuse if any resolved address is not public (one bad answer is enough: DNS can rotate)."""
    if not addresses:
        raise UnsafeTarget("the host does not resolve")
    for address in addresses:
        if not is_public(address):
            raise UnsafeTarget(f"the host resolves to a non-public address ({address})")

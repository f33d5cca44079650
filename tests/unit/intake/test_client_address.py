"""The client address behind trusted proxies (pure logic)."""

from __future__ import annotations

from pulse_libs.http.security import client_address, parse_networks
from starlette.requests import Request


def _request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in forwarded]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 1234)})


PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(_request("203.0.113.5", "1.2.3.4"), ()) == "203.0.113.5"
    assert client_address(_request("203.0.113.5", "1.2.3.4"), PROXIES) == "203.0.113.5"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_counts() -> None:
    # The client wrote "6.6.6.6" itself; the ingress appended the real address it saw.
    assert client_address(_request("10.0.0.2", "6.6.6.6, 198.51.100.7"), PROXIES) == "198.51.100.7"
    assert client_address(_request("10.0.0.2", "6.6.6.6", "198.51.100.7, 10.0.0.9"), PROXIES) == "198.51.100.7"


def test_a_malformed_hop_falls_back_to_the_peer() -> None:
    assert client_address(_request("10.0.0.2", "not-an-ip"), PROXIES) == "10.0.0.2"

"""The general write rate limit on the real intake service (store and Kafka): per credential and per client
address, problem+json 429 with Retry-After, nothing stored for a refused write, another address or
credential unaffected, a spoofed X-Forwarded-For from an untrusted peer ignored, reads never limited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from .conftest import Intake, intake_settings, running_intake
from .helpers import YEN_BAI, assert_problem, report_body

PROXY = "10.9.9.9"


@pytest.fixture(scope="module")
async def limited(infra: None) -> AsyncIterator[Intake]:
    """intake with the limit on and small budgets: 5 writes per credential, 8 per address (per minute)."""
    settings = intake_settings(
        rate_limit=True,
        rate_limit_writes_per_minute=5,
        rate_limit_address_writes_per_minute=8,
        trusted_proxies=[f"{PROXY}/32"],
    )
    async with running_intake(settings, peer=PROXY) as running:
        yield running


async def test_writes_are_limited_per_credential_and_per_address(limited: Intake) -> None:
    title = f"Phản ánh tiền điện {uuid.uuid4().hex[:6]}"

    async def post(headers: dict[str, str], address: str) -> httpx.Response:
        return await limited.client.post(
            "/v1/reports", json=report_body(title=title), headers={**headers, "X-Forwarded-For": address}
        )

    async def stored() -> int:
        return int(await limited.db["reports"].count_documents({"title": title}))

    first, second, third = (limited.headers("collaborator", [YEN_BAI]) for _ in range(3))
    for _ in range(5):
        assert (await post(first, "203.0.113.7")).status_code == 201
    refused = await post(first, "203.0.113.7")
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert await stored() == 5  # the refused write changed nothing
    # Reads are not limited, even for a credential over its write budget.
    assert (await limited.client.get("/v1/reports", headers=first)).status_code == 200

    # Another credential from the same address goes on until the address's budget (8) is spent...
    assert (await post(second, "203.0.113.7")).status_code == 201
    assert (await post(second, "203.0.113.7")).status_code == 201
    assert_problem(await post(second, "203.0.113.7"), 429)
    assert_problem(await post(third, "203.0.113.7"), 429)
    # ...while a flood from that address never blocks another one.
    assert (await post(third, "198.51.100.20")).status_code == 201
    assert await stored() == 8


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(limited: Intake) -> None:
    transport = httpx.ASGITransport(app=limited.app, client=("192.0.2.50", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        codes = []
        for i in range(9):
            body = report_body(title=f"Giả mạo địa chỉ {i}")
            headers = {**limited.headers("collaborator", [YEN_BAI]), "X-Forwarded-For": f"198.18.0.{i}"}
            codes.append((await client.post("/v1/reports", json=body, headers=headers)).status_code)
    assert codes == [201] * 8 + [429]  # one address (the peer), whatever the header claims


async def test_a_trusted_proxys_own_calls_count_per_credential_only(limited: Intake) -> None:
    # The console calls for each signed-in person from its own (trusted) address, forwarding no client.
    people = [limited.headers("collaborator", [YEN_BAI]) for _ in range(5)]
    codes = [
        (
            await limited.client.post("/v1/reports", json=report_body(title=f"Qua bảng điều khiển {i}"), headers=h)
        ).status_code
        for i in range(2)
        for h in people
    ]
    assert codes == [201] * 10  # more than one address's budget (8), none over a credential's (5)

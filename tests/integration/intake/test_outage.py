"""With the store unreachable, a report is answered 503 with Retry-After (never 201, never 500)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from pulse_intake.adapters.registry_cache import RegistryCache
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.throttle import LoginThrottle
from pulse_intake.bootstrap import bootstrap
from pulse_intake.context import IntakeContext
from pulse_intake.metrics import IntakeMetrics
from pulse_libs.api_keys import ApiKeyStore
from pulse_libs.auth import issue_token
from pulse_libs.runtime import Runtime

from .conftest import intake_settings
from .helpers import YEN_BAI, assert_problem, report_body


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_store_down_answers_503_with_retry_after(infra: None) -> None:
    settings = intake_settings(mongo_url=f"mongodb://127.0.0.1:{_closed_port()}/", mongo_timeout_ms=300)
    app = bootstrap(settings)
    runtime = Runtime(settings, CollectorRegistry())  # the lifespan would wait for the store: wire by hand
    app.state.ctx = IntakeContext(
        db=runtime.db,
        store=IntakeStore.of(runtime.db),
        settings=settings,
        registry=RegistryCache(runtime.db, ttl_seconds=30),
        throttle=LoginThrottle(runtime.db, window_seconds=60, max_per_user=5, max_per_ip=5),
        metrics=IntakeMetrics.create(CollectorRegistry()),
        relay=runtime.add_outbox(["reports"]),
    )
    app.state.api_key_verifier = ApiKeyStore(runtime.db)
    token, _ = issue_token(settings, user_id="u1", username="ctv", role="collaborator", unit_codes=[YEN_BAI])
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            response = await client.post("/v1/reports", json=report_body(), headers=headers)
            assert_problem(response, 503)
            assert response.headers["Retry-After"]
            batch = await client.post("/v1/reports:batch", json={"reports": [report_body()]}, headers=headers)
            assert_problem(batch, 503)
            login = await client.post("/v1/auth/token", data={"username": "a", "password": "b"})
            assert_problem(login, 503)
    finally:
        await runtime.client.close()

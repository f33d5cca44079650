"""Security headers on every answer; in production no interactive docs and /metrics only for scrapers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from pulse_libs.settings import ServiceSettings

SECRETS = {
    "jwt_secret": "kX9-vQ2rT7wL4mZ8pB1nC6yH3dF5gJ0sA",
    "pseudonym_key": "Rt5-Yu8iO2pLk3Jh7Gf1Ds4Aq9Zx6Cv0Bn",
    "ack_secret": "Mn4-Bv7cX1zQw5Er8Ty2Ui6Op3As0Df9Gh",
}


@asynccontextmanager
async def _noop(app: FastAPI) -> AsyncIterator[None]:
    yield


def _app(settings: ServiceSettings) -> FastAPI:
    return build_app(settings, title="t", description="d", registry=CollectorRegistry(), lifespan=_noop)


async def _get(app: FastAPI, path: str, peer: str = "127.0.0.1", **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_every_answer_carries_security_headers() -> None:
    app = _app(ServiceSettings())
    for path in ("/healthz", "/v1/nothing-here"):
        response = await _get(app, path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # development is plain HTTP
    assert (await _get(app, "/docs")).status_code == 200  # development keeps the docs


async def test_production_hides_docs_and_guards_metrics() -> None:
    app = _app(ServiceSettings(env="production", host="0.0.0.0", **SECRETS))
    assert (await _get(app, "/docs")).status_code == 404
    assert (await _get(app, "/redoc")).status_code == 404
    assert (await _get(app, "/openapi.json")).status_code == 200  # the contract stays readable
    assert (await _get(app, "/metrics", peer="10.2.3.4")).status_code == 200  # the scraper, in-cluster
    assert (await _get(app, "/metrics", peer="203.0.113.9")).status_code == 404
    proxied = await _get(app, "/metrics", peer="10.2.3.4", **{"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404  # through the ingress: not a scraper
    assert "max-age" in (await _get(app, "/healthz")).headers["strict-transport-security"]


async def test_a_metrics_token_replaces_the_network_rule() -> None:
    token = "Pq7-Lm2nB8vC4xZ1aS9dF3gH6jK0wE5rT"
    app = _app(ServiceSettings(env="production", metrics_token=token, **SECRETS))
    assert (await _get(app, "/metrics", peer="10.2.3.4")).status_code == 404
    assert (await _get(app, "/metrics", peer="203.0.113.9", Authorization=f"Bearer {token}")).status_code == 200

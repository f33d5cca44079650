"""Every service's `/docs` and `/redoc` work offline: no CDN, the assets come from the service."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from pulse_libs.settings import ServiceSettings


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def client() -> httpx.AsyncClient:
    registry = CollectorRegistry()
    app = build_app(ServiceSettings(), title="Pulse test", description="d", registry=registry, lifespan=_lifespan)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s.startswith("/docs-assets/") for s in sources), sources
    assert "cdn" not in html.lower()
    assert "fonts.googleapis" not in html
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000, source


async def test_openapi_lists_no_docs_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]

"""The HTTP edge: problem+json for every error, body limits, cursors, auth dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from pulse_libs.auth import Principal, issue_token
from pulse_libs.http.pagination import decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require
from pulse_libs.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict
from pymongo.errors import ServerSelectionTimeoutError

SETTINGS = ServiceSettings(env="test", max_body_bytes=2048)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    title: str


def make_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = build_app(SETTINGS, title="t", description="d", registry=CollectorRegistry(), lifespan=lifespan)

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.get("/conflict")
    async def conflict() -> None:
        raise ProblemError(409, "Đã tồn tại.")

    @app.get("/missing")
    async def missing() -> None:
        raise not_found("Report")

    @app.get("/store-down")
    async def store_down() -> None:
        raise ServerSelectionTimeoutError("no servers")

    @app.get("/secret")
    async def secret(principal: Annotated[Principal, Depends(require("users:write"))]) -> dict[str, str]:
        return {"name": principal.name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    assert "detail" in body
    return body


async def test_validation_errors_list_fields(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/items", json={"title": {"$gt": ""}, "extra": 1}), 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert "title" in fields
    assert fields["extra"] == "unknown field"


async def test_malformed_json_and_deep_json_are_client_errors(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    assert_problem(await client.post("/items", content=b"{bad", headers=headers), 422)
    assert_problem(await client.post("/items", content=b"\xff\xfe", headers=headers), 422)
    deep = b"[" * 1500 + b"]" * 1500
    response = await client.post("/items", content=deep, headers=headers)
    assert response.status_code in (400, 413, 422)


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/items", json={"title": "x" * 5000}), 413)


async def test_problem_errors_and_store_outage(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/conflict"), 409)
    assert_problem(await client.get("/missing"), 404)
    response = await client.get("/store-down")
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    assert_problem(await client.get("/nowhere"), 404)
    assert_problem(await client.delete("/items"), 405)


async def test_unexpected_errors_are_problems_not_tracebacks(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/boom"), 500)
    assert "bug" not in str(body)


async def test_scopes_are_enforced(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/secret"), 401)
    assert_problem(await client.get("/secret", headers={"Authorization": "Bearer nope"}), 401)
    dept, _ = issue_token(SETTINGS, user_id="d", username="dept", role="department", unit_codes=[])
    assert_problem(await client.get("/secret", headers={"Authorization": f"Bearer {dept}"}), 403)
    admin, _ = issue_token(SETTINGS, user_id="a", username="quantri", role="admin", unit_codes=[])
    response = await client.get("/secret", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    assert response.json() == {"name": "quantri"}


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert (await client.get("/healthz")).headers["x-request-id"]


def test_cursors_round_trip_and_reject_garbage() -> None:
    cursor = encode_cursor({"received_at": "2026-11-26T00:00:00+00:00", "id": "r1"})
    assert decode_cursor(cursor) == {"received_at": "2026-11-26T00:00:00+00:00", "id": "r1"}
    assert decode_cursor(None) is None
    for bad in ("!!!", encode_cursor({"x": {"$gt": 1}}), "W10"):
        with pytest.raises(ProblemError):
            decode_cursor(bad)

"""One intake app (real lifespan: store, Kafka consumers, outbox relay) shared by a test module."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pulse_intake.bootstrap import bootstrap
from pulse_intake.settings import IntakeSettings
from pulse_libs.auth import Role, issue_token
from pymongo import AsyncMongoClient

KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
YEN_BAI = "04252"
VAN_PHU = "04279"
NAM_CUONG = "04273"
AU_LAU = "04543"


@dataclass
class Intake:
    """A running intake app and helpers to call it as different people."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: IntakeSettings

    def headers(self, role: Role, units: list[str] | None = None, user_id: str | None = None) -> dict[str, str]:
        """Bearer headers for a caller of `role` limited to `units`."""
        token, _ = issue_token(
            self.settings,
            user_id=user_id or f"u-{role}-{uuid.uuid4().hex[:6]}",
            username=f"{role}-tester",
            role=role,
            unit_codes=units or [],
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def db(self) -> Any:
        """The service's database (through its runtime)."""
        return self.app.state.runtime.db


def intake_settings(**overrides: Any) -> IntakeSettings:
    """Settings isolated to one module: own topic prefix and database."""
    ns = "t" + uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap": KAFKA,
        "mongo_url": MONGO,
        "kafka_topic_prefix": f"{ns}.",
        "kafka_topic_partitions": 3,
        "outbox_poll_seconds": 0.1,
        "log_json": False,
        "mongo_db": f"{ns}_intake",
    }
    values.update(overrides)
    return IntakeSettings.model_construct(**{**IntakeSettings().model_dump(), **values})


@asynccontextmanager
async def running_intake(settings: IntakeSettings, *, peer: str = "10.1.2.3") -> AsyncIterator[Intake]:
    """Run an intake app on `settings` (its client connects from `peer`); drop its database afterwards."""
    app = bootstrap(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app, client=(peer, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Intake(app=app, client=client, settings=settings)
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, serverSelectionTimeoutMS=3000)
        try:
            await mongo.drop_database(settings.mongo_db)
        finally:
            await mongo.close()


@pytest.fixture(scope="module")
async def intake(infra: None) -> AsyncIterator[Intake]:
    """Start the intake app for the module; drop its database afterwards."""
    async with running_intake(intake_settings()) as running:
        yield running

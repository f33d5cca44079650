"""A user deactivated in intake loses access on another service (triage) too, over the real Kafka and store."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pulse_triage.bootstrap import bootstrap as triage_bootstrap
from pulse_triage.settings import TriageSettings
from pymongo import AsyncMongoClient

from .conftest import MONGO
from .helpers import YEN_BAI, eventually

ADMIN = {"username": "admin", "password": "pulse-admin-dev-password"}
PASSWORD = "mat-khau-rat-dai-2026"


async def test_a_deactivated_user_is_refused_by_triage_within_60_seconds(intake: Any) -> None:
    settings = TriageSettings.model_construct(
        **{
            **TriageSettings().model_dump(),
            "env": "test",
            "kafka_bootstrap": intake.settings.kafka_bootstrap,
            "mongo_url": MONGO,
            "kafka_topic_prefix": intake.settings.kafka_topic_prefix,  # the same deployment as intake
            "kafka_topic_partitions": 3,
            "log_json": False,
            "mongo_db": intake.settings.mongo_db.replace("_intake", "_triage"),
        }
    )
    admin_token = (await intake.client.post("/v1/auth/token", data=ADMIN)).json()["access_token"]
    admin = {"Authorization": f"Bearer {admin_token}"}
    username = f"vp.{uuid.uuid4().hex[:6]}"
    created = await intake.client.post(
        "/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "full_name": "Phạm Minh Châu",
            "role": "department",
            "unit_codes": [YEN_BAI],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    signed = await intake.client.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    app = triage_bootstrap(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as triage:
                assert (await triage.get("/v1/hotspots", headers=headers)).status_code == 200
                patched = await intake.client.patch(
                    f"/v1/users/{created.json()['id']}", json={"active": False}, headers=admin
                )
                assert patched.status_code == 200
                started = time.monotonic()

                async def refused() -> bool:
                    return (await triage.get("/v1/hotspots", headers=headers)).status_code == 401

                await eventually(refused, timeout=60)
                elapsed = time.monotonic() - started
                print(f"triage refused the deactivated user's token after {elapsed:.1f} s")
                assert elapsed < 60
                other = await intake.client.post("/v1/auth/token", data=ADMIN)
                fresh_admin = {"Authorization": f"Bearer {other.json()['access_token']}"}
                # Another user's token is still authenticated (admin lacks hotspots:read: 403, not 401).
                assert (await triage.get("/v1/hotspots", headers=fresh_admin)).status_code == 403
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, serverSelectionTimeoutMS=3000)
        try:
            await mongo.drop_database(settings.mongo_db)
        finally:
            await mongo.close()

"""The one wiring point of the reporting service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.api_keys import ApiKeyStore, api_key_mirror_handlers
from pulse_libs.app import build_app
from pulse_libs.directory import attach_revocations
from pulse_libs.events.topics import ALL_TOPICS
from pulse_libs.http import audit_routes
from pulse_libs.runtime import Runtime

from pulse_reporting.adapters.projection import CounterProjector
from pulse_reporting.adapters.queries import Queries
from pulse_reporting.adapters.readmodels import INDEXES, ReadModels
from pulse_reporting.entrypoints.consumers import ProjectionBatch, ProjectionMetrics, projection_handlers
from pulse_reporting.entrypoints.http import router
from pulse_reporting.settings import ReportingSettings


def bootstrap(settings: ReportingSettings | None = None, **overrides: Any) -> FastAPI:
    """Build the reporting app; connections open in its lifespan, never at import."""
    settings = settings or ReportingSettings()
    registry = CollectorRegistry()
    metrics = ProjectionMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, registry)
        attach_revocations(runtime, app)  # refuse revoked tokens (intake's directory)
        projector = CounterProjector(
            runtime.db, tz=ZoneInfo(settings.timezone), takeover_seconds=settings.move_takeover_seconds
        )
        handlers = dict(projection_handlers(projector=projector, models=ReadModels(runtime.db), metrics=metrics))
        handlers.update(api_key_mirror_handlers(runtime.db))
        batch = ProjectionBatch(projector=projector, handlers=handlers, metrics=metrics)
        runtime.add_consumer(
            settings.consumer_group,
            list(ALL_TOPICS),
            handlers,
            batch_handler=batch,
            batch_types=batch.types,
            exclusive_seconds=settings.projection_lease_seconds,
        )
        app.state.runtime = runtime
        app.state.queries = overrides.get("queries") or Queries(runtime.db)
        app.state.api_key_verifier = ApiKeyStore(runtime.db)
        app.state.readiness = runtime.readiness()
        await runtime.start(indexes=INDEXES)
        try:
            yield
        finally:
            await runtime.stop()

    return build_app(
        settings,
        title="Pulse reporting",
        description="Live statistics, Decree 09 reporting periods and the periodic briefing reports.",
        registry=registry,
        lifespan=lifespan,
        routers=[router, audit_routes.router],
    )

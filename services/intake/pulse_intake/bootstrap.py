"""The one wiring point of the intake service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from pulse_libs.api_keys import ApiKeyStore
from pulse_libs.app import build_app
from pulse_libs.directory import attach_revocations
from pulse_libs.events.topics import TRIAGE_DECISIONS, TRIAGE_ESCALATIONS
from pulse_libs.http import audit_routes
from pulse_libs.http.problems import problem_response, validation_errors
from pulse_libs.runtime import Runtime

from pulse_intake.adapters.passwords import limit_concurrent_hashes
from pulse_intake.adapters.registry_cache import RegistryCache
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.store import INDEXES, OUTBOX_COLLECTIONS
from pulse_intake.adapters.throttle import LoginThrottle
from pulse_intake.context import IntakeContext
from pulse_intake.entrypoints import agencies, campaigns, open311, people, registry, reports, zalo
from pulse_intake.handlers.agencies import seed_agencies
from pulse_intake.handlers.projection import projection_handlers
from pulse_intake.handlers.seed import seed_admin, seed_registry
from pulse_intake.metrics import IntakeMetrics
from pulse_intake.settings import IntakeSettings

log = logging.getLogger(__name__)

ROUTERS: tuple[APIRouter, ...] = (
    people.router,
    agencies.router,
    registry.router,
    reports.router,
    campaigns.router,
    open311.router,
    zalo.router,
    audit_routes.router,
)


def bootstrap(settings: IntakeSettings | None = None, **overrides: Any) -> FastAPI:
    """Build the intake app; connections open in its lifespan, never at import."""
    settings = settings or IntakeSettings()
    registry_ = CollectorRegistry()
    metrics = IntakeMetrics.create(registry_)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, registry_)
        relay = runtime.add_outbox(OUTBOX_COLLECTIONS)
        store = IntakeStore.of(runtime.db)
        runtime.add_consumer(
            "intake-status", [TRIAGE_DECISIONS, TRIAGE_ESCALATIONS], projection_handlers(store.reports)
        )
        throttle = LoginThrottle(
            runtime.db,
            window_seconds=settings.login_window_seconds,
            max_per_user=settings.login_max_failures_per_user,
            max_per_ip=settings.login_max_failures_per_ip,
        )

        async def sweep(stopping: asyncio.Event) -> None:
            await throttle.sweep_loop(stopping, settings.throttle_sweep_seconds)

        runtime.add_loop("login-throttle-sweeper", sweep)
        attach_revocations(runtime, app)
        limit_concurrent_hashes(settings.max_concurrent_hashes)
        app.state.runtime = runtime
        app.state.readiness = runtime.readiness()
        app.state.api_key_verifier = ApiKeyStore(runtime.db)
        app.state.ctx = IntakeContext(
            db=runtime.db,
            store=store,
            settings=settings,
            registry=RegistryCache(runtime.db, ttl_seconds=settings.registry_cache_seconds),
            throttle=throttle,
            metrics=metrics,
            relay=relay,
        )
        await runtime.start(indexes=INDEXES)
        await store.reports.backfill_hotspot_ids()  # once per store: see Reports.backfill_hotspot_ids
        first_admin = settings.first_admin
        if first_admin is not None:
            await seed_admin(store=store, username=first_admin[0], password=first_admin[1])
        if settings.seed_registry:
            changed = await seed_registry(store=store, province=settings.registry_province)
            if changed:
                relay.kick()
            log.info("registry seeded", extra={"changed": changed})
            agencies_created = await seed_agencies(store=store)
            if agencies_created:
                relay.kick()
            log.info("agencies seeded", extra={"agencies_created": agencies_created})
        try:
            yield
        finally:
            await runtime.stop()

    app = build_app(
        settings,
        title="Pulse intake",
        description="Reports from collaborators and provincial systems; registries, orientations, surveys, Open311.",
        registry=registry_,
        lifespan=lifespan,
        routers=ROUTERS,
    )
    open311.install(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The shared problem+json answer, plus the rejected-report metric operators alert on.
        if request.url.path.startswith("/v1/reports"):
            metrics.rejected.labels("validation").inc()
        return problem_response(
            422, "The request is not valid; see errors.", errors=validation_errors(exc), instance=request.url.path
        )

    return app

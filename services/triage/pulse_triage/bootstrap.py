"""The one wiring point of the triage service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from pulse_libs.api_keys import ApiKeyStore
from pulse_libs.app import build_app
from pulse_libs.claims import Lease
from pulse_libs.directory import attach_revocations
from pulse_libs.events.topics import INTAKE_DIRECTORY, INTAKE_REGISTRY, INTAKE_REPORTS
from pulse_libs.http import audit_routes
from pulse_libs.http.problems import problem_response
from pulse_libs.runtime import Runtime
from pymongo import IndexModel

from pulse_triage.adapters.directives import (
    DIRECTIVE_INDEXES,
    MongoAgencies,
    MongoCounters,
    MongoDirectives,
    StoreOutbox,
)
from pulse_triage.adapters.store import HOTSPOTS, INDEXES, OUTBOX_COLLECTIONS, TriageStore
from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.entrypoints.api import ack_links, admin, directives, escalations, hotspot_edits, reads, reviews
from pulse_triage.entrypoints.consumers import (
    REGISTRY_GROUP,
    REPORT_BATCH_TYPES,
    REPORTS_GROUP,
    registry_handlers,
    report_batch_handler,
    report_handlers,
)
from pulse_triage.handlers.directives import (
    AGENCIES_GROUP,
    DirectiveMetrics,
    DirectiveService,
    directory_handlers,
    overdue_loop,
)
from pulse_triage.handlers.escalations import scheduler_loop
from pulse_triage.handlers.upkeep import gauges_loop, silence_sweeper
from pulse_triage.metrics import TriageMetrics
from pulse_triage.settings import TriageSettings

DESCRIPTION = (
    "Classifies reports, scores urgency (routine, urgent, very_urgent, flash), groups them into hot spots "
    "and escalates hot spots level by level to the Standing Committee until someone acknowledges."
)


def merge_indexes(*specs: Mapping[str, Sequence[IndexModel]]) -> dict[str, list[IndexModel]]:
    """Index specs per collection from several modules (libs' claim locks and leases may be in more than one);
    an index name seen twice is created once."""
    merged: dict[str, dict[str, IndexModel]] = {}
    for spec in specs:
        for collection, models in spec.items():
            for model in models:
                merged.setdefault(collection, {}).setdefault(str(model.document["name"]), model)
    return {collection: list(models.values()) for collection, models in merged.items()}


def bootstrap(settings: TriageSettings | None = None, **overrides: Any) -> FastAPI:
    """Build the triage app; connections open in its lifespan, never at import."""
    settings = settings or TriageSettings()
    registry = CollectorRegistry()
    metrics = TriageMetrics.create(registry)
    directive_metrics = DirectiveMetrics.create(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, registry)
        attach_revocations(runtime, app)  # refuse revoked tokens (intake's directory)
        store = TriageStore(runtime.db)
        relay = runtime.add_outbox(OUTBOX_COLLECTIONS)
        ctx = TriageContext(settings=settings, store=store, metrics=metrics, kick=relay.kick, **overrides)
        app.state.runtime = runtime
        app.state.ctx = ctx
        app.state.readiness = runtime.readiness()
        app.state.api_key_verifier = ApiKeyStore(runtime.db)
        # libs namespaces the group ids with the topic prefix.
        runtime.add_consumer(
            REPORTS_GROUP,
            [INTAKE_REPORTS],
            report_handlers(ctx),
            batch_handler=report_batch_handler(ctx),
            batch_types=REPORT_BATCH_TYPES,
        )
        runtime.add_consumer(REGISTRY_GROUP, [INTAKE_REGISTRY], registry_handlers(ctx))

        def loop(fn: Any) -> Any:
            async def run(stopping: asyncio.Event) -> None:
                await fn(ctx, stopping)

            return run

        runtime.add_loop("escalation-scheduler", loop(scheduler_loop))
        runtime.add_loop("triage-gauges", loop(gauges_loop))
        runtime.add_loop("silence-sweeper", loop(silence_sweeper))
        app.state.directives = directive_service = DirectiveService(
            directives=MongoDirectives(runtime.db),
            agencies=MongoAgencies(runtime.db),
            counters=MongoCounters(runtime.db, ctx.owner),
            outbox=StoreOutbox(store),
            hotspot=lambda hotspot_id: store.get(HOTSPOTS, hotspot_id),
            remind_cap_seconds=settings.directive_remind_before_seconds,
            lease=Lease(
                runtime.db, "directive-overdue", holder=ctx.owner, ttl=timedelta(seconds=settings.lease_seconds)
            ),
            interval_seconds=settings.scheduler_interval_seconds,
            now=lambda: ctx.now(),
            kick=relay.kick,
            metrics=directive_metrics,
        )
        runtime.add_consumer(AGENCIES_GROUP, [INTAKE_DIRECTORY], directory_handlers(directive_service))
        runtime.add_loop("directive-overdue", lambda stopping: overdue_loop(directive_service, stopping))
        await runtime.start(indexes=merge_indexes(INDEXES, DIRECTIVE_INDEXES))
        try:
            yield
        finally:
            await runtime.stop()

    app = build_app(
        settings,
        title="Pulse triage",
        description=DESCRIPTION,
        registry=registry,
        lifespan=lifespan,
        # reviews first: /v1/triage/reviews must win over /v1/triage/{report_id}.
        routers=[
            reviews.router,
            reads.router,
            hotspot_edits.router,
            escalations.router,
            ack_links.router,
            directives.router,
            admin.router,
            audit_routes.router,
        ],
    )

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(404, f"The {exc} was not found.", instance=request.url.path)

    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(409, str(exc), instance=request.url.path)

    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    return app

"""The one wiring point of the notify service."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.api_keys import ApiKeyStore
from pulse_libs.app import build_app
from pulse_libs.directory import attach_revocations
from pulse_libs.http import audit_routes
from pulse_libs.runtime import Runtime

from pulse_notify.adapters import audit, deliveries, directory, timers, zalo
from pulse_notify.adapters.channels import WebhookChannel, build_channels
from pulse_notify.adapters.templates import Renderer
from pulse_notify.entrypoints import api_deliveries, api_recipients, api_rotas, api_webhooks
from pulse_notify.entrypoints.consumers import register_consumers
from pulse_notify.entrypoints.deps import Services
from pulse_notify.entrypoints.worker import DeliveryWorker, pending_gauge_loop
from pulse_notify.handlers import Notifier
from pulse_notify.metrics import NotifyMetrics
from pulse_notify.settings import NotifySettings

log = logging.getLogger(__name__)

TAGS = [
    {"name": "recipients", "description": "Who receives escalations, orientations and bulletins, and how."},
    {"name": "webhooks", "description": "Outbound event subscriptions, signed per Standard Webhooks."},
    {"name": "deliveries", "description": "One delivery per (notice, recipient, channel): state, attempts, errors."},
    {"name": "bulletins", "description": "Thematic bulletins fanned out to collaborators."},
    {"name": "rotas", "description": "The duty officers' on-call rota (who level 1 pages)."},
    {"name": "channels", "description": "Channel credentials kept in the store (the Zalo OA token)."},
    {"name": "audit", "description": "The tamper-evident audit log of this service (hash-chained)."},
]


def bootstrap(settings: NotifySettings | None = None, **overrides: Any) -> FastAPI:
    """Build the notify app; connections open in its lifespan, never at import."""
    settings = settings or NotifySettings()
    registry = CollectorRegistry()
    metrics = NotifyMetrics.create(registry)
    renderer = Renderer(sms_accent_free=settings.sms_accent_free, sms_max_segments=settings.sms_max_segments)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, registry)
        attach_revocations(runtime, app)  # refuse revoked tokens (intake's directory)
        app.state.runtime = runtime
        app.state.readiness = runtime.readiness()
        app.state.api_key_verifier = ApiKeyStore(runtime.db)
        client = httpx.AsyncClient(timeout=settings.send_timeout_seconds, follow_redirects=False, trust_env=False)
        tokens = zalo.ZaloTokens(runtime.db, settings, client, metrics)
        channels = overrides.get("channels") or build_channels(settings, client, tokens)
        store = deliveries.DeliveryStore(runtime.db)
        people = directory.Directory(runtime.db)
        directive_timers = timers.DirectiveTimers(runtime.db)
        relay = runtime.add_outbox([deliveries.COLLECTION])
        worker = DeliveryWorker(
            settings=settings, store=store, directory=people, channels=channels, metrics=metrics, on_outbox=relay.kick
        )
        notifier = Notifier(
            settings=settings,
            directory=people,
            deliveries=store,
            renderer=renderer,
            on_recorded=worker.kick,
            metrics=metrics,
            timers=directive_timers,
        )
        register_consumers(runtime, notifier)
        runtime.add_loop("delivery-worker", worker.run)
        runtime.add_loop(
            "pending-gauge",
            functools.partial(
                pending_gauge_loop,
                store=store,
                metrics=metrics,
                every=settings.pending_gauge_seconds,
                directory=people,
                tokens=tokens,
            ),
        )
        runtime.every(
            "directive-timers",
            settings.timers_poll_seconds,
            functools.partial(directive_timers.fire_due, notifier.remind_directive),
        )
        webhook_channel = channels["webhook"]
        assert isinstance(webhook_channel, WebhookChannel)
        app.state.notify = Services(
            settings=settings,
            directory=people,
            deliveries=store,
            notifier=notifier,
            webhooks=webhook_channel,
            zalo_tokens=tokens,
            db=runtime.db,
        )
        await runtime.start(
            indexes={
                deliveries.COLLECTION: deliveries.INDEXES,
                deliveries.CLAIMS: deliveries.CLAIM_INDEXES,
                **directory.INDEXES,
                **zalo.INDEXES,
                **timers.INDEXES,
                **audit.INDEXES,
            }
        )
        await tokens.bootstrap()
        try:
            yield
        finally:
            await runtime.stop()
            await client.aclose()

    return build_app(
        settings,
        title="Pulse notify",
        description="Delivers escalations, orientations and bulletins over Zalo OA, SMS, email and signed webhooks.",
        registry=registry,
        lifespan=lifespan,
        routers=[
            api_recipients.router,
            api_webhooks.router,
            api_deliveries.router,
            api_rotas.router,
            audit_routes.router,
        ],
        openapi_tags=TAGS,
    )

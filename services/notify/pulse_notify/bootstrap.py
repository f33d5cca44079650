"""The one wiring point of the notify service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from pulse_libs.runtime import Runtime

from pulse_notify.settings import NotifySettings


def bootstrap(settings: NotifySettings | None = None, **overrides: Any) -> FastAPI:
    """Build the notify app; connections open in its lifespan, never at import."""
    settings = settings or NotifySettings()
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, registry)
        app.state.runtime = runtime
        app.state.readiness = runtime.readiness()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return build_app(
        settings,
        title="Pulse notify",
        description="Delivers escalations, orientations and bulletins over Zalo OA, SMS, email and signed webhooks.",
        registry=registry,
        lifespan=lifespan,
    )

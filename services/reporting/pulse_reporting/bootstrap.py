"""The one wiring point of the reporting service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from pulse_libs.runtime import Runtime

from pulse_reporting.settings import ReportingSettings


def bootstrap(settings: ReportingSettings | None = None, **overrides: Any) -> FastAPI:
    """Build the reporting app; connections open in its lifespan, never at import."""
    settings = settings or ReportingSettings()
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
        title="Pulse reporting",
        description="Live statistics, Decree 09 reporting periods and the periodic briefing reports.",
        registry=registry,
        lifespan=lifespan,
    )

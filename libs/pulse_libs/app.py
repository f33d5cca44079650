"""The FastAPI application shell every service shares: middleware, problem handlers, health routes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from pulse_libs.auth import TokenVerifier
from pulse_libs.http.docs import install_local_docs
from pulse_libs.http.limits import BodyLimitMiddleware
from pulse_libs.http.openapi import install_problem_openapi, operation_id, package_version
from pulse_libs.http.problems import install_problem_handlers
from pulse_libs.http.ratelimit import RateLimiter, RateLimitMiddleware
from pulse_libs.http.security import SecurityHeadersMiddleware, parse_networks
from pulse_libs.observability import (
    HttpMetrics,
    ReadinessCheck,
    RequestContextMiddleware,
    health_router,
)
from pulse_libs.settings import ServiceSettings


def build_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    registry: CollectorRegistry,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter] = (),
    body_limit_overrides: dict[str, int] | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    openapi_skip_prefixes: tuple[str, ...] = ("/open311/",),
) -> FastAPI:
    """Assemble a service app; the lifespan must set `app.state.readiness` to its checks."""
    app = FastAPI(
        title=title,
        description=description,
        version=package_version(settings.service_name),
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.token_verifier = TokenVerifier(settings)
    app.state.readiness = {}
    install_problem_handlers(app)
    install_problem_openapi(app, skip_prefixes=openapi_skip_prefixes)
    install_local_docs(app)

    def checks() -> dict[str, ReadinessCheck]:
        return dict(app.state.readiness)

    app.include_router(health_router(registry, checks))
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, overrides=body_limit_overrides)
    if settings.rate_limited:  # outside the body limit: refused before any body is read
        app.add_middleware(
            RateLimitMiddleware,
            per_credential=RateLimiter(limit=settings.rate_limit_writes_per_minute, period=60),
            per_address=RateLimiter(limit=settings.rate_limit_address_writes_per_minute, period=60),
            trusted_proxies=parse_networks(settings.trusted_proxies),
        )
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    app.add_middleware(
        SecurityHeadersMiddleware,
        production=settings.production,
        metrics_networks=parse_networks(settings.metrics_networks),
        metrics_token=settings.metrics_token,
    )
    return app

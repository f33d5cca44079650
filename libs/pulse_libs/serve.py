"""Run a service process: JSON logs, then uvicorn with the consumers and loops in the app's lifespan."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from pulse_libs.observability import configure_logging
from pulse_libs.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(settings: S, bootstrap: Callable[[S], FastAPI]) -> None:
    """Start the HTTP server; SIGTERM drains requests, stops consumers and flushes the producer."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    logging.getLogger("pulse.serve").warning(settings.startup_notice())
    uvicorn.run(
        bootstrap(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )

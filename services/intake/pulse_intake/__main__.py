"""Run the intake service: `python -m pulse_intake`."""

from __future__ import annotations

import uvicorn
from pulse_libs.observability import configure_logging

from pulse_intake.bootstrap import bootstrap
from pulse_intake.settings import IntakeSettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    settings = IntakeSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(
        bootstrap(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()

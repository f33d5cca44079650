"""Run the triage service: `python -m pulse_triage`."""

from __future__ import annotations

import uvicorn
from pulse_libs.observability import configure_logging

from pulse_triage.bootstrap import bootstrap
from pulse_triage.settings import TriageSettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    settings = TriageSettings()
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

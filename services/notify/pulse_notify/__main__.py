"""Run the notify service: `python -m pulse_notify`."""

from __future__ import annotations

from pulse_libs.serve import serve

from pulse_notify.bootstrap import bootstrap
from pulse_notify.settings import NotifySettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    serve(NotifySettings(), bootstrap)


if __name__ == "__main__":
    main()

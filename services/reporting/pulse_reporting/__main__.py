"""Run the reporting service: `python -m pulse_reporting`."""

from __future__ import annotations

from pulse_libs.serve import serve

from pulse_reporting.bootstrap import bootstrap
from pulse_reporting.settings import ReportingSettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    serve(ReportingSettings(), bootstrap)


if __name__ == "__main__":
    main()

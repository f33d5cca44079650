"""Run the intake service: `python -m pulse_intake`."""

from __future__ import annotations

from pulse_libs.serve import serve

from pulse_intake.bootstrap import bootstrap
from pulse_intake.settings import IntakeSettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    serve(IntakeSettings(), bootstrap)


if __name__ == "__main__":
    main()

"""Run the triage service: `python -m pulse_triage`."""

from __future__ import annotations

from pulse_libs.serve import serve

from pulse_triage.bootstrap import bootstrap
from pulse_triage.settings import TriageSettings


def main() -> None:
    """Start the HTTP server with the consumers and loops in its lifespan."""
    serve(TriageSettings(), bootstrap)


if __name__ == "__main__":
    main()

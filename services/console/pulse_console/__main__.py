"""Run the console: `python -m pulse_console`."""

from __future__ import annotations

from pulse_libs.serve import serve

from pulse_console.bootstrap import bootstrap
from pulse_console.settings import ConsoleSettings


def main() -> None:
    """Start the HTTP server."""
    serve(ConsoleSettings(), bootstrap)


if __name__ == "__main__":
    main()

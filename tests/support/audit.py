"""Run `python -m pulse_libs.audit verify` on one database, as an operator would."""

from __future__ import annotations

import subprocess
import sys


def verify_cli(mongo_url: str, db: str) -> subprocess.CompletedProcess[str]:
    """The verify command's result (exit status 0: every chain intact, 1: one is broken)."""
    return subprocess.run(
        [sys.executable, "-m", "pulse_libs.audit", "verify", "--mongo-url", mongo_url, "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

"""`make bench`: run every benchmark module and write docs/BENCHMARKS.md.

Each `benchmarks/bench_<name>.py` exposes `main() -> str` returning a Markdown
section; this runner adds the machine, the date and the command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """Describe the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return (
        f"- Machine: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}; Kafka 4.4.0 (KRaft, single node) and FerretDB 1.24.2 on PostgreSQL"
        " (a private test cluster, fsync off) on loopback, everything on the same machine\n"
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; commit {commit}\n"
        "- Command: `make bench` (or `uv run python -m benchmarks.run`)\n"
    )


def main() -> int:
    """Run the benchmarks (all, or those named) and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark names (bench_<name>.py); default: all")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    names = args.names or sorted(p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py"))
    sections = []
    failed = False
    for name in ["baseline", *names]:
        module_name = "benchmarks.baseline" if name == "baseline" else f"benchmarks.bench_{name}"
        print(f"running {module_name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            section = importlib.import_module(module_name).main()
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            failed = True
            traceback.print_exc()
            section = f"## {name}\n\nFAILED in this run: see the command output.\n"
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        sections.append(section.strip() + "\n")
    text = "# Pulse benchmarks\n\n" + machine() + "\n" + "\n".join(sections)
    args.out.write_text(text)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

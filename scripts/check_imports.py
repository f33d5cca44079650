"""STYLE.md's import rules, checked over services/*/pulse_*/ (run by `make lint`).

`domain` imports neither pydantic, fastapi, pymongo nor aiokafka; `handlers` and `entrypoints`
never import pymongo (repositories in adapters/ are the only code that knows the store); no
service imports another. KNOWN lists the files still waiting to move their store access into
adapters/: they may not gain new violations of other kinds, and the list may only shrink (a file
on it that no longer violates fails the check, so it is taken off).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / f"pulse_{p.name}").is_dir())
FORBIDDEN = {
    "domain": {"pydantic", "fastapi", "pymongo", "aiokafka", "starlette", "motor"},
    "handlers": {"pymongo", "motor"},
    "entrypoints": {"pymongo", "motor"},
}


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


KNOWN = {
    "services/intake/pulse_intake/entrypoints/open311.py",
    "services/intake/pulse_intake/handlers/agencies.py",
    "services/intake/pulse_intake/handlers/campaigns.py",
    "services/intake/pulse_intake/handlers/open311.py",
    "services/intake/pulse_intake/handlers/people.py",
    "services/intake/pulse_intake/handlers/reports.py",
    "services/intake/pulse_intake/handlers/seed.py",
    "services/intake/pulse_intake/handlers/zalo.py",
}


def main() -> int:
    problems = []
    known_hit: set[str] = set()
    for service in SERVICES:
        pkg = ROOT / "services" / service / f"pulse_{service}"
        others = {f"pulse_{s}" for s in SERVICES if s != service}
        for path in sorted(pkg.rglob("*.py")):
            rel = path.relative_to(pkg).parts
            layer = rel[0].removesuffix(".py") if rel else ""
            for line, name in imports(path):
                top = name.split(".")[0]
                if top in others:
                    problems.append(f"{path.relative_to(ROOT)}:{line}: imports another service ({name})")
                if top in FORBIDDEN.get(layer, ()):
                    rel_path = str(path.relative_to(ROOT))
                    if rel_path in KNOWN and top in {"pymongo", "motor"}:
                        known_hit.add(rel_path)
                        continue
                    problems.append(f"{rel_path}:{line}: {layer} must not import {top}")
    for stale in sorted(KNOWN - known_hit):
        if (ROOT / stale).exists():
            problems.append(f"{stale}: no longer violates; remove it from KNOWN in scripts/check_imports.py")
    for p in problems:
        print(p)
    print(f"import rules: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

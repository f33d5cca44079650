"""STYLE.md's import rules, checked over services/*/pulse_*/ (run by `make lint`).

`domain` imports neither pydantic, fastapi, pymongo nor aiokafka; `handlers` and `entrypoints`
never import pymongo and hold no collection names (repositories in adapters/ are the only code that
knows the store: no `db[...]` and no name imported from `adapters/store.py`, where the collection
names live, outside adapters/ and bootstrap.py); no service imports another. KNOWN_COLLECTIONS lists
the files still waiting to move their store access into adapters/: the list may only shrink (a file
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


def collection_access(path: Path, package: str) -> list[tuple[int, str]]:
    """Where the file indexes a database (`db[...]`) or imports from its service's adapters/store.py."""
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == f"{package}.adapters.store":
            out.append((node.lineno, "imports collection names from adapters/store.py"))
        elif isinstance(node, ast.Subscript):
            target = node.value
            name = (
                target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
            )
            if name in {"db", "_db", "database"}:
                out.append((node.lineno, "indexes the database (db[...])"))
    return out


KNOWN_COLLECTIONS = {
    "services/triage/pulse_triage/handlers/hotspot_edits.py",
    "services/triage/pulse_triage/handlers/parents.py",  # written before this rule landed
    "services/triage/pulse_triage/handlers/reviews.py",
    "services/triage/pulse_triage/handlers/triage.py",
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
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {layer} must not import {top}")
            if layer in ("handlers", "entrypoints"):
                rel_path = str(path.relative_to(ROOT))
                for line, what in collection_access(path, f"pulse_{service}"):
                    if rel_path in KNOWN_COLLECTIONS:
                        known_hit.add(rel_path)
                    else:
                        problems.append(f"{rel_path}:{line}: {layer} {what}; use a repository in adapters/")
    for stale in sorted(KNOWN_COLLECTIONS - known_hit):
        if (ROOT / stale).exists():
            problems.append(
                f"{stale}: no longer violates; remove it from KNOWN_COLLECTIONS in scripts/check_imports.py"
            )
    for p in problems:
        print(p)
    print(f"import rules: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

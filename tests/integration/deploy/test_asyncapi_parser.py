"""docs/events/asyncapi.yaml passes the official AsyncAPI parser (tools/asyncapi, installed from its lockfile)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tools" / "asyncapi"


@pytest.fixture(scope="module")
def validator() -> Path:
    """tools/asyncapi with its node_modules (`npm ci` from package-lock.json when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are required (Debian: apt-get install nodejs npm)")
    if not (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=TOOL, check=True, timeout=600)
    return TOOL / "validate.mjs"


def _validate(validator: Path, document: Path) -> subprocess.CompletedProcess[str]:
    command = ["node", str(validator), str(document), "--strict"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_checked_in_document_is_valid(validator: Path) -> None:
    result = _validate(validator, ROOT / "docs" / "events" / "asyncapi.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "AsyncAPI 3.0.0" in result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_the_parser_catches_a_broken_reference(validator: Path, tmp_path: Path) -> None:
    text = (ROOT / "docs" / "events" / "asyncapi.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(text.replace("#/components/schemas/CloudEventHeaders", "#/components/schemas/Missing"))
    result = _validate(validator, broken)
    assert result.returncode == 1
    assert "invalid-ref" in result.stdout

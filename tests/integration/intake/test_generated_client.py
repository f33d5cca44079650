"""intake's OpenAPI document is usable as is: a Python client generated from it by openapi-python-client signs in,
submits a report and reads it back over HTTP against the running intake (real store and Kafka)."""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pulse_intake.settings import DEV_ADMIN_PASSWORD, DEV_ADMIN_USERNAME

from tests.support.serve import serve_http

from .helpers import YEN_BAI, count


@pytest.fixture(scope="module")
async def generated(intake: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """Generate a client package from the served /openapi.json; yield its import name."""
    root = tmp_path_factory.mktemp("client")
    spec = (await intake.client.get("/openapi.json")).json()
    (root / "openapi.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    name = "pulse_intake_client_" + uuid.uuid4().hex[:6]
    command = [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path",
               str(root / "openapi.json"), "--meta", "none", "--output-path", str(root / name)]  # fmt: skip
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=300, check=False)
    result = await asyncio.to_thread(run, command)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout, result.stdout  # every operation and response was understood
    sys.path.insert(0, str(root))
    try:
        yield name
    finally:
        sys.path.remove(str(root))


def _module(package: str, path: str) -> ModuleType:
    return importlib.import_module(f"{package}.{path}")


async def test_a_generated_client_signs_in_submits_and_reads_a_report(intake: Any, generated: str) -> None:
    client_mod = _module(generated, "client")
    token_op = _module(generated, "api.people.auth_token")
    submit = _module(generated, "api.reports.reports_submit")
    get = _module(generated, "api.reports.reports_get")
    models = _module(generated, "models")
    before = await count(intake.db, "reports")
    async with serve_http(intake.app) as url:
        anonymous = client_mod.Client(base_url=url)
        signed = await token_op.asyncio(
            client=anonymous, body=models.BodyAuthToken(username=DEV_ADMIN_USERNAME, password=DEV_ADMIN_PASSWORD)
        )
        assert isinstance(signed, models.TokenOut), signed
        assert signed.token_type == "bearer"
        officer = intake.headers("department")["Authorization"].removeprefix("Bearer ")
        client = client_mod.AuthenticatedClient(base_url=url, token=officer)
        body = models.ReportCreate.from_dict(
            {
                "unit_code": YEN_BAI,
                "channel": "hotline",
                "title": "Người dân phản ánh nước sinh hoạt đục",
                "content": "Nhiều hộ tổ 7 phường Yên Bái phản ánh nước máy có màu vàng đục ba ngày nay.",
                "observed_at": "2026-11-20T08:30:00+07:00",
                "topic_codes": ["moi-truong"],
                "people_count": 30,
            }
        )
        response = await submit.asyncio_detailed(client=client, body=body, idempotency_key="gen-client-1")
        assert response.status_code == 201, response.content
        created = response.parsed
        assert isinstance(created, models.ReportOut)
        assert created.status.value == "received"
        again = await get.asyncio(client=client, report_id=created.id)
        assert isinstance(again, models.ReportOut)
        assert again.title == "Người dân phản ánh nước sinh hoạt đục"
        assert again.people_count == 30
        bad = await submit.asyncio_detailed(
            client=client, body=models.ReportCreate.from_dict({**body.to_dict(), "unit_code": "99999"})
        )
        assert bad.status_code == 422
        assert isinstance(bad.parsed, models.Problem)
    assert await count(intake.db, "reports") == before + 1

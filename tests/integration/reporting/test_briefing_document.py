"""The briefing as a department files it: DOCX form (36-HD/VPTW), charts, directives, forecast; XLSX; a real render.

Runs through real Kafka and the real store. The render test converts the DOCX with LibreOffice
headless and poppler (`scripts/ensure-office.sh` installs them); it fails, never skips, without them.
With `PULSE_WRITE_BRIEFING_PNG=1` it also writes page 1 to docs/briefing-page1.png.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pulse_libs.events.intake as intake
import pytest
from docx import Document
from docx.shared import Mm, Pt
from openpyxl import load_workbook
from pulse_libs.clock import utcnow
from pulse_libs.events import topics
from pymongo import AsyncMongoClient

from tests.integration.reporting.helpers import (
    AU_LAU,
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Published,
    Reporting,
    agency,
    at,
    directive,
    escalation,
    hotspot,
    registry_events,
    reporting_settings,
    running,
    submitted,
    triaged,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OUTCOME = "Đã tổ chức đối thoại, công khai giá bồi thường; người dân đồng tình với phương án."
UNIT_CYCLE = [YEN_BAI, YEN_BAI, VAN_PHU, NAM_CUONG, YEN_BAI, AU_LAU]
TOPIC_CYCLE = ["dat_dai", "dat_dai", "gpmb", "giam_ngheo", "dat_dai"]
SENTIMENT_CYCLE = ["negative", "negative", "neutral", "positive", "negative", "mixed", "neutral", "negative"]
CURRENT = 48
"""Reports in 2026-10 (15 Sep – 14 Oct 2026) besides the two placed on the 20th of a month."""
PREVIOUS = 30
YEAR_AGO = 20


def _reports(out: Published, prefix: str, count: int, first_day: str, urgency: str) -> list[dict[str, str]]:
    """`count` reports spread over 30 days from `first_day`, cycling units, topics and sentiments."""
    made = []
    start = at(first_day)
    for i in range(count):
        observed = start + timedelta(days=(i * 29) // max(1, count - 1), hours=i % 5)
        unit = UNIT_CYCLE[i % len(UNIT_CYCLE)]
        topic = TOPIC_CYCLE[i % len(TOPIC_CYCLE)]
        sentiment = SENTIMENT_CYCLE[i % len(SENTIMENT_CYCLE)]
        rid = f"{prefix}{i}"
        submitted(
            out, rid, unit=unit, observed=observed, topics_=[topic], sentiment=sentiment, reporter=f"u-ctv-{i % 7}"
        )
        triaged(out, rid, unit=unit, observed=observed, urgency=urgency if i % 4 else "urgent", topics_=[topic])
        made.append({"unit": unit, "topic": topic, "sentiment": sentiment})
    return made


def document_events() -> tuple[Published, list[dict[str, str]]]:
    out = Published()
    registry_events(out)
    current = _reports(out, "c", CURRENT, "2026-09-15", "routine")
    _reports(out, "p", PREVIOUS, "2026-08-15", "routine")
    _reports(out, "y", YEAR_AGO, "2025-09-15", "routine")
    # On the 20th: 20 Sep belongs to 2026-10 (15 Sep – 14 Oct), 20 Oct already to 2026-11.
    submitted(out, "on20a", unit=AU_LAU, observed=at("2026-09-20", 15), topics_=["an_sinh"], sentiment="neutral")
    submitted(out, "on20b", unit=NAM_CUONG, observed=at("2026-10-20", 15), topics_=["an_sinh"])
    current.append({"unit": AU_LAU, "topic": "an_sinh", "sentiment": "neutral"})
    out.add(
        topics.INTAKE_CAMPAIGNS,
        intake.ORIENTATION_PUBLISHED,
        intake.OrientationPublished(
            orientation_id="o1",
            period="2026-10",
            title="Định hướng tháng 10: đất đai và giảm nghèo",
            guidance="Nắm bắt dư luận về bồi thường, tái định cư và chính sách giảm nghèo.",
            topic_codes=["an_sinh"],
            unit_codes=[AU_LAU, NAM_CUONG, VAN_PHU],
            published_at=at("2026-09-15"),
            published_by="u-department",
        ),
        "o1",
    )
    hotspot(out, "opened", "h1", unit=YEN_BAI, when=at("2026-10-01", 10))
    hotspot(out, "acknowledged", "h1", unit=YEN_BAI, when=at("2026-10-01", 10, 30))
    hotspot(out, "resolved", "h1", unit=YEN_BAI, when=at("2026-10-07"))
    hotspot(out, "opened", "h2", unit=NAM_CUONG, when=at("2026-10-10"))
    raised = at("2026-10-01", 10)
    escalation(out, "raised", "e1", hotspot_id="h1", unit=YEN_BAI, level=1, raised=raised, when=raised)
    escalation(
        out, "acknowledged", "e1", hotspot_id="h1", unit=YEN_BAI, level=1, raised=raised, when=at("2026-10-01", 10, 30)
    )
    escalation(
        out, "resolved", "e1", hotspot_id="h1", unit=YEN_BAI, level=1, raised=raised, when=at("2026-10-07"),
        outcome=OUTCOME,
    )  # fmt: skip
    agency(out, "ubnd-04252", "UBND phường Yên Bái", unit=YEN_BAI, when=at("2026-01-01"))
    agency(out, "ubnd-04273", "UBND phường Nam Cường", unit=NAM_CUONG, when=at("2026-01-01"))
    agency(out, "ca-tinh", "Công an tỉnh", unit=None, when=at("2026-01-01"))
    d1 = {"hotspot_id": "h1", "unit": YEN_BAI, "assignee": "ubnd-04252", "due": at("2026-10-05", 17)}
    directive(out, "created", "d1", when=at("2026-10-01", 10), **d1)
    directive(out, "done", "d1", when=at("2026-10-04", 9), result="Đã công khai phương án bồi thường", **d1)
    d2 = {"hotspot_id": "h1", "unit": YEN_BAI, "assignee": "ca-tinh", "due": at("2026-10-03", 17)}
    directive(out, "created", "d2", when=at("2026-10-01", 11), instruction="Nắm tình hình an ninh khu vực", **d2)
    directive(out, "overdue", "d2", when=at("2026-10-03", 17), instruction="Nắm tình hình an ninh khu vực", **d2)
    directive(
        out, "done", "d2", when=at("2026-10-06", 10), instruction="Nắm tình hình an ninh khu vực",
        result="Tình hình ổn định", **d2,
    )  # fmt: skip
    d3 = {"hotspot_id": "h2", "unit": NAM_CUONG, "assignee": "ubnd-04273", "due": at("2026-10-12", 17)}
    directive(out, "created", "d3", when=at("2026-10-10", 12), **d3)
    directive(out, "overdue", "d3", when=at("2026-10-12", 17), **d3)
    return out, current


EVENTS, CURRENT_ROWS = document_events()


@pytest.fixture(scope="module")
async def svc(infra: None) -> AsyncIterator[Reporting]:
    settings = reporting_settings(briefing_signatory_name="Nguyễn Văn An")
    try:
        async with running(settings) as svc:
            await svc.publish(EVENTS.events)
            await svc.wait_projected(len(EVENTS.events))
            yield svc
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
        await client.drop_database(settings.mongo_db)
        await client.close()


async def _get(svc: Reporting, fmt: str) -> Any:
    response = await svc.client.get(
        "/v1/periodic-reports/2026-10", params={"format": fmt}, headers=svc.headers("standing_committee")
    )
    assert response.status_code == 200, response.text
    return response


async def test_briefing_json_counts_directives_compares_periods_and_forecasts(svc: Reporting) -> None:
    report = (await _get(svc, "json")).json()
    assert report["totals"]["reports"] == CURRENT + 1
    assert report["previous"] == {"period": "2026-09", "reports": PREVIOUS, "change_percent": 63.3}
    assert report["same_period_last_year"] == {"period": "2025-10", "reports": YEAR_AGO, "change_percent": 145.0}
    d = report["directives"]
    assert {k: d[k] for k in ("opened", "done", "on_time", "late", "overdue", "in_progress")} == {
        "opened": 3, "done": 2, "on_time": 1, "late": 1, "overdue": 1, "in_progress": 0,
    }  # fmt: skip
    # d1 took 2 d 23 h, d2 4 d 23 h: the median is 3 d 23 h.
    assert d["median_completion_seconds"] == 342_000.0
    agencies = {
        a["agency_code"]: (a["name"], a["opened"], a["on_time"], a["late"], a["overdue"]) for a in d["by_agency"]
    }
    assert agencies == {
        "ca-tinh": ("Công an tỉnh", 1, 0, 1, 0),
        "ubnd-04252": ("UBND phường Yên Bái", 1, 1, 0, 0),
        "ubnd-04273": ("UBND phường Nam Cường", 1, 0, 0, 1),
    }
    assert [(u["unit_code"], u["opened"], u["done"]) for u in d["by_unit"]] == [(YEN_BAI, 2, 2), (NAM_CUONG, 1, 0)]
    h1 = next(h for h in report["hotspots"] if h["id"] == "h1")
    assert h1["outcome"] == OUTCOME
    assert [(x["directive_id"], x["outcome"]) for x in h1["directives"]] == [("d1", "on_time"), ("d2", "late")]
    assert (h1["source_count"], h1["channels"], h1["escalation"]["level"]) == (2, ["zalo"], 1)
    # The resolved event carries no acknowledged_at: the acknowledgement recorded before is kept.
    assert (report["escalations"]["acknowledged"], h1["time_to_ack_seconds"]) == (1, 1800.0)
    # Coverage on the 20th: Âu Lâu's report of 20 Sep counts for 2026-10, Nam Cường's of 20 Oct does not.
    (coverage,) = report["orientation_coverage"]
    assert [u["code"] for u in coverage["silent_units"]] == [NAM_CUONG, VAN_PHU]
    forecast = report["forecast"]
    assert "bình phương tối thiểu" in forecast["method"]
    by_topic = Counter(r["topic"] for r in CURRENT_ROWS)
    assert forecast["rising_topics"][0]["topic_code"] == max(by_topic, key=lambda t: (by_topic[t], t))
    proposals = " ".join(report["proposals"])
    assert "Phường Nam Cường" in proposals  # the open hot spot and the silent unit
    assert "Đôn đốc UBND phường Nam Cường hoàn thành 1 nhiệm vụ được giao đã quá hạn." in proposals
    assert report["document"]["signatory_name"] == "Nguyễn Văn An"


def _all_text(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


async def test_docx_has_the_party_report_form(svc: Reporting) -> None:
    document = Document(io.BytesIO((await _get(svc, "docx")).content))
    section = document.sections[0]
    mm = [round(x.mm, 1) for x in (section.page_width, section.page_height)]  # stored in twips
    assert mm == [210.0, 297.0]
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(x.mm, 1) for x in margins] == [20.0, 20.0, 30.0, 15.0]
    normal = document.styles["Normal"]
    assert (normal.font.name, normal.font.size) == ("Times New Roman", Pt(14))
    fonts = normal.element.rPr.rFonts
    assert {fonts.get(f"{{{fonts.nsmap['w']}}}{a}") for a in ("ascii", "hAnsi", "eastAsia", "cs")} == {
        "Times New Roman"
    }
    runs = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert {r.font.name for r in runs if r.text.strip()} == {"Times New Roman"}
    body_sizes = {r.font.size.pt for p in document.paragraphs for r in p.runs if r.text.strip() and r.font.size}
    assert body_sizes <= {11.0, 12.0, 13.0, 14.0, 15.0, 16.0}

    header = document.tables[0]
    left, right = header.rows[0].cells
    assert [p.text for p in left.paragraphs] == ["TỈNH ỦY YÊN BÁI", "BAN TUYÊN GIÁO", "*", "Số      -BC/BTG"]
    assert [r.bold for r in left.paragraphs[1].runs] == [True]
    today = utcnow().astimezone(HCM).date()
    assert right.paragraphs[0].text == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert right.paragraphs[0].runs[0].underline
    assert right.paragraphs[0].runs[0].bold
    dated = f"Yên Bái, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}"
    assert right.paragraphs[-1].text == dated
    assert right.paragraphs[-1].runs[0].italic

    texts = [p.text for p in document.paragraphs]
    title = texts.index("BÁO CÁO")
    assert texts[title + 1] == "Tình hình dư luận xã hội tháng 10 năm 2026"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "I. TÌNH HÌNH CHUNG",
        "II. CÁC VẤN ĐỀ NỔI CỘM, ĐIỂM NÓNG",
        "III. KẾT QUẢ CHỈ ĐẠO, XỬ LÝ",
        "IV. CÔNG TÁC NẮM BẮT DƯ LUẬN THEO ĐỊNH HƯỚNG",
        "V. KẾT QUẢ ĐIỀU TRA, KHẢO SÁT DƯ LUẬN XÃ HỘI",
        "VI. DỰ BÁO TÌNH HÌNH",
        "VII. ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    text = _all_text(document)
    assert unicodedata.is_normalized("NFC", text)
    assert (
        f"đã phản ánh {CURRENT + 1} ý kiến, tâm trạng của cán bộ, đảng viên và Nhân dân, tăng 63,3% so với kỳ trước "
        f"({PREVIOUS}) và tăng 145% so với cùng kỳ năm trước ({YEAR_AGO})." in text
    )
    assert re.search(r"\d+,\d%", text)  # Vietnamese decimal comma
    assert (
        "Trong kỳ có 3 nhiệm vụ chỉ đạo được giao; 2 nhiệm vụ đã hoàn thành (1 đúng hạn, 1 trễ hạn), 1 nhiệm vụ quá "
        "hạn chưa hoàn thành, 0 đang thực hiện; thời gian hoàn thành trung vị 3 ngày 23 giờ." in text
    )
    assert f"Kết quả: đã giải quyết – {OUTCOME}" in text
    assert "Cảnh báo được chuyển đến cấp 1; được tiếp nhận sau 30 phút." in text
    assert "- Chỉ đạo UBND phường Yên Bái: Kiểm tra, rà soát và công khai phương án bồi thường" in text
    assert "hoàn thành đúng hạn; kết quả: Đã công khai phương án bồi thường" in text
    assert "Phương pháp: đường xu hướng tuyến tính (bình phương tối thiểu)" in text
    assert "u-ctv" not in text  # collaborators pseudonymous for the standing committee
    assert len(document.inline_shapes) == 4  # trend, units, topics, sentiment
    for shape in document.inline_shapes:
        assert shape.width <= Mm(165)

    footer = document.tables[-1]
    recipients, signature = footer.rows[0].cells
    assert recipients.paragraphs[0].text == "Nơi nhận:"
    assert recipients.paragraphs[-1].text == "- Lưu Văn phòng."
    signed = [p.text for p in signature.paragraphs if p.text]
    assert signed == ["T/M BAN TUYÊN GIÁO", "PHÓ TRƯỞNG BAN", "Nguyễn Văn An"]


async def test_xlsx_sheets_are_formatted_and_have_native_charts(svc: Reporting) -> None:
    book = load_workbook(io.BytesIO((await _get(svc, "xlsx")).content))
    assert {"Tổng hợp", "Đơn vị", "Chủ đề", "Chỉ đạo", "Chỉ đạo theo đơn vị", "Xu hướng", "Dự báo"} <= set(
        book.sheetnames
    )
    for sheet in book:
        assert sheet.freeze_panes == "A3", sheet.title
        assert sheet["A2"].font.b, sheet.title
        assert sheet["A2"].fill.fgColor.rgb.endswith("D9E2F3"), sheet.title
        assert sheet.column_dimensions["A"].width >= 8
    charted = {s.title: len(s._charts) for s in book if s._charts}
    assert charted == {"Đơn vị": 1, "Chủ đề": 1, "Sắc thái": 1, "Xu hướng": 1}
    units = book["Đơn vị"]
    assert units["C3"].value == Counter(r["unit"] for r in CURRENT_ROWS).most_common(1)[0][1]
    assert units["C3"].number_format == "#,##0"
    agencies = {row[0]: row[1:6] for row in book["Chỉ đạo"].iter_rows(min_row=3, values_only=True)}
    assert agencies["Công an tỉnh"] == (1, 1, 0, 1, 0)
    assert agencies["UBND phường Nam Cường"] == (1, 0, 0, 0, 1)


async def test_docx_renders_in_libreoffice_to_a4_pages(svc: Reporting, tmp_path: Path) -> None:
    soffice, pdftoppm, pdfinfo = shutil.which("soffice"), shutil.which("pdftoppm"), shutil.which("pdfinfo")
    if not (soffice and pdftoppm and pdfinfo):
        pytest.fail("LibreOffice (soffice) and poppler-utils are needed: run scripts/ensure-office.sh", pytrace=False)
    content = (await _get(svc, "docx")).content
    page = await asyncio.to_thread(_render, content, tmp_path, soffice, pdftoppm, pdfinfo)
    if os.environ.get("PULSE_WRITE_BRIEFING_PNG") == "1":
        await asyncio.to_thread(shutil.copyfile, page, DOCS_IMAGE)


DOCS_IMAGE = Path(__file__).resolve().parents[3] / "docs" / "briefing-page1.png"


def _render(content: bytes, tmp_path: Path, soffice: str, pdftoppm: str, pdfinfo: str) -> Path:
    """DOCX → PDF (LibreOffice headless, own profile) → PNG of page 1; checks the PDF on the way."""
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(content)
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "bao-cao.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    pages = re.search(r"Pages:\s+(\d+)", info)
    assert pages is not None
    assert int(pages.group(1)) >= 3
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "LiberationSerif" in fonts or "Times" in fonts, fonts  # Times New Roman or its metric twin
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    (page,) = tmp_path.glob("page*.png")
    assert page.stat().st_size > 20_000
    return page


async def test_a_department_template_is_filled_with_the_same_content(svc: Reporting, tmp_path: Path) -> None:
    from pulse_reporting.adapters.docx_report import to_docx

    template = Document()
    for line in (
        "{{ document.committee }} – {{ document.number_line }}",
        "{{ document.place_and_date }}",
        "{{ title }}: {{ summary_line }}",
        "{%p for s in sections %}",
        "{{ s.title }}",
        "{%p for para in s.paragraphs %}",
        "{{ para }}",
        "{%p endfor %}",
        "{%p for c in s.charts %}",
        "{{ c }}",
        "{%p endfor %}",
        "{%p endfor %}",
        "Người ký: {{ document.signatory_name }}",
    ):
        template.add_paragraph(line)
    path = tmp_path / "mau-bao-cao.docx"
    template.save(str(path))
    report = (await _get(svc, "json")).json()
    rendered = Document(io.BytesIO(await asyncio.to_thread(to_docx, report, HCM, template=str(path))))
    texts = [p.text for p in rendered.paragraphs]
    assert texts[0] == "TỈNH ỦY YÊN BÁI – Số      -BC/BTG"
    assert texts[2] == "BÁO CÁO: Tình hình dư luận xã hội tháng 10 năm 2026"
    assert "VI. DỰ BÁO TÌNH HÌNH" in texts
    assert any("3 nhiệm vụ chỉ đạo được giao" in t for t in texts)
    assert texts[-1] == "Người ký: Nguyễn Văn An"
    assert len(rendered.inline_shapes) == 4
    assert not any("{{" in t or "{%" in t for t in texts)

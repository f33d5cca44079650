"""Render the briefing as CSV (flat), XLSX (one sheet per section) and DOCX (a department report in Vietnamese)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from docx import Document
from openpyxl import Workbook

from pulse_reporting.adapters.safe import clean_text, csv_cell, xlsx_cell
from pulse_reporting.adapters.tables import briefing_tables
from pulse_reporting.domain.labels import PERIOD_KIND

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def content_disposition(period: str, fmt: str) -> str:
    """Attachment header with an ASCII fallback and the RFC 5987 UTF-8 filename."""
    name = f"bao-cao-dlxh-{period}.{fmt}"
    utf8 = f"Báo cáo DLXH {period}.{fmt}"
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(utf8)}"


def to_csv(report: Mapping[str, Any], tz: ZoneInfo) -> bytes:
    """One flat table: section, then the section's columns; UTF-8 with BOM so spreadsheets keep the diacritics."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Mục", "Cột 1", "Cột 2", "Cột 3", "Cột 4", "Cột 5", "Cột 6", "Cột 7", "Cột 8"])
    for _, title, header, rows in briefing_tables(report, tz):
        writer.writerow([csv_cell(v) for v in (title, *header)])
        for row in rows:
            writer.writerow([csv_cell(v) for v in (title, *row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Mapping[str, Any], tz: ZoneInfo) -> bytes:
    """A workbook with one sheet per section."""
    book = Workbook()
    book.remove(book.active)
    for sheet_name, title, header, rows in briefing_tables(report, tz):
        sheet = book.create_sheet(sheet_name[:31])
        for values in ([title], header, *rows):
            _append(sheet, values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(sheet: Any, values: list[Any]) -> None:
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    for column, raw in enumerate(values, start=1):
        value, as_text = xlsx_cell(raw)
        cell = sheet.cell(row=row, column=column)
        cell.value = value
        if as_text:
            cell.data_type = "s"
            cell.quotePrefix = True


def report_heading(report: Mapping[str, Any]) -> str:
    """E.g. `BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI THÁNG 11 NĂM 2026`."""
    period = report["period"]
    name: str = period["period"]
    kind = period["kind"]
    year = name[:4]
    if kind == "month":
        when = f"THÁNG {int(name[5:])} NĂM {year}"
    elif kind == "quarter":
        when = f"QUÝ {name[-1]} NĂM {year}"
    elif kind == "half_year":
        when = f"{'SÁU THÁNG ĐẦU' if name.endswith('H1') else 'SÁU THÁNG CUỐI'} NĂM {year}"
    elif kind == "nine_months":
        when = f"CHÍN THÁNG NĂM {year}"
    else:
        when = f"{PERIOD_KIND['year']} {year}"
    return f"BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI {when}"


def to_docx(report: Mapping[str, Any], tz: ZoneInfo) -> bytes:
    """The report as the department writes it: heading, sections I–IV, tables under each."""
    tables = {sheet: (title, header, rows) for sheet, title, header, rows in briefing_tables(report, tz)}
    doc = Document()
    doc.add_heading(report_heading(report), level=0)
    period = report["period"]
    doc.add_paragraph(f"Kỳ báo cáo: từ {period['start'][:10]} đến trước {period['end'][:10]} (giờ Việt Nam).")
    totals, prev = report["totals"], report["previous"]
    change = prev["change_percent"]
    trend = "" if change is None else f", {'tăng' if change >= 0 else 'giảm'} {abs(change)}% so với kỳ trước"
    doc.add_heading("I. Tình hình chung", level=1)
    doc.add_paragraph(f"Trong kỳ, đội ngũ cộng tác viên đã phản ánh {totals['reports']} ý kiến, tâm trạng{trend}.")
    if report["frozen"]:
        late = (report.get("late") or {}).get("reports", 0)
        doc.add_paragraph(f"Số liệu đã được chốt; {late} phản ánh đến muộn sau khi chốt được ghi riêng.")
    for sheet in ("Tổng hợp", "Đơn vị", "Chủ đề", "Sắc thái"):
        _table(doc, *tables[sheet])
    doc.add_heading("II. Các vấn đề nổi cộm, điểm nóng", level=1)
    _table(doc, *tables["Điểm nóng"])
    doc.add_heading("III. Kết quả xử lý", level=1)
    _table(doc, *tables["Xử lý"])
    _table(doc, *tables["Định hướng"])
    _table(doc, *tables["Cộng tác viên"])
    _table(doc, *tables["Khảo sát"])
    doc.add_heading("IV. Đề xuất, kiến nghị", level=1)
    doc.add_paragraph(_recommendation(report))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _table(doc: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    doc.add_heading(clean_text(title), level=2)
    if not rows:
        doc.add_paragraph("Không có số liệu trong kỳ.")
        return
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = clean_text(text)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            cell.text = "" if value is None else clean_text(str(value))


def _recommendation(report: Mapping[str, Any]) -> str:
    silent = sum(len(c["silent_units"]) for c in report["orientation_coverage"])
    open_spots = sum(1 for h in report["hotspots"] if h["status"] != "resolved")
    parts = ["Đề nghị các cơ quan, đơn vị tiếp tục nắm bắt, phản ánh kịp thời tình hình dư luận xã hội."]
    if open_spots:
        parts.append(f"Tập trung giải quyết dứt điểm {open_spots} điểm nóng chưa được giải quyết.")
    if silent:
        parts.append("Đôn đốc các đơn vị chưa phản ánh theo định hướng của kỳ.")
    return " ".join(parts)

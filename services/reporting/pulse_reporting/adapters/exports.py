"""Render the briefing as CSV (flat), XLSX (one sheet per section) and DOCX (a department report in Vietnamese)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pulse_reporting.adapters import docx_report
from pulse_reporting.adapters.safe import csv_cell, xlsx_cell
from pulse_reporting.adapters.tables import briefing_tables
from pulse_reporting.domain.labels import PERIOD_KIND
from pulse_reporting.domain.surveys import DEMOGRAPHIC_LABELS, RESPONDENT_KIND, demographic

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
    tables = briefing_tables(report, tz)
    width = max(8, *(len(header) for _, _, header, _ in tables))
    writer.writerow(["Mục", *(f"Cột {i}" for i in range(1, width + 1))])
    for _, title, header, rows in tables:
        writer.writerow([csv_cell(v) for v in (title, *header)])
        for row in rows:
            writer.writerow([csv_cell(v) for v in (title, *row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Mapping[str, Any], tz: ZoneInfo) -> bytes:
    """A formatted workbook: one sheet per section, title and header rows frozen, widths, number formats, charts."""
    book = Workbook()
    book.remove(book.active)
    for sheet_name, title, header, rows in briefing_tables(report, tz):
        sheet = book.create_sheet(sheet_name[:31])
        _write_sheet(sheet, title, header, rows)
        chart = _chart_for(sheet_name, sheet, len(rows))
        if chart is not None:
            sheet.add_chart(chart, f"{get_column_letter(len(header) + 2)}2")
    book.properties.title = report_heading(report)
    book.properties.language = "vi-VN"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TITLE_FONT = Font(name="Times New Roman", size=13, bold=True)
HEADER_FONT = Font(name="Times New Roman", size=11, bold=True)
BODY_FONT = Font(name="Times New Roman", size=11)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
INTEGER = "#,##0"
DECIMAL = "#,##0.0"
MAX_WIDTH = 60


def _write_sheet(sheet: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    _put(sheet, 1, 1, title).font = TITLE_FONT
    if len(header) > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    widths = [len(h) for h in header]
    for column, text in enumerate(header, start=1):
        cell = _put(sheet, 2, column, text)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(rows, start=3):
        for column, raw in enumerate(row, start=1):
            cell = _put(sheet, r, column, raw)
            cell.font, cell.border = BODY_FONT, BOX
            if isinstance(cell.value, bool):
                pass
            elif isinstance(cell.value, int):
                cell.number_format = INTEGER
            elif isinstance(cell.value, float):
                cell.number_format = DECIMAL
            else:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
            if column <= len(widths):
                widths[column - 1] = max(widths[column - 1], len(str(cell.value or "")))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, max(8, width + 2))
    sheet.freeze_panes = "A3"
    if rows:
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(header))}{len(rows) + 2}"


def _put(sheet: Any, row: int, column: int, raw: Any) -> Any:
    value, as_text = xlsx_cell(raw)
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if as_text:
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _chart_for(sheet_name: str, sheet: Any, count: int) -> Any:
    """A native chart over the sheet's own cells, for the sections that have one."""
    if count == 0:
        return None
    last = count + 2
    if sheet_name == "Xu hướng":
        line = LineChart()
        line.title, line.y_axis.title = "Số phản ánh theo thời gian", "Số phản ánh"
        line.add_data(Reference(sheet, min_col=2, min_row=2, max_row=last), titles_from_data=True)
        line.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=last))
        line.width, line.height = 22, 9
        return line
    if sheet_name == "Sắc thái":
        pie = PieChart()
        pie.title = "Sắc thái dư luận"
        pie.add_data(Reference(sheet, min_col=2, min_row=2, max_row=last), titles_from_data=True)
        pie.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=last))
        return pie
    spec = {"Đơn vị": ("Số phản ánh theo đơn vị", 2, 3, 3), "Chủ đề": ("Chủ đề: kỳ này và kỳ trước", 2, 3, 4)}
    if sheet_name not in spec:
        return None
    title, label_col, first_col, last_col = spec[sheet_name]
    bar = BarChart()
    bar.type, bar.title = "bar", title
    bar.add_data(
        Reference(sheet, min_col=first_col, max_col=last_col, min_row=2, max_row=min(last, 22)), titles_from_data=True
    )
    bar.set_categories(Reference(sheet, min_col=label_col, min_row=3, max_row=min(last, 22)))
    bar.width, bar.height = 18, max(7.5, 0.6 * min(count, 20) + 3)
    return bar


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


def to_docx(report: Mapping[str, Any], tz: ZoneInfo, *, template: str | None = None) -> bytes:
    """The report in the Party department's form (see docx_report)."""
    return docx_report.to_docx(report, tz, template=template)


def render(report: Mapping[str, Any], tz: ZoneInfo, fmt: str, *, template: str | None = None) -> bytes:
    """The briefing in `fmt` (csv, xlsx or docx); CPU-bound, callers run it off the event loop."""
    if fmt == "csv":
        return to_csv(report, tz)
    if fmt == "xlsx":
        return to_xlsx(report, tz)
    return to_docx(report, tz, template=template)


def survey_responses_xlsx(
    survey: Mapping[str, Any], sheets: list[Mapping[str, Any]], unit_names: Mapping[str, str]
) -> bytes:
    """Raw survey data for analysts: one row per response (numbered, no respondent id), one column per question.

    Demographics are written as their Vietnamese labels; a multi-choice answer as its options joined
    by `; `; every text cell escaped like every export.
    """
    questions = list(survey.get("questions", []))
    header = ["STT", "Mã đơn vị", "Đơn vị", "Người trả lời", "Giới tính", "Nhóm tuổi", "Nghề nghiệp", "Ngày trả lời"]
    header += [f"{q['code']}. {q['text']}" for q in questions]
    rows: list[list[Any]] = []
    for i, sheet in enumerate(sheets, start=1):
        answers = sheet.get("answers") or {}
        submitted = sheet.get("submitted_at")
        row: list[Any] = [
            i,
            sheet.get("unit_code", ""),
            unit_names.get(str(sheet.get("unit_code", "")), ""),
            RESPONDENT_KIND.get(str(sheet.get("respondent_kind") or "self"), ""),
            *[DEMOGRAPHIC_LABELS[f][demographic(sheet, f)] for f in ("gender", "age_group", "occupation")],
            submitted.date().isoformat() if submitted is not None else "",
        ]
        for q in questions:
            value = answers.get(q["code"])
            row.append("; ".join(value) if isinstance(value, list) else value)
        rows.append(row)
    book = Workbook()
    sheet = book.active
    sheet.title = "Phiếu trả lời"
    _write_sheet(sheet, str(survey.get("title", "")), header, rows)
    codes = book.create_sheet("Câu hỏi")
    _write_sheet(
        codes,
        "Danh mục câu hỏi",
        ["Mã", "Câu hỏi", "Loại", "Bắt buộc", "Phương án"],
        [
            [
                q["code"],
                q["text"],
                q["kind"],
                "Có" if q.get("required", True) else "Không",
                "; ".join(q.get("options", [])),
            ]
            for q in questions
        ],
    )
    book.properties.title = str(survey.get("title", ""))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

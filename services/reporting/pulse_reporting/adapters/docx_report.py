"""The briefing as a DOCX in the form of a Party committee department's report (Hướng dẫn 36-HD/VPTW).

A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman, body 14 pt.
Top left the committee (upper case) and the department (upper case, bold), a star, and the document
number `Số 12-BC/BTG`; top right `ĐẢNG CỘNG SẢN VIỆT NAM` (bold, underlined) and, in italics, the
place and date. Then `BÁO CÁO` with its summary line, the numbered sections, and at the foot the
recipients (`Nơi nhận:`) beside the signature block (`T/M BAN TUYÊN GIÁO`, title, name).

A department may supply its own template (`PULSE_BRIEFING_TEMPLATE`, docxtpl/Jinja2 tags): it is
rendered with `document` (the particulars), `title`, `summary_line`, `sections` (each with `title`,
`paragraphs` and `charts` as inline images) and `report` (every figure).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from pulse_reporting.adapters.briefing_text import Chart, Para, Section, Table, briefing_content, summary_line
from pulse_reporting.adapters.safe import clean_text
from pulse_reporting.domain import vn

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
TEXT_WIDTH = Mm(165)
"""A4 width less the 30 mm and 15 mm margins."""
CHART_WIDTH = Cm(15.5)


def document_number(particulars: Mapping[str, Any]) -> str:
    """`Số 12-BC/BTG`, or `Số     -BC/BTG` with the space left for the number of an unfiled draft."""
    number = particulars.get("number")
    return f"Số {number}-{particulars['symbol']}" if number else f"Số      -{particulars['symbol']}"


def place_and_date(particulars: Mapping[str, Any]) -> str:
    """`Yên Bái, ngày 15 tháng 11 năm 2026`."""
    return f"{particulars['place']}, {vn.long_day(date.fromisoformat(particulars['issued_on']))}"


def to_docx(report: Mapping[str, Any], tz: ZoneInfo, *, template: str | None = None) -> bytes:
    """Render the briefing; with `template`, through the department's own docxtpl template."""
    sections = briefing_content(report, tz)
    if template:
        return _from_template(template, report, sections)
    doc = Document()
    _page(doc)
    _styles(doc)
    particulars = report["document"]
    doc.core_properties.title = clean_text(summary_line(report))
    doc.core_properties.author = clean_text(particulars["department"])
    doc.core_properties.language = "vi-VN"
    _header(doc, particulars)
    _title(doc, report)
    _para(
        doc,
        Para(
            "Thực hiện chế độ thông tin, báo cáo định kỳ về tình hình dư luận xã hội, "
            f"{particulars['department_prose']} báo cáo như sau:"
        ),
    )
    for section in sections:
        _heading(doc, section.title)
        chart_no = 0
        for block in section.blocks:
            if isinstance(block, Para):
                _para(doc, block)
            elif isinstance(block, Table):
                _table(doc, block)
            else:
                chart_no += 1
                _chart(doc, block)
    _footer(doc, particulars)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _page(doc: Any) -> None:
    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        section.header_distance, section.footer_distance = Mm(10), Mm(10)


def _fonts(element: Any, size: float | None = None) -> None:
    """Times New Roman for every script (ascii, hAnsi, East Asian, complex), no theme font overriding it."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    if size is not None:
        for tag in ("w:sz", "w:szCs"):
            node = rpr.find(qn(tag))
            if node is None:
                node = OxmlElement(tag)
                rpr.append(node)
            node.set(qn("w:val"), str(int(size * 2)))


def _styles(doc: Any) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element, BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.15
    for name in ("Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(BODY_PT)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _fonts(style.element, BODY_PT)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(6), Pt(6)
        style.paragraph_format.keep_with_next = True
    # Vietnamese as the proofing language of the document's text.
    rpr = normal.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")


def _run(paragraph: Any, text: str, *, size: float = BODY_PT, bold: bool = False, italic: bool = False) -> Any:
    run = paragraph.add_run(clean_text(text))
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold, run.italic = bold, italic
    _fonts(run._element, size)
    return run


def _centered(cell_or_doc: Any, text: str, **style: Any) -> Any:
    paragraph = cell_or_doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.first_line_indent = Cm(0)
    run = _run(paragraph, text, **style)
    return run


def _borderless(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), "nil")
        borders.append(node)
    table._tbl.tblPr.append(borders)


def _two_columns(doc: Any, left: float, right: float) -> tuple[Any, Any]:
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borderless(table)
    cells = table.rows[0].cells
    for cell, width in zip(cells, (left, right), strict=True):
        cell.width = Cm(width)
        cell.paragraphs[0].paragraph_format.space_after = Pt(0)
    return cells[0], cells[1]


def _drop_first_empty(cell: Any) -> None:
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) > 1:
        first._element.getparent().remove(first._element)


def _header(doc: Any, particulars: Mapping[str, Any]) -> None:
    left, right = _two_columns(doc, 7.0, 9.5)
    _centered(left, particulars["committee"].upper(), size=BODY_PT)
    _centered(left, particulars["department"].upper(), size=BODY_PT, bold=True)
    _centered(left, "*", size=BODY_PT)
    _centered(left, document_number(particulars), size=BODY_PT)
    party = _centered(right, "ĐẢNG CỘNG SẢN VIỆT NAM", size=15, bold=True)
    party.underline = True
    _centered(right, "", size=8)
    _centered(right, place_and_date(particulars), size=BODY_PT, italic=True)
    _drop_first_empty(left)
    _drop_first_empty(right)


def _title(doc: Any, report: Mapping[str, Any]) -> None:
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(6)
    title = _centered(doc, "BÁO CÁO", size=16, bold=True)
    title._parent.paragraph_format.space_before = Pt(12)
    _centered(doc, summary_line(report), size=BODY_PT, bold=True)
    rule = _centered(doc, "-----", size=BODY_PT)
    rule._parent.paragraph_format.space_after = Pt(12)


def _heading(doc: Any, text: str) -> None:
    heading = doc.add_paragraph(style="Heading 1")
    heading.paragraph_format.first_line_indent = Cm(1.27)
    _run(heading, text, bold=True)


def _para(doc: Any, block: Para) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if block.indent:
        paragraph.paragraph_format.first_line_indent = Cm(1.27)
    if block.bold:
        paragraph.paragraph_format.keep_with_next = True
    _run(paragraph, ("- " if block.bullet else "") + block.text, bold=block.bold, italic=block.italic)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int | float):
        return vn.number(value)
    return clean_text(str(value))


def _table(doc: Any, block: Table) -> None:
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True
    caption.paragraph_format.space_before = Pt(6)
    _run(caption, block.title, size=TABLE_PT, bold=True)
    if not block.rows:
        note = doc.add_paragraph()
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(note, "Không có số liệu trong kỳ.", size=TABLE_PT, italic=True)
        return
    table = doc.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cell.paragraphs[0], text, size=TABLE_PT, bold=True)
        _shade(cell, "D9E2F3")
    for row in block.rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if isinstance(value, int | float) and not isinstance(value, bool):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(paragraph, _cell_text(value), size=TABLE_PT)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _chart(doc: Any, block: Chart) -> None:
    picture = doc.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    picture.add_run().add_picture(io.BytesIO(block.png), width=CHART_WIDTH)
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(caption, block.caption, size=TABLE_PT, italic=True)


def _footer(doc: Any, particulars: Mapping[str, Any]) -> None:
    doc.add_paragraph()
    left, right = _two_columns(doc, 7.5, 9.0)
    recipients = left.add_paragraph()
    recipients.paragraph_format.space_after = Pt(0)
    run = _run(recipients, "Nơi nhận:", size=12, bold=True, italic=True)
    run.underline = True
    names = list(particulars.get("recipients") or [])
    for i, name in enumerate(names):
        line = left.add_paragraph()
        line.paragraph_format.space_after = Pt(0)
        _run(line, f"- {name}{'.' if i == len(names) - 1 else ','}", size=11)
    _centered(right, particulars["signing_for"].upper(), size=BODY_PT, bold=True)
    _centered(right, particulars["signatory_title"].upper(), size=BODY_PT, bold=True)
    for _ in range(4):
        _centered(right, "", size=BODY_PT)
    _centered(right, particulars.get("signatory_name") or "", size=BODY_PT, bold=True)
    _drop_first_empty(left)
    _drop_first_empty(right)


def _from_template(path: str, report: Mapping[str, Any], sections: list[Section]) -> bytes:
    from docxtpl import DocxTemplate, InlineImage  # type: ignore[import-untyped]

    template = DocxTemplate(path)
    particulars = report["document"]
    context = {
        "document": {
            **particulars,
            "number_line": document_number(particulars),
            "place_and_date": place_and_date(particulars),
        },
        "title": "BÁO CÁO",
        "summary_line": clean_text(summary_line(report)),
        "sections": [
            {
                "title": clean_text(s.title),
                "paragraphs": [clean_text(p) for p in s.paragraphs()],
                "charts": [InlineImage(template, io.BytesIO(c.png), width=CHART_WIDTH) for c in s.charts()],
            }
            for s in sections
        ],
        "report": report,
    }
    template.render(context, autoescape=True)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()

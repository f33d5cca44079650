"""The briefing written out as the department writes it: numbered sections of Vietnamese sentences, tables, charts.

This is the content of the DOCX (and of a department's own template), independent of the file format:
`briefing_content` turns the report's figures into `Section`s of paragraphs, tables and chart images.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pulse_reporting.adapters import charts
from pulse_reporting.adapters.tables import briefing_tables
from pulse_reporting.domain import vn
from pulse_reporting.domain.labels import CHANNEL, HOTSPOT_STATUS, SENTIMENT, URGENCY, label

DIRECTIVE_OUTCOME = {
    "on_time": "hoàn thành đúng hạn",
    "late": "hoàn thành trễ hạn",
    "overdue": "quá hạn, chưa hoàn thành",
    "in_progress": "đang thực hiện",
}
TREND_WORD = {"rising": "có xu hướng tăng", "falling": "có xu hướng giảm", "stable": "tương đối ổn định"}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


@dataclass
class Para:
    """A paragraph; `bold` for numbered sub-headings, `bullet` for dash items, `italic` for notes."""

    text: str
    bold: bool = False
    italic: bool = False
    bullet: bool = False
    indent: bool = True


@dataclass
class Table:
    """A table with its caption."""

    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    """A rendered chart (PNG) and its caption."""

    png: bytes
    caption: str


Block = Para | Table | Chart


@dataclass
class Section:
    """A numbered top-level section (`I. TÌNH HÌNH CHUNG`)."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def paragraphs(self) -> list[str]:
        """The section's paragraph texts (for templates)."""
        return [b.text for b in self.blocks if isinstance(b, Para)]

    def charts(self) -> list[Chart]:
        """The section's charts (for templates)."""
        return [b for b in self.blocks if isinstance(b, Chart)]


def period_phrase(report: Mapping[str, Any]) -> str:
    """`tháng 11 năm 2026`, `quý IV năm 2026`, `6 tháng đầu năm 2026`, `9 tháng năm 2026`, `năm 2026`."""
    period = report["period"]
    name: str = period["period"]
    kind = period["kind"]
    year = name[:4]
    if kind == "month":
        return f"tháng {int(name[5:])} năm {year}"
    if kind == "quarter":
        return f"quý {ROMAN[int(name[-1]) - 1]} năm {year}"
    if kind == "half_year":
        return f"6 tháng {'đầu' if name.endswith('H1') else 'cuối'} năm {year}"
    if kind == "nine_months":
        return f"9 tháng năm {year}"
    return f"năm {year}"


def summary_line(report: Mapping[str, Any]) -> str:
    """The line under `BÁO CÁO`: `Tình hình dư luận xã hội tháng 11 năm 2026`."""
    return f"Tình hình dư luận xã hội {period_phrase(report)}"


def _days(report: Mapping[str, Any]) -> tuple[date, date]:
    period = report["period"]
    first = date.fromisoformat(period["start"][:10])
    after = date.fromisoformat(period["end"][:10])
    return first, date.fromordinal(after.toordinal() - 1)


PROPER_NAMES = ("Zalo",)


def _lower(text: str) -> str:
    """Lower-case a label inside a sentence, proper names (Zalo) excepted."""
    return text if text in PROPER_NAMES else text[:1].lower() + text[1:]


def _breakdown(counts: Mapping[str, int], labels: Mapping[str, str], total: int) -> str:
    return "; ".join(
        f"{_lower(label(dict(labels), k))} {vn.number(n)} ({vn.percent(vn.share(n, total))})" for k, n in counts.items()
    )


def briefing_content(report: Mapping[str, Any], tz: ZoneInfo) -> list[Section]:
    """Every section of the briefing as paragraphs, tables and charts."""
    tables = {sheet: Table(title, header, rows) for sheet, title, header, rows in briefing_tables(report, tz)}
    units: Mapping[str, str] = report["names"]["units"]
    topics: Mapping[str, str] = report["names"]["topics"]

    def unit(code: str) -> str:
        return units.get(code, code)

    def topic(code: str) -> str:
        return topics.get(code, "chưa phân loại" if code == "unclassified" else code)

    sections = [
        _general(report, tables, unit, topic),
        _hotspots(report, tables, tz, unit, topic),
        _handling(report, tables, tz),
        _orientation(report, tables, topic),
        _surveys(report),
        _forecast(report, unit, topic),
        Section("ĐỀ XUẤT, KIẾN NGHỊ", [Para(f"{i}. {text}") for i, text in enumerate(report["proposals"], start=1)]),
    ]
    for i, section in enumerate(sections):
        section.title = f"{ROMAN[i]}. {section.title}"
    return sections


def _general(report: Mapping[str, Any], tables: dict[str, Table], unit: Any, topic: Any) -> Section:
    totals = report["totals"]
    n = int(totals["reports"])
    first, last = _days(report)
    prev, year_ago = report["previous"], report["same_period_last_year"]
    blocks: list[Block] = [
        Para("1. Kết quả nắm bắt dư luận xã hội", bold=True),
        Para(
            f"Trong kỳ báo cáo (từ ngày {vn.day(first)} đến ngày {vn.day(last)}), đội ngũ cộng tác viên dư luận xã hội "
            f"đã phản ánh {vn.number(n)} ý kiến, tâm trạng của cán bộ, đảng viên và Nhân dân, "
            f"{vn.change(n, int(prev['reports']), what='kỳ trước')} và "
            f"{vn.change(n, int(year_ago['reports']), what='cùng kỳ năm trước')}."
        ),
    ]
    if n:
        blocks.append(Para("Phân theo mức độ: " + _breakdown(totals["by_urgency"], URGENCY, n) + "."))
        blocks.append(Para("Phân theo kênh tiếp nhận: " + _breakdown(totals["by_channel"], CHANNEL, n) + "."))
        blocks.append(Para("Về sắc thái dư luận: " + _breakdown(totals["by_sentiment"], SENTIMENT, n) + "."))
    if report["frozen"]:
        blocks.append(
            Para(
                "Số liệu của kỳ đã được chốt; phản ánh về kỳ này gửi đến sau khi chốt được thống kê riêng, "
                "không cộng vào số liệu đã chốt.",
                italic=True,
            )
        )
    trend = report["trend"]["items"]
    if n and trend:
        word = "ngày" if report["trend"]["granularity"] == "day" else "tháng"
        labels = [i["bucket"][8:10] + "/" + i["bucket"][5:7] if word == "ngày" else i["bucket"] for i in trend]
        png = charts.trend_chart(labels, [i["reports"] for i in trend], title=f"Số phản ánh theo {word}")
        blocks.append(Chart(png, f"Biểu đồ 1. Số phản ánh theo {word} trong kỳ"))
    by_unit = list(totals["by_unit"].items())[:10]
    if by_unit:
        png = charts.ranking_chart(
            [unit(c) for c, _ in by_unit], [v for _, v in by_unit], title="Đơn vị phản ánh nhiều"
        )
        blocks.append(Chart(png, "Biểu đồ 2. Các đơn vị có nhiều phản ánh nhất"))
    blocks.append(tables["Đơn vị"])
    blocks.append(Para("2. Những vấn đề được quan tâm", bold=True))
    top = report["top_topics"]
    if top:
        parts = []
        for t in top[:5]:
            change = (
                "" if t["change_percent"] is None else f", {vn.change(t['reports'], t['previous'], what='kỳ trước')}"
            )
            parts.append(f"{topic(t['topic_code'])} ({vn.number(t['reports'])} phản ánh{change})")
        blocks.append(Para("Dư luận tập trung vào các vấn đề: " + "; ".join(parts) + "."))
        png = charts.ranking_chart(
            [topic(t["topic_code"]) for t in top],
            [t["reports"] for t in top],
            previous=[t["previous"] for t in top],
            title="Chủ đề được phản ánh nhiều",
        )
        blocks.append(Chart(png, "Biểu đồ 3. Các chủ đề được phản ánh nhiều nhất, so với kỳ trước"))
    else:
        blocks.append(Para("Trong kỳ chưa có phản ánh theo chủ đề."))
    blocks.append(tables["Chủ đề"])
    sentiment = totals["by_sentiment"]
    if sentiment:
        png = charts.sentiment_chart(
            [label(SENTIMENT, k) for k in sentiment], list(sentiment.values()), title="Sắc thái dư luận"
        )
        blocks.append(Chart(png, "Biểu đồ 4. Tỷ lệ phản ánh theo sắc thái"))
    return Section("TÌNH HÌNH CHUNG", blocks)


def _hotspots(report: Mapping[str, Any], tables: dict[str, Table], tz: ZoneInfo, unit: Any, topic: Any) -> Section:
    spots = report["hotspots"]
    if not spots:
        return Section("CÁC VẤN ĐỀ NỔI CỘM, ĐIỂM NÓNG", [Para("Trong kỳ không phát sinh điểm nóng.")])
    status = {s: sum(1 for h in spots if h["status"] == s) for s in ("resolved", "acknowledged", "open")}
    blocks: list[Block] = [
        Para(
            f"Trong kỳ phát sinh {vn.number(len(spots))} điểm nóng: {vn.number(status['resolved'])} đã giải quyết, "
            f"{vn.number(status['acknowledged'])} đã tiếp nhận, đang xử lý, {vn.number(status['open'])} chưa tiếp nhận."
        )
    ]
    for i, h in enumerate(spots, start=1):
        blocks.append(
            Para(
                f"{i}. {topic(h['topic_code'])} tại {unit(h['unit_code'])} (mức độ {label(URGENCY, h['urgency'])})",
                bold=True,
            )
        )
        channels = ", ".join(label(CHANNEL, c) for c in h.get("channels") or [])
        blocks.append(
            Para(
                f"Phát sinh lúc {vn.moment(_dt(h['opened_at']), tz)}; {vn.number(h['report_count'])} phản ánh "
                f"từ {vn.number(h['source_count'])} nguồn" + (f" ({channels})" if channels else "") + "."
            )
        )
        esc = h.get("escalation")
        if esc is not None:
            ack = (
                f"được tiếp nhận sau {vn.duration(h['time_to_ack_seconds'])}"
                if h["time_to_ack_seconds"] is not None
                else "chưa được tiếp nhận"
            )
            blocks.append(Para(f"Cảnh báo được chuyển đến cấp {esc['level']}; {ack}."))
        for d in h.get("directives") or []:
            result = f"; kết quả: {d['result']}" if d.get("result") else ""
            blocks.append(
                Para(
                    f"Chỉ đạo {d['assignee_name']}: {d['instruction']} (hạn {vn.moment(_dt(d['due_at']), tz)}; "
                    f"{DIRECTIVE_OUTCOME.get(d['outcome'], d['outcome'])}{result}).",
                    bullet=True,
                )
            )
        outcome = h.get("outcome")
        blocks.append(
            Para(f"Kết quả: {label(HOTSPOT_STATUS, h['status']).lower()}" + (f" – {outcome}" if outcome else "") + ".")
        )
    # The page is portrait A4: the table keeps the figures; ids and outcomes are in the text above.
    blocks.append(_columns(tables["Điểm nóng"], [1, 2, 3, 4, 5, 6, 8, 9]))
    return Section("CÁC VẤN ĐỀ NỔI CỘM, ĐIỂM NÓNG", blocks)


def _columns(table: Table, keep: list[int]) -> Table:
    """The same table with only the columns `keep` (indexes), in that order."""
    return Table(table.title, [table.header[i] for i in keep], [[row[i] for i in keep] for row in table.rows])


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _handling(report: Mapping[str, Any], tables: dict[str, Table], tz: ZoneInfo) -> Section:
    esc = report["escalations"]
    blocks: list[Block] = [Para("1. Tiếp nhận, xử lý cảnh báo", bold=True)]
    if esc["raised"]:
        ack = esc["time_to_ack_seconds"]
        blocks.append(
            Para(
                f"Có {vn.number(esc['raised'])} cảnh báo được phát đi; "
                f"{vn.number(esc['acknowledged'])} cảnh báo đã được tiếp nhận với thời gian tiếp nhận trung vị "
                f"{vn.duration(ack['median'])}, 95% được tiếp nhận trong "
                f"{vn.duration(ack['p95'])}; {vn.number(esc['resolved'])} cảnh báo đã được giải quyết."
            )
        )
        blocks.append(tables["Xử lý"])
    else:
        blocks.append(Para("Trong kỳ không có cảnh báo."))
    blocks.append(Para("2. Kết quả chỉ đạo, xử lý", bold=True))
    d = report["directives"]
    if d["opened"] or d["done"] or d["overdue"]:
        blocks.append(
            Para(
                f"Trong kỳ có {vn.number(d['opened'])} nhiệm vụ chỉ đạo được giao; "
                f"{vn.number(d['done'])} nhiệm vụ đã hoàn thành ({vn.number(d['on_time'])} đúng hạn, "
                f"{vn.number(d['late'])} trễ hạn), {vn.number(d['overdue'])} nhiệm vụ quá hạn chưa hoàn thành, "
                f"{vn.number(d['in_progress'])} đang thực hiện; thời gian hoàn thành "
                f"trung vị {vn.duration(d['median_completion_seconds'])}."
            )
        )
        blocks.append(tables["Chỉ đạo"])
        blocks.append(tables["Chỉ đạo theo đơn vị"])
    else:
        blocks.append(Para("Trong kỳ không có nhiệm vụ chỉ đạo, xử lý."))
    deliveries = report.get("deliveries")
    if deliveries and (deliveries["sent"] or deliveries["dead"]):
        blocks.append(Para("3. Thông tin, thông báo", bold=True))
        blocks.append(
            Para(
                f"Hệ thống đã gửi {vn.number(deliveries['sent'])} thông báo; {vn.number(deliveries['dead'])} thông báo "
                "không gửi được sau nhiều lần thử và đã được chuyển xử lý thủ công."
            )
        )
    return Section("KẾT QUẢ CHỈ ĐẠO, XỬ LÝ", blocks)


def _orientation(report: Mapping[str, Any], tables: dict[str, Table], topic: Any) -> Section:
    blocks: list[Block] = [Para("1. Thực hiện định hướng nắm bắt dư luận", bold=True)]
    coverage = report["orientation_coverage"]
    if not coverage:
        blocks.append(Para("Trong kỳ không có định hướng nắm bắt dư luận."))
    for c in coverage:
        silent = [u["name"] for u in c["silent_units"]]
        if silent:
            blocks.append(
                Para(
                    f"Về {topic(c['topic_code'])} (định hướng «{c['title']}»): {vn.number(len(silent))}/"
                    f"{vn.number(c['target_units'])} đơn vị chưa có phản ánh: {vn.listing(silent, limit=10)}."
                )
            )
        else:
            blocks.append(
                Para(
                    f"Về {topic(c['topic_code'])} (định hướng «{c['title']}»): tất cả {vn.number(c['target_units'])} "
                    "đơn vị đã có phản ánh."
                )
            )
    blocks.append(Para("2. Hoạt động của đội ngũ cộng tác viên", bold=True))
    collab = report["collaborators"]
    items = collab["items"]
    if items:
        named = "" if collab["identities"] == "revealed" else " (cộng tác viên được ghi bằng bí danh)"
        blocks.append(
            Para(
                f"Có {vn.number(collab['active'])} cộng tác viên gửi phản ánh trong kỳ; người tích cực nhất gửi "
                f"{vn.number(items[0]['reports'])} phản ánh{named}."
            )
        )
        top = tables["Cộng tác viên"]
        blocks.append(Table(top.title, top.header, top.rows[:15]))
    else:
        blocks.append(Para("Trong kỳ chưa có cộng tác viên gửi phản ánh."))
    return Section("CÔNG TÁC NẮM BẮT DƯ LUẬN THEO ĐỊNH HƯỚNG", blocks)


def question_summary(question: Mapping[str, Any]) -> str:
    """`Đồng tình 60% (18 phiếu); Không đồng tình 40% (12 phiếu)`, `điểm trung bình 3,7; trung vị 4`, `5 ý kiến`."""
    if "options" in question:
        return "; ".join(
            f"{o['option']} {vn.percent(o.get('percent'))} ({vn.number(o['count'])} phiếu)" for o in question["options"]
        )
    if "mean" in question:
        if not question["answered"]:
            return "chưa có trả lời"
        return f"điểm trung bình {vn.number(question['mean'])}; trung vị {vn.number(question['median'])}"
    return f"{vn.number(question['answered'])} ý kiến"


def _surveys(report: Mapping[str, Any]) -> Section:
    blocks: list[Block] = []
    surveys = report["surveys"]
    if not surveys:
        blocks.append(Para("Trong kỳ không có cuộc điều tra, khảo sát dư luận xã hội."))
    for i, s in enumerate(surveys, start=1):
        blocks.append(Para(f"{i}. {s['title']}", bold=True))
        blocks.append(Para(f"Số phiếu thu được: {vn.number(s['responses'])}."))
        for j, q in enumerate(s["questions"], start=1):
            blocks.append(Para(f"Câu {j}. {q['text']}: {question_summary(q)}.", bullet=True))
    return Section("KẾT QUẢ ĐIỀU TRA, KHẢO SÁT DƯ LUẬN XÃ HỘI", blocks)


def _forecast(report: Mapping[str, Any], unit: Any, topic: Any) -> Section:
    f = report["forecast"]
    trend = f["trend"]
    blocks: list[Block] = [
        Para(
            f"Theo diễn biến trong kỳ, số phản ánh {TREND_WORD[trend['direction']]}; dự kiến kỳ tới có khoảng "
            f"{vn.number(trend['expected_next_period'])} phản ánh."
        )
    ]
    rising = f["rising_topics"]
    if rising:
        parts = []
        for t in rising:
            rise = "chưa có ở kỳ trước" if t["change_percent"] is None else f"tăng {vn.percent(t['change_percent'])}"
            parts.append(f"{topic(t['topic_code'])} ({vn.number(t['reports'])} phản ánh, {rise})")
        blocks.append(Para("Các vấn đề có khả năng tiếp tục được quan tâm: " + "; ".join(parts) + "."))
    negative = f["negative_units"]
    if negative:
        parts = [
            f"{unit(u['unit_code'])} ({vn.percent(u['negative_percent'])} phản ánh tiêu cực"
            + (
                ""
                if u["previous_negative_percent"] is None
                else f", kỳ trước {vn.percent(u['previous_negative_percent'])}"
            )
            + ")"
            for u in negative
        ]
        blocks.append(Para("Các địa bàn có tâm trạng tiêu cực gia tăng, cần theo dõi: " + "; ".join(parts) + "."))
    blocks.append(Para(f["method"], italic=True))
    return Section("DỰ BÁO TÌNH HÌNH", blocks)

"""The briefing as titled tables of Vietnamese rows: the common ground of the CSV, XLSX and DOCX exports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pulse_reporting.domain.labels import CHANNEL, HOTSPOT_STATUS, SENTIMENT, URGENCY, label

Table = tuple[str, str, list[str], list[list[Any]]]
"""(sheet name, title, header, rows)."""


def briefing_tables(report: Mapping[str, Any], tz: ZoneInfo) -> list[Table]:
    """Every section of the briefing as a table with Vietnamese headers."""
    units: dict[str, str] = report["names"]["units"]
    topics: dict[str, str] = report["names"]["topics"]
    totals = report["totals"]
    late = report.get("late") or {}
    prev = report["previous"]
    general = [
        ["Tổng số phản ánh", totals["reports"]],
        [f"Kỳ trước ({prev['period']})", prev["reports"]],
        ["Thay đổi so với kỳ trước (%)", _num(prev["change_percent"])],
        ["Số liệu đã chốt", "Có" if report["frozen"] else "Chưa"],
        ["Phản ánh đến muộn sau khi chốt", late.get("reports", 0) if report["frozen"] else ""],
    ]
    general += [[f"Mức độ: {label(URGENCY, k)}", v] for k, v in totals["by_urgency"].items()]
    general += [[f"Kênh: {label(CHANNEL, k)}", v] for k, v in totals["by_channel"].items()]
    by_unit = [[c, units.get(c, c), n, (late.get("by_unit") or {}).get(c, 0)] for c, n in totals["by_unit"].items()]
    top = [
        [t["topic_code"], _topic(topics, t["topic_code"]), t["reports"], t["previous"], _num(t["change_percent"])]
        for t in report["top_topics"]
    ]
    sentiment = [[label(SENTIMENT, k), v] for k, v in totals["by_sentiment"].items()]
    hotspots = [
        [
            h["id"],
            units.get(h["unit_code"], h["unit_code"]),
            _topic(topics, h["topic_code"]),
            label(URGENCY, h["urgency"]),
            label(HOTSPOT_STATUS, h["status"]),
            h["report_count"],
            h.get("source_count", 0),
            _time(h["opened_at"], tz),
            _minutes(h["time_to_ack_seconds"]),
            len(h.get("directives") or []),
            h.get("outcome") or "",
        ]
        for h in report["hotspots"]
    ]
    esc = report["escalations"]
    escalations = [
        [
            "Tất cả",
            esc["raised"],
            esc["acknowledged"],
            _minutes(esc["time_to_ack_seconds"]["median"]),
            _minutes(esc["time_to_ack_seconds"]["p95"]),
        ],
    ] + [
        [f"Cấp {lv['level']}", "", lv["acknowledged"], _minutes(lv["median"]), _minutes(lv["p95"])]
        for lv in esc["by_level"]
    ]
    coverage = [
        [
            c["title"],
            c["period"],
            _topic(topics, c["topic_code"]),
            c["target_units"],
            "; ".join(u["name"] for u in c["silent_units"]),
        ]
        for c in report["orientation_coverage"]
    ]
    collab = [
        [c["collaborator"], units.get(c["unit_code"], c["unit_code"]), c["reports"]]
        for c in report["collaborators"]["items"]
    ]
    surveys = [
        [s["title"], s["responses"], q["text"], q.get("answered", 0), _answer_summary(q)]
        for s in report["surveys"]
        for q in s["questions"]
    ]
    directives = report.get("directives") or {"by_agency": [], "by_unit": []}
    by_agency = [[a["name"], *_directive_figures(a)] for a in directives["by_agency"]]
    directive_units = [
        [units.get(u["unit_code"], u["unit_code"]), *_directive_figures(u)] for u in directives["by_unit"]
    ]
    trend = [[i["bucket"], i["reports"]] for i in (report.get("trend") or {}).get("items", [])]
    fc = report.get("forecast") or {}
    forecast_rows: list[list[Any]] = []
    if fc:
        forecast_rows.append(["Số phản ánh dự kiến kỳ tới", fc["trend"]["expected_next_period"], ""])
        forecast_rows += [
            ["Chủ đề tăng nhanh", _topic(topics, t["topic_code"]), t["reports"]] for t in fc["rising_topics"]
        ]
        forecast_rows += [
            ["Tiêu cực gia tăng (%)", units.get(u["unit_code"], u["unit_code"]), u["negative_percent"]]
            for u in fc["negative_units"]
        ]
        forecast_rows.append(["Phương pháp", fc["method"], ""])
    proposals = [[i, text] for i, text in enumerate(report.get("proposals") or [], start=1)]
    directive_header = [
        "Được giao",
        "Hoàn thành",
        "Đúng hạn",
        "Trễ hạn",
        "Quá hạn",
        "Đang thực hiện",
        "Trung vị hoàn thành (giờ)",
    ]
    return [
        ("Tổng hợp", "Tình hình chung", ["Chỉ tiêu", "Số liệu"], general),
        ("Đơn vị", "Phản ánh theo đơn vị", ["Mã", "Đơn vị", "Số phản ánh", "Đến muộn"], by_unit),
        ("Chủ đề", "Chủ đề nổi bật", ["Mã", "Chủ đề", "Kỳ này", "Kỳ trước", "Thay đổi (%)"], top),
        ("Sắc thái", "Sắc thái dư luận", ["Sắc thái", "Số phản ánh"], sentiment),
        (
            "Điểm nóng",
            "Các vấn đề nổi cộm, điểm nóng",
            [
                "Mã",
                "Đơn vị",
                "Chủ đề",
                "Mức độ",
                "Tình trạng",
                "Số phản ánh",
                "Số nguồn",
                "Phát sinh",
                "Tiếp nhận sau (phút)",
                "Số chỉ đạo",
                "Kết quả xử lý",
            ],
            hotspots,
        ),
        (
            "Xử lý",
            "Kết quả xử lý cảnh báo",
            ["Cấp", "Phát sinh", "Đã tiếp nhận", "Trung vị (phút)", "P95 (phút)"],
            escalations,
        ),
        (
            "Định hướng",
            "Đơn vị chưa phản ánh theo định hướng",
            ["Định hướng", "Kỳ", "Chủ đề", "Số đơn vị", "Đơn vị chưa phản ánh"],
            coverage,
        ),
        ("Cộng tác viên", "Hoạt động của cộng tác viên", ["Cộng tác viên", "Đơn vị", "Số phản ánh"], collab),
        (
            "Khảo sát",
            "Kết quả điều tra, thăm dò dư luận",
            ["Cuộc khảo sát", "Số phiếu", "Câu hỏi", "Số trả lời", "Kết quả"],
            surveys,
        ),
        ("Chỉ đạo", "Kết quả chỉ đạo, xử lý theo cơ quan", ["Cơ quan", *directive_header], by_agency),
        ("Chỉ đạo theo đơn vị", "Kết quả chỉ đạo, xử lý theo đơn vị", ["Đơn vị", *directive_header], directive_units),
        ("Xu hướng", "Số phản ánh theo thời gian", ["Thời gian", "Số phản ánh"], trend),
        ("Dự báo", "Dự báo tình hình", ["Nội dung", "Chi tiết", "Số liệu"], forecast_rows),
        ("Đề xuất", "Đề xuất, kiến nghị", ["STT", "Nội dung"], proposals),
    ]


def _directive_figures(row: Mapping[str, Any]) -> list[Any]:
    median = row["median_completion_seconds"]
    return [
        row["opened"],
        row["done"],
        row["on_time"],
        row["late"],
        row["overdue"],
        row["in_progress"],
        "" if median is None else round(median / 3600.0, 1),
    ]


def _topic(topics: dict[str, str], code: str) -> str:
    return topics.get(code, "Chưa phân loại" if code == "unclassified" else code)


def _num(value: float | None) -> Any:
    return "" if value is None else value


def _minutes(seconds: float | None) -> Any:
    return "" if seconds is None else round(seconds / 60.0, 1)


def _time(value: datetime | str | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return instant.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def _answer_summary(question: Mapping[str, Any]) -> str:
    if "options" in question:
        return "; ".join(
            f"{o['option']}: {o['count']}" + (f" ({o['percent']}%)" if o.get("percent") is not None else "")
            for o in question["options"]
        )
    if "mean" in question:
        return f"trung bình {question['mean']}, trung vị {question['median']}" if question["answered"] else ""
    return f"{question['answered']} ý kiến"

"""The forecast ("Dự báo tình hình") and the proposals ("Đề xuất, kiến nghị") of the briefing, drawn from its data.

Pure functions over counter rows and briefing sections; the method is stated in the output so a
reader can judge it: a least-squares line through the period's daily report counts, extrapolated
over the days of the next period; topics ranked by their rise against the previous period; units
ranked by the rise of their share of negative reports.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pulse_reporting.domain import vn

MIN_TOPIC_REPORTS = 3
"""A topic needs this many reports in the period before its rise counts."""
MIN_NEGATIVE_REPORTS = 2
"""A unit needs this many negative reports in the period before its rise counts."""
RISING_LIMIT = 3
UNIT_LIMIT = 5

METHOD = (
    "Phương pháp: đường xu hướng tuyến tính (bình phương tối thiểu) qua số phản ánh theo ngày trong kỳ, "
    "ngoại suy cho các ngày của kỳ tiếp theo; chủ đề tăng nhanh nhất xếp theo mức tăng số phản ánh so với kỳ "
    f"trước (chủ đề có từ {MIN_TOPIC_REPORTS} phản ánh trở lên); đơn vị có tỷ lệ phản ánh tiêu cực tăng so với "
    f"kỳ trước (từ {MIN_NEGATIVE_REPORTS} phản ánh tiêu cực trở lên). Đây là ước lượng thống kê để tham khảo, "
    "không thay thế đánh giá của cán bộ nghiên cứu dư luận."
)


def daily_counts(rows: Iterable[Mapping[str, Any]], first: date, last: date) -> list[int]:
    """Reports per local day over first..last (both included), zeros kept."""
    per_day: Counter[str] = Counter()
    for row in rows:
        per_day[str(row["bucket"])] += int(row.get("reports", 0))
    out = []
    day = first
    while day <= last:
        out.append(per_day.get(day.isoformat(), 0))
        day += timedelta(days=1)
    return out


def projection(daily: list[int], next_days: int) -> dict[str, Any]:
    """The least-squares line through the daily counts and its sum over the next `next_days` days."""
    if len(daily) < 2 or not any(daily):
        return {"slope_per_day": 0.0, "expected_next_period": sum(daily) if daily else 0, "direction": "stable"}
    xs = list(range(len(daily)))
    slope, intercept = statistics.linear_regression(xs, [float(v) for v in daily])
    expected = sum(max(0.0, intercept + slope * x) for x in range(len(daily), len(daily) + next_days))
    mean = statistics.fmean(daily)
    # A slope that moves the daily mean by less than 10 % over a period is called stable.
    relative = slope * len(daily) / mean if mean else 0.0
    direction = "rising" if relative > 0.1 else "falling" if relative < -0.1 else "stable"
    return {"slope_per_day": round(slope, 3), "expected_next_period": round(expected), "direction": direction}


def rising_topics(current: Mapping[str, int], previous: Mapping[str, int]) -> list[dict[str, Any]]:
    """Topics with the largest rise in reports against the previous period."""
    items: list[dict[str, Any]] = []
    for code, n in current.items():
        before = int(previous.get(code, 0))
        if n >= MIN_TOPIC_REPORTS and n > before:
            pct = None if before == 0 else round((n - before) * 100.0 / before, 1)
            items.append({"topic_code": code, "reports": n, "previous": before, "change_percent": pct})
    items.sort(key=lambda i: (-(i["reports"] - i["previous"]), i["topic_code"]))
    return items[:RISING_LIMIT]


def negative_by_unit(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """(negative reports, all reports) per unit."""
    negative: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in rows:
        n = int(row.get("reports", 0))
        total[row["unit"]] += n
        if row.get("sentiment") == "negative":
            negative[row["unit"]] += n
    return {unit: (negative[unit], total[unit]) for unit in total}


def growing_negative_units(
    current_rows: Iterable[Mapping[str, Any]], previous_rows: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Units whose share of negative reports rose against the previous period, largest rise first."""
    now, before = negative_by_unit(current_rows), negative_by_unit(previous_rows)
    items: list[dict[str, Any]] = []
    for unit, (neg, total) in now.items():
        if neg < MIN_NEGATIVE_REPORTS or total == 0:
            continue
        prev_neg, prev_total = before.get(unit, (0, 0))
        share_now = neg * 100.0 / total
        share_before = prev_neg * 100.0 / prev_total if prev_total else 0.0
        if share_now > share_before:
            items.append(
                {
                    "unit_code": unit,
                    "negative": neg,
                    "reports": total,
                    "negative_percent": round(share_now, 1),
                    "previous_negative_percent": round(share_before, 1) if prev_total else None,
                }
            )
    items.sort(key=lambda i: (-(i["negative_percent"] - (i["previous_negative_percent"] or 0.0)), i["unit_code"]))
    return items[:UNIT_LIMIT]


def forecast(
    *,
    current_rows: Sequence[Mapping[str, Any]],
    previous_rows: Sequence[Mapping[str, Any]],
    current_by_topic: Mapping[str, int],
    previous_by_topic: Mapping[str, int],
    first: date,
    last: date,
    next_days: int,
) -> dict[str, Any]:
    """The forecast section's data and its stated method."""
    return {
        "method": METHOD,
        "trend": projection(daily_counts(current_rows, first, last), next_days),
        "rising_topics": rising_topics(current_by_topic, previous_by_topic),
        "negative_units": growing_negative_units(current_rows, previous_rows),
    }


def proposals(report: Mapping[str, Any]) -> list[str]:
    """Proposals that follow from the briefing's own figures (never boilerplate alone)."""
    units: Mapping[str, str] = report["names"]["units"]
    topics: Mapping[str, str] = report["names"]["topics"]
    out: list[str] = []
    open_spots = [h for h in report["hotspots"] if h["status"] != "resolved"]
    for h in open_spots[:5]:
        out.append(
            f"Đề nghị cấp ủy, chính quyền {units.get(h['unit_code'], h['unit_code'])} tập trung giải quyết dứt điểm "
            f"điểm nóng về {topics.get(h['topic_code'], h['topic_code'])} "
            f"({vn.number(h['report_count'])} phản ánh), báo cáo kết quả về Ban Tuyên giáo."
        )
    if len(open_spots) > 5:
        out.append(f"Tiếp tục theo dõi, xử lý {vn.number(len(open_spots) - 5)} điểm nóng khác chưa được giải quyết.")
    directives = report.get("directives") or {}
    overdue = [a for a in directives.get("by_agency", []) if a.get("overdue")]
    for agency in overdue[:5]:
        out.append(f"Đôn đốc {agency['name']} hoàn thành {vn.number(agency['overdue'])} nhiệm vụ được giao đã quá hạn.")
    for t in (report.get("forecast") or {}).get("rising_topics", []):
        rise = "" if t["change_percent"] is None else f", tăng {vn.percent(t['change_percent'])} so với kỳ trước"
        out.append(
            f"Tăng cường thông tin, tuyên truyền, định hướng dư luận về {topics.get(t['topic_code'], t['topic_code'])} "
            f"({vn.number(t['reports'])} phản ánh{rise})."
        )
    for u in (report.get("forecast") or {}).get("negative_units", [])[:3]:
        out.append(
            f"Nắm chắc tâm trạng của Nhân dân tại {units.get(u['unit_code'], u['unit_code'])}: "
            f"{vn.percent(u['negative_percent'])} phản ánh trong kỳ mang sắc thái tiêu cực."
        )
    silent_topics = [c for c in report["orientation_coverage"] if c["silent_units"]]
    for c in silent_topics[:3]:
        names = [u["name"] for u in c["silent_units"]]
        out.append(
            f"Đôn đốc {vn.number(len(names))} đơn vị chưa phản ánh về {topics.get(c['topic_code'], c['topic_code'])} "
            f"theo định hướng «{c['title']}»: {vn.listing(names)}."
        )
    if not out:
        out.append(
            "Tình hình dư luận trong kỳ ổn định, không có điểm nóng tồn đọng; đề nghị các đơn vị tiếp tục duy trì "
            "nắm bắt, phản ánh kịp thời ý kiến của cán bộ, đảng viên và Nhân dân."
        )
    return out

"""The dashboard: open hot spots by urgency, escalations awaiting acknowledgement, reports, directives.

Each panel is its own partial (`/panels/...`) that htmx loads and refreshes, so a service that is
down blanks only its panel, and new hot spots appear without reloading.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response

from pulse_console.entrypoints.auth import landing
from pulse_console.entrypoints.common import Signed, items, redirect, script_json, topic_names
from pulse_console.labels import URGENCY_ORDER, unit_name

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard(web: Signed) -> Response:
    """The dashboard page (its panels load themselves)."""
    if not web.may("hotspots:read"):
        return redirect(landing(web.user))
    return web.render("dashboard.html")


@router.get("/panels/hotspots")
async def hotspots_panel(web: Signed) -> Response:
    """Open hot spots grouped by urgency, most urgent first."""
    web.need("hotspots:read")
    panel = await web.panel("triage", "/v1/hotspots", {"status": "open", "limit": 200})
    groups: dict[str, list[Any]] = {u: [] for u in URGENCY_ORDER}
    for spot in items(panel):
        groups.setdefault(spot.get("urgency", "routine"), []).append(spot)
    topics = await topic_names(web) if panel.data else {}
    return web.render("panels/hotspots.html", panel=panel, groups=groups, topics=topics)


@router.get("/panels/escalations")
async def escalations_panel(web: Signed) -> Response:
    """Escalations awaiting acknowledgement, with the time left."""
    web.need("escalations:read")
    panel = await web.panel("triage", "/v1/escalations", {"state": "pending", "limit": 100})
    pending = sorted(items(panel), key=lambda e: e.get("ack_deadline") or "9999")
    topics = await topic_names(web) if panel.data else {}
    return web.render("panels/escalations.html", panel=panel, escalations=pending, topics=topics)


@router.get("/panels/stats")
async def stats_panel(web: Signed) -> Response:
    """Reports today and this period, a trend chart and a topics chart."""
    web.need("stats:read")
    today = datetime.now(ZoneInfo(web.settings.timezone)).date().isoformat()
    period = await web.panel("reporting", "/v1/stats/summary")
    day = await web.panel("reporting", "/v1/stats/summary", {"from": today, "to": today})
    trend_data: dict[str, Any] = {}
    topics_data: dict[str, Any] = {}
    if isinstance(period.data, dict):
        trend = await web.panel("reporting", "/v1/stats/trends", {"granularity": "day", "from": period.data["from"]})
        points = items(trend)
        trend_data = {
            "kind": "line",
            "label": "Số báo cáo",
            "labels": [p["bucket"][5:] for p in points],
            "values": [p["reports"] for p in points],
        }
        names = await topic_names(web)
        by_topic = sorted(period.data.get("by_topic", {}).items(), key=lambda kv: -kv[1])[:8]
        topics_data = {
            "kind": "bar",
            "label": "Theo lĩnh vực",
            "labels": [names.get(code, code) for code, _ in by_topic],
            "values": [count for _, count in by_topic],
        }
    return web.render(
        "panels/stats.html",
        period=period,
        day=day,
        trend_json=script_json(trend_data),
        topics_json=script_json(topics_data),
    )


@router.get("/panels/directives")
async def directives_panel(web: Signed) -> Response:
    """Directives past their due time."""
    web.need("directives:read")
    panel = await web.panel("triage", "/v1/directives", {"state": "overdue", "limit": 50})
    return web.render("panels/directives.html", panel=panel, directives=items(panel), unit_name=unit_name)

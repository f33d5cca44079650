"""Reports: search and filters with cursor paging, detail with triage's reasons and the officer's
review, and the report form a collaborator fills in on a phone."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pulse_console.entrypoints.common import (
    Panel,
    Refused,
    Signed,
    Web,
    items,
    local_input_to_rfc3339,
    redirect,
    topic_names,
)
from pulse_console.labels import CHANNEL, SENTIMENT, field_errors

router = APIRouter(include_in_schema=False)
Filter = Annotated[str | None, Query(max_length=200)]
"""A filter parameter (Annotated: a shared `Query()` default would give every parameter the first one's name)."""
REPORT_CHANNELS = ("phone", "zalo", "written", "meeting", "dialogue", "hotline", "press", "social_media", "other")
FILTERS = ("q", "unit_code", "topic_code", "status", "urgency", "channel", "from", "to")


@router.get("/reports")
async def report_list(
    web: Signed,
    q: Filter = None,
    unit_code: Filter = None,
    topic_code: Filter = None,
    status: Filter = None,
    urgency: Filter = None,
    channel: Filter = None,
    from_: str | None = Query(default=None, alias="from", max_length=40),
    to: Filter = None,
    cursor: str | None = Query(default=None, max_length=2000),
) -> Response:
    """Reports in the person's scope (a collaborator sees only their own)."""
    web.need("reports:read", "reports:read:own")
    values = dict(zip(FILTERS, (q, unit_code, topic_code, status, urgency, channel, from_, to), strict=True))
    panel = await web.panel("intake", "/v1/reports", values | {"cursor": cursor, "limit": 25})
    query = "?" + urlencode({k: v for k, v in values.items() if v})
    error = None
    if not panel.notice and isinstance(panel.data, dict) and "items" not in panel.data:
        error, panel = "Bộ lọc không hợp lệ.", Panel()
    return web.render(
        "reports.html",
        panel=panel,
        reports=items(panel),
        filters=values,
        query=query,
        error=error,
        topics=await topic_names(web),
        channels=CHANNEL,
        own_only=not web.may("reports:read"),
    )


def _form_page(web: Web, topics: dict[str, str], *, values: dict[str, Any], errors: dict[str, str]) -> Response:
    return web.render(
        "report_new.html",
        status=422 if errors else 200,
        topics=topics,
        channels=[(c, CHANNEL[c]) for c in REPORT_CHANNELS],
        sentiments=SENTIMENT,
        values=values,
        errors=errors,
        units=web.user.unit_codes,
    )


@router.get("/reports/new")
async def report_form(web: Signed) -> Response:
    """The report form (phone-sized)."""
    web.need("reports:write")
    now = datetime.now(ZoneInfo(web.settings.timezone)).strftime("%Y-%m-%dT%H:%M")
    values = {"observed_at": now, "channel": "phone", "key": secrets.token_urlsafe(16)}
    return _form_page(web, await topic_names(web), values=values, errors={})


@router.post("/reports/new")
async def submit_report(web: Signed) -> Response:
    """Submit the report to intake; its field errors come back in Vietnamese on the form."""
    web.need("reports:write")
    form = await web.form()
    topics_chosen = (await web.form_lists()).get("topic_codes", [])
    body: dict[str, Any] = {
        "unit_code": form.get("unit_code", ""),
        "channel": form.get("channel", "phone"),
        "title": form.get("title", "").strip(),
        "content": form.get("content", "").strip(),
        "observed_at": local_input_to_rfc3339(form.get("observed_at", ""), web.settings.timezone),
        "topic_codes": topics_chosen,
    }
    if form.get("sentiment"):
        body["sentiment"] = form["sentiment"]
    if form.get("people_count", "").strip():
        count = form["people_count"].strip()
        body["people_count"] = int(count) if count.isdigit() else count
    # The form's own key: pressing "send" twice on a slow line stores the report once.
    headers = {"Idempotency-Key": form["key"]} if form.get("key") else None
    answer = await web.call("intake", "POST", "/v1/reports", json=body, headers=headers)
    if answer.ok:
        return redirect(f"/reports/{answer.body['id']}?sent=1")
    values = {**form, "topic_codes": topics_chosen}
    errors = field_errors(answer.errors) or {"_": answer.detail or f"Không gửi được (mã {answer.status})."}
    return _form_page(web, await topic_names(web), values=values, errors=errors)


async def _report_page(web: Web, report_id: str, *, errors: dict[str, str] | None = None, **extra: Any) -> Response:
    answer = await web.call("intake", "GET", f"/v1/reports/{report_id}")
    if not answer.ok:
        # 404 for absent and for outside the person's units alike: the page never says which.
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Báo cáo này không tồn tại.")
    triage = await web.panel("triage", f"/v1/triage/{report_id}") if web.may("triage:read") else Panel()
    return web.render(
        "report.html",
        status=422 if errors else 200,
        r=answer.body,
        triage=triage,
        topics=await topic_names(web),
        may_review=web.user.role == "department",
        errors=errors or {},
        **extra,
    )


@router.get("/reports/{report_id}")
async def report_detail(report_id: str, web: Signed, sent: str | None = None, reviewed: str | None = None) -> Response:
    """One report, with triage's decision and reasons."""
    web.need("reports:read", "reports:read:own")
    message = "Đã gửi báo cáo." if sent else ("Đã ghi nhận đánh giá lại." if reviewed else None)
    return await _report_page(web, report_id, message=message)


@router.post("/reports/{report_id}/review")
async def review(report_id: str, web: Signed) -> Response:
    """The officer's correction of triage's decision."""
    if web.user.role != "department":
        raise Refused("Chỉ cán bộ Ban Tuyên giáo được đánh giá lại phân loại.")
    form = await web.form()
    body: dict[str, Any] = {"comment": form.get("comment", "").strip()}
    if form.get("urgency"):
        body["urgency"] = form["urgency"]
    chosen = (await web.form_lists()).get("topic_codes", [])
    if chosen:
        body["topic_codes"] = chosen
    answer = await web.call("triage", "POST", f"/v1/triage/{report_id}/review", json=body)
    if answer.ok:
        return redirect(f"/reports/{report_id}?reviewed=1")
    if answer.absent:
        return await _report_page(web, report_id, errors={"_": "Chức năng đánh giá lại chưa được bật trên máy chủ."})
    return await _report_page(web, report_id, errors=field_errors(answer.errors) or {"_": answer.detail})

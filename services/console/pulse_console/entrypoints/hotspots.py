"""Hot spots, escalations and directives: lists, detail, and the actions staff take on them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pulse_console.adapters.api import Answer
from pulse_console.entrypoints.common import (
    ABSENT_NOTICE,
    Panel,
    Signed,
    Web,
    items,
    local_input_to_rfc3339,
    redirect,
    topic_names,
)
from pulse_console.labels import field_errors

router = APIRouter(include_in_schema=False)
Filter = Annotated[str | None, Query(max_length=64)]
"""A filter parameter (Annotated: a shared `Query()` default would give every parameter the first one's name)."""
_CONFLICT = "Không thực hiện được: trạng thái đã thay đổi. Hãy tải lại trang."


@router.get("/hotspots")
async def hotspot_list(
    web: Signed,
    status: Filter = None,
    urgency: Filter = None,
    unit_code: Filter = None,
    topic_code: Filter = None,
    cursor: str | None = Query(default=None, max_length=2000),
) -> Response:
    """Hot spots with filters and cursor paging."""
    web.need("hotspots:read")
    params = {"status": status, "urgency": urgency, "unit_code": unit_code, "topic_code": topic_code}
    panel = await web.panel("triage", "/v1/hotspots", params | {"cursor": cursor, "limit": 50})
    topics = await topic_names(web)
    return web.render(
        "hotspots.html", panel=panel, hotspots=items(panel), topics=topics, filters=params, query=_query(params)
    )


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode({k: v for k, v in params.items() if v})


async def _detail(web: Web, hotspot_id: str, *, errors: dict[str, str] | None = None, **extra: Any) -> Response:
    answer = await web.call("triage", "GET", f"/v1/hotspots/{hotspot_id}")
    if answer.status == 404:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Điểm nóng này không tồn tại.")
    if not answer.ok:
        return web.render("error.html", status=answer.status, heading="Không tải được", message=answer.detail)
    spot = answer.body
    reports = []
    for report_id in spot.get("report_ids", [])[:30]:
        one = await web.panel("intake", f"/v1/reports/{report_id}")
        if isinstance(one.data, dict):
            reports.append(one.data)
    directives = (
        await web.panel("triage", "/v1/directives", {"hotspot_id": hotspot_id})
        if web.may("directives:read")
        else Panel()
    )
    agencies = await web.panel("intake", "/v1/agencies", {"limit": 500}) if web.may("directives:write") else Panel()
    return web.render(
        "hotspot.html",
        status=422 if errors else 200,
        h=spot,
        esc=spot.get("escalation"),
        reports=reports,
        directives=directives,
        agencies=items(agencies),
        topics=await topic_names(web),
        errors=errors or {},
        **extra,
    )


@router.get("/hotspots/{hotspot_id}")
async def hotspot_detail(
    hotspot_id: str, web: Signed, done: str | None = Query(default=None, max_length=40)
) -> Response:
    """A hot spot with its reports, sources, timeline and actions."""
    web.need("hotspots:read", "hotspots:read:assigned")
    messages = {
        "ack": "Đã xác nhận cảnh báo.",
        "resolve": "Đã ghi nhận kết quả giải quyết.",
        "directive": "Đã giao chỉ đạo.",
        "split": "Đã tách các báo cáo đã chọn.",
    }
    return await _detail(web, hotspot_id, message=messages.get(done or ""))


async def _after(web: Web, hotspot_id: str, answer: Answer, done: str) -> Response:
    if answer.ok:
        return redirect(f"/hotspots/{hotspot_id}?done={done}")
    if answer.status == 409:
        return await _detail(web, hotspot_id, errors={"_": answer.detail or _CONFLICT})
    if answer.status in (403, 404) and not answer.errors:
        return web.render("error.html", status=answer.status, heading="Không thực hiện được", message=answer.detail)
    return await _detail(web, hotspot_id, errors=field_errors(answer.errors) or {"_": answer.detail})


async def _escalation_hotspot(web: Web, escalation_id: str) -> str | None:
    found = await web.call("triage", "GET", f"/v1/escalations/{escalation_id}")
    return str(found.body["hotspot_id"]) if found.ok else None


@router.post("/escalations/{escalation_id}/ack")
async def acknowledge(escalation_id: str, web: Signed) -> Response:
    """Acknowledge an escalation, with an optional comment."""
    web.need("escalations:ack")
    form = await web.form()
    hotspot_id = await _escalation_hotspot(web, escalation_id)
    if hotspot_id is None:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Cảnh báo này không tồn tại.")
    body = {"comment": form.get("comment") or None}
    answer = await web.call("triage", "POST", f"/v1/escalations/{escalation_id}/ack", json=body)
    return await _after(web, hotspot_id, answer, "ack")


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(escalation_id: str, web: Signed) -> Response:
    """Resolve with a comment; optionally tell the reporting collaborators the outcome."""
    web.need("escalations:ack")
    form = await web.form()
    hotspot_id = await _escalation_hotspot(web, escalation_id)
    if hotspot_id is None:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Cảnh báo này không tồn tại.")
    body = {"comment": form.get("comment", ""), "notify_reporters": form.get("notify_reporters") == "on"}
    answer = await web.call("triage", "POST", f"/v1/escalations/{escalation_id}/resolve", json=body)
    if answer.status == 422 and any(e.get("field") == "notify_reporters" for e in answer.errors):
        body.pop("notify_reporters")  # an older triage without the outcome notice: resolve all the same
        answer = await web.call("triage", "POST", f"/v1/escalations/{escalation_id}/resolve", json=body)
    return await _after(web, hotspot_id, answer, "resolve")


@router.post("/hotspots/{hotspot_id}/directives")
async def create_directive(hotspot_id: str, web: Signed) -> Response:
    """Give a directive on the hot spot to an agency."""
    web.need("directives:write")
    form = await web.form()
    body = {
        "assignee": form.get("assignee", ""),
        "instruction": form.get("instruction", ""),
        "due_at": local_input_to_rfc3339(form.get("due_at", ""), web.settings.timezone),
    }
    answer = await web.call("triage", "POST", f"/v1/hotspots/{hotspot_id}/directives", json=body)
    if answer.absent:
        return await _detail(web, hotspot_id, errors={"_": "Chức năng giao chỉ đạo chưa được bật trên máy chủ."})
    return await _after(web, hotspot_id, answer, "directive")


@router.post("/hotspots/{hotspot_id}/merge")
async def merge(hotspot_id: str, web: Signed) -> Response:
    """Merge this hot spot into another."""
    web.need("escalations:ack")
    form = await web.form()
    into = form.get("into", "").strip()
    answer = await web.call("triage", "POST", f"/v1/hotspots/{hotspot_id}/merge", json={"into": into})
    if answer.absent:
        return await _detail(web, hotspot_id, errors={"_": "Chức năng gộp điểm nóng chưa được bật trên máy chủ."})
    if answer.ok:
        return redirect(f"/hotspots/{into}")
    return await _after(web, hotspot_id, answer, "merge")


@router.post("/hotspots/{hotspot_id}/split")
async def split(hotspot_id: str, web: Signed) -> Response:
    """Split the chosen reports off into a hot spot of their own."""
    web.need("escalations:ack")
    await web.form()
    chosen = (await web.form_lists()).get("report_ids", [])
    answer = await web.call("triage", "POST", f"/v1/hotspots/{hotspot_id}/split", json={"report_ids": chosen})
    if answer.absent:
        return await _detail(web, hotspot_id, errors={"_": "Chức năng tách điểm nóng chưa được bật trên máy chủ."})
    return await _after(web, hotspot_id, answer, "split")


@router.get("/escalations")
async def escalation_list(
    web: Signed, state: Filter = None, cursor: str | None = Query(default=None, max_length=2000)
) -> Response:
    """Escalations, newest first, by state."""
    web.need("escalations:read")
    panel = await web.panel("triage", "/v1/escalations", {"state": state, "cursor": cursor, "limit": 50})
    return web.render(
        "escalations.html",
        panel=panel,
        escalations=items(panel),
        topics=await topic_names(web),
        state=state or "",
        query=_query({"state": state}),
    )


@router.get("/escalations/{escalation_id}")
async def escalation_detail(escalation_id: str, web: Signed) -> Response:
    """An escalation is shown on its hot spot's page."""
    web.need("escalations:read")
    hotspot_id = await _escalation_hotspot(web, escalation_id)
    if hotspot_id is None:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Cảnh báo này không tồn tại.")
    return redirect(f"/hotspots/{hotspot_id}")


@router.get("/directives")
async def directive_list(
    web: Signed, state: Filter = None, cursor: str | None = Query(default=None, max_length=2000)
) -> Response:
    """Directives by state."""
    web.need("directives:read")
    panel = await web.panel("triage", "/v1/directives", {"state": state, "cursor": cursor, "limit": 50})
    return web.render(
        "directives.html", panel=panel, directives=items(panel), state=state or "", query=_query({"state": state})
    )


async def _directive(web: Web, directive_id: str, errors: dict[str, str] | None = None) -> Response:
    answer = await web.call("triage", "GET", f"/v1/directives/{directive_id}")
    if answer.absent:
        return web.render("directive.html", panel=Panel(notice=ABSENT_NOTICE), d=None, errors={})
    if not answer.ok:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Chỉ đạo này không tồn tại.")
    return web.render(
        "directive.html", status=422 if errors else 200, panel=Panel(), d=answer.body, errors=errors or {}
    )


@router.get("/directives/{directive_id}")
async def directive_detail(directive_id: str, web: Signed) -> Response:
    """A directive with its history and the update form."""
    web.need("directives:read")
    return await _directive(web, directive_id)


@router.post("/directives/{directive_id}/updates")
async def directive_update(directive_id: str, web: Signed) -> Response:
    """Report progress on a directive (the assignee agency or the department)."""
    web.need("directives:update")
    form = await web.form()
    body: dict[str, Any] = {"note": form.get("note", ""), "done": form.get("done") == "on"}
    if form.get("result"):
        body["result"] = form["result"]
    answer = await web.call("triage", "POST", f"/v1/directives/{directive_id}/updates", json=body)
    if answer.ok:
        return redirect(f"/directives/{directive_id}")
    return await _directive(web, directive_id, field_errors(answer.errors) or {"_": answer.detail})

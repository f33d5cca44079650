"""Administration: users, agencies, recipients, the duty rota, policies, silences and rules."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

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
from pulse_console.labels import AGENCY_KIND, ROLE, TARGET, field_errors

router = APIRouter(prefix="/admin", include_in_schema=False)
URGENCIES = ("flash", "very_urgent", "urgent")
ROTA_ROWS = 4


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.replace(";", ",").split(",") if c.strip()]


def _errors(answer: Any) -> dict[str, str]:
    return field_errors(answer.errors) or {"_": answer.detail or f"Không lưu được (mã {answer.status})."}


# users ------------------------------------------------------------------------------------------


async def _users(
    web: Web, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, **kw: Any
) -> Response:
    params = {"q": kw.pop("q", None), "role": kw.pop("role", None), "limit": 100}
    panel = await web.panel("intake", "/v1/users", params)
    return web.render(
        "admin/users.html",
        status=422 if errors else 200,
        panel=panel,
        users=items(panel),
        roles=ROLE,
        errors=errors or {},
        values=values or {},
        filters=params,
        **kw,
    )


@router.get("/users")
async def users(
    web: Signed,
    q: str | None = Query(default=None, max_length=100),
    role: str | None = Query(default=None, max_length=40),
) -> Response:
    """Users, with the form to create one."""
    web.need("users:read")
    return await _users(web, q=q, role=role)


@router.post("/users")
async def create_user(web: Signed) -> Response:
    """Create a user."""
    web.need("users:write")
    form = await web.form()
    body: dict[str, Any] = {
        "username": form.get("username", "").strip(),
        "password": form.get("password", ""),
        "full_name": form.get("full_name", "").strip(),
        "role": form.get("role", ""),
        "unit_codes": _codes(form.get("unit_codes", "")),
    }
    for optional in ("phone", "email", "agency_code"):
        if form.get(optional, "").strip():
            body[optional] = form[optional].strip()
    answer = await web.call("intake", "POST", "/v1/users", json=body)
    if answer.status == 422 and "agency_code" in body and any(e.get("field") == "agency_code" for e in answer.errors):
        agency = body.pop("agency_code")  # an intake that takes the agency only by PATCH
        answer = await web.call("intake", "POST", "/v1/users", json=body)
        if answer.ok:
            await web.call("intake", "PATCH", f"/v1/users/{answer.body['id']}", json={"agency_code": agency})
    if answer.ok:
        return await _users(web, message=f"Đã tạo tài khoản {answer.body.get('username', '')}.")
    if answer.status == 409:
        return await _users(web, errors={"username": "Tên đăng nhập đã có, hãy chọn tên khác."}, values=form)
    return await _users(web, errors=_errors(answer), values=form)


@router.post("/users/{user_id}/active")
async def set_active(user_id: str, web: Signed) -> Response:
    """Deactivate or reactivate a user."""
    web.need("users:write")
    form = await web.form()
    answer = await web.call("intake", "PATCH", f"/v1/users/{user_id}", json={"active": form.get("active") == "true"})
    if answer.absent:
        return await _users(web, errors={"_": "Máy chủ chưa cho phép sửa tài khoản."})
    if not answer.ok:
        return await _users(web, errors=_errors(answer))
    return redirect("/admin/users")


# agencies ---------------------------------------------------------------------------------------


async def _agencies(web: Web, errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    panel = await web.panel("intake", "/v1/agencies", {"limit": 200})
    return web.render(
        "admin/agencies.html",
        status=422 if errors else 200,
        panel=panel,
        agencies=items(panel),
        kinds=AGENCY_KIND,
        errors=errors or {},
        values=values or {},
    )


@router.get("/agencies")
async def agencies(web: Signed) -> Response:
    """Agencies that receive directives."""
    web.need("agencies:write")
    return await _agencies(web)


@router.post("/agencies")
async def create_agency(web: Signed) -> Response:
    """Create an agency."""
    web.need("agencies:write")
    form = await web.form()
    body = {k: form.get(k, "").strip() for k in ("code", "name", "kind")}
    if form.get("unit_code", "").strip():
        body["unit_code"] = form["unit_code"].strip()
    answer = await web.call("intake", "POST", "/v1/agencies", json=body)
    if answer.ok:
        return redirect("/admin/agencies")
    return await _agencies(web, _errors(answer), form)


# recipients -------------------------------------------------------------------------------------


async def _recipients(web: Web, errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    panel = await web.panel("notify", "/v1/recipients", {"limit": 200})
    return web.render(
        "admin/recipients.html",
        status=422 if errors else 200,
        panel=panel,
        recipients=items(panel),
        targets={**TARGET, "collaborator": "Cộng tác viên"},
        errors=errors or {},
        values=values or {},
    )


@router.get("/recipients")
async def recipients(web: Signed) -> Response:
    """People and systems paged without a login."""
    web.need("recipients:read")
    return await _recipients(web)


@router.post("/recipients")
async def create_recipient(web: Signed) -> Response:
    """Create a recipient."""
    web.need("recipients:write")
    form = await web.form()
    targets = (await web.form_lists()).get("targets", [])
    channels = {
        k: form[k].strip() for k in ("email", "phone", "zalo_user_id", "webhook_url") if form.get(k, "").strip()
    }
    body = {"name": form.get("name", "").strip(), "targets": targets, "channels": channels}
    if form.get("unit_codes", "").strip():
        body["unit_codes"] = _codes(form["unit_codes"])
    answer = await web.call("notify", "POST", "/v1/recipients", json=body)
    if answer.ok:
        return redirect("/admin/recipients")
    return await _recipients(web, _errors(answer), form)


# duty rota --------------------------------------------------------------------------------------


async def _rota(web: Web, errors: dict[str, str] | None = None, message: str | None = None) -> Response:
    rota = await web.panel("notify", "/v1/rotas/duty_officer")
    if rota.status == 404 and rota.notice != ABSENT_NOTICE:
        rota = Panel(data={"shifts": []})  # notify answers 404 while no rota is set
    # Only duty officers may be on the rota: notify's recipients with that target (people with a
    # login appear there once intake's directory events arrive).
    people = await web.panel("notify", "/v1/recipients", {"target": "duty_officer", "limit": 500})
    return web.render(
        "admin/rota.html",
        status=422 if errors else 200,
        rota=rota,
        people=items(people),
        rows=range(ROTA_ROWS),
        errors=errors or {},
        message=message,
    )


@router.get("/rota")
async def rota(web: Signed) -> Response:
    """The duty officers' on-call rota."""
    web.need("recipients:write")
    return await _rota(web)


@router.post("/rota")
async def save_rota(web: Signed) -> Response:
    """Replace the rota's shifts."""
    web.need("recipients:write")
    form = await web.form()
    tz = web.settings.timezone
    shifts = []
    for i in range(ROTA_ROWS):
        kind, _, person = form.get(f"user_{i}", "").strip().partition(":")
        if not person or kind not in ("user_id", "recipient_id"):
            continue
        shifts.append(
            {
                kind: person,
                "starts_at": local_input_to_rfc3339(form.get(f"starts_{i}", ""), tz),
                "ends_at": local_input_to_rfc3339(form.get(f"ends_{i}", ""), tz),
            }
        )
    body = {"timezone": tz, "shifts": shifts, "overrides": []}
    answer = await web.call("notify", "PUT", "/v1/rotas/duty_officer", json=body)
    if answer.absent:
        return await _rota(web, {"_": "Chức năng lịch trực chưa được bật trên máy chủ."})
    if not answer.ok:
        return await _rota(web, _errors(answer))
    return await _rota(web, message="Đã lưu lịch trực.")


# policies, silences, rules ----------------------------------------------------------------------


async def _policies(web: Web, errors: dict[str, str] | None = None, message: str | None = None) -> Response:
    policies = {u: await web.panel("triage", f"/v1/policies/{u}") for u in URGENCIES}
    return web.render(
        "admin/policies.html",
        status=422 if errors else 200,
        policies=policies,
        targets=TARGET,
        errors=errors or {},
        message=message,
    )


@router.get("/policies")
async def policies(web: Signed) -> Response:
    """Escalation policies per urgency."""
    web.need("policies:read")
    return await _policies(web)


@router.post("/policies/{urgency}")
async def save_policy(urgency: str, web: Signed) -> Response:
    """Replace one urgency's acknowledgement timeouts (minutes per level)."""
    web.need("policies:write")
    form = await web.form()
    levels = []
    for level, target in enumerate(TARGET, start=1):
        minutes = form.get(f"level_{level}", "").strip()
        if minutes:
            seconds: Any = int(float(minutes) * 60) if minutes.replace(".", "", 1).isdigit() else minutes
            levels.append({"level": level, "target": target, "ack_timeout_seconds": seconds})
    answer = await web.call("triage", "PUT", f"/v1/policies/{urgency}", json={"levels": levels})
    if not answer.ok:
        return await _policies(web, _errors(answer))
    return await _policies(web, message="Đã lưu chính sách.")


async def _silences(web: Web, errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    panel = await web.panel("triage", "/v1/silences", {"limit": 100})
    return web.render(
        "admin/silences.html",
        status=422 if errors else 200,
        panel=panel,
        silences=items(panel),
        topics=await topic_names(web),
        errors=errors or {},
        values=values or {},
    )


@router.get("/silences")
async def silences(web: Signed) -> Response:
    """Silences of paging for a unit and/or topic."""
    web.need("silences:read")
    return await _silences(web)


@router.post("/silences")
async def create_silence(web: Signed) -> Response:
    """Silence paging until a time."""
    web.need("silences:write")
    form = await web.form()
    body: dict[str, Any] = {
        "until": local_input_to_rfc3339(form.get("until", ""), web.settings.timezone),
        "reason": form.get("reason", ""),
    }
    for key in ("unit_code", "topic_code"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    answer = await web.call("triage", "POST", "/v1/silences", json=body)
    if answer.ok:
        return redirect("/admin/silences")
    return await _silences(web, _errors(answer), form)


@router.post("/silences/{silence_id}/delete")
async def end_silence(silence_id: str, web: Signed) -> Response:
    """End a silence now."""
    web.need("silences:write")
    await web.form()
    answer = await web.call("triage", "DELETE", f"/v1/silences/{silence_id}")
    if not answer.ok and answer.status != 404:
        return await _silences(web, _errors(answer))
    return redirect("/admin/silences")


async def _rules(
    web: Web, *, text: str | None = None, errors: dict[str, str] | None = None, message: str | None = None
) -> Response:
    panel = await web.panel("triage", "/v1/rules") if text is None else Panel()
    shown = text if text is not None else json.dumps(panel.data, ensure_ascii=False, indent=2) if panel.data else ""
    return web.render(
        "admin/rules.html", status=422 if errors else 200, panel=panel, text=shown, errors=errors or {}, message=message
    )


@router.get("/rules")
async def rules(web: Signed) -> Response:
    """The keyword, sensitivity and scoring rules as data."""
    web.need("rules:read")
    return await _rules(web)


@router.post("/rules")
async def save_rules(web: Signed) -> Response:
    """Replace the rules (triage validates them)."""
    web.need("rules:write")
    form = await web.form()
    text = form.get("rules", "")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return await _rules(web, text=text, errors={"rules": f"Nội dung không phải JSON hợp lệ: {exc}"})
    answer = await web.call("triage", "PUT", "/v1/rules", json=data)
    if not answer.ok:
        return await _rules(web, text=text, errors=_errors(answer))
    return await _rules(web, message="Đã lưu quy tắc.")

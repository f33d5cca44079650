"""Orientations, bulletins, surveys and periodic reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from pulse_console.entrypoints.common import ABSENT_NOTICE, Panel, Signed, Web, items, redirect, topic_names
from pulse_console.labels import field_errors

router = APIRouter(include_in_schema=False)
PERIOD_PATTERN = r"^\d{4}(-(\d{2}|Q[1-4]|H[12]|9M))?$"
PERIOD = Query(default=None, max_length=10, pattern=PERIOD_PATTERN)
FORMATS = {"docx": "docx", "xlsx": "xlsx", "csv": "csv"}


@router.get("/orientations")
async def orientations(web: Signed) -> Response:
    """The current orientation (what to watch this period), and for the department all of them."""
    web.need("orientations:read")
    current = await web.panel("intake", "/v1/orientations/current")
    every = await web.panel("intake", "/v1/orientations", {"limit": 50}) if web.may("orientations:write") else Panel()
    return web.render(
        "orientations.html", current=current, every=every, topics=await topic_names(web), errors={}, values={}
    )


@router.post("/orientations")
async def publish_orientation(web: Signed) -> Response:
    """Publish an orientation (department)."""
    web.need("orientations:write")
    form = await web.form()
    chosen = (await web.form_lists()).get("topic_codes", [])
    body = {"period": form.get("period", ""), "title": form.get("title", ""), "guidance": form.get("guidance", "")}
    answer = await web.call("intake", "POST", "/v1/orientations", json=body | {"topic_codes": chosen})
    if answer.ok:
        return redirect("/orientations")
    current = await web.panel("intake", "/v1/orientations/current")
    every = await web.panel("intake", "/v1/orientations", {"limit": 50})
    errors = field_errors(answer.errors) or {"_": answer.detail}
    return web.render(
        "orientations.html",
        status=422,
        current=current,
        every=every,
        topics=await topic_names(web),
        errors=errors,
        values=form,
    )


@router.get("/bulletins")
async def bulletins(web: Signed) -> Response:
    """Thematic bulletins (collaborators read them here; their SMS links point here)."""
    web.need("orientations:read", "bulletins:write")
    panel = await web.panel("notify", "/v1/bulletins", {"limit": 50})
    return web.render("bulletins.html", panel=panel, bulletins=items(panel), errors={}, values={})


@router.get("/bulletins/{bulletin_id}")
async def bulletin(bulletin_id: str, web: Signed) -> Response:
    """One bulletin."""
    web.need("orientations:read", "bulletins:write")
    panel = await web.panel("notify", f"/v1/bulletins/{bulletin_id}")
    if panel.notice and panel.notice != ABSENT_NOTICE:
        return web.render("error.html", status=404, heading="Không tìm thấy", message="Bản tin này không tồn tại.")
    return web.render("bulletin.html", panel=panel, b=panel.data)


@router.post("/bulletins")
async def send_bulletin(web: Signed) -> Response:
    """Send a bulletin to collaborators (department)."""
    web.need("bulletins:write")
    form = await web.form()
    body = {"title": form.get("title", ""), "body": form.get("body", "")}
    answer = await web.call("notify", "POST", "/v1/bulletins", json=body)
    if answer.ok:
        return redirect("/bulletins")
    panel = await web.panel("notify", "/v1/bulletins", {"limit": 50})
    errors = field_errors(answer.errors) or {"_": answer.detail}
    return web.render("bulletins.html", status=422, panel=panel, bulletins=items(panel), errors=errors, values=form)


@router.get("/surveys")
async def surveys(web: Signed) -> Response:
    """Surveys open to the person, or all of them for the department."""
    web.need("surveys:respond", "surveys:read")
    panel = await web.panel("intake", "/v1/surveys", {"limit": 50})
    return web.render("surveys.html", panel=panel, surveys=items(panel))


async def _survey(web: Web, survey_id: str, *, errors: dict[str, str] | None = None, **extra: Any) -> Response:
    answer = await web.call("intake", "GET", f"/v1/surveys/{survey_id}")
    if not answer.ok:
        return web.render(
            "error.html", status=404, heading="Không tìm thấy", message="Cuộc khảo sát này không tồn tại."
        )
    results = Panel()
    if web.may("surveys:read", "stats:read"):
        results = await web.panel("reporting", f"/v1/surveys/{survey_id}/results")
    return web.render(
        "survey.html", status=422 if errors else 200, s=answer.body, results=results, errors=errors or {}, **extra
    )


@router.get("/surveys/{survey_id}")
async def survey(survey_id: str, web: Signed, sent: str | None = None) -> Response:
    """A survey: the answer form for collaborators, the results for the department."""
    web.need("surveys:respond", "surveys:read")
    return await _survey(web, survey_id, message="Đã gửi câu trả lời. Cảm ơn bạn." if sent else None)


@router.post("/surveys/{survey_id}")
async def answer_survey(survey_id: str, web: Signed) -> Response:
    """Send one response."""
    web.need("surveys:respond")
    await web.form()
    lists = await web.form_lists()
    found = await web.call("intake", "GET", f"/v1/surveys/{survey_id}")
    if not found.ok:
        return web.render(
            "error.html", status=404, heading="Không tìm thấy", message="Cuộc khảo sát này không tồn tại."
        )
    answers: dict[str, Any] = {}
    for question in found.body.get("questions", []):
        given = [v for v in lists.get(f"q_{question['code']}", []) if v.strip()]
        if not given:
            continue
        if question["kind"] == "multi":
            answers[question["code"]] = given
        elif question["kind"] == "scale":
            answers[question["code"]] = int(given[0]) if given[0].isdigit() else given[0]
        else:
            answers[question["code"]] = given[0]
    answer = await web.call("intake", "POST", f"/v1/surveys/{survey_id}/responses", json={"answers": answers})
    if answer.ok:
        return redirect(f"/surveys/{survey_id}?sent=1")
    message = "Bạn đã trả lời cuộc khảo sát này." if answer.status == 409 else None
    return await _survey(web, survey_id, errors=field_errors(answer.errors) or {"_": message or answer.detail})


@router.get("/periodic-reports")
async def periodic_reports(web: Signed, period: str | None = PERIOD) -> Response:
    """The briefing report of a period, with downloads."""
    web.need("stats:read")
    if period is None:
        window = await web.panel("reporting", "/v1/stats/summary")
        period = _period_of(window.data["to"]) if isinstance(window.data, dict) else None
    panel = await web.panel("reporting", f"/v1/periodic-reports/{period}", {"format": "json"}) if period else Panel()
    return web.render("periodic.html", panel=panel, b=panel.data, period=period or "", topics=await topic_names(web))


def _period_of(last_day: str) -> str:
    """The reporting month a local day `YYYY-MM-DD` falls in (the month whose window ends after it)."""
    year, month, day = (int(x) for x in last_day.split("-"))
    if day >= 15:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


@router.get("/periodic-reports/{period}/download")
async def download(
    period: Annotated[str, Path(pattern=PERIOD_PATTERN)],
    web: Signed,
    format: str = Query(default="docx", pattern="^(docx|xlsx|csv)$"),
) -> Response:
    """Download the briefing as DOCX, XLSX or CSV (streamed from reporting as it is)."""
    web.need("stats:read")
    answer = await web.call(
        "reporting", "GET", f"/v1/periodic-reports/{period}", params={"format": FORMATS[format]}, raw=True
    )
    if not answer.ok:
        return web.render(
            "error.html", status=answer.status, heading="Không tải được", message="Không tải được báo cáo kỳ này."
        )
    headers = {
        "Content-Disposition": answer.headers.get(
            "content-disposition", f'attachment; filename="bao-cao-{period}.{format}"'
        )
    }
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers=headers)

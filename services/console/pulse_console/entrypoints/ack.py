"""The one-tap acknowledgement page: GET shows the facts and one button; POST acknowledges.

The signed token in the link is the only credential; triage verifies it (`/v1/ack-links/{token}`),
so the console needs no secret and no store. GET changes nothing, so a link previewer is harmless.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import Response

from pulse_console.adapters.api import Answer, ServiceDown
from pulse_console.entrypoints.common import AnyWeb, Web
from pulse_console.labels import field_errors

router = APIRouter(include_in_schema=False)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,512}$")


def _refusal(web: Web, answer: Answer | None) -> Response:
    if answer is None:
        return web.render("ack_state.html", status=503, kind="down")
    if answer.status == 410:
        return web.render("ack_state.html", status=410, kind="expired")
    if answer.status == 409:
        mine = isinstance(answer.body, dict) and str(answer.body.get("type", "")).endswith("/ack-link-used")
        return web.render("ack_state.html", status=409, kind="used" if mine else "taken")
    return web.render("ack_state.html", status=404, kind="invalid")


@router.get("/ack/{token}")
async def ack_page(token: str, web: AnyWeb) -> Response:
    """The escalation's facts and the button; nothing changes."""
    if not _TOKEN.match(token):
        return _refusal(web, Answer(404, None))
    try:
        answer = await web.api.call("triage", "GET", f"/v1/ack-links/{token}")
    except ServiceDown:
        return _refusal(web, None)
    if not answer.ok:
        return _refusal(web, answer)
    return web.render("ack.html", facts=answer.body, token=token, errors={})


@router.post("/ack/{token}")
async def ack(token: str, web: AnyWeb) -> Response:
    """Acknowledge as the recipient the link was made for, with an optional comment."""
    form = await web.form()
    if not _TOKEN.match(token):
        return _refusal(web, Answer(404, None))
    comment = form.get("comment", "").strip() or None
    try:
        answer = await web.api.call("triage", "POST", f"/v1/ack-links/{token}", json={"comment": comment})
        if answer.status == 422:
            facts = await web.api.call("triage", "GET", f"/v1/ack-links/{token}")
            if facts.ok:
                errors = field_errors(answer.errors)
                return web.render("ack.html", status=422, facts=facts.body, token=token, errors=errors)
    except ServiceDown:
        return _refusal(web, None)
    if not answer.ok:
        return _refusal(web, answer)
    return web.render("ack_state.html", kind="done", facts=answer.body)

"""Open311 GeoReport v2 facade (JSON only, API key): topics as services, reports as service requests.

Errors are Open311 error arrays `[{"code": 400, "description": "..."}]`, never problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pulse_libs.auth import AuthError, Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.problems import ProblemError
from pydantic import BaseModel, TypeAdapter, ValidationError
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse_intake.adapters.store import TOPICS, UNITS
from pulse_intake.context import IntakeContext
from pulse_intake.entrypoints.schemas import ReportCreate
from pulse_intake.handlers import open311, reports

PREFIX = "/open311/v2"
_report = TypeAdapter(ReportCreate)
_FIELD_NAMES = {"content": "description", "title": "description", "topic_codes": "service_code", "location": "lat/long",
                "attachments": "media_url", "unit_code": "attribute[unit_code]"}  # fmt: skip


class Open311Error(Exception):
    """An error answered as an Open311 error array."""

    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers


class ErrorItem(BaseModel):
    """One Open311 error."""

    code: int
    description: str


class Open311Route(APIRoute):
    """Turns every error of an Open311 route into an Open311 error array."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so errors keep Open311's shape."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Open311Error as exc:
                return _error(exc.code, exc.description, exc.headers)
            except AuthError as exc:
                return _error(401, str(exc))
            except ProblemError as exc:
                return _error(exc.status, exc.detail, exc.headers)
            except RequestValidationError as exc:
                fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()})
                return _error(400, "invalid parameter(s): " + ", ".join(fields))
            except StarletteHTTPException as exc:
                return _error(exc.status_code, str(exc.detail))
            except ConnectionFailure:
                return _error(503, "the data store is unavailable; try again shortly", {"Retry-After": "5"})

        return handler


def _error(code: int, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code, headers=headers)


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": list[ErrorItem], "description": d} for c, d in (
    (400, "Bad parameters"), (401, "Missing or bad API key"), (403, "Key lacks the scope"), (404, "Not found"),
    (503, "Store unavailable"))}  # fmt: skip


async def _caller(request: Request, scope: str | None) -> Principal:
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if not key:
        raise Open311Error(401, "an API key is required (X-API-Key header or api_key parameter)")
    principal: Principal = await request.app.state.api_key_verifier.verify(key)
    if scope is not None and not principal.has(scope):
        raise Open311Error(403, f"the API key lacks the scope {scope}")
    return principal


def _ctx(request: Request) -> IntakeContext:
    ctx: IntakeContext = request.app.state.ctx
    return ctx


@router.get("/services.json", responses=ERRORS)
async def services(request: Request) -> list[dict[str, Any]]:
    """Service list: one service per topic of the taxonomy."""
    await _caller(request, None)
    docs = await _ctx(request).db[TOPICS].find({}).sort("_id", 1).to_list()
    return [open311.service_view(d) for d in docs]


@router.get("/services/{code}.json", responses=ERRORS)
async def service_definition(request: Request, code: str) -> dict[str, Any]:
    """Service definition: the required unit attribute with the units the key may use."""
    principal = await _caller(request, None)
    db = _ctx(request).db
    topic = await db[TOPICS].find_one({"_id": code})
    if topic is None:
        raise Open311Error(404, f"service_code {code} was not found")
    query: dict[str, Any] = {"kind": {"$in": ["ward", "commune", "town"]}, "replaced_by": None}
    if principal.unit_codes is not None:
        query["_id"] = {"$in": sorted(principal.unit_codes)}
    units = await db[UNITS].find(query).sort("_id", 1).to_list()
    return open311.service_definition(topic, units)


async def _fields(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise Open311Error(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Open311Error(400, "send a JSON object")
        attrs = body.pop("attribute", None) or {}
        if not isinstance(attrs, dict):
            raise Open311Error(400, "attribute must be an object")
        return {**body, **attrs}
    if media in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        out: dict[str, Any] = {}
        for name, value in form.multi_items():
            if not isinstance(value, str):
                raise Open311Error(400, f"{name}: files are not accepted; send media_url")
            key = name[len("attribute[") : -1] if name.startswith("attribute[") and name.endswith("]") else name
            out[key] = value
        for coord in ("lat", "long"):
            if coord in out:
                try:
                    out[coord] = float(out[coord])
                except ValueError:
                    raise Open311Error(400, f"{coord} must be a number") from None
        return out
    raise Open311Error(400, "send application/x-www-form-urlencoded or application/json")


@router.post("/requests.json", status_code=201, responses=ERRORS)
async def create_request(request: Request) -> list[dict[str, Any]]:
    """Create a service request (a report): service_code, description, lat, long, address_string, media_url,
    attribute[unit_code]."""
    principal = await _caller(request, "reports:write")
    ctx = _ctx(request)
    fields = await _fields(request)
    fields.pop("api_key", None)
    allowed = {"service_code", "description", "lat", "long", "address_string", "media_url", "unit_code",
               "address_id", "email", "device_id", "account_id", "first_name", "last_name", "phone"}  # fmt: skip
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise Open311Error(400, "unknown field(s): " + ", ".join(unknown))
    if not isinstance(fields.get("service_code"), str) or not fields["service_code"]:
        raise Open311Error(400, "service_code is required (a string)")
    now = utcnow()
    try:
        body = _report.validate_python(open311.request_to_report(fields, now)).model_dump()
    except ValidationError as exc:
        names = sorted({_FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors()})
        raise Open311Error(400, "invalid field(s): " + ", ".join(names)) from None
    try:
        await reports.check_report(registry=ctx.registry, principal=principal, body=body, now=now, skew=_skew(ctx))
    except reports.ReportRejected as exc:
        ctx.metrics.rejected.labels(exc.reason).inc()
        names = [f"{_FIELD_NAMES.get(e['field'], e['field'])}: {e['message']}" for e in exc.errors]
        raise Open311Error(400, "; ".join(names)) from None
    result = await reports.submit(db=ctx.db, principal=principal, body=body, raw=fields, idem=None)
    ctx.metrics.accepted.labels(body["channel"]).inc()
    ctx.kick()
    return [{"service_request_id": result.report["_id"], "service_notice": open311.NOTICE, "account_id": None}]


def _skew(ctx: IntakeContext) -> Any:
    from datetime import timedelta

    return timedelta(seconds=ctx.settings.clock_skew_seconds)


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone offset")
    return parsed


@router.get("/requests.json", responses=ERRORS)
async def list_requests(
    request: Request,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Service requests the key may read, newest first (at most 1000)."""
    principal = await _caller(request, "reports:read")
    if status is not None and status not in ("open", "closed"):
        raise Open311Error(400, "status must be open or closed")
    ids = [i.strip() for i in service_request_id.split(",") if i.strip()] if service_request_id else None
    filters = {"ids": ids, "service_code": service_code, "status": status,
               "start_date": _date(start_date, "start_date"), "end_date": _date(end_date, "end_date")}  # fmt: skip
    db = _ctx(request).db
    docs = await open311.find_requests(db=db, principal=principal, filters=filters)
    names = await open311.topic_names(db)
    return [open311.request_view(d, names) for d in docs]


@router.get("/requests/{request_id}.json", responses=ERRORS)
async def get_request(request: Request, request_id: str) -> list[dict[str, Any]]:
    """One service request (as a one-element array, per GeoReport v2)."""
    principal = await _caller(request, "reports:read")
    db = _ctx(request).db
    docs = await open311.find_requests(db=db, principal=principal, filters={"ids": [request_id]})
    if not docs:
        raise Open311Error(404, f"service_request_id {request_id} was not found")
    return [open311.request_view(docs[0], await open311.topic_names(db))]


def install(app: FastAPI) -> None:
    """Nothing global is needed: the route class handles Open311 errors (kept as a hook for the wiring)."""
    del app

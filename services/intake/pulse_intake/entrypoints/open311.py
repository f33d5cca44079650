"""Open311 GeoReport v2 facade: services from topics, requests as reports, in JSON or XML.

Service lists and definitions are public (names, descriptions, attributes); requests and writes need an
API key, read from `X-API-Key`, the `api_key` query or form field (where the spec puts it), or HTTP Basic
(the key as user name, for clients that only know netrc). Errors are Open311 error arrays, never
problem+json.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pulse_libs.auth import AuthError, Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.problems import ProblemError
from pulse_libs.store import store_unavailable
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse_intake.context import IntakeContext
from pulse_intake.entrypoints import open311_format as fmt
from pulse_intake.entrypoints.schemas import ReportCreate
from pulse_intake.handlers import open311, reports

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+07:00"
_report = TypeAdapter(ReportCreate)
_FIELD_NAMES = {"content": "description", "title": "description", "topic_codes": "service_code", "location": "lat/long",
                "attachments": "media_url", "unit_code": "attribute[unit_code]"}  # fmt: skip
Endpoint = Callable[..., Coroutine[Any, Any, Response]]
_ALLOWED = set(fmt.REQUEST_FIELDS) - {"attribute[unit_code]"} | {"unit_code"}


class Open311Error(Exception):
    """An error answered as an Open311 error array."""

    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers


class Open311Route(APIRoute):
    """Turns every error of an Open311 route into an Open311 error array in the route's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so errors keep Open311's shape."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            kind = fmt.format_of(request)
            try:
                return await original(request)
            except Open311Error as exc:
                return fmt.error(kind, exc.code, exc.description, exc.headers)
            except AuthError as exc:
                return fmt.error(kind, 401, str(exc))
            except ProblemError as exc:
                return fmt.error(kind, exc.status, exc.detail, exc.headers)
            except RequestValidationError as exc:
                fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()})
                return fmt.error(kind, 400, "invalid parameter(s): " + ", ".join(fields))
            except StarletteHTTPException as exc:
                return fmt.error(kind, exc.status_code, str(exc.detail))
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                return fmt.error(kind, 503, "the data store is unavailable; try again shortly", {"Retry-After": "5"})

        return handler


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
discovery_router = APIRouter(prefix="/open311", tags=["open311"], route_class=Open311Route)


def _ctx(request: Request) -> IntakeContext:
    ctx: IntakeContext = request.app.state.ctx
    return ctx


def _key(request: Request, form_key: Any) -> str | None:
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if not key and isinstance(form_key, str):
        key = form_key
    auth = request.headers.get("authorization", "")
    if not key and auth[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Open311Error(401, "the Basic credentials are malformed") from None
        key = user or password
    return key or None


async def _caller(request: Request, scope: str, form_key: Any = None) -> Principal:
    key = _key(request, form_key)
    if not key:
        raise Open311Error(401, "an API key is required (api_key parameter or field, X-API-Key header)")
    principal: Principal = await request.app.state.api_key_verifier.verify(key)
    if not principal.has(scope):
        raise Open311Error(403, f"the API key lacks the scope {scope}")
    return principal


def _jurisdiction(request: Request, value: Any) -> None:
    if value is None or value == "":
        return
    if value != _ctx(request).settings.open311_jurisdiction_id:
        raise Open311Error(404, f"jurisdiction_id {value} is not served by this endpoint")


def _route(
    path: str, method: str, name: str, model: Any, *codes: int, ok: int = 200, **extra: Any
) -> Callable[[Endpoint], Endpoint]:
    """Register the endpoint once per format (`path.json`, `path.xml`), each with its own operation id."""

    def register(endpoint: Endpoint) -> Endpoint:
        for kind in fmt.FORMATS:
            router_ = discovery_router if name == "discover" else router
            router_.add_api_route(
                f"{path}.{kind}", endpoint, methods=[method], name=name if kind == "json" else f"{name}_xml",
                responses=fmt.responses(kind, model, *codes, ok=ok), response_model=None, status_code=ok,
                summary=f"{endpoint.__doc__ or name} ({kind.upper()})", **extra,
            )  # fmt: skip
        return endpoint

    return register


@_route("/discovery", "GET", "discover", fmt.Discovery)
async def discovery(request: Request) -> Response:
    """Service discovery"""
    base = str(request.base_url).rstrip("/") + PREFIX
    doc = {
        "changeset": CHANGESET,
        "contact": "Ban Tuyên giáo — quản trị hệ thống Pulse",
        "key_service": "Đề nghị quản trị hệ thống cấp khóa API (phạm vi reports:write, reports:read)",
        "endpoints": [
            {"specification": SPECIFICATION, "url": base, "changeset": CHANGESET, "type": "production",
             "formats": [fmt.XML, "application/json"]},
        ],
    }  # fmt: skip
    return fmt.render(fmt.format_of(request), "discovery", doc)


@_route("/services", "GET", "list_services", list[fmt.Service], 400, 404, 503)
async def services(request: Request, jurisdiction_id: str | None = None) -> Response:
    """Service list"""
    _jurisdiction(request, jurisdiction_id)
    return fmt.render(fmt.format_of(request), "services", await open311.list_services(store=_ctx(request).store))


@_route("/services/{service_code}", "GET", "get_service", fmt.ServiceDefinition, 400, 401, 404, 503)
async def service_definition(request: Request, service_code: str, jurisdiction_id: str | None = None) -> Response:
    """Service definition"""
    _jurisdiction(request, jurisdiction_id)
    key, unit_codes = _key(request, None), None
    if key:  # a key limited to some units is offered only those
        principal: Principal = await request.app.state.api_key_verifier.verify(key)
        unit_codes = principal.unit_codes
    definition = await open311.get_service(store=_ctx(request).store, code=service_code, unit_codes=unit_codes)
    if definition is None:
        raise Open311Error(404, f"service_code {service_code} was not found")
    return fmt.render(fmt.format_of(request), "service_definition", definition)


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
        out: dict[str, Any] = {}
        for name, value in (await request.form()).multi_items():
            if not isinstance(value, str):
                raise Open311Error(400, f"{name}: files are not accepted; send media_url")
            key = name[len("attribute[") : -1] if name.startswith("attribute[") and name.endswith("]") else name
            out[key] = value
        for coord in ("lat", "long"):
            if out.get(coord) == "":
                out.pop(coord)
            elif coord in out:
                try:
                    out[coord] = float(out[coord])
                except ValueError:
                    raise Open311Error(400, f"{coord} must be a number") from None
        return out
    raise Open311Error(400, "send application/x-www-form-urlencoded or application/json")


@_route("/requests", "POST", "create_request", list[fmt.CreatedRequest], 400, 401, 403, 404, 409, 503, ok=201,
        openapi_extra=fmt.REQUEST_BODY)  # fmt: skip
async def create_request(request: Request) -> Response:
    """Create a service request"""
    fields = await _fields(request)
    principal = await _caller(request, "reports:write", fields.pop("api_key", None))
    _jurisdiction(request, fields.pop("jurisdiction_id", None))
    token = request.headers.get("idempotency-key") or fields.pop("client_token", None)
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 200):
        raise Open311Error(400, "client_token / Idempotency-Key must be a string of 1 to 200 characters")
    unknown = sorted(set(fields) - _ALLOWED)
    if unknown:
        raise Open311Error(400, "unknown field(s): " + ", ".join(unknown))
    if not isinstance(fields.get("service_code"), str) or not fields["service_code"]:
        raise Open311Error(400, "service_code is required (a string)")
    ctx, now = _ctx(request), utcnow()
    try:
        body = _report.validate_python(open311.request_to_report(fields, now)).model_dump()
    except ValidationError as exc:
        names = sorted({_FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors()})
        raise Open311Error(400, "invalid field(s): " + ", ".join(names)) from None
    try:
        skew = timedelta(seconds=ctx.settings.clock_skew_seconds)
        await reports.check_report(registry=ctx.registry, principal=principal, body=body, now=now, skew=skew)
        result = await open311.submit_request(
            store=ctx.store, principal=principal, body=body, fields=fields, token=token, now=now
        )
    except reports.ReportRejected as exc:
        ctx.metrics.rejected.labels(exc.reason).inc()
        names = [f"{_FIELD_NAMES.get(e['field'], e['field'])}: {e['message']}" for e in exc.errors]
        raise Open311Error(400, "; ".join(names)) from None
    except reports.ReportConflict:
        raise Open311Error(409, "this client_token / Idempotency-Key was already used for other fields") from None
    if not result.replayed:
        ctx.metrics.accepted.labels(body["channel"]).inc()
        ctx.kick()
    answer = [{"service_request_id": result.report["_id"], "service_notice": open311.NOTICE, "account_id": None}]
    return fmt.render(fmt.format_of(request), "service_requests", answer, 201)


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


def _csv(value: str | None) -> list[str] | None:
    return [i.strip() for i in value.split(",") if i.strip()] or None if value else None


@_route("/requests", "GET", "list_requests", list[fmt.ServiceRequest], 400, 401, 403, 404, 503)
async def list_requests(
    request: Request,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    """Service requests the key may read, newest first (at most 1000)"""
    principal = await _caller(request, "reports:read")
    _jurisdiction(request, jurisdiction_id)
    statuses = set(_csv(status) or [])
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both (comma-separated)")
    filters = {
        "ids": _csv(service_request_id),
        "service_codes": _csv(service_code),
        "status": statuses.pop() if len(statuses) == 1 else None,
        "start_date": _date(start_date, "start_date"),
        "end_date": _date(end_date, "end_date"),
    }
    store = _ctx(request).store
    docs = await open311.find_requests(store=store, principal=principal, filters=filters)
    return fmt.render(fmt.format_of(request), "service_requests", await open311.views(store=store, docs=docs))


@_route("/requests/{service_request_id}", "GET", "get_request", list[fmt.ServiceRequest], 400, 401, 403, 404, 503)
async def get_request(request: Request, service_request_id: str, jurisdiction_id: str | None = None) -> Response:
    """One service request (a one-element array, per GeoReport v2)"""
    principal = await _caller(request, "reports:read")
    _jurisdiction(request, jurisdiction_id)
    store = _ctx(request).store
    docs = await open311.find_requests(store=store, principal=principal, filters={"ids": [service_request_id]})
    if not docs:
        raise Open311Error(404, f"service_request_id {service_request_id} was not found")
    return fmt.render(fmt.format_of(request), "service_requests", await open311.views(store=store, docs=docs))


def install(app: FastAPI) -> None:
    """Serve the discovery document beside the v2 endpoint (/open311/discovery.json)."""
    app.include_router(discovery_router)

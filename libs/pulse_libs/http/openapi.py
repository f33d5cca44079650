"""OpenAPI post-processing: problem+json errors (RFC 9457), stable operation ids, described tags, examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import metadata
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from pulse_libs.http.examples import add_request_examples, singular
from pulse_libs.http.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Malformed request (body not parseable, bad cursor)",
    "401": "No or bad credentials",
    "403": "Not allowed for this caller",
    "404": "Absent or outside the caller's scope",
    "409": "Conflict",
    "413": "Request body too large",
    "422": "Validation failed; `errors` lists the fields",
    "429": "Rate limited; see Retry-After",
    "503": "A dependency is down; see Retry-After",
}
_PUBLIC = {"/healthz", "/readyz", "/metrics"}
_METHODS = ("get", "post", "put", "patch", "delete")


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _drop_validation_refs(item: dict[str, Any]) -> None:
    for method in _METHODS:
        responses = (item.get(method) or {}).get("responses", {})
        for code in [c for c, r in responses.items() if "HTTPValidationError" in str(r)]:
            del responses[code]


def document_problems(schema: dict[str, Any], *, skip_prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rewrite every 4xx/5xx response as problem+json and add the errors any route may answer."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for schemas_name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(schemas_name, None)
    for path, item in schema.get("paths", {}).items():
        if path.startswith(skip_prefixes):
            _drop_validation_refs(item)  # their own error shape; the removed schema must not be referenced
            continue
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["503"] if path in _PUBLIC else ["400", "422", "503"]
            if path not in _PUBLIC and operation.get("security") != []:
                codes += ["401", "403"]
            if method in ("post", "put", "patch"):
                codes.append("413")
            if any("{" in part for part in path.split("/")):
                codes.append("404")
            for code in codes:
                responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = _problem_content()
    return schema


def install_problem_openapi(app: FastAPI, *, skip_prefixes: tuple[str, ...] = ()) -> None:
    """Make `app.openapi()` document problem+json errors."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            schema = document_problems(schema, skip_prefixes=skip_prefixes)
            describe_tags(schema, app.openapi_tags)
            add_request_examples(schema)
            check_operation_ids(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override point


# --- operation ids, tags, examples ------------------------------------------------------------------

_ABBREVIATIONS = {"statistics": ("stats",)}
_METHOD_VERBS = {"get": "get", "post": "create", "put": "put", "patch": "update", "delete": "delete"}


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def operation_id(route: APIRoute) -> str:
    """A stable `<resource>.<verb>` id: the route's most specific tag, and its function name without the resource.

    `submit_report` tagged `reports` → `reports.submit`; `ack_escalation` → `escalations.ack`. Clients generated
    from the document get names like `reports.submit` instead of `submit_report_v1_reports_post`.
    """
    tag = _snake(str(route.tags[-1])) if route.tags else "default"
    resource_words = {w for part in tag.split("_") for w in (part, singular(part), *_ABBREVIATIONS.get(part, ()))}
    verb = "_".join(w for w in _snake(route.name).split("_") if w not in resource_words)
    if not verb:
        method = sorted(route.methods or {"get"})[0].lower()
        verb = _METHOD_VERBS.get(method, method)
    return f"{tag}.{verb}"


TAG_DESCRIPTIONS = {
    "operations": "Liveness, readiness and Prometheus metrics.",
    "people": "Users: sign-in, profiles, roles, units, password changes and resets.",
    "auth": "OAuth2 password sign-in that issues bearer tokens.",
    "api keys": "Keys of provincial systems, limited to scopes and units.",
    "audit": "The audit trail of sensitive reads and actions.",
    "agencies": "Bodies that receive directives (People's Committees, departments, police).",
    "registries": "Administrative units (with their history) and the topic taxonomy.",
    "reports": "Reports of public opinion from collaborators and systems: single, batch, read, search.",
    "campaigns": "Orientations of the period and surveys with their responses.",
    "open311": "Open311 GeoReport v2 facade (JSON and XML) for other systems.",
    "channels": "Inbound and outbound channel plumbing (the Zalo OA webhook and token).",
    "triage": "Triage decisions of reports and officers' reviews of them.",
    "hotspots": "Hot spots: reports clustered by unit, topic and time; merge and split.",
    "escalations": "Escalations up the policy levels: acknowledge and resolve.",
    "ack-links": "One-tap acknowledgement links sent in notices (no bearer; the token is the credential).",
    "directives": "Directives to agencies on a hot spot, their updates and deadlines.",
    "policies": "Escalation policies per urgency level.",
    "rules": "Keyword, sensitivity and scoring rules as data.",
    "silences": "Silences that mute escalation for a unit or topic until a time.",
    "statistics": "Live statistics: totals and trends.",
    "periods": "Reporting periods on the Decree 09 cut-offs; closing a period freezes its report.",
    "periodic reports": "Briefing reports of a period as JSON, CSV, XLSX or DOCX.",
    "surveys": "Survey results per question.",
}


def describe_tags(schema: dict[str, Any], declared: list[dict[str, Any]] | None) -> None:
    """Every tag an operation uses is listed with a description (the service's own first, then the shared ones)."""
    tags = {t["name"]: dict(t) for t in declared or []}
    for item in schema.get("paths", {}).values():
        for method in _METHODS:
            for name in (item.get(method) or {}).get("tags", []):
                tags.setdefault(name, {"name": name})
    for name, tag in tags.items():
        tag.setdefault("description", TAG_DESCRIPTIONS.get(name, name.capitalize() + "."))
    schema["tags"] = sorted(tags.values(), key=lambda t: str(t["name"]))


def check_operation_ids(schema: dict[str, Any]) -> None:
    """Refuse a document whose operation ids repeat (a generated client would lose an operation)."""
    seen: dict[str, str] = {}
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                op_id = item[method]["operationId"]
                if op_id in seen:
                    raise RuntimeError(f"operation id {op_id} of {method.upper()} {path} repeats {seen[op_id]}")
                seen[op_id] = f"{method.upper()} {path}"


def package_version(service_name: str) -> str:
    """The installed version of the service's package (`pulse-<service>`), the version of its API."""
    for name in (f"pulse-{service_name}", "pulse-libs"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "0.0.0"


OpenApiFactory = Callable[[], dict[str, Any]]

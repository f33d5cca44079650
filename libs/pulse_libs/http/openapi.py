"""OpenAPI post-processing: every error answer is documented as what it is, problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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


def document_problems(schema: dict[str, Any], *, skip_prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rewrite every 4xx/5xx response as problem+json and add the errors any route may answer."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for schemas_name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(schemas_name, None)
    for path, item in schema.get("paths", {}).items():
        if path.startswith(skip_prefixes):
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
            app.openapi_schema = document_problems(schema, skip_prefixes=skip_prefixes)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override point


OpenApiFactory = Callable[[], dict[str, Any]]

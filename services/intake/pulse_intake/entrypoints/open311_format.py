"""Open311 GeoReport v2 output: JSON or XML (the spec's default) chosen by the path's extension, and the
OpenAPI description of both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from xml.etree import ElementTree as ET  # builds documents only; input is never parsed as XML

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
XML = "text/xml"
# The spec's element names: a list under `key` holds children named `value`.
_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def format_of(request: Request) -> Format:
    """The answer's format from the path's extension (`.xml` or else JSON)."""
    return "xml" if request.url.path.endswith(".xml") else "json"


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = _ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def to_xml(root: str, value: Any) -> bytes:
    """A GeoReport v2 XML document: `<root>` holding `value` (lists become repeated spec elements)."""
    element = ET.Element(root)
    _fill(element, value)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def render(fmt: Format, root: str, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Answer `value` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        return Response(to_xml(root, value), status_code=status, media_type=XML, headers=headers)
    return JSONResponse(value, status_code=status, headers=headers)


def error(fmt: Format, code: int, description: str, headers: Mapping[str, str] | None = None) -> Response:
    """An Open311 error array (`<errors><error>` in XML)."""
    return render(fmt, "errors", [{"code": code, "description": description}], code, headers)


class ErrorItem(BaseModel):
    """One Open311 error."""

    code: int
    description: str


class Service(BaseModel):
    """A service of GET services."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    group: str


class AttributeValue(BaseModel):
    """One allowed value of a list attribute."""

    key: str
    name: str


class Attribute(BaseModel):
    """An attribute a request of this service carries."""

    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    """GET services/{code}."""

    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    """A service request as GET requests shows it."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class CreatedRequest(BaseModel):
    """The answer to POST requests."""

    service_request_id: str
    service_notice: str | None
    account_id: str | None


class Endpoint(BaseModel):
    """One endpoint of the discovery document."""

    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(BaseModel):
    """The Open311 service discovery document."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


_ERRORS = {
    400: "Bad parameters",
    401: "Missing or bad API key",
    403: "The key lacks the scope",
    404: "Not found, or another jurisdiction",
    409: "The Idempotency-Key or client_token was used for other fields",
    503: "Store unavailable",
}
_XML_CONTENT = {XML: {"schema": {"type": "string"}}}


def responses(fmt: Format, model: Any, *codes: int, ok: int = 200) -> dict[int | str, dict[str, Any]]:
    """The documented answers of an Open311 operation in one format."""
    out: dict[int | str, dict[str, Any]] = {}
    if fmt == "json":
        out[ok] = {"model": model, "description": "GeoReport v2 JSON"}
        out.update({c: {"model": list[ErrorItem], "description": _ERRORS[c]} for c in codes})
    else:
        out[ok] = {"content": _XML_CONTENT, "description": "GeoReport v2 XML"}
        out.update({c: {"content": _XML_CONTENT, "description": _ERRORS[c]} for c in codes})
    return out


REQUEST_FIELDS = {
    "api_key": "The API key (or send X-API-Key)",
    "jurisdiction_id": "This endpoint's jurisdiction (optional; another one is refused)",
    "service_code": "The service (topic) code from GET services",
    "description": "What was reported (1-10000 characters)",
    "lat": "WGS84 latitude",
    "long": "WGS84 longitude",
    "address_string": "Human-readable address",
    "address_id": "An address id of the jurisdiction",
    "zipcode": "Postal code",
    "media_url": "URL of a photo or file",
    "attribute[unit_code]": "The administrative unit (ward or commune) code from GET services/{code}",
    "client_token": "A token the client chooses; resending the same fields with it replays the first answer",
    "email": "Accepted, not stored", "device_id": "Accepted, not stored", "account_id": "Accepted, not stored",
    "first_name": "Accepted, not stored", "last_name": "Accepted, not stored", "phone": "Accepted, not stored",
}  # fmt: skip
_EXAMPLE = {
    "service_code": "moi-truong",
    "description": "Bãi rác tự phát cạnh suối Ngòi Yên, bốc mùi nồng nặc.",
    "lat": 21.7168,
    "long": 104.8986,
    "address_string": "Tổ 12, phường Yên Bái",
    "attribute[unit_code]": "04252",
}


def _form_schema(nested: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, description in REQUEST_FIELDS.items():
        kind = "number" if name in ("lat", "long") else "string"
        props[name] = {"type": kind, "description": description}
    required = ["service_code", "description", "attribute[unit_code]"]
    example = dict(_EXAMPLE)
    if nested:
        props.pop("attribute[unit_code]")
        props["attribute"] = {
            "type": "object",
            "properties": {"unit_code": {"type": "string"}},
            "required": ["unit_code"],
        }
        required = ["service_code", "description", "attribute"]
        example["attribute"] = {"unit_code": example.pop("attribute[unit_code]")}
    return {"type": "object", "properties": props, "required": required, "example": example}


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _form_schema(nested=False)},
            "application/json": {"schema": _form_schema(nested=True)},
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Resending the same fields with the same key replays the first answer",
        }
    ],
}

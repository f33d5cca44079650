"""Every service's OpenAPI document is client-friendly: `<resource>.<verb>` ids, the package version, described
tags, and a request example on every JSON body that its own schema accepts."""

from __future__ import annotations

import importlib
import re
from functools import cache
from importlib import metadata
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pulse_libs.http.openapi import check_operation_ids, operation_id

SERVICES = ("intake", "triage", "notify", "reporting", "console")
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def _document(service: str) -> dict[str, Any]:
    app: FastAPI = importlib.import_module(f"pulse_{service}.bootstrap").bootstrap()
    document: dict[str, Any] = app.openapi()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, item[m]) for p, item in document["paths"].items() for m in METHODS if m in item]


@pytest.mark.parametrize("service", SERVICES)
def test_operation_ids_are_resource_dot_verb_and_unique(service: str) -> None:
    ids = [op["operationId"] for _, _, op in _operations(_document(service))]
    assert all(re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", i) for i in ids), ids
    assert len(ids) == len(set(ids))


def test_the_contracts_examples_of_operation_ids() -> None:
    documents = {s: {op["operationId"] for _, _, op in _operations(_document(s))} for s in ("intake", "triage")}
    assert {"reports.submit", "reports.get", "reports.list", "auth.token", "api_keys.issue"} <= documents["intake"]
    assert {"escalations.ack", "escalations.resolve", "hotspots.get", "directives.create"} <= documents["triage"]


def test_operation_id_falls_back_to_the_method_when_the_name_is_only_the_resource() -> None:
    async def periodic_report() -> None: ...

    route = APIRoute("/v1/periodic-reports/{period}", periodic_report, methods=["GET"], tags=["periodic reports"])
    assert operation_id(route) == "periodic_reports.get"


def test_repeated_operation_ids_are_refused() -> None:
    paths = {"/a": {"get": {"operationId": "x.get"}}, "/b": {"get": {"operationId": "x.get"}}}
    with pytest.raises(RuntimeError, match="repeats"):
        check_operation_ids({"paths": paths})


@pytest.mark.parametrize("service", SERVICES)
def test_version_is_the_package_version_and_every_tag_is_described(service: str) -> None:
    document = _document(service)
    assert document["info"]["version"] == metadata.version(f"pulse-{service}")
    described = {t["name"]: t.get("description") for t in document["tags"]}
    used = {tag for _, _, op in _operations(document) for tag in op.get("tags", [])}
    assert used <= set(described)
    assert all(described[t] for t in used)


@pytest.mark.parametrize("service", SERVICES)
def test_every_json_request_body_has_an_example_its_schema_accepts(service: str) -> None:
    document = _document(service)
    checked = 0
    for method, path, op in _operations(document):
        for media, content in (op.get("requestBody") or {}).get("content", {}).items():
            if "json" not in media:
                continue
            assert "example" in content, (method, path)
            root = {**content["schema"], "components": document.get("components", {})}
            errors = [e.message for e in jsonschema_rs.validator_for(root).iter_errors(content["example"])]
            assert not errors, (method, path, content["example"], errors)
            checked += 1
    assert checked >= {"intake": 15, "triage": 8, "notify": 5}.get(service, 0)


def test_the_report_example_is_realistic_vietnamese() -> None:
    document = _document("intake")
    example = document["paths"]["/v1/reports"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert example["unit_code"] == "04252"
    assert "phản ánh" in example["title"]

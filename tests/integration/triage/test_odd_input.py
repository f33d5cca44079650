"""However odd the request, the answer is a 4xx problem, never a 500, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from .conftest import Harness, serve

ODD = [
    ("GET", "/v1/triage/%24where", None),
    ("GET", "/v1/triage/" + "x" * 3000, None),
    ("GET", "/v1/hotspots?limit=100000", None),
    ("GET", "/v1/hotspots?cursor=eyJ0IjoiYSIsImlkIjoxfQ", None),
    ("GET", "/v1/hotspots?cursor=e30", None),
    ("GET", "/v1/hotspots?urgency=%00", None),
    ("GET", "/v1/escalations?state=pending&cursor=W10", None),
    ("POST", "/v1/escalations/esc-x/ack", {"comment": {"$gt": ""}}),
    ("POST", "/v1/escalations/esc-x/resolve", {"comment": "   "}),
    ("POST", "/v1/silences", {"unit_code": {"$ne": None}, "until": "2099-01-01T00:00:00Z", "reason": "x"}),
    ("POST", "/v1/silences", {"unit_code": "04747", "until": "not a date", "reason": "x"}),
    ("POST", "/v1/silences", {"unit_code": "04747", "until": "2099-01-01T00:00:00", "reason": "x"}),
    ("PUT", "/v1/policies/flash", {"levels": [{"level": 1, "target": "nobody", "ack_timeout_seconds": 5}]}),
    ("PUT", "/v1/policies/flash", {"levels": "all"}),
    ("PUT", "/v1/rules", {"topics": "x"}),
    ("PUT", "/v1/rules", []),
    ("DELETE", "/v1/silences/%24x", None),
]


async def test_odd_requests_get_problems_not_500(harness: Harness, app_factory: Callable[[], FastAPI]) -> None:
    async with serve(app_factory()) as client:
        admin = harness.headers("admin")
        department = harness.headers("department")
        for method, url, body in ODD:
            headers = admin if url.startswith(("/v1/policies", "/v1/rules")) else department
            answer = await client.request(method, url, json=body, headers=headers)
            assert 400 <= answer.status_code < 500, (method, url, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json", (method, url)
        raw = await client.put("/v1/rules", content=b"{not json", headers={**admin, "content-type": "application/json"})
        assert raw.status_code == 422
        assert (await client.get("/v1/silences", headers=department)).json()["items"] == []
        assert (await client.get("/v1/policies/flash", headers=admin)).json()["levels"][0]["ack_timeout_seconds"] == 900

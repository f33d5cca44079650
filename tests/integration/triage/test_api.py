"""The REST contract: roles and scopes, unit scoping (404 outside), validation that changes nothing, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs.auth import new_api_key
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import new_event

from .conftest import OTHER_WARD, Harness, serve, wait_until


async def test_roles_units_validation_and_openapi(harness: Harness, app_factory: Callable[[], FastAPI]) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        report = await harness.submit("Bạo loạn", "Có dấu hiệu bạo loạn tại chợ trung tâm, đám đông hỗn loạn.")
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="raised")
        hotspot_id, escalation_id = raised[0].data["hotspot_id"], raised[0].data["escalation_id"]
        await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED), what="triaged")

        # No credentials → 401; a collaborator lacks the scopes → 403; another ward's officer → 404 or nothing.
        assert (await client.get("/v1/hotspots")).status_code == 401
        bad_token = await client.get("/v1/hotspots", headers={"Authorization": "Bearer nope"})
        assert bad_token.status_code == 401
        assert bad_token.headers["content-type"] == "application/problem+json"
        collaborator = harness.headers("collaborator")
        assert (await client.get("/v1/hotspots", headers=collaborator)).status_code == 403
        assert (await client.post(f"/v1/escalations/{escalation_id}/ack", headers=collaborator)).status_code == 403
        assert (await client.get("/v1/policies/flash", headers=harness.headers("department"))).status_code == 403

        # A provincial system's key, mirrored from intake's registry, limited to another ward.
        key_id, key, key_hash = new_api_key()
        issued = intake_events.ApiKeyIssued(
            key_id=key_id,
            name="Hệ thống tỉnh",
            key_hash=key_hash,
            scopes=["hotspots:read", "triage:read", "escalations:read"],
            unit_codes=[OTHER_WARD],
            issued_at=utcnow(),
        )
        await harness.producer.publish(
            topics.INTAKE_REGISTRY,
            new_event(intake_events.API_KEY_ISSUED, source=intake_events.SOURCE, data=issued, key=key_id),
        )
        system = {"X-API-Key": key}

        async def key_works() -> bool:
            return (await client.get("/v1/hotspots", headers=system)).status_code == 200

        await wait_until(key_works, what="API key mirrored")
        assert (await client.get("/v1/hotspots", headers=system)).json() == {"items": [], "next_cursor": None}
        assert (await client.get(f"/v1/hotspots/{hotspot_id}", headers=system)).status_code == 404
        assert (await client.get(f"/v1/triage/{report.subject}", headers=system)).status_code == 404
        assert (await client.get(f"/v1/escalations/{escalation_id}", headers=system)).status_code == 404
        assert (await client.get("/v1/escalations", headers=system)).json()["items"] == []
        assert (await client.get("/v1/silences", headers=system)).status_code == 403

        # Pagination: limit 1 pages through; a forged cursor is a 400 problem.
        department = harness.headers("department")
        await harness.submit("Bạo loạn", "Đám đông đốt phá xe, bạo loạn lan rộng ra khu dân cư.", unit=OTHER_WARD)
        await wait_until(lambda: len(harness.collector.of(ev.HOTSPOT_OPENED)) == 2 or None, what="second hot spot")
        first = (await client.get("/v1/hotspots", params={"limit": 1}, headers=department)).json()
        assert len(first["items"]) == 1
        assert first["next_cursor"]
        second = (
            await client.get("/v1/hotspots", params={"limit": 1, "cursor": first["next_cursor"]}, headers=department)
        ).json()
        assert len(second["items"]) == 1
        assert second["items"][0]["id"] != first["items"][0]["id"]
        assert (await client.get("/v1/hotspots", params={"cursor": "!!"}, headers=department)).status_code == 400
        assert (await client.get("/v1/hotspots", params={"limit": 0}, headers=department)).status_code == 422
        assert (await client.get("/v1/hotspots", params={"status": "x"}, headers=department)).status_code == 422

        # Rules and policies: admins only, validated, and a refused change changes nothing.
        admin = harness.headers("admin")
        rules = (await client.get("/v1/rules", headers=admin)).json()
        assert rules["thresholds"] == {"urgent": 25, "very_urgent": 55, "flash": 120}
        broken = {**rules, "thresholds": {"urgent": 90, "very_urgent": 50, "flash": 10}, "topics": []}
        refused = await client.put("/v1/rules", json=broken, headers=admin)
        assert refused.status_code == 422
        fields = {e["field"] for e in refused.json()["errors"]}
        assert {"topics", "thresholds"} <= fields
        assert (await client.get("/v1/rules", headers=admin)).json() == rules
        assert (await client.put("/v1/rules", json=rules, headers=department)).status_code == 403
        # The level is the calibrated model's; an alarm phrase with a floor added by the admin still counts.
        alarm = {"phrase": "tiêm chủng", "points": 40, "min_urgency": "very_urgent"}
        stricter = {**rules, "alarm_phrases": [*rules["alarm_phrases"], alarm]}
        assert (await client.put("/v1/rules", json=stricter, headers=admin)).status_code == 200
        calm = await harness.submit("Hỏi", "Người dân hỏi về lịch tiêm chủng, có chút lo lắng.", unit=OTHER_WARD)
        decided = await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=calm.subject), what="t")
        assert decided[0].data["urgency"] != "routine"

        bad_policy = {"levels": [{"level": 2, "target": "duty_officer", "ack_timeout_seconds": 0}]}
        refused = await client.put("/v1/policies/urgent", json=bad_policy, headers=admin)
        assert refused.status_code == 422
        assert (await client.get("/v1/policies/urgent", headers=admin)).json()["levels"][0][
            "ack_timeout_seconds"
        ] == 14400
        assert (await client.put("/v1/policies/sometimes", json={"levels": []}, headers=admin)).status_code == 422
        assert (await client.get("/v1/policies/routine", headers=admin)).json()["levels"] == []
        past = {"unit_code": OTHER_WARD, "until": "2020-01-01T00:00:00+07:00", "reason": "cũ"}
        assert (await client.post("/v1/silences", json=past, headers=department)).status_code == 422
        assert (await client.post("/v1/silences", json={"$where": 1}, headers=department)).status_code == 422
        assert (
            await client.post(f"/v1/escalations/{escalation_id}/ack", json=[], headers=department)
        ).status_code == 422
        assert (await client.get("/v1/escalations/nope", headers=department)).status_code == 404

        spec = (await client.get("/openapi.json")).json()
        for path in (
            "/v1/triage/{report_id}",
            "/v1/hotspots",
            "/v1/hotspots/{hotspot_id}",
            "/v1/escalations",
            "/v1/escalations/{escalation_id}",
            "/v1/escalations/{escalation_id}/ack",
            "/v1/escalations/{escalation_id}/resolve",
            "/v1/policies/{urgency}",
            "/v1/silences",
            "/v1/silences/{silence_id}",
            "/v1/rules",
        ):
            assert path in spec["paths"], path
        assert "404" in spec["paths"]["/v1/hotspots/{hotspot_id}"]["get"]["responses"]
        assert "409" in spec["paths"]["/v1/escalations/{escalation_id}/ack"]["post"]["responses"]

"""The REST contract: auth and scopes, problem+json for bad input, pagination, filters, OpenAPI."""

from __future__ import annotations

from typing import Any


async def test_recipients_crud_with_auth_scopes_and_problems(notify_settings: Any, helpers: Any) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    department = helpers.auth(settings, "department")
    async with helpers.running(settings) as client:
        assert (await client.get("/v1/recipients")).status_code == 401
        assert (await client.get("/v1/recipients", headers={"Authorization": "Bearer sai"})).status_code == 401
        body = {"name": "Nguyễn Văn An", "targets": ["duty_officer"], "channels": {"email": "an@example.invalid"}}
        assert (await client.post("/v1/recipients", json=body, headers=department)).status_code == 403
        for bad in (
            body | {"targets": ["tong_bi_thu"]},
            body | {"channels": {"phone": "không phải số"}},
            body | {"channels": {"email": {"$ne": None}}},
            body | {"ghi_chu": "trường lạ"},
            body | {"targets": []},
        ):
            answer = await client.post("/v1/recipients", json=bad, headers=admin)
            assert answer.status_code == 422, bad
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["errors"]
        assert (await client.get("/v1/recipients", headers=admin)).json() == {"items": [], "next_cursor": None}

        ids = []
        for i in range(3):
            answer = await client.post("/v1/recipients", json=body | {"name": f"Cán bộ trực {i}"}, headers=admin)
            assert answer.status_code == 201
            assert answer.headers["location"] == f"/v1/recipients/{answer.json()['id']}"
            ids.append(answer.json()["id"])
        first = (await client.get("/v1/recipients?limit=2", headers=department)).json()
        assert len(first["items"]) == 2
        rest = (await client.get(f"/v1/recipients?limit=2&cursor={first['next_cursor']}", headers=department)).json()
        assert [r["id"] for r in first["items"] + rest["items"]] == sorted(ids)
        assert rest["next_cursor"] is None
        assert (await client.get("/v1/recipients?cursor=%%%", headers=admin)).status_code == 400

        patched = await client.patch(
            f"/v1/recipients/{ids[0]}", json={"unit_codes": ["04252"], "active": False}, headers=admin
        )
        assert patched.status_code == 200
        assert patched.json()["unit_codes"] == ["04252"]
        assert patched.json()["active"] is False
        assert patched.json()["name"] == "Cán bộ trực 0"
        assert (await client.patch(f"/v1/recipients/{ids[0]}", json={"x": 1}, headers=admin)).status_code == 422
        by_unit = (await client.get("/v1/recipients?unit_code=04279", headers=admin)).json()["items"]
        assert ids[0] not in [r["id"] for r in by_unit]
        assert (await client.get(f"/v1/recipients/{ids[1]}", headers=department)).status_code == 200
        assert (await client.get("/v1/recipients/khong-co", headers=admin)).status_code == 404
        assert (await client.delete(f"/v1/recipients/{ids[1]}", headers=department)).status_code == 403
        assert (await client.delete(f"/v1/recipients/{ids[1]}", headers=admin)).status_code == 204
        assert (await client.delete(f"/v1/recipients/{ids[1]}", headers=admin)).status_code == 404
        assert (await client.get("/v1/recipients", headers=helpers.auth(settings, "collaborator"))).status_code == 403


async def test_deliveries_filters_and_webhook_validation(notify_settings: Any, gateways: Any, helpers: Any) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        answer = await client.post(
            "/v1/recipients",
            json={
                "name": "Nguyễn Văn An",
                "targets": ["duty_officer"],
                "channels": {"zalo_user_id": "8412345", "phone": "+84912000001"},
            },
            headers=admin,
        )
        recipient = answer.json()["id"]
        topic_event = helpers.escalation(escalation_id="esc-api")
        await helpers.publish(settings, topic_event)

        async def two_sent() -> bool:
            items = (await client.get("/v1/deliveries?status=sent", headers=admin)).json()["items"]
            return len(items) == 2

        await helpers.eventually(two_sent)
        event_id = topic_event[1].id
        by_event = (await client.get(f"/v1/deliveries?event_id={event_id}&limit=1", headers=admin)).json()
        assert len(by_event["items"]) == 1
        assert by_event["next_cursor"] is not None
        second = (
            await client.get(
                f"/v1/deliveries?event_id={event_id}&limit=1&cursor={by_event['next_cursor']}", headers=admin
            )
        ).json()
        assert {by_event["items"][0]["channel"], second["items"][0]["channel"]} == {"zalo", "sms"}
        by_recipient = (await client.get(f"/v1/deliveries?recipient_id={recipient}&channel=sms", headers=admin)).json()
        assert [d["channel"] for d in by_recipient["items"]] == ["sms"]
        one = await client.get(
            f"/v1/deliveries/{second['items'][0]['id']}", headers=helpers.auth(settings, "department")
        )
        assert one.status_code == 200
        assert one.json()["escalation_id"] == "esc-api"
        assert (await client.get("/v1/deliveries/dl_khong", headers=admin)).status_code == 404
        assert (await client.get("/v1/deliveries?status=lost", headers=admin)).status_code == 422
        assert (
            await client.get("/v1/deliveries", headers=helpers.auth(settings, "standing_committee"))
        ).status_code == 403

        for bad in (
            {"url": f"{gateways.base_url}/hook/x", "event_types": ["pulse.khong.ton.tai.v1"]},
            {"url": f"{gateways.base_url}/hook/x", "event_types": []},
            {"url": f"{gateways.base_url}/hook/x", "event_types": ["*"], "secret": "ngắn-quá-không-hợp-lệ"},
        ):
            assert (await client.post("/v1/webhooks", json=bad, headers=admin)).status_code == 422, bad
        assert (await client.get("/v1/webhooks", headers=helpers.auth(settings, "department"))).status_code == 403

        spec = (await client.get("/openapi.json")).json()
        for path in (
            "/v1/recipients",
            "/v1/recipients/{recipient_id}",
            "/v1/webhooks",
            "/v1/deliveries",
            "/v1/bulletins",
        ):
            assert path in spec["paths"], path
        assert "202" in spec["paths"]["/v1/bulletins"]["post"]["responses"]
        assert "404" in spec["paths"]["/v1/deliveries/{delivery_id}"]["get"]["responses"]
        metrics = (await client.get("/metrics")).text
        assert 'pulse_deliveries_total{channel="zalo",status="sent"} 1.0' in metrics
        assert "pulse_delivery_seconds_bucket" in metrics

        async def gauge_refreshed() -> bool:
            return 'pulse_deliveries_pending{channel="sms"} 0.0' in (await client.get("/metrics")).text

        await helpers.eventually(gauge_refreshed)

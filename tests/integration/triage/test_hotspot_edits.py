"""Staff merge and split hot spots on the real Kafka and store: counts stay exact, decisions follow."""

from __future__ import annotations

from collections.abc import Callable

import pulse_libs.events.triage as ev
from fastapi import FastAPI

from .conftest import Harness, serve, wait_until

TOPIC = ["giai-phong-mat-bang"]
A = ("Chặn đường phản đối cưỡng chế", "Khoảng 200 người dân đang chặn đường Quốc lộ 37 phản đối cưỡng chế thu hồi đất.")
B = ("Đơn tập thể về đền bù", "Mười hộ dân tổ 7 bức xúc vì mức đền bù thấp, đang lấy chữ ký làm đơn tập thể.")


async def test_merge_and_split_keep_counts_exact(harness: Harness, app_factory: Callable[[], FastAPI]) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        a = await harness.submit(*A, reporter="ctv-a", channel="phone", topic_codes=TOPIC)
        b = await harness.submit(*B, reporter="ctv-b", channel="zalo", topic_codes=TOPIC)
        await wait_until(lambda: len(harness.collector.of(ev.REPORT_TRIAGED)) >= 2, what="two decisions")

        async def hotspot_of(report_id: str) -> str | None:
            return (await client.get(f"/v1/triage/{report_id}", headers=department)).json()["hotspot_id"]

        ha, hb = await hotspot_of(a.subject), await hotspot_of(b.subject)
        assert ha is not None
        if hb is None:  # b stayed loose: an officer raises it so it has a hot spot of its own
            made = await client.post(
                f"/v1/triage/{b.subject}/review",
                json={"urgency": "urgent", "comment": "Đơn tập thể"},
                headers=department,
            )
            assert made.status_code == 201, made.text
            hb = await hotspot_of(b.subject)
        assert hb is not None
        if ha == hb:  # joined (a burst of urgent reports): split first, so both operations are exercised
            hb = await split_out(client, department, ha, b.subject, a.subject)
        # Bad input and conflicts change nothing.
        assert (await client.post(f"/v1/hotspots/{hb}/merge", json={"into": hb}, headers=department)).status_code == 409
        assert (await client.post(f"/v1/hotspots/{hb}/merge", json={}, headers=department)).status_code == 422
        assert (
            await client.post(f"/v1/hotspots/{hb}/merge", json={"into": "hs-nope"}, headers=department)
        ).status_code == 404
        collaborator = harness.headers("collaborator")
        assert (
            await client.post(f"/v1/hotspots/{hb}/merge", json={"into": ha}, headers=collaborator)
        ).status_code == 403

        merged = await client.post(f"/v1/hotspots/{hb}/merge", json={"into": ha}, headers=department)
        assert merged.status_code == 200, merged.text
        assert sorted(merged.json()["report_ids"]) == sorted([a.subject, b.subject])
        assert merged.json()["source_count"] == 2
        assert sorted(merged.json()["channels"]) == ["phone", "zalo"]
        gone = (await client.get(f"/v1/hotspots/{hb}", headers=department)).json()
        assert gone["status"] == "resolved"
        assert gone["report_ids"] == []
        assert gone["source_count"] == 0
        assert await hotspot_of(b.subject) == ha
        again = await client.post(f"/v1/hotspots/{hb}/merge", json={"into": ha}, headers=department)
        assert again.status_code == 409

        await split_out(client, department, ha, b.subject, a.subject)
        moved = await wait_until(
            lambda: [e for e in harness.collector.of(ev.REPORT_TRIAGED, report_id=b.subject) if e.id.count("moved")],
            what="moved decisions re-emitted",
        )
        assert moved


async def split_out(client: object, headers: dict[str, str], hotspot_id: str, leaving: str, staying: str) -> str:
    """Split one report out of a hot spot; check both sides; return the new hot spot's id."""
    post = client.post  # type: ignore[attr-defined]
    get = client.get  # type: ignore[attr-defined]
    refused = await post(f"/v1/hotspots/{hotspot_id}/split", json={"report_ids": [leaving, staying]}, headers=headers)
    assert refused.status_code == 409  # at least one report stays
    assert (
        await post(f"/v1/hotspots/{hotspot_id}/split", json={"report_ids": ["r-other"]}, headers=headers)
    ).status_code == 409
    done = await post(f"/v1/hotspots/{hotspot_id}/split", json={"report_ids": [leaving]}, headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["hotspot"]["report_ids"] == [staying]
    assert body["hotspot"]["source_count"] == 1
    assert body["split"]["report_ids"] == [leaving]
    assert body["split"]["source_count"] == 1
    assert body["split"]["status"] == "open"
    decision = (await get(f"/v1/triage/{leaving}", headers=headers)).json()
    assert decision["hotspot_id"] == body["split"]["id"]
    return str(body["split"]["id"])

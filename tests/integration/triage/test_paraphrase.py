"""Paraphrase sets of our own (three collaborators, one matter, their own words) form one hot spot each, with
three sources and one escalation, on the real Kafka and store."""

from __future__ import annotations

from collections.abc import Callable

import pulse_libs.events.triage as ev
from fastapi import FastAPI

from .conftest import Harness, serve, wait_until

SETS = [
    (
        "giai-phong-mat-bang",
        [
            "Khoảng 30 hộ dân thôn Hợp Minh phản đối mức đền bù đất nông nghiệp cho dự án cụm công nghiệp, "
            "nói giá quá thấp so với thị trường.",
            "Bà con Hợp Minh kêu giá bồi thường đất ruộng làm cụm công nghiệp thấp quá, mấy chục hộ không đồng ý.",
            "ho dan hop minh khong dong y gia den bu dat nong nghiep du an cum cong nghiep, noi thap hon thi truong",
        ],
    ),
    (
        "lao-dong",
        [
            "Công nhân xưởng may Phú Thịnh bị nợ lương hai tháng, nhiều người dọa nghỉ việc nếu tuần này không trả.",
            "Xưởng may Phú Thịnh chưa trả lương tháng 9, tháng 10 cho công nhân; chị em bức xúc, bảo sẽ nghỉ làm.",
            "cong nhan xuong may phu thinh no luong 2 thang roi, nhieu nguoi noi se nghi viec",
        ],
    ),
    (
        "moi-truong",
        [
            "Người dân tổ 4 phản ánh bãi rác Âu Lâu bốc mùi hôi nồng nặc, nước rỉ rác chảy ra ruộng.",
            "Bãi rác Âu Lâu hôi thối mấy hôm nay, nước thải từ bãi rác tràn xuống ruộng của bà con tổ 4.",
            "bai rac au lau boc mui hoi qua, nuoc ri rac chay xuong ruong to 4",
        ],
    ),
]


async def test_each_paraphrase_set_forms_one_hotspot_with_three_sources_and_one_escalation(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        submitted: list[list[str]] = []
        for k, (topic, texts) in enumerate(SETS):
            unit = f"0{4900 + k}"
            ids = []
            for i, (text, channel) in enumerate(zip(texts, ["zalo", "phone", "meeting"], strict=True)):
                event = await harness.submit(
                    "Phản ánh", text, unit=unit, reporter=f"ctv-{k}-{i}", channel=channel, topic_codes=[topic]
                )
                ids.append(event.subject)
            submitted.append(ids)
        total = sum(len(s) for s in submitted)
        await wait_until(
            lambda: len({e.data["report_id"] for e in harness.collector.of(ev.REPORT_TRIAGED)}) == total,
            what="every decision",
        )
        department = harness.headers("department", [f"0{4900 + k}" for k in range(len(SETS))])
        # A first report left alone is linked when the second forms the hot spot: read the current decisions.
        decisions = {i: (await client.get(f"/v1/triage/{i}", headers=department)).json() for s in submitted for i in s}
        for ids in submitted:
            spots = {decisions[i]["hotspot_id"] for i in ids}
            assert len(spots) == 1, [decisions[i]["reasons"] for i in ids]
            (spot,) = spots
            assert spot is not None
            hotspot = (await client.get(f"/v1/hotspots/{spot}", headers=department)).json()
            assert sorted(hotspot["report_ids"]) == sorted(ids)
            assert hotspot["source_count"] == 3
            assert hotspot["escalation"] is not None, hotspot
        raised = await wait_until(
            lambda: len(harness.collector.of(ev.ESCALATION_RAISED)) >= len(SETS) or None, what="escalations"
        )
        assert raised
        by_spot = {e.data["hotspot_id"] for e in harness.collector.of(ev.ESCALATION_RAISED)}
        assert len(harness.collector.of(ev.ESCALATION_RAISED)) == len(SETS) == len(by_spot)

"""Hard negatives on the real Kafka and store: two different matters of one ward and one topic, each told by
three collaborators in their own words, must make two hot spots, not one.

The reports are suggestions about street lights in two different places of one ward. What puts them together is
the pair model: a report joins a hot spot or a loose report whose pair score reaches the threshold (the burst
rule only places an urgent report that matches no text). Measured with the shipped pair model (threshold 1.736,
docs/TRIAGE.md §5; urgencies as the scorer gives them offline): within each matter the pair scores are 3.3-5.6,
across the two matters 1.2-2.5, and six of the nine cross pairs reach the threshold —
both matters share «đèn đường», «phường», «tổ», «đề nghị» — so the second matter's reports join the first's hot
spot. Strict xfail: it fails the day the pair model tells them apart (then drop the marker)."""

from __future__ import annotations

from collections.abc import Callable

import pulse_libs.events.triage as ev
import pytest
from fastapi import FastAPI

from .conftest import Harness, serve, wait_until

TOPIC = "nong-thon-moi"
LIGHTS_LANE_18 = [
    "Bà con tổ 5 đề nghị phường lắp thêm đèn chiếu sáng ở ngõ 18, buổi tối ngõ tối om, đi lại khó.",
    "Ngõ 18 tổ 5 chưa có đèn đường, người dân mong phường sớm lắp đèn cho con em đi học thêm buổi tối an toàn.",
    "ngo 18 to 5 toi qua, de nghi lap them den duong",
]
LIGHTS_CULTURAL_HOUSE = [
    "Đèn đường trước nhà văn hóa tổ 8 hỏng mấy tuần nay chưa ai sửa, đề nghị phường cho người thay bóng.",
    "Người dân tổ 8 phản ánh mấy cột đèn cạnh nhà văn hóa không sáng, nhờ phường báo điện lực sửa giúp.",
    "den duong canh nha van hoa to 8 hong may tuan roi, nho phuong cho sua",
]


@pytest.mark.xfail(strict=True, reason="measured: 6 of 9 cross-matter pair scores reach the threshold (1.74)")
async def test_two_matters_of_one_ward_and_topic_make_two_hotspots(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    unit = "04960"
    async with serve(app_factory()) as client:
        await harness.collector.start()
        matters: list[list[str]] = [[], []]
        for i, texts in enumerate(zip(LIGHTS_LANE_18, LIGHTS_CULTURAL_HOUSE, strict=True)):
            for m, text in enumerate(texts):
                event = await harness.submit(
                    "Phản ánh", text, unit=unit, reporter=f"ctv-{m}-{i}", topic_codes=[TOPIC], sentiment=None
                )
                matters[m].append(event.subject)
        total = sum(len(ids) for ids in matters)
        await wait_until(
            lambda: len({e.data["report_id"] for e in harness.collector.of(ev.REPORT_TRIAGED)}) == total,
            what="every decision",
        )
        department = harness.headers("department", [unit])
        decisions = {i: (await client.get(f"/v1/triage/{i}", headers=department)).json() for m in matters for i in m}
        spots = [{decisions[i]["hotspot_id"] for i in ids} for ids in matters]
        assert all(len(s) == 1 and None not in s for s in spots), spots  # each matter is one hot spot
        assert not spots[0] & spots[1], "two matters in one hot spot"

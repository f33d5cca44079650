"""Use cases of report submission against the in-memory reports (the same scenarios run in integration)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pulse_intake.adapters.reports import InMemoryReports
from pulse_intake.handlers.reports import ReportConflict, build_report, insert_batch, submit
from pulse_libs.auth import principal_for_user
from pulse_libs.outbox import OUTBOX_FIELD

COLLABORATOR = principal_for_user(user_id="u-lan", username="ctv.lan", role="collaborator", unit_codes=["04252"])


def body(**changes: Any) -> dict[str, Any]:
    """A valid report body of the collaborator's ward."""
    return {
        "unit_code": "04252",
        "channel": "zalo",
        "title": "Người dân phản ánh giá điện tăng",
        "content": "Nhiều hộ ở tổ 5 cho rằng hóa đơn tháng 11 tăng gấp đôi.",
        "observed_at": datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
        "topic_codes": ["gia-ca"],
        "sentiment": "negative",
        "people_count": 12,
        **changes,
    }


async def test_a_report_is_stored_once_with_its_event() -> None:
    reports = InMemoryReports()
    result = await submit(reports=reports, principal=COLLABORATOR, body=body(), raw=body(), idem=None)
    assert not result.replayed
    assert [d["_id"] for d in reports.docs] == [result.report["_id"]]
    assert OUTBOX_FIELD not in result.report  # the answer never shows the outbox
    assert reports.docs[0][OUTBOX_FIELD]  # the stored document carries the ReportSubmitted event
    assert reports.docs[0]["reporter_id"] == "u-lan"


async def test_the_same_idempotency_key_and_body_replays_the_first_answer() -> None:
    reports = InMemoryReports()
    first = await submit(reports=reports, principal=COLLABORATOR, body=body(), raw=body(), idem="k-1")
    again = await submit(reports=reports, principal=COLLABORATOR, body=body(), raw=body(), idem="k-1")
    assert again.replayed
    assert again.report["_id"] == first.report["_id"]
    assert len(reports.docs) == 1


async def test_the_same_idempotency_key_with_another_body_is_a_conflict_that_stores_nothing() -> None:
    reports = InMemoryReports()
    await submit(reports=reports, principal=COLLABORATOR, body=body(), raw=body(), idem="k-1")
    other = body(title="Một phản ánh khác")
    with pytest.raises(ReportConflict) as refused:
        await submit(reports=reports, principal=COLLABORATOR, body=other, raw=other, idem="k-1")
    assert refused.value.reason == "idempotency_conflict"
    assert len(reports.docs) == 1


async def test_a_second_report_with_the_same_external_ref_names_the_first() -> None:
    reports = InMemoryReports()
    first = await submit(reports=reports, principal=COLLABORATOR, body=body(external_ref="HS-7"), raw=body(), idem=None)
    with pytest.raises(ReportConflict) as refused:
        await submit(reports=reports, principal=COLLABORATOR, body=body(external_ref="HS-7"), raw=body(), idem=None)
    assert (refused.value.reason, refused.value.existing_id) == ("duplicate", first.report["_id"])
    assert len(reports.docs) == 1


async def test_a_batch_stores_the_new_reports_and_names_the_earlier_ones() -> None:
    reports = InMemoryReports()
    earlier = await submit(
        reports=reports, principal=COLLABORATOR, body=body(external_ref="HS-1"), raw=body(), idem=None
    )
    now = datetime(2026, 11, 21, tzinfo=UTC)
    docs = [
        build_report(principal=COLLABORATOR, body=body(external_ref=ref), idem=None, fingerprint="", now=now)
        for ref in ("HS-1", "HS-2", "HS-3")
    ]
    assert await insert_batch(reports=reports, docs=docs) == {0: earlier.report["_id"]}
    assert sorted(d["external_ref"] for d in reports.docs) == ["HS-1", "HS-2", "HS-3"]

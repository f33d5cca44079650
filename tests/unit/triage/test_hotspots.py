"""Joining hot spots: paraphrase by TF-IDF cosine, bursts of urgent reports, episode ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulse_libs.events.common import Urgency
from pulse_triage.data import similarity_model
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import Candidate, best_match, current_escalation_id, escalation_id_for
from pulse_triage.domain.text import normalize

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def terms(text: str) -> tuple[str, ...]:
    """Terms of a text as the handler computes them."""
    return folded_terms(normalize(text).folded)


def test_paraphrase_without_diacritics_joins_and_an_unrelated_report_does_not() -> None:
    sample = normalize("Công nhân xưởng may Phú Thịnh bị nợ lương hai tháng, nhiều người dọa nghỉ việc").folded
    candidates = [Candidate("hs-1", (sample,), T0)]
    model = similarity_model()
    assert best_match(terms("cong nhan xuong may phu thinh no luong 2 thang roi"), candidates, model) == "hs-1"
    assert best_match(terms("Bà con hỏi lịch tiêm chủng cho trẻ tháng sau"), candidates, model) is None


def test_urgent_reports_of_one_ward_and_topic_within_three_hours_join_however_worded() -> None:
    model = similarity_model()
    spot = Candidate("hs-1", (normalize("Khoảng 200 người chặn đường quốc lộ").folded,), T0, Urgency.FLASH)
    other = terms("Nhóm thanh niên ném đá vào xe của nhà thầu")
    assert best_match(other, [spot], model, urgency=Urgency.URGENT, observed_at=T0 + timedelta(hours=2)) == "hs-1"
    assert best_match(other, [spot], model, urgency=Urgency.URGENT, observed_at=T0 + timedelta(hours=4)) is None
    assert best_match(other, [spot], model, urgency=Urgency.ROUTINE, observed_at=T0 + timedelta(hours=1)) is None


def test_a_retriggered_hotspot_names_its_new_episode() -> None:
    assert escalation_id_for("hs-r1") == "esc-r1"
    assert escalation_id_for("hs-r1", 2) == "esc-r1-e2"
    assert current_escalation_id({"_id": "hs-r1"}) == "esc-r1"
    assert current_escalation_id({"_id": "hs-r1", "escalation_id": "esc-r1-e2"}) == "esc-r1-e2"

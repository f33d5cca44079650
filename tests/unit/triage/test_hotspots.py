"""Joining hot spots: paraphrase by TF-IDF cosine, bursts of urgent reports, episode ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulse_libs.events.common import Urgency
from pulse_triage.data import similarity_model
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import (
    Candidate,
    best_match,
    current_escalation_id,
    escalation_id_for,
    indexed_candidates,
    parent_facts,
    parent_id_for,
)
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


def test_a_resolved_hotspot_takes_a_burst_only_from_a_more_urgent_report() -> None:
    model = similarity_model()
    sample = normalize("Các hộ dân kéo đến trụ sở xã hỏi tiền bồi thường").folded
    resolved = Candidate("hs-1", (sample,), T0, Urgency.URGENT, "resolved")
    other = terms("Hàng trăm người chặn đường, xô xát với lực lượng cưỡng chế")
    later = T0 + timedelta(hours=1)
    assert best_match(other, [resolved], model, urgency=Urgency.FLASH, observed_at=later) == "hs-1"
    assert best_match(other, [resolved], model, urgency=Urgency.URGENT, observed_at=later) is None
    acknowledged = Candidate("hs-2", (sample,), T0, Urgency.URGENT, "acknowledged")
    assert best_match(other, [acknowledged], model, urgency=Urgency.URGENT, observed_at=later) == "hs-2"
    # The same matter in similar words joins a resolved hot spot at any level (a follow-up attaches to it).
    same = terms("Các hộ dân lại kéo đến trụ sở xã hỏi tiền bồi thường")
    assert best_match(same, [resolved], model, urgency=Urgency.ROUTINE, observed_at=later) == "hs-1"


def test_indexed_candidates_rank_by_shared_keys_inside_the_window() -> None:
    old = T0 - timedelta(hours=100)
    postings = {
        "dat": {"entries": [{"id": "hs-a", "hotspot": True, "at": T0}, {"id": "r-old", "hotspot": False, "at": old}]},
        "ruong": {"entries": [{"id": "hs-a", "hotspot": True, "at": T0}, {"id": "r-b", "hotspot": False, "at": T0}]},
        "cum": {"entries": [{"id": "r-b", "hotspot": False, "at": T0.replace(tzinfo=None)}]},
        "gia": {"entries": [{"id": "r-c", "hotspot": False, "at": T0}]},
    }
    found = indexed_candidates(postings, since=T0 - timedelta(hours=72))
    assert found[:2] in ([("hs-a", True), ("r-b", False)], [("r-b", False), ("hs-a", True)])
    assert ("r-c", False) in found
    assert all(i != "r-old" for i, _ in found), "entries older than the window are not candidates"


def test_a_parents_facts_gather_its_wards_and_its_urgency_never_drops() -> None:
    a = {
        "_id": "hs-a",
        "unit_code": "04911",
        "urgency": "urgent",
        "floor": "urgent",
        "report_ids": ["r1", "r2"],
        "sources": ["ctv-1", "ctv-2"],
        "channels": ["zalo"],
        "first_seen": T0,
        "last_seen": T0 + timedelta(hours=1),
    }
    b = {
        "_id": "hs-b",
        "unit_code": "04912",
        "urgency": "very_urgent",
        "floor": "urgent",
        "report_ids": ["r3"],
        "sources": ["ctv-2"],
        "channels": ["phone", "zalo"],
        "first_seen": (T0 - timedelta(hours=2)).replace(tzinfo=None),
        "last_seen": T0,
    }
    facts = parent_facts([a, b], None)
    assert facts["child_ids"] == ["hs-a", "hs-b"]
    assert facts["unit_codes"] == ["04911", "04912"]
    assert facts["report_ids"] == ["r1", "r2", "r3"]
    assert (facts["sources"], facts["source_count"]) == (["ctv-1", "ctv-2"], 2)
    assert facts["channels"] == ["phone", "zalo"]
    assert facts["urgency"] == "very_urgent"
    assert (facts["first_seen"], facts["last_seen"]) == (T0 - timedelta(hours=2), T0 + timedelta(hours=1))
    assert parent_facts([a], "flash")["urgency"] == "flash"
    assert parent_id_for("hs-r1") == "hp-r1"

"""Pure parts of reviews (agreement, the export read back as training data) and the candidate index."""

from __future__ import annotations

import json
from pathlib import Path

from pulse_triage.calibrate import reviews_as_examples
from pulse_triage.domain.similarity import CANDIDATES_MAX, POSTING_MAX, CandidateIndex
from pulse_triage.handlers.reviews import agreement


def test_agreement_is_per_level_the_officer_gave() -> None:
    reviews = [
        {"urgency": "flash", "machine_urgency": "very_urgent"},
        {"urgency": "flash", "machine_urgency": "flash"},
        {"urgency": "routine", "machine_urgency": "routine"},
    ]
    out = agreement(reviews)
    assert out["levels"]["flash"] == {"reviewed": 2, "agreed": 1, "agreement": 0.5}
    assert out["levels"]["routine"]["agreement"] == 1.0
    assert out["levels"]["urgent"] == {"reviewed": 0, "agreed": 0, "agreement": None}
    assert out["reviewed"] == 3


def test_the_jsonl_export_becomes_training_examples(tmp_path: Path) -> None:
    rows = [
        {
            "report_id": "r1",
            "unit_code": "04747",
            "channel": "zalo",
            "text": "Khoảng 200 người chặn đường",
            "urgency": "flash",
            "topic_codes": ["dat-dai"],
        },
        {"report_id": "r2", "unit_code": "04747", "channel": "zalo", "text": "", "urgency": "routine"},
    ]
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    examples = reviews_as_examples(path)
    assert [(e.id, e.urgency, e.matter) for e in examples] == [("review-r1", "flash", "review-r1")]
    assert examples[0].content == "Khoảng 200 người chặn đường"


def test_candidate_lookup_reads_bounded_posting_lists() -> None:
    index = CandidateIndex()
    for i in range(5_000):
        index.add(f"r{i}", ["common", f"rare{i % 50}"])
    assert all(len(p) <= POSTING_MAX for p in index.postings.values())
    found = index.candidates(["common", "rare7"])
    assert len(found) <= CANDIDATES_MAX
    assert found[0].startswith("r")
    assert int(found[0][1:]) % 50 == 7
    assert "r4957" in found  # the most recent entries are the ones kept

"""Accuracy of classification and scoring on the Vietnamese corpus: at least 90% exact, every case within one level."""

from __future__ import annotations

from pulse_libs.events.common import Channel, Sentiment, Urgency
from pulse_triage.domain.scoring import ReportFacts, score_report
from pulse_triage.domain.text import normalize
from pulse_triage.rules_schema import default_rules

from tests.unit.triage.corpus import CORPUS

EXACT_BAR = 0.90


def test_corpus_is_big_and_balanced() -> None:
    assert len(CORPUS) >= 60
    for level in Urgency:
        assert sum(1 for c in CORPUS if c[4] == level.value) >= 12


def test_corpus_accuracy() -> None:
    rules = default_rules().to_rule_set()
    exact = 0
    misses = []
    for text, channel, people, sentiment, expected in CORPUS:
        facts = ReportFacts(
            channel=Channel(channel),
            people_count=people,
            sentiment=Sentiment(sentiment) if sentiment else None,
        )
        got = score_report(normalize(text), facts, rules)
        if got.urgency.value == expected:
            exact += 1
        else:
            misses.append((expected, got.urgency.value, got.score, text))
        assert abs(got.urgency.rank - Urgency(expected).rank) <= 1, (text, got.urgency, got.reasons)
    accuracy = exact / len(CORPUS)
    print(f"\ncorpus accuracy: {exact}/{len(CORPUS)} = {accuracy:.1%} exact (bar {EXACT_BAR:.0%}); misses:")
    for miss in misses:
        print("  expected", miss[0], "got", miss[1], miss[2], miss[3][:90])
    assert accuracy >= EXACT_BAR

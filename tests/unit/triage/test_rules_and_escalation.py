"""Rule-set validation and the escalation state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pulse_libs.events.common import EscalationTarget, Urgency
from pulse_triage.data import similarity_model
from pulse_triage.domain.escalation import DEFAULT_POLICIES, Policy, PolicyLevel, reevaluate, start, step
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import Candidate, best_match, hotspot_id_for, keep_samples
from pulse_triage.domain.text import normalize
from pulse_triage.rules_schema import RulesDoc, default_rules
from pydantic import ValidationError

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
POLICY = Policy(
    Urgency.FLASH,
    (
        PolicyLevel(1, EscalationTarget.DUTY_OFFICER, 60),
        PolicyLevel(2, EscalationTarget.DEPARTMENT_HEAD, 60),
        PolicyLevel(3, EscalationTarget.STANDING_COMMITTEE, 60),
    ),
)


def test_defaults_load_and_round_trip() -> None:
    rules = default_rules()
    assert RulesDoc.model_validate(rules.model_dump(mode="json")) == rules
    assert rules.to_rule_set().is_sensitive("dat-dai")


def test_bad_rule_sets_are_refused_with_reasons() -> None:
    raw = default_rules().model_dump(mode="json")
    bad_thresholds = {**raw, "thresholds": {"urgent": 50, "very_urgent": 40, "flash": 90}}
    with pytest.raises(ValidationError, match="thresholds must rise"):
        RulesDoc.model_validate(bad_thresholds)
    with pytest.raises(ValidationError, match="duplicate topic codes: dat-dai"):
        RulesDoc.model_validate({**raw, "topics": [*raw["topics"], raw["topics"][0]]})
    with pytest.raises(ValidationError, match=r"Extra inputs"):
        RulesDoc.model_validate({**raw, "surprise": 1})


def test_default_policies_match_the_contract() -> None:
    assert not DEFAULT_POLICIES[Urgency.ROUTINE].escalates
    assert DEFAULT_POLICIES[Urgency.FLASH].at(1).ack_timeout_seconds == 15 * 60
    assert DEFAULT_POLICIES[Urgency.VERY_URGENT].at(3).target == EscalationTarget.STANDING_COMMITTEE
    assert DEFAULT_POLICIES[Urgency.URGENT].at(2).ack_timeout_seconds == 4 * 3600


def test_unacknowledged_levels_climb_then_exhaust() -> None:
    timer = start(POLICY, T0)
    assert timer.level == 1
    assert timer.next_action_at == T0 + timedelta(seconds=60)
    s = step(POLICY, timer, T0 + timedelta(seconds=61))
    assert s.kind == "escalated"
    assert s.timer.level == 2
    s = step(POLICY, s.timer, T0 + timedelta(seconds=122))
    assert s.kind == "escalated"
    assert s.timer.level == 3
    s = step(POLICY, s.timer, T0 + timedelta(seconds=183))
    assert s.kind == "exhausted"
    assert s.timer.next_action_at is None


def test_reminders_repeat_until_the_deadline() -> None:
    policy = Policy(Urgency.FLASH, POLICY.levels, repeat_seconds=25)
    timer = start(policy, T0)
    assert timer.next_action_at == T0 + timedelta(seconds=25)
    s = step(policy, timer, T0 + timedelta(seconds=25))
    assert s.kind == "reminded"
    assert s.timer.reminder_seq == 1
    assert s.timer.level == 1
    s = step(policy, s.timer, T0 + timedelta(seconds=50))
    assert s.kind == "reminded"
    assert s.timer.next_action_at == T0 + timedelta(seconds=60)
    s = step(policy, s.timer, T0 + timedelta(seconds=60))
    assert s.kind == "escalated"
    assert s.timer.reminder_seq == 0


def test_raised_urgency_only_brings_the_deadline_forward() -> None:
    slow = Policy(Urgency.URGENT, tuple(PolicyLevel(i, lv.target, 3600) for i, lv in enumerate(POLICY.levels, 1)))
    timer = start(slow, T0)
    faster = reevaluate(POLICY, timer, T0 + timedelta(seconds=10))
    assert faster.ack_deadline == T0 + timedelta(seconds=60)
    assert faster.level == 1
    assert reevaluate(slow, start(POLICY, T0), T0).ack_deadline == T0 + timedelta(seconds=60)


def test_best_match_needs_similar_text_and_ids_are_deterministic() -> None:
    a = normalize("Người dân tụ tập trước UBND phường phản đối cưỡng chế thu hồi đất").folded
    b = normalize("Nguoi dan tu tap truoc UBND phuong phan doi cuong che thu hoi dat du an").folded
    c = normalize("Bà con hỏi về giá điện").folded
    candidates = [Candidate("hs-1", (a,), T0), Candidate("hs-2", (c,), T0)]
    model = similarity_model()
    assert best_match(folded_terms(b), candidates, model) == "hs-1"
    assert best_match(folded_terms(normalize("Lịch tiêm chủng tháng sau").folded), candidates, model) is None
    assert hotspot_id_for("r.1") == hotspot_id_for("r.1") == "hs-r_1"
    assert len(keep_samples([str(i) for i in range(20)], "x")) == 12

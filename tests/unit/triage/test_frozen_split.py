"""The frozen test split: intact, never fitted on, and the targets of issue 17 measured on it.

Of the targets (exact ≥ 0.90, no flash/very_urgent called routine, under-calls ≤ 5%; pair precision ≥ 0.9 and
recall ≥ 0.85) the shipped model meets two on the frozen split (no serious report called routine, under-calls
3.4%): those are plain assertions. Exact level (0.888) and pair precision (0.795) are not met: strict xfails
carrying the measured figures, so they fail the day the targets are met (then drop the marker). The
no-regression tests hold the figures measured when the model was fitted (docs/TRIAGE.md), on the frozen split,
on test-b (test-bucket reports of the w4/w5 writers, added after the freeze) and on test-c (those of the w6/w7
writers), equally never fitted on."""

from __future__ import annotations

from functools import lru_cache

import pytest
from pulse_libs.events.common import Channel, Urgency
from pulse_triage import data
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.scoring import ReportFacts, score_report
from pulse_triage.domain.text import normalize
from pulse_triage.evaluation import (
    Example,
    Metrics,
    evaluate,
    frozen_test,
    held_out_b,
    held_out_c,
    load,
    load_pairs,
    split_of,
)
from pulse_triage.rules_schema import default_rules

RULES = default_rules().to_rule_set()


def predict(example: Example) -> str:
    """The level the service gives a corpus report (text and channel only, as the corpus has)."""
    channel = Channel(example.channel) if example.channel in Channel._value2member_map_ else Channel.OTHER
    text = normalize(f"{example.title}\n{example.content}")
    facts = ReportFacts(channel)
    return score_report(text, facts, RULES, model=data.urgency_model(), lexicon=data.lexicon()).urgency.value


def _measured(name: str, examples: list[Example]) -> Metrics:
    metrics = evaluate(examples, predict)
    print(f"\n{name}:", metrics.summary())
    print(metrics.table())
    return metrics


@lru_cache(maxsize=1)
def measured() -> Metrics:
    """Figures of the shipped model on the frozen test split."""
    return _measured("frozen test split", frozen_test())


@lru_cache(maxsize=1)
def measured_b() -> Metrics:
    """Figures of the shipped model on test-b (test-bucket reports of the w4/w5 writers)."""
    return _measured("test-b", held_out_b())


@lru_cache(maxsize=1)
def measured_c() -> Metrics:
    """Figures of the shipped model on test-c (test-bucket reports of the w6/w7 writers)."""
    return _measured("test-c", held_out_c())


@lru_cache(maxsize=1)
def pair_figures() -> tuple[float, float, int]:
    """Precision and recall of the shipped pair model on the test pairs, and how many pairs, as the service applies
    it: each report's vector, its urgency from the shipped scorer, the pair score less the urgency-gap penalty."""
    model = data.similarity_model()
    pairs = load_pairs("test")
    wanted = {i for p in pairs for i in (p.a, p.b)}
    examples = {e.id: e for e in load() if e.id in wanted}
    vectors = {i: model.vector(folded_terms(normalize(f"{e.title}\n{e.content}").folded)) for i, e in examples.items()}
    ranks = {i: Urgency(predict(e)).rank for i, e in examples.items()}
    said = [(model.joins(model.score(vectors[p.a], vectors[p.b], ranks[p.a] - ranks[p.b])), p.same) for p in pairs]
    tp = sum(1 for s, y in said if s and y)
    fp = sum(1 for s, y in said if s and not y)
    fn = sum(1 for s, y in said if not s and y)
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    print(f"\ntest pairs: {len(pairs)}, threshold {model.threshold}: precision {precision:.3f} recall {recall:.3f}")
    print(f"tp {tp} fp {fp} fn {fn}")
    return precision, recall, len(pairs)


def test_the_frozen_split_is_intact_and_was_never_fitted_on() -> None:
    test = frozen_test()  # raises if a frozen record changed or vanished
    assert len(test) >= 100
    assert {e.split for e in test} == {"test"}
    assert all(split_of(e.matter) == "test" for e in test)
    fitted = {e.matter for e in load() if e.split in ("train", "dev")}
    assert not fitted & {e.matter for e in test}, "a test matter reached the fitting splits"
    assert data.model_data()["meta"]["lexicon_sha256"] == data.lexicon_sha256(), "refit after editing features"
    assert len(load_pairs()) >= 200


def test_test_b_is_held_out_too() -> None:
    frozen = {e.id for e in frozen_test()}
    held = held_out_b()
    assert len(held) >= 50
    assert not frozen & {e.id for e in held}
    assert all(e.split == "test" for e in held)
    fitting = [e for e in load() if e.split in ("train", "dev")]
    assert not {e.matter for e in fitting} & {e.matter for e in held}, "a test-b matter reached the fitting splits"
    assert data.model_data()["meta"]["examples"] == len(fitting), "the shipped model was fitted on other data"


def test_test_c_is_held_out_too() -> None:
    held = held_out_c()
    assert len(held) >= 40
    assert not {e.id for e in held} & ({e.id for e in frozen_test()} | {e.id for e in held_out_b()})
    assert all(e.split == "test" and e.id.split("-")[0] in ("w6", "w7") for e in held)
    fitting = {e.matter for e in load() if e.split in ("train", "dev")}
    assert not fitting & {e.matter for e in held}, "a test-c matter reached the fitting splits"


@pytest.mark.xfail(strict=True, reason="not met: exact 0.888 (103/116) on the frozen split (fourth fit)")
def test_exact_level_target_on_the_frozen_split() -> None:
    assert measured().exact >= 0.90


def test_no_serious_report_is_called_routine_on_the_frozen_split() -> None:
    assert measured().serious_called_routine == 0


def test_under_calls_target_on_the_frozen_split() -> None:
    assert measured().under <= 0.05  # 4/116 measured


def test_urgency_does_not_regress_on_the_frozen_split() -> None:
    metrics = measured()
    assert metrics.exact >= 0.887  # 103/116 measured
    assert metrics.off_by_two <= 4


def test_urgency_targets_and_figures_on_test_b() -> None:
    metrics = measured_b()
    assert metrics.serious_called_routine == 0
    assert metrics.under == 0.0
    assert metrics.exact >= 0.895  # 60/67 measured (0.940 with the third fit: the fourth over-calls 5 khẩn)


def test_urgency_targets_and_figures_on_test_c() -> None:
    metrics = measured_c()
    assert metrics.meets_targets()
    assert metrics.exact >= 0.976  # 41/42 measured; same writers as 183 fitted reports (docs/TRIAGE.md §7)
    assert metrics.under == 0.0


@pytest.mark.xfail(strict=True, reason="not met: precision 0.795 (31/39) at recall 1.0 on 93 test pairs")
def test_pair_targets_on_the_test_pairs() -> None:
    precision, recall, _ = pair_figures()
    assert precision >= 0.9
    assert recall >= 0.85


def test_pairs_do_not_regress() -> None:
    precision, recall, n = pair_figures()
    assert n >= 90
    assert recall >= 0.99  # 31/31 measured
    assert precision >= 0.79  # 31/39 measured (the pair model; the plain cosine before it: 0.721)

"""The cross-ward threshold of parent hot spots: stricter than joining inside a ward, whatever model is shipped."""

from __future__ import annotations

from dataclasses import replace

from pulse_triage import data
from pulse_triage.domain.similarity import SimilarityModel
from pulse_triage.handlers.parents import PARENT_SIMILARITY, parent_model


def test_a_plain_cosine_model_links_wards_at_the_parent_similarity() -> None:
    plain = SimilarityModel({"a": 1.0}, threshold=0.1)
    assert parent_model(plain).threshold == PARENT_SIMILARITY
    # Never below the joining threshold (an override of the settings may raise it).
    assert parent_model(replace(plain, threshold=0.4)).threshold == 0.4


def test_the_shipped_model_links_wards_above_its_joining_threshold() -> None:
    shipped = data.similarity_model()
    linked = parent_model(shipped)
    assert linked.threshold > shipped.threshold
    strict = getattr(shipped, "strict_threshold", 0.0)
    if strict > shipped.threshold:
        assert linked.threshold == strict
    else:
        assert linked.threshold == max(shipped.threshold, PARENT_SIMILARITY)

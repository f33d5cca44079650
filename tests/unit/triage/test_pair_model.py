"""The pair model (domain/similarity.py, data/pair_model.json): its vector is the weighted sum of the block cosines
the model was fitted on, the urgency gap lowers a pair's score, index keys come from the terms block only, and a
model document of the first form (IDF and threshold only) still reads as the plain cosine."""

from __future__ import annotations

import math

import pytest
from pulse_triage import data
from pulse_triage.calibrate import pair_features
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.model import tfidf
from pulse_triage.domain.similarity import BLOCKS, SimilarityModel, cosine_of
from pulse_triage.domain.text import normalize

A = "Bà con thôn Hợp Minh phản đối mức đền bù đất nông nghiệp cho dự án cụm công nghiệp Âu Lâu."
B = "ho dan hop minh khong dong y gia den bu dat nong nghiep du an cum cong nghiep au lau"
C = "Đèn đường trước nhà văn hóa tổ 8 hỏng mấy tuần nay chưa ai sửa, đề nghị phường cho người thay bóng."


def terms_of(text: str) -> tuple[str, ...]:
    return folded_terms(normalize(text).folded)


def test_the_vector_dot_product_is_the_weighted_sum_of_the_fitted_block_cosines() -> None:
    model = data.similarity_model()
    assert set(model.weights) == set(BLOCKS)
    assert all(w > 0 for w in model.weights.values())
    a, b = terms_of(A), terms_of(B)
    features = pair_features(model, a, b, gap=0)
    expected = sum(model.weights[k] * features[i] for i, k in enumerate(BLOCKS))
    assert cosine_of(model.vector(a), model.vector(b)) == pytest.approx(expected, abs=1e-9)
    assert model.cosine(a, b) == pytest.approx(expected, abs=1e-9)


def test_a_paraphrase_joins_and_another_matter_does_not() -> None:
    model = data.similarity_model()
    va = model.vector(terms_of(A))
    assert model.similar(va, terms_of(B))
    assert not model.similar(va, terms_of(C))
    score = model.score(va, model.vector(terms_of(B)))
    assert 0.5 < model.probability(score) < 1.0


def test_the_urgency_gap_lowers_the_score_by_the_fitted_weight_per_level() -> None:
    model = data.similarity_model()
    assert model.urgency_gap > 0
    va, vb = model.vector(terms_of(A)), model.vector(terms_of(B))
    same = model.score(va, vb)
    assert model.score(va, vb, gap=2) == pytest.approx(same - 2 * model.urgency_gap)
    assert model.score(va, vb, gap=-2) == model.score(va, vb, gap=2)


def test_index_keys_are_terms_of_the_first_block() -> None:
    model = data.similarity_model()
    vector = model.vector(terms_of(A))
    keys = model.keys(vector)
    assert keys
    assert all("|" not in k for k in keys)
    assert set(keys) <= set(terms_of(A))
    assert any(k.startswith("s|") for k in vector)
    assert any(k.startswith("r|") for k in vector)


def test_a_first_form_document_reads_as_the_plain_cosine() -> None:
    idf = {"dat": 1.5, "den": 2.0, "bu": 2.5, "den_bu": 3.0}
    model = SimilarityModel.from_dict({"idf": idf, "threshold": 0.1})
    a, b = ("dat", "den", "bu", "den_bu"), ("den", "bu", "den_bu")
    assert model.urgency_gap == 0
    assert model.strict_threshold == 0.1
    assert model.rare_idf == math.inf
    assert model.vector(a) == pytest.approx(tfidf(a, idf, 3.0))
    assert model.cosine(a, b) == pytest.approx(cosine_of(tfidf(a, idf, 3.0), tfidf(b, idf, 3.0)))

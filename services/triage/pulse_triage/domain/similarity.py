"""Whether two reports tell one matter (the pair model) and the candidate index.

The pair model is a logistic regression fitted on labelled pairs (`python -m pulse_triage.calibrate pairs`) over
a few similarities of the two texts — the TF-IDF cosine of folded syllables and syllable bigrams, the cosine of
the syllables alone, the cosine of the rare terms (seen in at most a few fitting reports: place, person and project
names) — and the gap between the two reports' urgency levels. Each similarity is a cosine of L2-normalised blocks,
so their weighted sum is the dot product of one vector per report whose blocks are scaled by the square root of
their weights: `vector(terms)` is that vector, `cosine_of` of two of them is the pair's text score, and the
report pairs whose score less the urgency-gap penalty reaches `threshold` are the same matter. A model document
without weights (the first form) is the plain cosine of the first block.

The candidate index files each report under its few heaviest terms, in posting lists of bounded length, so
finding candidates costs the same whether the window holds a hundred reports or a hundred thousand."""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

INDEX_KEYS = 8
"""How many of a report's rarest terms it is filed under."""
POSTING_MAX = 64
"""Entries kept per term (the most recent): the bound that keeps lookups constant."""
CANDIDATES_MAX = 24


def document_frequencies(documents: Iterable[Sequence[str]]) -> dict[str, float]:
    """Smoothed IDF of every term (as scikit-learn computes it), rounded for a compact JSON file."""
    df: Counter[str] = Counter()
    n = 0
    for terms in documents:
        df.update(set(terms))
        n += 1
    return {t: round(math.log((1 + n) / (1 + d)) + 1, 4) for t, d in df.items()}


def cosine_of(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two L2-normalised sparse vectors."""
    if len(b) < len(a):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


BLOCKS = ("terms", "syllables", "rare")
"""The pair model's text blocks: every term, the syllables alone (no bigrams), the rare terms (as a set)."""
RARE_DF = 3
"""A term seen in at most this many fitting reports (or never) is rare."""


def _prefix(block: str) -> str:
    return "" if block == BLOCKS[0] else block[0] + "|"


def block_cosines(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    """Each block's share of the dot product of two vectors (with unit block weights: each block's cosine)."""
    names = {_prefix(block): block for block in BLOCKS}
    out = dict.fromkeys(BLOCKS, 0.0)
    for key, weight in a.items():
        if key in b:
            out[names[key[: key.find("|") + 1]]] += weight * b[key]
    return out


@dataclass(frozen=True)
class SimilarityModel:
    """IDF of terms (unseen terms count as the rarest seen), the weight of each block's cosine, the log-odds lost
    per urgency level between two reports, and the threshold on the pair score, all fitted on labelled pairs."""

    idf: Mapping[str, float]
    threshold: float
    default_idf: float = 0.0
    weights: Mapping[str, float] = field(default_factory=lambda: {BLOCKS[0]: 1.0})
    urgency_gap: float = 0.0
    """Subtracted from the pair score per level between the two reports' urgencies."""
    rare_idf: float = math.inf
    """A term whose IDF reaches this (or an unseen one) is rare."""
    intercept: float = 0.0
    strict_threshold: float = 0.0
    """A stricter threshold (precision >= 0.95 on the fitting pairs), for links that must rarely be wrong."""

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SimilarityModel:
        """Build from a pair model document (or the `similarity` part of the first model document)."""
        idf = data["idf"]
        threshold = data["threshold"]
        assert isinstance(idf, Mapping)
        assert isinstance(threshold, int | float)
        weights = data.get("weights", {BLOCKS[0]: 1.0})
        assert isinstance(weights, Mapping)
        defaults = (("urgency_gap", 0.0), ("rare_idf", math.inf), ("intercept", 0.0), ("strict_threshold", threshold))
        numbers = {k: data.get(k, d) for k, d in defaults}
        assert all(isinstance(v, int | float) for v in numbers.values())
        return cls(
            dict(idf),
            float(threshold),
            max(idf.values(), default=1.0),
            {str(k): float(v) for k, v in weights.items()},
            float(numbers["urgency_gap"]),  # type: ignore[arg-type]
            float(numbers["rare_idf"]),  # type: ignore[arg-type]
            float(numbers["intercept"]),  # type: ignore[arg-type]
            float(numbers["strict_threshold"]),  # type: ignore[arg-type]
        )

    def is_rare(self, term: str) -> bool:
        """True for a term seen in few fitting reports (or none)."""
        return self.idf.get(term, self.default_idf) >= self.rare_idf

    def vector(self, terms: Sequence[str]) -> dict[str, float]:
        """The report's vector: each block's TF-IDF (sublinear, L2-normalised as `tfidf`; unseen terms weighted as
        the rarest) scaled by the square root of the block's weight, its keys prefixed by block (the first block's
        are the terms themselves). Every term's weight is computed once for all blocks."""
        default = self.default_idf or 1.0
        idf = {t: self.idf.get(t, default) for t in set(terms)}
        raw = {t: (1.0 + math.log(n)) * idf[t] for t, n in Counter(terms).items()}
        blocks = {
            "terms": raw,
            "syllables": {t: w for t, w in raw.items() if "_" not in t},
            "rare": {t: idf[t] for t in raw if idf[t] >= self.rare_idf},
        }
        out: dict[str, float] = {}
        for block, weights in blocks.items():
            weight = self.weights.get(block, 0.0)
            if weight <= 0 or not weights:
                continue
            scale = math.sqrt(weight) / (math.sqrt(sum(w * w for w in weights.values())) or 1.0)
            prefix = _prefix(block)
            out |= {prefix + t: w * scale for t, w in weights.items()}
        return out

    def cosine(self, a: Sequence[str], b: Sequence[str]) -> float:
        """The text score of two reports' terms (the weighted sum of their blocks' cosines)."""
        return cosine_of(self.vector(a), self.vector(b))

    def score(self, vector: Mapping[str, float], other: Mapping[str, float], gap: int = 0) -> float:
        """The pair score of two vectors whose reports are `gap` urgency levels apart."""
        return cosine_of(vector, other) - self.urgency_gap * abs(gap)

    def joins(self, score: float) -> bool:
        """True if a pair score reaches the threshold (the pair tells one matter)."""
        return score >= self.threshold

    def probability(self, score: float) -> float:
        """The fitted probability that a pair with this score tells one matter."""
        return 1.0 / (1.0 + math.exp(-(self.intercept + score)))

    def similar(self, vector: Mapping[str, float], terms: Sequence[str], gap: int = 0) -> bool:
        """True if a report's vector and another text's terms, `gap` urgency levels apart, tell one matter."""
        return self.joins(self.score(vector, self.vector(terms), gap))

    def keys(self, vector: Mapping[str, float]) -> list[str]:
        """The terms a report is filed under: its heaviest (rarest, most repeated) terms of the first block."""
        own = ((t, w) for t, w in vector.items() if "|" not in t)
        return [t for t, _ in sorted(own, key=lambda tw: (-tw[1], tw[0]))[:INDEX_KEYS]]


@dataclass
class CandidateIndex:
    """In-memory form of the index (the store keeps the same posting lists per unit): term → recent ids."""

    postings: dict[str, OrderedDict[str, None]] = field(default_factory=dict)

    def add(self, item_id: str, keys: Sequence[str]) -> None:
        """File an item under its keys, dropping the oldest entry of a full posting list."""
        for key in keys:
            posting = self.postings.setdefault(key, OrderedDict())
            posting[item_id] = None
            posting.move_to_end(item_id)
            if len(posting) > POSTING_MAX:
                posting.popitem(last=False)

    def candidates(self, keys: Sequence[str]) -> list[str]:
        """Ids sharing the most keys with a report, at most CANDIDATES_MAX."""
        shared: Counter[str] = Counter()
        for key in keys:
            shared.update(self.postings[key].keys() if key in self.postings else ())
        return [i for i, _ in shared.most_common(CANDIDATES_MAX)]

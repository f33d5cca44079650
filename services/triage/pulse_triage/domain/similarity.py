"""Paraphrase-aware similarity of reports (TF-IDF cosine over folded syllables and syllable bigrams) and the
candidate index: each report is filed under its few rarest terms, in posting lists of bounded length, so
finding candidates costs the same whether the window holds a hundred reports or a hundred thousand."""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pulse_triage.domain.model import tfidf

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


@dataclass(frozen=True)
class SimilarityModel:
    """IDF of terms and the threshold chosen on labelled pairs; unseen terms count as the rarest seen."""

    idf: Mapping[str, float]
    threshold: float
    default_idf: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SimilarityModel:
        """Build from the `similarity` part of the model document."""
        idf = data["idf"]
        threshold = data["threshold"]
        assert isinstance(idf, Mapping)
        assert isinstance(threshold, int | float)
        return cls(dict(idf), float(threshold), max(idf.values(), default=1.0))

    def vector(self, terms: Sequence[str]) -> dict[str, float]:
        """The report's TF-IDF vector (unseen terms weighted as the rarest)."""
        return tfidf(terms, self.idf, self.default_idf or 1.0)

    def cosine(self, a: Sequence[str], b: Sequence[str]) -> float:
        """Similarity of two reports' terms."""
        return cosine_of(self.vector(a), self.vector(b))

    def similar(self, vector: Mapping[str, float], terms: Sequence[str]) -> bool:
        """True if a report's vector and another text's terms reach the threshold."""
        return cosine_of(vector, self.vector(terms)) >= self.threshold

    def keys(self, vector: Mapping[str, float]) -> list[str]:
        """The terms a report is filed under: its heaviest (rarest, most repeated) ones."""
        return [t for t, _ in sorted(vector.items(), key=lambda tw: (-tw[1], tw[0]))[:INDEX_KEYS]]


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

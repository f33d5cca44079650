"""The calibrated urgency model, applied without scikit-learn: a multinomial logistic regression over rule
features and TF-IDF text terms, fitted by `python -m pulse_triage.calibrate` and shipped as JSON."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulse_libs.events.common import Urgency

LEVELS = (Urgency.ROUTINE, Urgency.URGENT, Urgency.VERY_URGENT, Urgency.FLASH)


@dataclass(frozen=True)
class Contribution:
    """How much one input pushed the decision towards the chosen level (log-odds against the other levels)."""

    name: str
    weight: float
    leans: int = -1
    """For an input weighing against the chosen level: the index of the level it favours most (higher or lower
    than the chosen one decides whether the reasons call it grounds to raise or to lower the level)."""


@dataclass(frozen=True)
class Prediction:
    """Probabilities per level, the chosen level and the inputs that weighed most."""

    probabilities: tuple[float, ...]
    urgency: Urgency
    towards: tuple[Contribution, ...]
    against: tuple[Contribution, ...]

    @property
    def score(self) -> float:
        """Expected level on a 0–100 scale (0 thường … 100 hỏa tốc)."""
        return round(100 * sum(i * p for i, p in enumerate(self.probabilities)) / (len(LEVELS) - 1), 1)


def tfidf(terms: Sequence[str], idf: Mapping[str, float], default: float | None = None) -> dict[str, float]:
    """Sublinear TF-IDF, L2-normalised (as scikit-learn's TfidfVectorizer): unknown terms are dropped, or
    weighted `default` when one is given."""
    counts = Counter(t for t in terms if default is not None or t in idf)
    weights = {t: (1.0 + math.log(n)) * idf.get(t, default or 0.0) for t, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


CHAR_NGRAMS = (2, 5)
"""Lengths of the character n-grams of each folded word (padded with a space each side) the model weighs."""


def char_grams(words: Sequence[str], sizes: tuple[int, int] = CHAR_NGRAMS) -> list[str]:
    """Character n-grams of each word padded " word ": spelling variants, typos and telex leftovers share most of
        them ("duong", "duongf", "đuong"), so the model still sees a word it was not fitted on exactly. A padded word
    shorter than n gives itself as its one n-gram (so " ab " stands for both its 4- and 5-grams)."""
    out: list[str] = []
    for word in words:
        padded = f" {word} "
        for n in range(sizes[0], sizes[1] + 1):
            out += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
    return out


def text_inputs(terms: Sequence[str]) -> dict[str, list[str]]:
    """What each text block of the model reads from a report's terms: its syllables and syllable bigrams
    ("terms") and the character n-grams of its syllables ("chars")."""
    return {"terms": list(terms), "chars": char_grams([t for t in terms if "_" not in t])}


@dataclass(frozen=True)
class TextBlock:
    """One sparse block of the model: the IDF of its inputs and their weights per level (already scaled by the
    block's weight at fit time)."""

    name: str
    idf: Mapping[str, float]
    coef: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class UrgencyModel:
    """Fitted weights: dense rule features (standardised) and text blocks, per level, plus tuned offsets."""

    dense_names: tuple[str, ...]
    dense_mean: tuple[float, ...]
    dense_scale: tuple[float, ...]
    dense_coef: tuple[tuple[float, ...], ...]
    """One row per level, one column per dense feature."""
    blocks: tuple[TextBlock, ...]
    intercept: tuple[float, ...]
    offsets: tuple[float, ...]
    """Added to the log-odds of each level; chosen out of fold so serious reports are not under-called."""
    meta: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UrgencyModel:
        """Build from the JSON document calibrate writes."""
        dense = data["dense"]
        blocks = data.get("blocks") or {"terms": data["text"]}
        return cls(
            dense_names=tuple(dense["names"]),
            dense_mean=tuple(dense["mean"]),
            dense_scale=tuple(dense["scale"]),
            dense_coef=tuple(tuple(row) for row in dense["coef"]),
            blocks=tuple(
                TextBlock(name, dict(b["idf"]), {t: tuple(w) for t, w in b["coef"].items()})
                for name, b in blocks.items()
            ),
            intercept=tuple(data["intercept"]),
            offsets=tuple(data["offsets"]),
            meta=dict(data.get("meta", {})),
        )

    def standardised(self, values: Mapping[str, float]) -> list[float]:
        """The dense features in model order, centred and scaled as at fit time."""
        return [
            (values.get(n, 0.0) - m) / s
            for n, m, s in zip(self.dense_names, self.dense_mean, self.dense_scale, strict=True)
        ]

    def predict(self, values: Mapping[str, float], terms: Sequence[str], *, top: int = 4) -> Prediction:
        """Probabilities of each level, the chosen level and the strongest reasons for and against it (the
        rule features and the report's own words; character n-grams weigh but are not named as reasons)."""
        x = self.standardised(values)
        inputs = text_inputs(terms)
        k = len(LEVELS)
        logits = [self.intercept[c] + self.offsets[c] for c in range(k)]
        for c in range(k):
            logits[c] += sum(w * v for w, v in zip(self.dense_coef[c], x, strict=True))
        texts: list[tuple[str, dict[str, float], Mapping[str, tuple[float, ...]]]] = []
        for block in self.blocks:
            vec = {t: v for t, v in tfidf(inputs.get(block.name, ()), block.idf).items() if t in block.coef}
            texts.append((block.name, vec, block.coef))
            for c in range(k):
                logits[c] += sum(block.coef[t][c] * v for t, v in vec.items())
        peak = max(logits)
        exp = [math.exp(v - peak) for v in logits]
        total = sum(exp)
        probs = tuple(e / total for e in exp)
        chosen = max(range(k), key=lambda c: logits[c])
        parts = [
            _contribution(n, v, [row[j] for row in self.dense_coef], chosen)
            for j, (n, v) in enumerate(zip(self.dense_names, x, strict=True))
            if values.get(n, 0.0)
        ]
        for name, vec, coef in texts:
            if name == "terms":
                parts += [_contribution("term:" + t, v, coef[t], chosen) for t, v in vec.items()]
        parts.sort(key=lambda p: -abs(p.weight))
        # The rule features an officer can check come first, then candidates among the report's own two-syllable
        # terms (the reasons name only those that are words of the text): with the text weighed high, single
        # syllables («đối», «khoảng») would otherwise crowd the reasons out.
        rules = [p for p in parts if not p.name.startswith("term:")]
        words = [p for p in parts if p.name.startswith("term:") and "_" in p.name]
        towards = (*[p for p in rules if p.weight > 0.05][: top - 1], *[p for p in words if p.weight > 0.05][:8])
        against = (*[p for p in rules if p.weight < -0.05][:2], *[p for p in words if p.weight < -0.05][:8])
        return Prediction(probs, LEVELS[chosen], towards, against)


def _contribution(name: str, value: float, row: Sequence[float], chosen: int) -> Contribution:
    """The input's push towards the chosen level and the other level it favours most."""
    others = [c for c in range(len(row)) if c != chosen]
    leans = max(others, key=lambda c: value * row[c])
    return Contribution(name, value * _margin_row(row, chosen), leans)


def _margin_row(row: Sequence[float], chosen: int) -> float:
    others = [w for c, w in enumerate(row) if c != chosen]
    return row[chosen] - sum(others) / len(others)
